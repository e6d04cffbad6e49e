#!/usr/bin/env bash
# Installs, on Debian 12, whatever the build and tests need and is missing.
# Idempotent: when everything is there it only checks (dpkg -s, command -v)
# and exits. The C++ toolchain and libraries are required: failing to install
# them stops the script. The browser test's pieces (Debian's chromium, Node.js
# and npm, the npm package playwright-core) are not: without them the test
# browser_pos_page skips, and this script warns why.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build meson pkg-config curl
          libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
          libbenchmark-dev libsqlite3-dev zlib1g-dev
          libpq-dev libhiredis-dev postgresql redis-server # scale-out: the store, the buses, their test servers
          clang-14 libclang-rt-14-dev) # the asan, tsan and fuzz presets (sanitizer runtimes, libFuzzer)

installed() {
    # "installed", not merely known to dpkg (a removed package keeps its config).
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

sudo=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=(sudo); fi
can_install() { [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; }

apt_updated=0
apt_install() {
    # env, not export: sudo drops the caller's environment.
    if [ $apt_updated -eq 0 ]; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        apt_updated=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    can_install || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    apt_install "${missing[@]}"
fi

# The browser test (tests/browser/): optional, so failures only warn.
warn() {
    echo "install-deps: warning: $*; the browser test (browser_pos_page) will be skipped" >&2
}

browser=()
[ -x /usr/bin/chromium ] || browser+=(chromium)
# Commands, not packages: a Node.js from elsewhere (nodesource's, which
# conflicts with Debian's npm package) serves as well.
command -v node >/dev/null || browser+=(nodejs)
command -v npm >/dev/null || browser+=(npm)
if [ ${#browser[@]} -gt 0 ]; then
    echo "install-deps: installing ${browser[*]} (for the browser test)"
    if ! can_install; then
        warn "not root and no sudo to install ${browser[*]}"
    elif ! apt_install "${browser[@]}"; then
        warn "could not install ${browser[*]}"
    fi
fi

if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
    if ! command -v npm >/dev/null; then
        warn "npm is missing, so playwright-core cannot be installed"
    else
        echo "install-deps: npm ci --prefix tests/browser (playwright-core, for the browser test)"
        npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null \
            || warn "npm ci --prefix tests/browser failed"
    fi
fi
