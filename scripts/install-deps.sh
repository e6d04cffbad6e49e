#!/usr/bin/env bash
# Installs, on Debian 12, whatever the build and tests need and is missing.
# Idempotent: when everything is there it only checks (dpkg -s) and exits.
set -euo pipefail

packages=(g++ cmake ninja-build meson pkg-config curl
          libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
          libbenchmark-dev libsqlite3-dev)

missing=()
for p in "${packages[@]}"; do
    # "installed", not merely known to dpkg (a removed package keeps its config).
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
# env, not export: sudo drops the caller's environment.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
