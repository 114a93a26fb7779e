# shellcheck shell=bash
# Redis for one state folder: a cache only, so no persistence at all. Needs common.sh and
# secrets.sh (DT_REDIS_PASSWORD from load_secrets). Clients must AUTH (requirepass); the password
# sits in a mode-600 config file and reaches redis-cli through REDISCLI_AUTH, never a command line.

REDIS_PIDFILE="$STATE_DIR/pids/redis.pid"

redis_pid() { pid_alive "$REDIS_PIDFILE" redis-server; }

redis_cli() { REDISCLI_AUTH="$DT_REDIS_PASSWORD" redis-cli --no-auth-warning -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_ping() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }

# Redis also listens on a Unix socket beside its files (services on this machine use it: cheaper
# than loopback TCP per command), unless UNIX_UPSTREAMS=0 or the path is too long for a socket
# address; a Redis started before it had one keeps serving TCP only until restarted.
redis_socket() {
    local path="$STATE_DIR/redis/redis.sock"
    if [ "${UNIX_UPSTREAMS:-1}" = 1 ] && [ "${#path}" -lt 100 ]; then echo "$path"; fi
}

# Where the services reach Redis (DT_REDIS): its socket when it has one, else 127.0.0.1:port.
redis_address() {
    local sock
    sock="$(redis_socket)"
    if [ -n "$sock" ] && [ -S "$sock" ]; then echo "unix:$sock"; else echo "127.0.0.1:$REDIS_PORT"; fi
}

# The config file read at start: everything secret, the rest stays on the command line below.
redis_write_conf() {
    (umask 077; printf 'requirepass %s\n' "$DT_REDIS_PASSWORD" >"$STATE_DIR/redis/redis.conf")
}

# An instance started by an older scripts/up has no password: set it live (the file covers restarts).
redis_require_password() {
    if [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
        log "redis answers without a password; setting requirepass"
        printf '%s' "$DT_REDIS_PASSWORD" | redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -x config set requirepass >/dev/null
    fi
}

redis_start() {
    mkdir -p "$STATE_DIR/redis" "$STATE_DIR/pids" "$STATE_DIR/logs"
    redis_write_conf
    if redis_pid >/dev/null; then
        log "redis already running (pid $(redis_pid))"
        redis_require_password
    else
        require_free_port "$REDIS_PORT" redis REDIS_PORT
        local sock
        sock="$(redis_socket)"
        log "starting redis on 127.0.0.1:$REDIS_PORT${sock:+ and $sock}"
        rm -f "$REDIS_PIDFILE"
        (close_extra_fds; exec redis-server "$STATE_DIR/redis/redis.conf" --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
            --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$STATE_DIR/logs/redis.log" \
            --dir "$STATE_DIR/redis" --maxclients 10000 --tcp-backlog 4096 \
            ${sock:+--unixsocket "$sock" --unixsocketperm 700}) \
            || die "redis-server failed to start (log: $STATE_DIR/logs/redis.log)"
    fi
    wait_for "redis on port $REDIS_PORT" "$WAIT_TIMEOUT" redis_ping \
        || { tail -n 20 "$STATE_DIR/logs/redis.log" >&2; die "redis not answering PING"; }
}

redis_stop() {
    local pid
    pid="$(redis_pid)" || return 0
    log "stopping redis (pid $pid)"
    stop_pid "$pid" redis 20
    rm -f "$REDIS_PIDFILE"
}

# kill -9 (fault injection for tests); the pid file stays behind as after a real crash.
redis_kill9() {
    local pid
    pid="$(redis_pid)" || return 0
    kill -KILL "$pid" 2>/dev/null || as_root kill -KILL "$pid"
    wait_gone "$pid" 10 || die "redis (pid $pid) survived SIGKILL"
}
