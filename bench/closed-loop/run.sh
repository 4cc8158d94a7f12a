#!/bin/sh
# bench/closed-loop: the QoS thesis's Table 5-1 and the same load with
# virtscale scaling the pool; prints markdown tables (see run.py and
# docs/benchmarks.md). Uses the build in build-demo/ (scripts/demo.sh makes
# it) unless VS_BUILDDIR says otherwise. Run as root.
#
#   bench/closed-loop/run.sh [--seconds 40] [--clients 275] [--delay 14]
top=$(cd "$(dirname "$0")/../.." && pwd)
export VS_BUILDDIR=${VS_BUILDDIR:-$top/build-demo}
[ -x "$VS_BUILDDIR/actuator/virtscaled" ] || {
	echo "closed-loop: $VS_BUILDDIR is not built (run scripts/demo.sh once, or build there)" >&2
	exit 1
}
exec /usr/bin/python3 "$top/bench/closed-loop/run.py" "$@"
