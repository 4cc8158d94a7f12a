#!/bin/bash
# tests/hostb/start.sh - starts "host B": a second, independent libvirtd on
# this machine, in its own mount namespace, listening on loopback TCP.
#
#   start.sh --dir DIR [--port PORT] [--partition PATH] [--timeout S] [--restart]
#
# DIR: the bed's state (created; a stale bed in it is stopped and wiped
# first). PORT: libvirtd's TCP port on 127.0.0.1 (default 16510).
# PATH: the cgroup partition host B's domains go in (default
# /machine/hostb; a domain asks for it with <resource><partition>).
# --restart: keep DIR's state (domains, config) and start whichever of the
# bed's daemons is not running, inside the bed's namespace when one of its
# processes still lives (e.g. after libvirtd was killed), else in a new one.
# Prints the URI (qemu+tcp://127.0.0.1:PORT/system) once libvirtd answers.
# Must run as root. tests/hostb/README.md explains the mounts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/hostb/bed-lib.sh
. "$HERE/bed-lib.sh"

usage() {
	echo "usage: $0 --dir DIR [--port PORT] [--partition PATH] [--timeout S] [--restart]" >&2
	exit 64
}

BED_DIR='' PORT=16510 PARTITION=/machine/hostb TIMEOUT=30 RESTART=''
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) BED_DIR=${2:-} && shift ;;
	--port) PORT=${2:-} && shift ;;
	--partition) PARTITION=${2:-} && shift ;;
	--timeout) TIMEOUT=${2:-} && shift ;;
	--restart) RESTART=1 ;;
	*) usage ;;
	esac
	shift
done
[ -n "$BED_DIR" ] || usage
# post-copy migration between the hosts: QEMU runs unprivileged and needs
# userfaultfd (a machine-wide setting, as scripts/setup-deps.sh makes it)
sysctl -qw vm.unprivileged_userfaultfd=1 2>/dev/null || true
case "$PORT" in '' | *[!0-9]*) bed_die "bad port '$PORT'" ;; esac
case "$TIMEOUT" in '' | *[!0-9]*) bed_die "bad timeout '$TIMEOUT'" ;; esac
printf '%s' "$PARTITION" | grep -Eq '^/machine(/[A-Za-z0-9_-]+)+$' ||
	bed_die "bad partition '$PARTITION' (want /machine/NAME)"
[ "$(id -u)" -eq 0 ] || bed_die "must run as root (mounts, libvirtd)"
for cmd in unshare nsenter findmnt libvirtd virtlogd virsh; do
	command -v "$cmd" >/dev/null || bed_die "$cmd not found (scripts/setup-deps.sh installs it)"
done
mkdir -p "$BED_DIR"
BED_DIR=$(cd "$BED_DIR" && pwd -P)
case "$BED_DIR" in *[!A-Za-z0-9/._-]*) bed_die "DIR '$BED_DIR': only [A-Za-z0-9/._-] please" ;; esac
URI="qemu+tcp://127.0.0.1:$PORT/system"
LOG="$BED_DIR/log/libvirtd.log"

# The cgroup directories of the partition, in every hierarchy. Without
# systemd, libvirt 9.0 creates only its default /machine itself; a domain
# in another <partition> fails to start ("Failed to create v2 cgroup
# '/sys/fs/cgroup/unified/machine/hostb.partition/'") unless the partition
# exists in each hierarchy (v1 ones and the v2 one of a hybrid layout), so
# we make it. A new v1 cpuset group starts with no CPUs and no memory
# nodes: give it its parent's.
make_partition() {
	local rel h d c
	rel=$(bed_partition_dir "$PARTITION")
	for h in $(bed_cgroup_mounts); do
		d=$h
		for c in $(echo "$rel" | tr / ' '); do
			d="$d/$c"
			if [ ! -d "$d" ]; then
				mkdir "$d"
				if [ -f "$d/cpuset.cpus" ]; then
					cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
					cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
				fi
			fi
		done
	done
}

