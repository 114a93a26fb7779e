# shellcheck shell=bash
# Requests from scripts straight to a service port carry the gateway's proof (GatewayProof.swift):
#   x-gateway-proof: <unix ms>.<hex HMAC-SHA256(DT_INTERNAL_KEY, method\ntarget\nuid\nname\nrole\nrequest-id\nreal-ip\nms)>
# Scripts send no identity and no address, so those five lines are empty. The key comes from STATE_DIR/internal-key
# and reaches python3 through the environment, never a command line. Needs common.sh.

gateway_proof() {
    local method="$1" target="$2" ms
    ms="$(date +%s%3N)"
    printf '%s\n%s\n\n\n\n\n\n%s' "$method" "$target" "$ms" \
        | DT_PROOF_KEY="$(head -n1 "$STATE_DIR/internal-key")" python3 -c '
import hashlib, hmac, os, sys
print(hmac.new(os.environ["DT_PROOF_KEY"].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())' \
        | sed "s/^/$ms./"
}

# signed_curl METHOD http://127.0.0.1:PORT/TARGET [curl options...]
signed_curl() {
    local method="$1" url="$2"; shift 2
    local target="/${url#http://*/}"
    curl -X "$method" -H "x-gateway-proof: $(gateway_proof "$method" "$target")" "$@" "$url"
}

# metric_sum NAME SERVICE...: a /metrics value summed over every instance of the services (0 when
# absent or unreachable). Needs services.sh.
metric_sum() {
    local name="$1" svc port m total=0
    shift
    for svc in "$@"; do
        for port in $(ports_of "$svc"); do
            m="$(signed_curl GET "http://127.0.0.1:$port/metrics" -fs -m 5 2>/dev/null || true)"
            total=$(( total + $(awk -v n="$name" '$1 == n {printf "%d\n", $2}' <<<"$m" | head -n1 | grep . || echo 0) ))
        done
    done
    echo "$total"
}
