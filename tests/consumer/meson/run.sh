#!/bin/sh
# Builds and runs the Meson consumer project with incsync as a subproject.
# Usage: run.sh MESON INCSYNC_SOURCE_DIR WORK_DIR
# The consumer is copied to WORK_DIR/src with subprojects/incsync -> the source
# tree (a symlink kept out of the repository, where it would make a loop).
set -eu
meson=$1 incsync=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work/src/subprojects"
cp "$here/meson.build" "$here/main.cpp" "$work/src/"
ln -s "$incsync" "$work/src/subprojects/incsync"
"$meson" setup "$work/build" "$work/src" --force-fallback-for=incsync
"$meson" compile -C "$work/build"
"$meson" test -C "$work/build" --print-errorlogs
