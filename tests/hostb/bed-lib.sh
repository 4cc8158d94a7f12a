# tests/hostb/bed-lib.sh - shared by start.sh and stop.sh (sourced, bash).
# shellcheck shell=bash
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

# The processes of the bed, one pid a line: every process whose
# /run/libvirt is the bed's run/ directory. That is the daemons, in the
# bed's mount namespace, and the QEMUs, each of which libvirt starts in a
# mount namespace of its own copied from the daemon's (qemu.conf
# namespaces): a namespace id alone would miss them. The root field of a
# bind mount in mountinfo is the source's path inside its filesystem: a
# tail of DIR/run.
bed_pids() {
	local want="$BED_DIR/run" tail
	tail="/$(basename "$BED_DIR")/run"
	# grep goes on past a process that exits while it reads (awk may not)
	# shellcheck disable=SC2016
	{ grep -H ' /run/libvirt ' /proc/[0-9]*/mountinfo 2>/dev/null || true; } |
		awk -v want="$want" -v tail="$tail" '
		function ends(s, t) { return length(s) >= length(t) && substr(s, length(s) - length(t) + 1) == t }
		{
			split($1, p, "/")
			if ($5 == "/run/libvirt" && ends($4, tail) && ends(want, $4)) print p[3]
		}' | sort -nu
}

# True when process $1 is one of the bed's.
bed_owns_pid() {
	bed_pids | grep -x "$1" >/dev/null
}

# The live daemon named by pid file $1 when it is the bed's, else nothing.
bed_daemon_pid() {
	local pid
	pid=$(bed_pid_of "$1") || return 1
	bed_owns_pid "$pid" || return 1
	echo "$pid"
}

# A daemon of the bed still in the bed's mount namespace (to enter it), or
# nothing.
bed_ns_holder() {
	local f pid
	[ -s "$BED_DIR/mntns" ] || return 1
	for f in virtlogd libvirtd; do
		pid=$(bed_daemon_pid "$BED_DIR/$f.pid") || continue
		if [ "$(readlink "/proc/$pid/ns/mnt")" = "$(cat "$BED_DIR/mntns")" ]; then
			echo "$pid"
			return 0
		fi
	done
	return 1
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
	local out="" first=1 c
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
