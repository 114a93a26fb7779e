# shellcheck shell=bash
# Debian packages the stack needs; installed only when one is missing (fast, offline-safe re-runs).
APT_PACKAGES=(postgresql redis-server nginx libpq-dev libhiredis-dev libssl-dev pkg-config wrk libxml2-utils curl jq)
# The browser test (Tests/e2e): headless Chromium, its WebDriver, and Selenium for Debian's python3.
APT_PACKAGES+=(chromium chromium-driver python3-selenium)

# Packages from the list (plus any extra arguments) that dpkg does not report as installed.
missing_packages() {
    local pkg missing=()
    for pkg in "${APT_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
    done
    echo "${missing[*]}"
}

# Install what is missing. SKIP_APT=1 skips this entirely. Sets APT_INSTALLED to what it installed.
ensure_packages() {
    APT_INSTALLED=""
    [ "${SKIP_APT:-0}" = 1 ] && return 0
    command -v dpkg-query >/dev/null 2>&1 || { log "no dpkg: not a Debian system, skipping package check"; return 0; }
    local missing
    missing="$(missing_packages "$@")"
    [ -z "$missing" ] && return 0
    log "installing missing packages: $missing"
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    APT_INSTALLED="$missing"
}
