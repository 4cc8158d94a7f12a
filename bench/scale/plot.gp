# bench/scale/plot.gp: the curves of bench/scale/run.py's --dat file.
#   gnuplot -e "dat='docs/scale.dat'; out='docs/scale.png'" bench/scale/plot.gp
# Columns: see the first line of the .dat file.
if (!exists("dat")) dat = 'docs/scale.dat'
if (!exists("out")) out = 'docs/scale.png'
set terminal pngcairo size 1200,1800 font ",10"
set output out
set multiplot layout 4,2 title "virtscale cost against running halt-disk KVM domains on one host (bench/scale/run.py)"
set logscale x
set xrange [8:240]
set xtics (10, 50, 100, 200)
set xlabel "running domains N"
set grid
set key below
set yrange [0:*]

set title "Collection CPU per domain (collector + libvirtd + QEMU)"
set ylabel "ms of CPU per s, per domain"
plot dat u 1:2 w lp lw 2 t "collectd stock virt, 1 s (anchor)", \
     dat u 1:3 w lp lw 2 t "ours, every group every 1 s", \
     dat u 1:4 w lp lw 2 t "ours, default cadence", \
     dat u 1:5 w lp lw 1 dt 2 t "nothing collecting"

set title "SNMP walk (VM-MIB + VIRTSCALE-MIB) per varbind"
set ylabel "µs per varbind"
plot dat u 1:6 w lp lw 2 t "virtscale-snmp", \
     dat u 1:7 w lp lw 2 t "static table, same size (anchor)"

set title "SNMP walk: CPU time per varbind of each process"
set ylabel "µs of CPU per varbind"
plot dat u 1:18 w lp lw 2 t "virtscale-snmp", \
     dat u 1:19 w lp lw 2 t "static table's process (anchor)", \
     dat u 1:20 w lp lw 1 t "snmpd, serving ours", \
     dat u 1:21 w lp lw 1 dt 2 t "snmpd, serving the anchor", \
     dat u 1:22 w lp lw 1 t "client (snmpbulkwalk), ours", \
     dat u 1:23 w lp lw 1 dt 2 t "client, the anchor"

set title "Full walk time"
set ylabel "ms per walk"
plot dat u 1:8 w lp lw 2 t "virtscale-snmp", \
     dat u 1:9 w lp lw 2 t "static table (anchor)"

set title "collectd read threads: CPU per 1 s interval, per domain"
set ylabel "µs per domain per interval"
plot dat u 1:($10*1000/$1) w lp lw 2 t "virtscale.so, default cadence", \
     dat u 1:($11*1000/$1) w lp lw 2 t "stock virt plugin (anchor)"

set title "Resident memory"
set ylabel "MiB"
plot dat u 1:($12/1024) w lp lw 2 t "virtscale-snmp", \
     dat u 1:($13/1024) w lp lw 2 t "collectd + virtscale.so", \
     dat u 1:($14/1024) w lp lw 2 t "collectd + stock virt"

set title "virsh start of one more domain to ..."
set ylabel "ms"
plot dat u 1:15 w lp lw 2 t "virsh returns (anchor)", \
     dat u 1:16 w lp lw 2 t "its VM-MIB row running", \
     dat u 1:17 w lp lw 2 t "its first collectd value"
unset multiplot
