#!/bin/sh
# bench/reliability: virtscaled's intake under a flood of notification lines
# and virtscale-snmp under parallel walks while the pool scales (see run.py
# and docs/benchmarks.md, "Reliability"). Build without sanitizers first:
#   mkdir build-bench && cd build-bench && ../configure && make -j2
#   VS_BUILDDIR=$PWD/build-bench bench/reliability/run.sh [--seconds 60] [--rate 10000]
# Run as root, with libvirtd running.
top=$(cd "$(dirname "$0")/../.." && pwd)
export VS_BUILDDIR=${VS_BUILDDIR:-$top/build-bench}
[ -x "$VS_BUILDDIR/actuator/virtscaled" ] || {
	echo "reliability: $VS_BUILDDIR is not built" >&2
	exit 1
}
exec /usr/bin/python3 "$top/bench/reliability/run.py" "$@"
