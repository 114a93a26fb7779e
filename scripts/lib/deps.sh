# shellcheck shell=bash
# Debian packages installed only when one is missing (fast, offline-safe re-runs).
# What building and running the stack needs (scripts/up installs only these):
APT_PACKAGES=(postgresql redis-server nginx libpq-dev libhiredis-dev libssl-dev pkg-config curl jq)
# What the tests and benchmarks add (scripts/test and CI install them, `ensure_packages
# "${TEST_APT_PACKAGES[@]}"`): xmllint for the DUMPLOG schema, wrk, and for the browser test
# (Tests/e2e) headless Chromium, its WebDriver and Selenium for Debian's python3.
# shellcheck disable=SC2034  # read by the scripts that source this file
TEST_APT_PACKAGES=(libxml2-utils wrk chromium chromium-driver python3-selenium)

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
