#!/usr/bin/env bash
# The main job: a pool of real VMs scaled by virtscale under real load.
#
#   scripts/demo.sh [--lb nginx|apache] [--hosts 1|2] [--no-setup] [--out DIR]
#
# On a Debian 12 machine, as root: installs what is missing
# (scripts/setup-deps.sh), builds virtscale into build-demo/, builds the tiny
# web guest (tests/guest/build.sh: Debian's cloud kernel + busybox httpd,
# TCG, a CPU cap of 30% of a core through <cputune>, a page that burns CPU),
# defines the template vsdemo-template, and starts on loopback only:
#   snmpd (own config, UDP 127.0.0.1:18001) + virtscale-snmp (AgentX),
#   nginx (or Apache with its balancer-manager) on 127.0.0.1:18080,
#   collectd with virtscale.so (values to csv, notifications to virtscaled),
#   virtscaled with the pool "vsdemo": min 2, max 6, policy average,
#   address = hostfwd (clones listen on 127.0.0.1:18100-18199), 4 warm
#   instances (paused; VSDEMO_WARM=0 for none) and as many instances per high
#   (2 with no warm ones).
# With --hosts 2 the pool spans two hypervisors: this machine's libvirtd
# (host a) and a second libvirtd started by tests/hostb/start.sh (host b,
# qemu+tcp://127.0.0.1:18010/system, its clones on 127.0.0.2), placement
# fewest with ties to b, at most 3 and at least 1 instance per host; the
# live table names each instance's host.
# Then it drives a load ramp with wrk (10 -> 275 -> 10 clients, each client
# thinking a random 0-20 s between requests), shows the pool live, and ends
# with a summary table, an SNMP walk of the VIRTSCALE-MIB pool and backend
# tables and a plot (demo.png). Everything it started is stopped and every
# vsdemo- domain and volume removed on exit, also on Ctrl-C.
#
# Results stay in build-demo/demo/ (or --out DIR): demo.png, monitor.csv,
# summary.md, the phases' wrk output and every daemon's log.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
lb=nginx
n_hosts=1
do_setup=1
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--lb) lb=${2:-}; shift 2 ;;
	--hosts) n_hosts=${2:-}; shift 2 ;;
	--no-setup) do_setup=0; shift ;;
	--out) out=${2:-}; shift 2 ;;
	-h | --help) sed -n '2,26p' "$0"; exit 0 ;;
	*) echo "usage: $0 [--lb nginx|apache] [--hosts 1|2] [--no-setup] [--out DIR]" >&2; exit 2 ;;
	esac
done
case "$lb" in nginx | apache) ;; *) echo "demo: --lb nginx or --lb apache" >&2; exit 2 ;; esac
case "$n_hosts" in 1 | 2) ;; *) echo "demo: --hosts 1 or --hosts 2" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (libvirt domains, packages)" >&2; exit 1; }

build="$top/build-demo"
W=${out:-$build/demo}
URI=qemu:///system
URI_B=""                  # host b's, with --hosts 2
HOSTB_PORT=18010
HOSTB_PARTITION=/machine/vsdemo
PREFIX=vsdemo-
TEMPLATE=vsdemo-template
SNMP_PORT=18001
LB_PORT=18080
HOSTFWD=18100-18199
CPU_QUOTA=${VSDEMO_CPU_QUOTA:-30000}   # µs per 100 ms: 30% of a host CPU per guest
THINK_MS=${VSDEMO_THINK_MS:-10000}     # mean think time of a client
PAGE=${VSDEMO_PAGE:-/cgi-bin/burn?300} # CPU per request in the guest
HIGH_CLIENTS=${VSDEMO_CLIENTS:-275}
WARM=${VSDEMO_WARM:-4}                 # warm instances kept ready (0: none)
PY=/usr/bin/python3
T0=$(date +%s)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
elapsed() { echo $(($(date +%s) - T0)); }

