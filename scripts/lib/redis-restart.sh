#!/usr/bin/env bash
# Restart the Redis of a running stack: redis-restart.sh STATE_DIR [restart|kill|start]
#   restart (default): kill -9, then start again and wait for PING (data is gone: it is a cache)
#   kill:              kill -9 only;   start: start only (no-op when running)
# Tests get this command line as DT_TEST_REDIS_RESTART.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 STATE_DIR [restart|kill|start]" >&2; exit 2; }
export STATE_DIR="$1"
action="${2:-restart}"
SCRIPT_NAME=redis-restart
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ -r "$STACK_ENV" ] || die "no stack in $STATE_DIR (run scripts/up first)"
load_stack_env
# shellcheck source=secrets.sh
. "$(dirname "${BASH_SOURCE[0]}")/secrets.sh"
load_secrets
# shellcheck source=redis.sh
. "$(dirname "${BASH_SOURCE[0]}")/redis.sh"
case "$action" in
    restart) redis_kill9; redis_start ;;
    kill)    redis_kill9 ;;
    start)   redis_start ;;
    *) die "unknown action $action" ;;
esac
