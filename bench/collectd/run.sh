#!/bin/sh
# bench/collectd: see run.py. Build without sanitizers first, e.g.
#   mkdir build-bench && cd build-bench && ../configure && make -j2
#   VS_BUILDDIR=$PWD ../bench/collectd/run.sh -n 10 -n 50
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$@"
