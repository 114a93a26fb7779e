# shellcheck shell=bash
# The service table comes from deploy/topology.json (the one definition of services, ports, secret
# grants and gateway upstreams; compose and k8s are checked against it by deploy/check-config.py),
# read with jq on first use, so sourcing this file needs nothing installed yet.
TOPOLOGY="${TOPOLOGY:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/topology.json}"
SERVICES=()

# jq over the topology file: topology FILTER [jq options].
topology() {
    local filter="$1"; shift
    command -v jq >/dev/null 2>&1 || die "jq is needed to read $TOPOLOGY (Debian: jq)"
    jq -r "$@" "$filter" "$TOPOLOGY"
}

# SERVICES rows "name port port...", in start order (the gateway last: it fronts the others).
load_services() {
    [ ${#SERVICES[@]} -gt 0 ] && return 0
    mapfile -t SERVICES < <(topology '.services | to_entries[] | "\(.key) \(.value.ports | join(" "))"')
    [ ${#SERVICES[@]} -gt 0 ] || die "no services in $TOPOLOGY"
}

# The legacy quote protocol's port (before PORT_BASE is added).
quote_tcp_base_port() { topology '.services["quote-server"].env_ports.DT_QUOTE_TCP_PORT'; }

# How many shards a sharded service runs (topology "shards": the count comes from the variable it
# names, e.g. ENGINE_SHARDS, else its default); empty for a service that is not sharded.
shard_count() {
    local var def max n
    read -r var def max < <(topology '.services[$n].shards // empty | "\(.count_variable) \(.default) \(.max)"' --arg n "$1")
    [ -n "$var" ] || return 0
    n="${!var:-$def}"
    [[ "$n" =~ ^[1-9][0-9]*$ ]] && [ "$n" -le "$max" ] || die "$var=$n: want 1..$max shards of $1"
    echo "$n"
}

# Ports of one service after PORT_BASE, space separated. A sharded service's shard k listens on
# its first port + k.
ports_of() {
    local want="$1" row p n k
    load_services
    for row in "${SERVICES[@]}"; do
        # shellcheck disable=SC2086
        set -- $row
        [ "$1" = "$want" ] || continue
        shift
        n="$(shard_count "$want")"
        if [ -n "$n" ]; then
            for ((k = 0; k < n; k++)); do printf '%s ' "$(($1 + k + PORT_BASE))"; done
        else
            for p in "$@"; do printf '%s ' "$((p + PORT_BASE))"; done
        fi
    done
}

# Comma-separated list of a service's instances (for the gateway's DT_UPSTREAM_*, the shards'
# peers): each one's Unix socket (`unix:/path`) when it has one — it exists, or the instance is
# not running yet and will be started with it — else 127.0.0.1:port (an instance started before
# it had a socket keeps TCP until restarted).
upstream_list() {
    local p out="" sock addr
    for p in $(ports_of "$1"); do
        addr="127.0.0.1:$p"
        sock="$(unix_socket_of "$1" "$p")"
        if [ -n "$sock" ]; then
            if [ -S "$sock" ] || ! pid_alive "$STATE_DIR/pids/$1-$p.pid" "$1" >/dev/null; then addr="unix:$sock"; fi
        fi
        out="${out:+$out,}$addr"
    done
    echo "$out"
}

service_names() {
    local row
    load_services
    for row in "${SERVICES[@]}"; do echo "${row%% *}"; done
}

# What each service may hold (least privilege): pg = PostgreSQL login, redis = Redis password,
# jwt = token secret, admin = the admin password, key = DT_INTERNAL_KEY (signs/checks GatewayProof).
# hello holds nothing: it serves a constant and is open to any caller.
service_secrets() { topology '.services[$n].secrets // [] | join(" ")' --arg n "$1"; }

# nginx reaches the services it fronts (gateway, market-stream) on a Unix socket beside its own
# files, and the gateway its upstreams (auth, buy, sell, user-utilities, matching-engine) the
# same way: a read or a write there costs the kernel a fraction of loopback TCP's, and nginx's
# relay of every stream event is mostly that (BENCHMARKS.md, live events). The service also keeps
# its TCP port (health checks, tests). UNIX_UPSTREAMS=0 keeps everything on TCP; so does a path
# too long for a socket address (108 bytes).
unix_socket_of() {
    local name="$1" port="$2" path
    [ "${UNIX_UPSTREAMS:-1}" = 1 ] || return 0
    case "$name" in gateway | market-stream | auth | buy | sell | user-utilities | matching-engine) ;; *) return 0 ;; esac
    path="$STATE_DIR/nginx/sock/$name-$port.sock"
    if [ "${#path}" -lt 100 ]; then echo "$path"; fi
}

# Environment (NAME=value lines) of one instance. Callers add it with `env`.
service_env() {
    local name="$1" port="$2" grant sock
    echo "DT_HOST=127.0.0.1"
    echo "DT_PORT=$port"
    sock="$(unix_socket_of "$name" "$port")"
    if [ -n "$sock" ]; then echo "DT_UNIX_SOCKET=$sock"; fi
    for grant in $(service_secrets "$name"); do
        case "$grant" in
            # With standbys: every node, libpq finds the one that takes writes (PGConnInfo.swift).
            pg)    if [ "${PG_STANDBYS:-0}" -gt 0 ]; then echo "DT_PG=$(pg_conninfo_hosts) dbname=daytrade user=daytrade"
                   else echo "DT_PG=host=127.0.0.1 port=$PG_PORT dbname=daytrade user=daytrade"; fi
                   echo "DT_PG_PASSWORD=$DT_PG_PASSWORD" ;;
            redis) echo "DT_REDIS=$(redis_address)"
                   echo "DT_REDIS_PASSWORD=$DT_REDIS_PASSWORD" ;;
            jwt)   echo "DT_JWT_SECRET=$DT_JWT_SECRET" ;;
            admin) echo "DT_ADMIN_PASSWORD=$DT_ADMIN_PASSWORD" ;;
            key)   echo "DT_INTERNAL_KEY=$DT_INTERNAL_KEY" ;;
        esac
    done
    echo "DT_QUOTE_URL=127.0.0.1:$(ports_of quote-server | awk '{print $1}')"
    echo "DT_LOG_LEVEL=${DT_LOG_LEVEL:-info}"
    echo "DT_ALLOW_RESET=${DT_ALLOW_RESET:-0}"
    local var value
    # Extra ports (quote-server's DT_QUOTE_TCP_PORT) move with PORT_BASE like the service ports.
    while read -r var value; do
        [ -n "$var" ] && echo "$var=$((value + PORT_BASE))"
    done < <(topology '.services[$n].env_ports // {} | to_entries[] | "\(.key) \(.value)"' --arg n "$name")
    # The gateway's DT_UPSTREAM_* lists.
    while read -r var value; do
        [ -n "$var" ] && echo "$var=$(upstream_list "$value")"
    done < <(topology '.services[$n].upstreams // {} | to_entries[] | "\(.key) \(.value)"' --arg n "$name")
    # One event loop per gateway instance (two instances = two loop threads, as nginx's two
    # workers; BENCHMARKS.md, bench-proxy). DT_LOOPS in up's environment overrides it.
    # market-stream likewise: scale it with instances (ports), not loops.
    if [ "$name" = gateway ] || [ "$name" = market-stream ]; then echo "DT_LOOPS=${DT_LOOPS:-1}"; fi
    # A shard's index (its port's offset from the first), the count, and every shard's address.
    local n first
    n="$(shard_count "$name")"
    if [ -n "$n" ]; then
        first="$(ports_of "$name" | awk '{print $1}')"
        echo "DT_SHARD=$((port - first))"
        echo "DT_SHARDS=$n"
        echo "DT_SHARD_PEERS=$(upstream_list "$name")"
    fi
}

