#!/bin/sh
# Collector benchmark: total CPU (collector + libvirtd + every QEMU) of our
# collector vs collectd's stock virt plugin at N running domains, in one run.
#   bench/collector/run.sh [N...]          (default: 10 50)
# Needs a build (VS_BUILDDIR, default ./build) and a running libvirtd.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${VS_BUILDDIR:=$here/../../build}"
export VS_BUILDDIR
[ $# -gt 0 ] || set -- 10 50
exec /usr/bin/python3 "$here/measure.py" --window "${WINDOW:-20}" --warmup "${WARMUP:-5}" \
	--reps "${REPS:-3}" "$@"
