#!/usr/bin/env bash
# Browser test of the front end: two real headless Chromium windows (Debian's chromium and
# chromium-driver) driven by Selenium against the test stack's nginx, $DT_TEST_NGINX (exported by
# scripts/test). Installs what is missing: the Debian packages, else Selenium from PyPI into a
# private virtualenv. Prints "e2e: N passed, M failed, K skipped" (scripts/test adds it to its
# totals) and the screenshot folder; exits non-zero on any failure.
#   E2E_SCREENSHOTS  where the PNGs go (default <repo>/screenshots/e2e, git-ignored)
#   E2E_PYTHON       a python3 that can import selenium
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="${DT_TEST_REPO:-$(cd "$HERE/../.." && pwd)}"

fail() {
    echo "FAIL  e2e setup: $*"
    echo "e2e: 0 passed, 1 failed"
    exit 1
}

[ -n "${DT_TEST_NGINX:-}" ] || fail "DT_TEST_NGINX is not set (run through scripts/test, or export the stack's URL, e.g. http://127.0.0.1:28080)"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }

# The browser and its driver come from Debian (scripts/lib/deps.sh lists them for CI too).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "[e2e] installing chromium and chromium-driver" >&2
    { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; } >&2 \
        || fail "chromium/chromedriver missing and could not be installed"
fi

# A python3 that imports selenium: $E2E_PYTHON, Debian's (python3-selenium), the one on PATH,
# then a virtualenv with Selenium from PyPI.
PY=""
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/daytrade-e2e-venv"
for candidate in "${E2E_PYTHON:-}" /usr/bin/python3 python3 "$VENV/bin/python"; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import selenium' >/dev/null 2>&1; then PY="$candidate"; break; fi
done
if [ -z "$PY" ]; then
    echo "[e2e] installing selenium into $VENV" >&2
    { python3 -m venv "$VENV" && "$VENV/bin/python" -m pip install -q selenium; } >&2 \
        || fail "selenium is not importable and pip install selenium failed"
    PY="$VENV/bin/python"
fi

SHOTS="${E2E_SCREENSHOTS:-$REPO/screenshots/e2e}"
echo "[e2e] $("$PY" -c 'import selenium, sys; print("selenium", selenium.__version__, "python", sys.version.split()[0])'); $(chromium --version 2>/dev/null)" >&2
cd "$HERE" && exec "$PY" trading_flow.py --base "$DT_TEST_NGINX" --shots "$SHOTS"
