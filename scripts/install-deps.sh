#!/usr/bin/env bash
# Installs, on Debian 12, whatever the build and tests need and is missing.
# Idempotent: when everything is there it only checks (dpkg -s) and exits.
set -euo pipefail

packages=(g++ cmake ninja-build meson pkg-config
          libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
          libbenchmark-dev libsqlite3-dev)

missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
