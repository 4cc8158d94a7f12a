#!/bin/sh
# Builds and runs view-lookup.c against the source tree's mib-view.c.
#   bench/snmp-walk/view-lookup.sh [BUILDDIR] [N...]   (BUILDDIR: a configured build, for config.h)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../..
build=${1:-$src/build-bench}
[ $# -gt 0 ] && shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
gcc -O2 -I"$build" -I"$src/snmp-subagent" $(net-snmp-config --base-cflags) \
    $(pkg-config --cflags glib-2.0) -o "$out/view-lookup" "$here/view-lookup.c" \
    "$src/snmp-subagent/mib-view.c" $(net-snmp-config --agent-libs) $(pkg-config --libs glib-2.0)
"$out/view-lookup" "$@"
