# shellcheck shell=bash
# The service table: executable name and its instance ports (before PORT_BASE is added).
# Order is start order; the gateway comes last because it fronts the others.
# To run more instances of a service, add ports here (the gateway's upstream lists follow).
SERVICES=(
    "hello           8900"
    "quote-server    8500"
    "auth            8100"
    "buy             8200"
    "sell            8300"
    "user-utilities  8400"
    "matching-engine 8600"
    "trigger-worker  8700"
    "gateway         8080 8081"
)
QUOTE_TCP_BASE_PORT=4444

# Ports of one service after PORT_BASE, space separated.
ports_of() {
    local want="$1" row p
    for row in "${SERVICES[@]}"; do
        # shellcheck disable=SC2086
        set -- $row
        [ "$1" = "$want" ] || continue
        shift
        for p in "$@"; do printf '%s ' "$((p + PORT_BASE))"; done
    done
}

# Comma-separated host:port list of a service's instances (for the gateway's DT_UPSTREAM_*).
upstream_list() {
    local p out=""
    for p in $(ports_of "$1"); do out="${out:+$out,}127.0.0.1:$p"; done
    echo "$out"
}

service_names() {
    local row
    for row in "${SERVICES[@]}"; do echo "${row%% *}"; done
}

# What each service may hold (least privilege): pg = PostgreSQL login, redis = Redis password,
# jwt = token secret, admin = the admin password, key = DT_INTERNAL_KEY (signs/checks GatewayProof).
# hello holds nothing: it serves a constant and is open to any caller.
service_secrets() {
    case "$1" in
        gateway) echo "jwt key" ;;
        auth) echo "jwt admin pg redis key" ;;
        buy|sell|user-utilities|trigger-worker|matching-engine) echo "pg redis key" ;;
        quote-server) echo "key" ;;
        *) echo "" ;;
    esac
}

# Environment (NAME=value lines) of one instance. Callers add it with `env`.
service_env() {
    local name="$1" port="$2" grant
    echo "DT_HOST=127.0.0.1"
    echo "DT_PORT=$port"
    for grant in $(service_secrets "$name"); do
        case "$grant" in
            pg)    echo "DT_PG=host=127.0.0.1 port=$PG_PORT dbname=daytrade user=daytrade"
                   echo "DT_PG_PASSWORD=$DT_PG_PASSWORD" ;;
            redis) echo "DT_REDIS=127.0.0.1:$REDIS_PORT"
                   echo "DT_REDIS_PASSWORD=$DT_REDIS_PASSWORD" ;;
            jwt)   echo "DT_JWT_SECRET=$DT_JWT_SECRET" ;;
            admin) echo "DT_ADMIN_PASSWORD=$DT_ADMIN_PASSWORD" ;;
            key)   echo "DT_INTERNAL_KEY=$DT_INTERNAL_KEY" ;;
        esac
    done
    echo "DT_QUOTE_URL=127.0.0.1:$(ports_of quote-server | awk '{print $1}')"
    echo "DT_LOG_LEVEL=${DT_LOG_LEVEL:-info}"
    echo "DT_ALLOW_RESET=${DT_ALLOW_RESET:-0}"
    case "$name" in
        quote-server)
            echo "DT_QUOTE_TCP_PORT=$((QUOTE_TCP_BASE_PORT + PORT_BASE))" ;;
        gateway)
            # One event loop per instance: the stack runs two instances, so two loop threads in all,
            # as nginx runs two workers; two loops each cost ~20 % more CPU per request in
            # wake-ups (BENCHMARKS.md, bench-proxy). DT_LOOPS in up's environment overrides it.
            echo "DT_LOOPS=${DT_LOOPS:-1}"
            echo "DT_UPSTREAM_AUTH=$(upstream_list auth)"
            echo "DT_UPSTREAM_BUY=$(upstream_list buy)"
            echo "DT_UPSTREAM_SELL=$(upstream_list sell)"
            echo "DT_UPSTREAM_UTIL=$(upstream_list user-utilities)"
            echo "DT_UPSTREAM_ENGINE=$(upstream_list matching-engine)" ;;
    esac
}
