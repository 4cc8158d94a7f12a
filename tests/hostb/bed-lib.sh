# tests/hostb/bed-lib.sh - shared by start.sh and stop.sh (sourced, bash).
#
# A bed directory DIR holds everything host B owns:
#   hostb.env      PORT, URI, PARTITION, HOST_UUID of the bed (the marker:
#                  start.sh only wipes a directory that has it)
#   mntns          the mount namespace id of the bed (mnt:[N])
#   libvirtd.pid, virtlogd.pid   the daemons' pid files
#   etc/ run/ lib/ log/ cache/   bound over /etc/libvirt, /run/libvirt,
#                  /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt
#                  inside the bed's mount namespace

bed_die() {
	echo "hostb: $*" >&2
	exit 1
}

# The pid in pid file $1 when that process is alive, else nothing.
bed_pid_of() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	[ -e "/proc/$pid" ] || return 1
	# a zombie is gone for our purposes
	[ "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)" != Z ] ||
		return 1
	echo "$pid"
}

# True when process $1 lives in the bed's mount namespace: the same
# namespace id as recorded at start, and /run/libvirt there is the bed's
# own run/ directory (a namespace id can be reused once the bed's is gone).
bed_owns_pid() {
	local pid=$1 ns src
	[ -s "$BED_DIR/mntns" ] || return 1
	ns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) || return 1
	[ "$ns" = "$(cat "$BED_DIR/mntns")" ] || return 1
	[ "$ns" != "$(readlink /proc/self/ns/mnt)" ] || return 1
	src=$(findmnt -N "$pid" -n -o SOURCE --mountpoint /run/libvirt 2>/dev/null) || return 1
	case "$src" in *"/$(basename "$BED_DIR")/run]") return 0 ;; esac
	return 1
}

# Every live process of the bed (its daemons and QEMUs), one pid a line.
bed_pids() {
	local p pid
	[ -s "$BED_DIR/mntns" ] || return 0
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		if bed_owns_pid "$pid"; then
			echo "$pid"
		fi
	done
}

# The live daemon named by pid file $1 when it is the bed's, else nothing.
bed_daemon_pid() {
	local pid
	pid=$(bed_pid_of "$1") || return 1
	bed_owns_pid "$pid" || return 1
	echo "$pid"
}

# Waits up to $1 seconds until none of the pids $2... is alive.
bed_wait_gone() {
	local limit=$(($1 * 10)) i=0 p alive
	shift
	while [ "$i" -lt "$limit" ]; do
		alive=
		for p in "$@"; do
			if [ -e "/proc/$p" ] &&
				[ "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status" 2>/dev/null)" != Z ]; then
				alive=1
			fi
		done
		[ -n "$alive" ] || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# The cgroup hierarchies (v1 and v2 mount points) of this machine, one a line.
bed_cgroup_mounts() {
	findmnt -n -l -t cgroup,cgroup2 -o TARGET
}

# The directory name libvirt gives the partition $1 under a hierarchy:
# every component but a leading "machine" gets ".partition"
# (/machine/hostb -> /machine/hostb.partition).
bed_partition_dir() {
	local out= first=1 c
	local IFS=/
	for c in $1; do
		[ -n "$c" ] || continue
		if [ -n "$first" ] && [ "$c" = machine ]; then
			out=/machine
		else
			case "$c" in *.*) out="$out/$c" ;; *) out="$out/$c.partition" ;; esac
		fi
		first=
	done
	echo "$out"
}
