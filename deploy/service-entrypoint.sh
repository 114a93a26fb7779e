#!/bin/sh
# Starts one DayTrade service (the first argument). Each binary checks its own secrets and refuses
# to start without them (there are no development defaults to fall back to).
set -eu
name="${1:-}"
[ -n "$name" ] || { echo "usage: service-entrypoint <service> [args...]" >&2; exit 64; }
shift
[ -x "/usr/local/bin/$name" ] || { echo "no such service: $name" >&2; exit 64; }
exec "/usr/local/bin/$name" "$@"
