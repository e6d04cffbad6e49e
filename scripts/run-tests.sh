#!/usr/bin/env bash
# Installs what is missing, builds with CMake and Meson, runs every test.
# INCSYNC_SANITIZE_TESTS=1 also runs the suite under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=${INCSYNC_JOBS:-$(nproc)}
start=$(date +%s)

echo "== CMake (release preset): build and test"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

echo "== Meson: build and test"
if [ -d build/meson ]; then
    meson setup --reconfigure build/meson >/dev/null
else
    meson setup build/meson >/dev/null
fi
meson compile -C build/meson -j "$jobs"
meson test -C build/meson --print-errorlogs

if [ "${INCSYNC_SANITIZE_TESTS:-0}" = 1 ]; then
    echo "== CMake (asan preset): build and test"
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$jobs"
    ctest --preset asan -j "$jobs"
fi

echo "== all tests passed in $(( $(date +%s) - start )) s"
