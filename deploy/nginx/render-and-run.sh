#!/usr/bin/env bash
# shellcheck disable=SC2016  # '${NAME}' placeholders are literal text, never expanded
# nginx for a container: renders nginx/nginx.conf.template with the placeholders scripts/up fills
# (scripts/lib/nginx.sh: USER_LINE, STATE_DIR, SITE_ROOT, PORT, NOFILE, WORKER_CONNECTIONS,
# GATEWAY_UPSTREAMS, STREAM_UPSTREAMS), then runs nginx in the foreground. Upstreams are
# host:port names here instead of 127.0.0.1 ports:
#   DT_GATEWAYS  comma-separated gateway instances  (gateway-1:8080,gateway-2:8080)
#   DT_STREAMS   comma-separated market-stream instances (market-stream-1:8800,market-stream-2:8800)
#   PORT (80), STATE_DIR (/var/lib/daytrade), SITE_ROOT (/srv/daytrade/site), TEMPLATE
set -euo pipefail
PORT="${PORT:-80}"
STATE_DIR="${STATE_DIR:-/var/lib/daytrade}"
SITE_ROOT="${SITE_ROOT:-/srv/daytrade/site}"
TEMPLATE="${TEMPLATE:-/etc/daytrade/nginx.conf.template}"
DT_GATEWAYS="${DT_GATEWAYS:-gateway-1:8080,gateway-2:8080}"
DT_STREAMS="${DT_STREAMS:-market-stream-1:8800,market-stream-2:8800}"
NGINX_DIR="$STATE_DIR/nginx"

die() { echo "render-and-run: $*" >&2; exit 1; }
[ -r "$TEMPLATE" ] || die "no template at $TEMPLATE"
[ -r "$SITE_ROOT/index.html" ] || die "no $SITE_ROOT/index.html"

mkdir -p "$NGINX_DIR/tmp" "$STATE_DIR/logs" "$STATE_DIR/pids"
# As root (compose): the master binds the port, the workers run as www-data. As any other user
# (k8s runs it as uid 10001 on port 8080 with a read-only root): everything runs as that user.
user_line=""
if [ "$(id -u)" = 0 ]; then
    chown -R www-data: "$NGINX_DIR/tmp"
    user_line="user www-data;"
fi
# The template logs to files in the state folder; in a container they are the container's output.
ln -sf /dev/stdout "$STATE_DIR/logs/nginx-access.log"
ln -sf /dev/stderr "$STATE_DIR/logs/nginx-error.log"
cp /etc/nginx/mime.types "$NGINX_DIR/mime.types"

# upstream_servers "host:port,host:port": one nginx `server` line per address.
upstream_servers() {
    local list addr out=""
    IFS=',' read -r -a list <<<"$1"
    for addr in "${list[@]}"; do
        addr="${addr// /}"
        [ -n "$addr" ] && out="$out        server $addr max_fails=0;"$'\n'
    done
    printf '%s' "$out"
}
gateways="$(upstream_servers "$DT_GATEWAYS")"$'\n'
[ -n "${gateways//$'\n'/}" ] || die "DT_GATEWAYS names no gateway"
streams="$(upstream_servers "$DT_STREAMS")"$'\n'
[ -n "${streams//$'\n'/}" ] || die "DT_STREAMS names no market-stream instance"

# Same limits as scripts/lib/nginx.sh: never ask for more descriptors than the hard limit.
hard="$(ulimit -Hn)"; nofile=65535
[ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ] && nofile="$hard"

shopt -u patsub_replacement 2>/dev/null || true   # bash 5.2: '&' in a replacement is literal
tpl="$(cat "$TEMPLATE")"
tpl="${tpl//'${USER_LINE}'/$user_line}"
tpl="${tpl//'${STATE_DIR}'/$STATE_DIR}"
tpl="${tpl//'${SITE_ROOT}'/$SITE_ROOT}"
tpl="${tpl//'${PORT}'/$PORT}"
tpl="${tpl//'${NOFILE}'/$nofile}"
tpl="${tpl//'${WORKER_CONNECTIONS}'/$(( nofile < 32768 ? nofile : 32768 ))}"
tpl="${tpl//'${GATEWAY_UPSTREAMS}'/${gateways%$'\n'}}"
tpl="${tpl//'${STREAM_UPSTREAMS}'/${streams%$'\n'}}"
printf '%s\n' "$tpl" >"$NGINX_DIR/nginx.conf"
if grep -n '\${[A-Z_]*}' "$NGINX_DIR/nginx.conf" >&2; then die "unsubstituted placeholders in $NGINX_DIR/nginx.conf"; fi

nginx -t -q -p "$NGINX_DIR/" -e /dev/stderr -c nginx.conf
exec nginx -p "$NGINX_DIR/" -e /dev/stderr -c nginx.conf -g 'daemon off;'
