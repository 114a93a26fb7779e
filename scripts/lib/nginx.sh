# shellcheck shell=bash
# nginx in front of the stack, configured from nginx/nginx.conf.template. Needs common.sh, services.sh.

NGINX_DIR="$STATE_DIR/nginx"
NGINX_PIDFILE="$STATE_DIR/pids/nginx.pid"
SITE_ROOT="${SITE_ROOT:-$REPO/nginx/site}"

nginx_pid() { pid_alive "$NGINX_PIDFILE" nginx; }

# Workers outlive a master killed with -9 and keep serving the port. They are recognised as
# nginx processes holding this state folder's error log open; prints their pids.
nginx_orphans() {
    local d pid log="$STATE_DIR/logs/nginx-error.log"
    for d in /proc/[0-9]*; do
        [ "$(cat "$d/comm" 2>/dev/null)" = nginx ] || continue
        pid="${d#/proc/}"
        [ "$pid" = "$(nginx_pid 2>/dev/null)" ] && continue
        if find "$d/fd" -maxdepth 1 -lname "$log" 2>/dev/null | grep -q .; then echo "$pid"; fi
    done
}

nginx_kill_orphans() {
    local pid
    for pid in $(nginx_orphans); do
        log "stopping orphaned nginx worker (pid $pid)"
        stop_pid "$pid" "nginx worker" 5
    done
}

# nginx as root when the port is privileged and we are not root; plain otherwise.
nginx_cmd() {
    if ! is_root && [ "$PORT" -lt 1024 ]; then (close_extra_fds; as_root nginx "$@")
    else (close_extra_fds; exec nginx "$@"); fi
}
nginx_args() { echo "-p $NGINX_DIR/ -e $STATE_DIR/logs/nginx-error.log -c nginx.conf"; }

# Workers run as www-data when that user can read the site and reach the state folder
# (temp files); otherwise (repo under a mode-700 folder) as root. Not root: no user line at all.
nginx_user_line() {
    if ! is_root; then echo "# (not root: workers run as the invoking user)"; return; fi
    if id www-data >/dev/null 2>&1 \
        && runuser -u www-data -- test -r "$SITE_ROOT/index.html" 2>/dev/null \
        && runuser -u www-data -- test -x "$NGINX_DIR" 2>/dev/null; then
        echo "user www-data;"
    else
        echo "user root;"
    fi
}

# Where nginx reaches one instance: its Unix socket when the running instance has one
# (unix_socket_of; an instance started before it had one keeps TCP until restarted), else TCP.
nginx_upstream_address() {
    local sock
    sock="$(unix_socket_of "$1" "$2")"
    if [ -n "$sock" ] && [ -S "$sock" ]; then echo "unix:$sock"; else echo "127.0.0.1:$2"; fi
}

nginx_render() {
    mkdir -p "$NGINX_DIR/tmp" "$STATE_DIR/logs" "$STATE_DIR/pids"
    [ -r "$SITE_ROOT/index.html" ] || die "no $SITE_ROOT/index.html"
    if [ -r /etc/nginx/mime.types ]; then
        cp /etc/nginx/mime.types "$NGINX_DIR/mime.types"
    else
        printf 'types {\n text/html html; text/css css; application/javascript js mjs; application/json json;\n image/svg+xml svg; image/png png; image/x-icon ico; font/woff2 woff2;\n}\n' >"$NGINX_DIR/mime.types"
    fi
    local gw="" p tpl
    shopt -u patsub_replacement 2>/dev/null || true   # bash 5.2: '&' in a replacement is literal
    for p in $(ports_of gateway); do gw="$gw        server $(nginx_upstream_address gateway "$p") max_fails=0;"$'\n'; done
    local st=""
    for p in $(ports_of market-stream); do st="$st        server $(nginx_upstream_address market-stream "$p") max_fails=0;"$'\n'; done
    tpl="$(cat "$REPO/nginx/nginx.conf.template")"
    tpl="${tpl//'${USER_LINE}'/$(nginx_user_line)}"
    tpl="${tpl//'${STATE_DIR}'/$STATE_DIR}"
    tpl="${tpl//'${SITE_ROOT}'/$SITE_ROOT}"
    tpl="${tpl//'${PORT}'/$PORT}"
    # Asking for more descriptors than the hard limit fails (no CAP_SYS_RESOURCE in containers).
    local nofile hard
    hard="$(ulimit -Hn)"; nofile=65535
    [ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ] && nofile="$hard"
    tpl="${tpl//'${NOFILE}'/$nofile}"
    tpl="${tpl//'${WORKER_CONNECTIONS}'/$(( nofile < 32768 ? nofile : 32768 ))}"
    tpl="${tpl//'${GATEWAY_UPSTREAMS}'/${gw%$'\n'}}"
    tpl="${tpl//'${STREAM_UPSTREAMS}'/${st%$'\n'}}"
    printf '%s\n' "$tpl" >"$NGINX_DIR/nginx.conf.new"
    if grep -n '\${[A-Z_]*}' "$NGINX_DIR/nginx.conf.new" >&2; then die "unsubstituted placeholders in nginx config"; fi
    # The previous config, kept to decide whether a running nginx needs a reload.
    if [ -f "$NGINX_DIR/nginx.conf" ] && cmp -s "$NGINX_DIR/nginx.conf" "$NGINX_DIR/nginx.conf.new"; then
        rm -f "$NGINX_DIR/nginx.conf.new"; NGINX_CONF_CHANGED=0
    else
        mv "$NGINX_DIR/nginx.conf.new" "$NGINX_DIR/nginx.conf"; NGINX_CONF_CHANGED=1
    fi
    # shellcheck disable=SC2046
    nginx_cmd -t -q $(nginx_args) || die "rendered nginx config is invalid: $NGINX_DIR/nginx.conf"
}

nginx_health() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$PORT/nginx-health"; }

nginx_start() {
    nginx_render
    local pid
    if pid="$(nginx_pid)"; then
        if [ "$NGINX_CONF_CHANGED" = 1 ]; then
            log "nginx config changed; reloading (pid $pid)"
            # shellcheck disable=SC2046
            nginx_cmd $(nginx_args) -s reload
        else
            log "nginx already running (pid $pid)"
        fi
    else
        nginx_kill_orphans
        require_free_port "$PORT" nginx PORT
        log "starting nginx on port $PORT"
        # shellcheck disable=SC2046
        nginx_cmd $(nginx_args) || die "nginx failed to start (log: $STATE_DIR/logs/nginx-error.log)"
    fi
    wait_for "nginx on port $PORT" "$WAIT_TIMEOUT" nginx_health \
        || { tail -n 20 "$STATE_DIR/logs/nginx-error.log" >&2; die "nginx not answering"; }
}

nginx_stop() {
    local pid
    pid="$(nginx_pid)" || { nginx_kill_orphans; return 0; }
    log "stopping nginx (pid $pid)"
    # Workers exit with the master; wait for the master only.
    stop_pid "$pid" nginx 20
    rm -f "$NGINX_PIDFILE"
    nginx_kill_orphans
}
