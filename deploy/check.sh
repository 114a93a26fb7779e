#!/usr/bin/env bash
# Checks deploy/ where no Docker engine or cluster runs: the compose file through compose's own
# parser (the docker compose plugin, else Debian's docker-compose v1), then check-config.py
# (compose and k8s manifests against each other and against scripts/lib/services.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPOSE="$HERE/docker-compose.yml"
SHARDS="$HERE/docker-compose.shards.yml"

# The secrets are required (${VAR:?...}); parse with placeholders for the ones not set, taken from
# the empty keys of .env.example, so a missing one in compose or the example shows up here.
while IFS='=' read -r key value; do
    case "$key" in ''|'#'*) continue ;; esac
    [ -z "$value" ] && [ -z "${!key:-}" ] && export "$key=placeholder-for-deploy-check"
done <"$HERE/.env.example"

if docker compose version >/dev/null 2>&1; then
    docker compose -f "$COMPOSE" config -q
    docker compose -f "$COMPOSE" -f "$SHARDS" config -q
    echo "deploy check: docker-compose.yml (alone and with docker-compose.shards.yml) parsed by the docker compose plugin"
elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose -f "$COMPOSE" config -q
    docker-compose -f "$COMPOSE" -f "$SHARDS" config -q
    echo "deploy check: docker-compose.yml (alone and with docker-compose.shards.yml) parsed by $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
else
    echo "deploy check: no compose parser here (docker compose plugin or docker-compose); YAML checks only"
fi

# The Python checkers, pinned, in a git-ignored venv made on first use (PyPI): PyYAML, crossplane
# (nginx's config parser), kubernetes-validate (the API schemas) and checkov (policy checks).
VENV="${DEPLOY_VENV:-$HERE/../.build-deploy-venv}"
if ! "$VENV/bin/python" -c 'import yaml, crossplane, kubernetes_validate' >/dev/null 2>&1 || [ ! -x "$VENV/bin/checkov" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        PyYAML==6.0.2 crossplane==0.5.8 kubernetes-validate==1.37.0 checkov==3.3.30
fi
PY="$VENV/bin/python"

# Generated files (Swift constants, k8s services) are what topology.json gives.
"$PY" "$HERE/gen-topology.py" --check
echo "deploy check: generated files match deploy/topology.json"
"$PY" "$HERE/check-config.py"
# Every manifest against the Kubernetes API schema (kustomization.yaml is kustomize's, not the API's).
(cd "$HERE/k8s" && "$VENV/bin/kubernetes-validate" --strict --quiet $(ls ./*.yaml | grep -v kustomization.yaml))
echo "deploy check: k8s manifests valid against the Kubernetes $("$VENV/bin/kubernetes-validate" --version) schemas"
# Policy: every failed check fails CI; the knowingly skipped ones carry their reason as an annotation.
"$VENV/bin/checkov" -d "$HERE/k8s" --framework kubernetes --compact --quiet --skip-download
echo "deploy check: checkov policy checks passed (skips annotated with reasons in the manifests)"
