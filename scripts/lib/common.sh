# shellcheck shell=bash
# Shared helpers for scripts/up, scripts/down, scripts/test. Sourced, never executed.
# Sets REPO, STATE_DIR and the port variables every script agrees on.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${STATE_DIR:-$REPO/.state}"
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$PWD/$STATE_DIR" ;; esac
STATE_DIR="${STATE_DIR%/}"

# One offset shifts every service port (a second stack, e.g. for tests, uses PORT_BASE=11000).
# PostgreSQL, Redis and nginx have their own variables.
PORT_BASE="${PORT_BASE:-0}"
PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
PORT="${PORT:-80}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-60}"

log()  { printf '[%s] %s\n' "${SCRIPT_NAME:-daytrade}" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command with root rights: directly as root, through sudo otherwise.
as_root() {
    if is_root; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root for: $* (no sudo available)"; fi
}

# Close every descriptor above 2 in the current (sub)shell. Daemons started from here must not
# keep the caller's pipes and sockets open: a test that runs a helper through Foundation's
# Process (which watches a socketpair) or a CI log pipe would otherwise wait forever.
close_extra_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd="${fd##*/}"
        [ "$fd" -gt 2 ] 2>/dev/null && { eval "exec $fd>&-"; } 2>/dev/null
    done
    return 0
}

# Pid recorded in a pid file if that process is alive and its command line contains $2
# (guards against a recycled pid after a kill -9). Prints the pid; status 1 otherwise.
pid_alive() {
    local file="$1" want="$2" pid
    [ -r "$file" ] || return 1
    pid="$(head -n1 "$file" 2>/dev/null | tr -dc '0-9')"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$want" || return 1
    echo "$pid"
}

# The stack's PostgreSQL postmaster pid (its data folder as postgres.sh recorded it in
# pg.location), or nothing; bench scripts read its processes from /proc.
stack_pg_pid() {
    head -n1 "$(cat "$STATE_DIR/pg.location" 2>/dev/null || echo "$STATE_DIR/pg")/postmaster.pid" 2>/dev/null \
        | tr -dc '0-9'
}

# Something (anyone) accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_closed() { ! port_open "$1"; }

# Before starting a piece: its port must be free. A process that was just killed may hold it
# for a moment, so wait a few seconds before blaming another program.
require_free_port() {
    local port="$1" what="$2" hint="$3"
    wait_for "port $port to be free" 5 port_closed "$port" \
        || die "port $port (for $what) is in use by another process (set $hint)"
}

# Poll a command until it succeeds or $2 seconds pass. wait_for "what" SECONDS cmd args...
wait_for() {
    local what="$1" timeout="$2"; shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "timed out after ${timeout}s waiting for $what"
            return 1
        fi
        sleep 0.1
    done
}

# Wait until the process is gone (poll), returns 1 on timeout.
wait_gone() {
    local pid="$1" timeout="$2" deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        # A zombie counts as gone once its other threads have exited too (they hold the files).
        if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = "Z" ] \
            && [ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -le 1 ]; then
            return 0
        fi
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# TERM a process, wait, then KILL if it is still there after $3 seconds.
stop_pid() {
    local pid="$1" what="$2" timeout="${3:-20}"
    kill -TERM "$pid" 2>/dev/null || as_root kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$timeout"; then
        log "$what (pid $pid) ignored SIGTERM for ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || as_root kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || log "WARNING: $what (pid $pid) still alive"
    fi
}

# The stack's settings are written by scripts/up so that down and the helpers need only STATE_DIR.
STACK_ENV="$STATE_DIR/stack.env"
save_stack_env() {
    {
        echo "PORT_BASE=$PORT_BASE"
        echo "PG_PORT=$PG_PORT"
        echo "REDIS_PORT=$REDIS_PORT"
        echo "PORT=$PORT"
        echo "PG_STANDBYS=${PG_STANDBYS:-0}"
    } >"$STACK_ENV.tmp" && mv "$STACK_ENV.tmp" "$STACK_ENV"
}
load_stack_env() {
    # Values recorded by up win over defaults, so `STATE_DIR=x scripts/down` just works.
    if [ -r "$STACK_ENV" ]; then
        # shellcheck disable=SC1090
        . "$STACK_ENV"
    fi
}