# --- cleanup: everything we started, nothing else ------------------------------
pids=()
load_pid=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	say "cleaning up"
	touch "$W/monitor.stop" 2>/dev/null
	[ -n "$load_pid" ] && kill -INT "$load_pid" 2>/dev/null
	# the actuator first, so that it does not bring the pool back to min
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	# host b's domains with it (its stop.sh finds its daemons by pid file)
	if [ -f "$W/hostb/libvirtd.pid" ]; then
		bash "$top/tests/hostb/stop.sh" --dir "$W/hostb" >/dev/null 2>&1 ||
			echo "demo: tests/hostb/stop.sh --dir $W/hostb failed" >&2
	fi
	for d in $(virsh -q -c "$URI" list --all --name 2>/dev/null | grep "^$PREFIX"); do
		virsh -q -c "$URI" destroy "$d" >/dev/null 2>&1
		virsh -q -c "$URI" undefine "$d" >/dev/null 2>&1
	done
	virsh -q -c "$URI" pool-refresh default >/dev/null 2>&1
	for v in $(virsh -q -c "$URI" vol-list default 2>/dev/null | awk '{print $1}' | grep "^$PREFIX"); do
		virsh -q -c "$URI" vol-delete --pool default "$v" >/dev/null 2>&1
	done
	left=$(virsh -q -c "$URI" list --all --name 2>/dev/null | grep -c "^$PREFIX")
	echo "demo: stopped ${#pids[@]} processes; $left $PREFIX domains left; results in $W"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # start NAME ARGV...: a daemon in the background, its log in $W/NAME.log
	local name=$1
	shift
	"$@" >"$W/$name.log" 2>&1 &
	pids=("$!" "${pids[@]}") # newest first: stopped in reverse order
	eval "pid_${name//[^A-Za-z0-9_]/_}=$!"
	disown "$!" # cleanup() stops it; no job-control chatter
}

