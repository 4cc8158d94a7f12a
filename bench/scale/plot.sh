#!/bin/sh
# Draws docs/scale.png from docs/scale.dat (written by bench/scale/run.py --dat).
#   bench/scale/plot.sh [DAT [PNG]]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dat=${1:-$here/../../docs/scale.dat}
png=${2:-$here/../../docs/scale.png}
exec gnuplot -e "dat='$dat'; out='$png'" "$here/plot.gp"
