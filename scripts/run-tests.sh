#!/usr/bin/env bash
# Installs what is missing, builds with CMake and Meson, runs every test.
#   INCSYNC_JOBS=N            parallel compile and test jobs (default 2: CI has 2 cores)
#   INCSYNC_SANITIZE_TESTS=1  also build and run the suite under ASan+UBSan (slow)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${INCSYNC_JOBS:-2}
start=$SECONDS
step="install dependencies"
trap 'rc=$?; [ $rc -eq 0 ] || echo "== run-tests: FAILED during: $step (exit $rc, $((SECONDS - start)) s)" >&2' EXIT

scripts/install-deps.sh

step="CMake configure (release)"
echo "== $step"
cmake --preset release >/dev/null
step="CMake build (release)"
echo "== $step"
cmake --build --preset release -j "$jobs"
step="CTest (release)"
echo "== $step"
ctest --preset release -j "$jobs" --output-on-failure

step="Meson setup"
echo "== $step"
# Without debug info: this build checks that Meson builds and runs it all;
# debugging happens in the CMake presets. (Saves a quarter of its compile time.)
if [ -f build/meson/build.ninja ]; then
    meson setup --reconfigure -Ddebug=false build/meson >/dev/null
else
    rm -rf build/meson
    meson setup -Ddebug=false build/meson >/dev/null
fi
step="Meson compile"
echo "== $step"
meson compile -C build/meson -j "$jobs"
step="Meson test"
echo "== $step"
meson test -C build/meson --print-errorlogs --num-processes "$jobs"

if [ "${INCSYNC_SANITIZE_TESTS:-0}" = 1 ]; then
    step="CMake configure (asan)"
    echo "== $step"
    cmake --preset asan >/dev/null
    step="CMake build (asan)"
    echo "== $step"
    cmake --build --preset asan -j "$jobs"
    step="CTest (asan)"
    echo "== $step"
    ctest --preset asan -j "$jobs" --output-on-failure
fi

# Every step stops the script on failure, so reaching here means all passed.
cmake_tests=$(ctest --preset release -N | grep -c 'Test *#')
meson_tests=$(meson test -C build/meson --list 2>/dev/null | grep -vc '^ninja')
echo "== run-tests: all passed in $((SECONDS - start)) s"
echo "tests: $((cmake_tests + meson_tests)) passed, 0 failed"
