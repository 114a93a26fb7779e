#!/usr/bin/env bash
# Checks deploy/ where no Docker engine or cluster runs: the compose file through compose's own
# parser (the docker compose plugin, else Debian's docker-compose v1), then check-config.py
# (compose and k8s manifests against each other and against scripts/lib/services.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPOSE="$HERE/docker-compose.yml"

# The secrets are required (${VAR:?...}); parse with placeholders for the ones not set, taken from
# the empty keys of .env.example, so a missing one in compose or the example shows up here.
while IFS='=' read -r key value; do
    case "$key" in ''|'#'*) continue ;; esac
    [ -z "$value" ] && [ -z "${!key:-}" ] && export "$key=placeholder-for-deploy-check"
done <"$HERE/.env.example"

if docker compose version >/dev/null 2>&1; then
    docker compose -f "$COMPOSE" config -q
    echo "deploy check: docker-compose.yml parsed by the docker compose plugin"
elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose -f "$COMPOSE" config -q
    echo "deploy check: docker-compose.yml parsed by $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
else
    echo "deploy check: no compose parser here (docker compose plugin or docker-compose); YAML checks only"
fi

for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import yaml' >/dev/null 2>&1; then
        exec "$py" "$HERE/check-config.py"
    fi
done
echo "deploy check: no python3 with PyYAML (Debian: python3-yaml)" >&2
exit 1
