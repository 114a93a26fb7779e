# shellcheck shell=bash
# Redis for one state folder: a cache only, so no persistence at all. Needs common.sh.

REDIS_PIDFILE="$STATE_DIR/pids/redis.pid"

redis_pid() { pid_alive "$REDIS_PIDFILE" redis-server; }

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_start() {
    if redis_pid >/dev/null; then
        log "redis already running (pid $(redis_pid))"
    else
        require_free_port "$REDIS_PORT" redis REDIS_PORT
        log "starting redis on 127.0.0.1:$REDIS_PORT"
        mkdir -p "$STATE_DIR/redis" "$STATE_DIR/pids" "$STATE_DIR/logs"
        rm -f "$REDIS_PIDFILE"
        (close_extra_fds; exec redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
            --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$STATE_DIR/logs/redis.log" \
            --dir "$STATE_DIR/redis" --maxclients 10000 --tcp-backlog 4096) \
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