wait_until() { # wait_until SECONDS WHAT CMD...
	local secs=$1 what=$2 i
	shift 2
	for i in $(seq $((secs * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	die "timed out after ${secs}s waiting for $what"
}

# --- 1. packages, build, guest ------------------------------------------------------
if [ "$do_setup" -eq 1 ]; then
	say "installing what is missing (scripts/setup-deps.sh)"
	bash "$top/scripts/setup-deps.sh" || die "setup-deps.sh failed"
fi

say "building virtscale into $build"
mkdir -p "$build"
(
	cd "$top"
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		autoreconf -fi || exit 1
	fi
	cd "$build"
	if [ ! -f Makefile ] || [ ../configure -nt config.status ]; then
		../configure --quiet || exit 1
	fi
	make -j"$(nproc)" >"$build/demo-make.log" 2>&1 || { tail -n 30 "$build/demo-make.log"; exit 1; }
) || die "build failed"
for f in actuator/virtscaled actuator/virtscalectl snmp-subagent/virtscale-snmp \
	collectd-plugin/.libs/virtscale.so; do
	[ -e "$build/$f" ] || die "$build/$f was not built"
done

# --out must not wipe anything but a previous demo's results
# (a run interrupted before its configuration still left .virtscale-demo)
if [ -d "$W" ] && [ -n "$(ls -A "$W")" ] && [ ! -f "$W/.virtscale-demo" ] &&
	[ ! -f "$W/virtscale.conf" ]; then
	die "$W is not empty and holds no previous demo's results; choose another --out"
fi
rm -rf "$W"
mkdir -p "$W/state" "$W/csv" "$W/plugins"
: >"$W/.virtscale-demo"
chmod 755 "$W"

say "guest image and template ($TEMPLATE: TCG, CPU cap $CPU_QUOTA µs per 100 ms)"
# leftovers of an interrupted run
for d in $(virsh -q -c "$URI" list --all --name | grep "^$PREFIX"); do
	virsh -q -c "$URI" destroy "$d" >/dev/null 2>&1
	virsh -q -c "$URI" undefine "$d" >/dev/null 2>&1
done
sh "$top/tests/guest/build.sh" || die "guest build failed"
sh "$top/tests/guest/define-template.sh" "$TEMPLATE" 18000 "$CPU_QUOTA" 96 >/dev/null ||
	die "cannot define the template"
if [ "$n_hosts" -eq 2 ]; then
	say "host b: a second libvirtd (tests/hostb/start.sh, 127.0.0.1:$HOSTB_PORT)"
	URI_B=$(bash "$top/tests/hostb/start.sh" --dir "$W/hostb" --port "$HOSTB_PORT" \
		--partition "$HOSTB_PARTITION") || die "cannot start host b"
	echo "host b: $URI_B"
	VS_TEST_URI="$URI_B" VS_TEST_HOSTFWD_ADDRESS=127.0.0.2 VS_TEST_PARTITION="$HOSTB_PARTITION" \
		sh "$top/tests/guest/define-template.sh" "$TEMPLATE" 18000 "$CPU_QUOTA" 96 >/dev/null ||
		die "cannot define the template on host b"
fi

# --- 2. configuration -----------------------------------------------------------------
CONF="$W/virtscale.conf"
{
	cat <<EOF
; virtscale.conf of the demo (see virtscale.conf(5))
[libvirt]
refresh_interval = 1
slow_interval = 10

[snmp]
agentx_socket = $W/agentx.sock
agentx_ping_interval = 5

[actuator]
socket = $W/actuator.sock
state_dir = $W/state
; the demo runs as root: root's group is the socket's
socket_group = root

EOF
	if [ "$n_hosts" -eq 2 ]; then
		cat <<EOF
[host a]
uri = $URI

[host b]
uri = $URI_B
; its clones' port forwards listen here
hostfwd_address = 127.0.0.2

EOF
	else
		printf '[host a]\nuri = %s\n\n' "$URI"
	fi
	if [ "$lb" = nginx ]; then
		cat <<EOF
[nginx]
upstream_file = $W/nginx/virtscale/web.conf
upstream = web
conf = $W/nginx/nginx.conf
pid_file = $W/nginx/nginx.pid
binary = /usr/sbin/nginx
method = least_conn

EOF
	else
		cat <<EOF
[apache]
balancer_manager = http://127.0.0.1:$LB_PORT/balancer-manager
balancer = web
timeout = 5

EOF
	fi
	cat <<EOF
; a pool name of its own: virtscaled adopts every domain tagged with its
; pool's name, so actuators sharing a libvirtd must not share pool names
[pool vsdemo]
template = $TEMPLATE
name_pattern = ${PREFIX}%02d
min = 2
max = 6
; the QoS thesis's average policy: out when the average CPU (percent of a
; vCPU; the cap is 30) or the sessions per instance are high, in when both
; are low; 3 of the last 5 one-second samples must agree
policy = average
cpu_high = 20
cpu_low = 8
sessions_high = 6
sessions_low = 2
debounce = 3/5
sessions = sockdiag
backend_port = 80
lb = $lb
cooldown = 5
stabilization = 15
; a guest's boot burns CPU: its first 20 s do not count toward the average
; (else the minimum's own boot, and warm clones booting beside it, look
; like load)
warmup = 20
repeat_interval = 2
address = hostfwd
hostfwd_ports = $HOSTFWD
probe = http:/
probe_timeout = 300
drain_timeout = 5
shutdown_timeout = 5
; warm instances: booted ahead and paused, a scale-out resumes one in well
; under a second; a high asks for as many more as are warm (the load step
; needs four), clones boot side by side when none is left
warm = $WARM
warm_mode = paused
step = $( [ "$WARM" -gt 0 ] && echo "$WARM" || echo 2 )
max_step_up = 4
max_parallel = 4
EOF
	if [ "$n_hosts" -eq 2 ]; then
		cat <<EOF
; over two hosts as the Luban paper: new instances on the host with the
; fewest, ties to b; at most 3 and at least 1 per host
hosts = b a
placement = fewest
host_max = 3
host_min = 1
EOF
	fi
} >"$CONF"
CTL=("$build/actuator/virtscalectl" -c "$CONF")
"${CTL[@]}" check-config || die "the demo's configuration is invalid"

# --- 3. daemons -------------------------------------------------------------------
say "starting snmpd (127.0.0.1:$SNMP_PORT) and virtscale-snmp"
cat >"$W/snmpd.conf" <<EOF
agentAddress udp:127.0.0.1:$SNMP_PORT
rocommunity public 127.0.0.1
master agentx
agentXSocket $W/agentx.sock
agentXPerms 0777 0755
EOF
mkdir -p "$W/snmp"
start snmpd env SNMP_PERSISTENT_DIR="$W/snmp" MIBS= MIBDIRS= \
	snmpd -f -C -c "$W/snmpd.conf" -Lo -p "$W/snmpd.pid" -I -smux
wait_until 10 "snmpd" test -S "$W/agentx.sock"
start virtscale-snmp "$build/snmp-subagent/virtscale-snmp" -f -c "$CONF"

if [ "$lb" = nginx ]; then
	say "starting nginx (127.0.0.1:$LB_PORT, upstream file owned by virtscaled)"
	mkdir -p "$W/nginx/virtscale" "$W/nginx/tmp"
	printf '# virtscale: pool vsdemo. Rewritten on every change; do not edit.\nupstream web {\n\tserver 127.0.0.1:1 down; # placeholder\n}\n' \
		>"$W/nginx/virtscale/web.conf"
	cat >"$W/nginx/nginx.conf" <<EOF
worker_processes 1;
error_log $W/nginx/error.log warn;
pid $W/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    include $W/nginx/virtscale/web.conf;
    server {
        listen 127.0.0.1:$LB_PORT;
        location / {
            proxy_pass http://web;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout http_502 http_503;
        }
    }
}
EOF
	start nginx /usr/sbin/nginx -c "$W/nginx/nginx.conf" -g 'daemon off;'
else
	say "starting Apache httpd (127.0.0.1:$LB_PORT, balancer-manager driven by virtscaled)"
	mkdir -p "$W/apache"
	mods=""
	for m in mpm_event authz_core authz_host slotmem_shm proxy proxy_http proxy_balancer \
		lbmethod_byrequests lbmethod_bybusyness status; do
		mods+="LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so"$'\n'
	done
	cat >"$W/apache/httpd.conf" <<EOF
ServerRoot $W/apache
Listen 127.0.0.1:$LB_PORT
PidFile $W/apache/httpd.pid
ErrorLog $W/apache/error.log
LogLevel warn
DefaultRuntimeDir $W/apache
Mutex file:$W/apache
User nobody
Group nogroup
$mods
ServerName 127.0.0.1
ThreadsPerChild 64
ServerLimit 8
MaxRequestWorkers 512
BalancerPersist On
<Proxy balancer://web>
    ProxySet growth=16 lbmethod=bybusyness timeout=60
</Proxy>
<VirtualHost 127.0.0.1:$LB_PORT>
    ServerName 127.0.0.1
    ProxyPass /balancer-manager !
    ProxyPass / balancer://web/
    <Location /balancer-manager>
        SetHandler balancer-manager
        Require ip 127.0.0.1
    </Location>
</VirtualHost>
EOF
	start apache2 env APACHE_RUN_DIR="$W/apache" APACHE_LOCK_DIR="$W/apache" \
		APACHE_LOG_DIR="$W/apache" /usr/sbin/apache2 -d "$W/apache" -f "$W/apache/httpd.conf" -DFOREGROUND
fi
wait_until 10 "the load balancer on 127.0.0.1:$LB_PORT" curl -s -o /dev/null "http://127.0.0.1:$LB_PORT/"

say "starting virtscaled and collectd with virtscale.so"
start virtscaled "$build/actuator/virtscaled" -f -c "$CONF"
wait_until 10 "the actuator socket" test -S "$W/actuator.sock"
for p in logfile csv; do
	ln -f /usr/lib/collectd/$p.so "$W/plugins/$p.so" 2>/dev/null || cp /usr/lib/collectd/$p.so "$W/plugins/"
done
cp "$build/collectd-plugin/.libs/virtscale.so" "$W/plugins/virtscale.so"
cat >"$W/collectd.conf" <<EOF
Hostname "vsdemo"
FQDNLookup false
BaseDir "$W"
PIDFile "$W/collectd.pid"
PluginDir "$W/plugins"
TypesDB "/usr/share/collectd/types.db" "$top/collectd-plugin/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
  Timestamp true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$W/csv"
  StoreRates false
</Plugin>
LoadPlugin virtscale
<Plugin virtscale>
  ConfigFile "$CONF"
</Plugin>
EOF
start collectd /usr/sbin/collectd -f -C "$W/collectd.conf"

say "waiting for the pool's minimum and its warm instances ($((2 + WARM)) guests booting under TCG)"
pool_running() { # running instances, or -1 while an action is under way or
	# the warm pool is short (the load starts once its upkeep is done)
	"${CTL[@]}" -j status 2>/dev/null | "$PY" -c 'import json, sys
p = json.load(sys.stdin)["pools"][0]
busy = p["phase"] not in ("idle", "cooldown") or p.get("warm", 0) < int(sys.argv[1])
print(-1 if busy else sum(i["state"] == "running" and not i.get("warm") for i in p["instances"]))' "$WARM"
}
pool_ready() { [ "$(pool_running)" -ge 2 ] && curl -sf -m 5 -o /dev/null "http://127.0.0.1:$LB_PORT/"; }
wait_until 600 "2 running guests behind the load balancer and $WARM warm" pool_ready
"${CTL[@]}" status
# clones keep the template's SMBIOS product name; the UUID is their own
for _ in 1 2 3 4; do
	page=$(curl -s -m 10 "http://127.0.0.1:$LB_PORT/")
	uuid=$(printf '%s' "$page" | sed -n 's/.* uuid \([0-9a-f-]*\).*/\1/p')
	dom=$(virsh -q -c "$URI" domname "$uuid" 2>/dev/null) ||
		dom="$(virsh -q -c "$URI_B" domname "$uuid" 2>/dev/null) on host b"
	echo "through the load balancer: \"$page\" = domain $dom"
done
echo "ready after $(elapsed) s"

# --- 4. the load ramp -----------------------------------------------------------------
URL="http://127.0.0.1:$LB_PORT$PAGE"
echo 0 >"$W/clients"
rm -f "$W/monitor.stop"
start monitor "$PY" -u "$top/scripts/demo/vsdemo.py" monitor --ctl "$build/actuator/virtscalectl" \
	--conf "$CONF" --csvdir "$W/csv" --url "$URL" --clients-file "$W/clients" \
	--pool vsdemo --out "$W/monitor.csv" --events "$W/events.txt" --probes "$W/probes.csv" --stop-file "$W/monitor.stop"
tail -n +1 -f "$W/monitor.log" --pid "$pid_monitor" &
tail_pid=$!

# phase NAME CLIENTS MIN_SECONDS MAX_SECONDS [CONDITION...]: wrk with CLIENTS
# connections for at least MIN and at most MAX seconds; it ends early (after
# MIN) once CONDITION has held for 10 s.
phase_n=0
phase() {
	local name=$1 clients=$2 min=$3 max=$4 t held=0
	shift 4
	phase_n=$((phase_n + 1))
	local f="$W/phase-$phase_n-$name.txt"
	echo "PHASE $name $clients $max" >"$f"
	echo "$clients" >"$W/clients"
	echo "$(date +%T) >>> phase $name: $clients clients (wrk, think time 0-$((2 * THINK_MS / 1000)) s, $PAGE)"
	wrk -t 2 -c "$clients" -d "${max}s" --timeout 60s -s "$top/scripts/demo/think.lua" \
		"$URL" -- "$THINK_MS" >>"$f" 2>&1 &
	load_pid=$!
	for t in $(seq "$max"); do
		kill -0 "$load_pid" 2>/dev/null || break
		if [ "$t" -ge "$min" ] && [ $# -gt 0 ]; then
			if "$@"; then held=$((held + 1)); else held=0; fi
			[ "$held" -ge 10 ] && break
		fi
		sleep 1
	done
	kill -INT "$load_pid" 2>/dev/null
	wait "$load_pid" 2>/dev/null
	load_pid=""
}
running_is() { [ "$(pool_running)" = "$1" ]; }

say "load ramp: 10 -> $HIGH_CLIENTS -> 10 clients"
phase low 10 15 15
phase high "$HIGH_CLIENTS" 60 150 running_is 6
phase calm 10 25 180 running_is 2
echo 0 >"$W/clients"
sleep 2
touch "$W/monitor.stop"
for _ in $(seq 50); do kill -0 "$pid_monitor" 2>/dev/null || break; sleep 0.2; done
kill "$tail_pid" 2>/dev/null

# --- 5. results -------------------------------------------------------------------------
say "summary ($lb, pool vsdemo: min 2, max 6, $n_hosts host(s))"
{
	"$PY" "$top/scripts/demo/vsdemo.py" summary "$W"/phase-*.txt
	echo
	"${CTL[@]}" status | sed -n '1,3p'
	"${CTL[@]}" status | grep '^host '
} | tee "$W/summary.md"

say "SNMP: VIRTSCALE-MIB pool and backend tables"
"$PY" "$top/scripts/demo/vsdemo.py" snmp-tables --port "$SNMP_PORT" --mib "$top/mibs/VIRTSCALE-MIB.txt" |
	tee "$W/snmp-tables.txt"

say "plot"
"$PY" "$top/scripts/demo/vsdemo.py" plot --csv "$W/monitor.csv" --events "$W/events.txt" \
	--probes "$W/probes.csv" --png "$W/demo.png" --title "virtscale demo: pool vsdemo behind $lb, $(date +%F)"
echo "demo finished in $(elapsed) s"