# Linux (with sched_autogroup, on by default in many kernels) first splits a busy CPU evenly
# between sessions (autogroups), then between the threads of each. Every service here runs in a
# session of its own (setsid), so auth's hashing, or the engine's loop, workers and batch writer
# together, get as much CPU under saturation as one gateway or Redis, while PostgreSQL, which
# gives every backend a session of its own, gets one share per busy backend.
# AUTOGROUP_NICE="name=nice …" weights services' sessions (nice -5 ≈ 3× a default session's
# share; it needs CAP_SYS_NICE); BENCHMARKS.md (TestRun3) shows the effect. Without autogroup, or
# without the capability, nothing changes.
set_autogroup_nice() {
    local kv name nice pid f
    [ -n "${AUTOGROUP_NICE:-}" ] && [ -r /proc/self/autogroup ] || return 0
    for kv in $AUTOGROUP_NICE; do
        name="${kv%%=*}"; nice="${kv#*=}"
        for f in "$STATE_DIR/pids/$name".pid "$STATE_DIR/pids/$name"-*.pid; do
            [ -r "$f" ] || continue
            pid="$(head -n1 "$f" | tr -dc '0-9')"
            [ -n "$pid" ] || continue
            if echo "$nice" >"/proc/$pid/autogroup" 2>/dev/null; then
                log "$name (pid $pid): session nice $nice"
            else
                log "$name (pid $pid): could not set the session's nice to $nice"
            fi
        done
    done
}