# The private copy of /etc/libvirt: no domains or networks of host A's,
# listening on loopback TCP only, no authentication (loopback test bed),
# its own host UUID and log file.
make_config() {
	local uuid=$1 conf="$BED_DIR/etc/libvirtd.conf"
	cp -a /etc/libvirt/. "$BED_DIR/etc/"
	rm -f "$BED_DIR"/etc/qemu/*.xml "$BED_DIR"/etc/qemu/autostart/*.xml \
		"$BED_DIR"/etc/qemu/networks/*.xml "$BED_DIR"/etc/qemu/networks/autostart/*.xml
	sed -i -E '/^[[:space:]]*(listen_tls|listen_tcp|listen_addr|tcp_port|auth_tcp|host_uuid|log_outputs)[[:space:]]*=/d' "$conf"
	cat >>"$conf" <<EOF

# host B of the virtscale test bed (tests/hostb/start.sh)
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "$PORT"
auth_tcp = "none"
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
}

# The bed's layout; each private directory has the mode of the one it hides.
make_layout() {
	local d
	mkdir -p "$BED_DIR"/etc "$BED_DIR"/run "$BED_DIR"/lib/images "$BED_DIR"/log/qemu "$BED_DIR"/cache
	for d in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt log:/var/log/libvirt \
		cache:/var/cache/libvirt; do
		mkdir -p "${d#*:}"
		chmod --reference="${d#*:}" "$BED_DIR/${d%%:*}"
	done
	chmod --reference=/var/log/libvirt/qemu "$BED_DIR/log/qemu" 2>/dev/null || true
	# QEMU's capabilities as host A's libvirtd probed them (same binaries):
	# saves host B the probe, seconds per start.
	cp -a /var/cache/libvirt/. "$BED_DIR/cache/"
}

host_uuid_of() {
	virsh -q -c "$1" capabilities 2>/dev/null | sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p' | head -n 1
}

if [ -z "$RESTART" ]; then
	if [ -n "$(ls -A "$BED_DIR")" ]; then
		[ -f "$BED_DIR/hostb.env" ] || bed_die "$BED_DIR is not empty and not a host B bed: not touching it"
		"$HERE/stop.sh" --dir "$BED_DIR" >&2
		rm -rf "${BED_DIR:?}"/etc "${BED_DIR:?}"/run "${BED_DIR:?}"/lib "${BED_DIR:?}"/log "${BED_DIR:?}"/cache \
			"$BED_DIR"/mntns "$BED_DIR"/libvirtd.pid "$BED_DIR"/virtlogd.pid "$BED_DIR"/hostb.env
	fi
	if ss -Hltn "sport = :$PORT" | grep -q .; then
		bed_die "port $PORT is already in use (another bed? tests/hostb/stop.sh --dir ITS_DIR)"
	fi
	HOST_UUID=$(cat /proc/sys/kernel/random/uuid)
	make_layout
	make_config "$HOST_UUID"
	printf 'PORT=%s\nURI=%s\nPARTITION=%s\nHOST_UUID=%s\n' "$PORT" "$URI" "$PARTITION" "$HOST_UUID" \
		>"$BED_DIR/hostb.env"
else
	[ -f "$BED_DIR/hostb.env" ] || bed_die "--restart: no bed in $BED_DIR"
	# shellcheck disable=SC1091
	. "$BED_DIR/hostb.env"
	LOG="$BED_DIR/log/libvirtd.log"
fi
make_partition

# Into the bed's namespace if one of its daemons still holds it, else a
# new namespace whose mounts die with its last process (a new libvirtd
# finds its running QEMUs again through the same state directories).
if holder=$(bed_ns_holder); then
	nsenter -t "$holder" -m -- "$HERE/inside.sh" "$BED_DIR"
else
	unshare -m --propagation private -- "$HERE/inside.sh" --mount "$BED_DIR"
fi

deadline=$(($(date +%s) + TIMEOUT))
until virsh -q -c "$URI" uri >/dev/null 2>&1; do
	if ! bed_pid_of "$BED_DIR/libvirtd.pid" >/dev/null; then
		bed_die "host B's libvirtd exited; see $LOG"
	fi
	if [ "$(date +%s)" -ge "$deadline" ]; then
		bed_die "host B's libvirtd does not answer on $URI after ${TIMEOUT}s; see $LOG"
	fi
	sleep 0.2
done

# The default pool is the shared images directory (a copy of host A's
# definition, or made here): it must be active.
if ! virsh -q -c "$URI" pool-info default >/dev/null 2>&1; then
	virsh -q -c "$URI" pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
	virsh -q -c "$URI" pool-autostart default >/dev/null
fi
# (libvirtd may be autostarting it right now: start it, then look again)
pool_running() { virsh -q -c "$URI" pool-info default | grep -q 'State: *running'; }
tries=0
until pool_running; do
	[ "$tries" -lt 50 ] || bed_die "host B's storage pool 'default' does not start; see $LOG"
	virsh -q -c "$URI" pool-start default >/dev/null 2>&1 || sleep 0.2
	tries=$((tries + 1))
done

got=$(host_uuid_of "$URI")
[ "$got" = "$HOST_UUID" ] || bed_die "host B reports host UUID '$got', configured '$HOST_UUID'; see $LOG"
a=$(host_uuid_of qemu:///system || true)
[ "$a" != "$got" ] || bed_die "host B's UUID $got equals host A's"
echo "$URI"
