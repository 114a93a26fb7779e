#!/bin/sh
# Starts one DayTrade service (the first argument) after checking the settings that must never
# fall back to a development default inside a deployment.
set -eu
name="${1:-}"
[ -n "$name" ] || { echo "usage: service-entrypoint <service> [args...]" >&2; exit 64; }
shift
[ -x "/usr/local/bin/$name" ] || { echo "no such service: $name" >&2; exit 64; }
case "$name" in
    gateway|auth)
        [ -n "${DT_JWT_SECRET:-}" ] || { echo "$name: DT_JWT_SECRET is empty; set it (e.g. openssl rand -hex 32)" >&2; exit 78; } ;;
esac
if [ "$name" = auth ]; then
    [ -n "${DT_ADMIN_PASSWORD:-}" ] || { echo "auth: DT_ADMIN_PASSWORD is empty; set it" >&2; exit 78; }
fi
exec "/usr/local/bin/$name" "$@"
