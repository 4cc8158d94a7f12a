#!/bin/bash
# tests/hostb/stop.sh - stops host B (tests/hostb/start.sh) and leaves
# nothing of it running or mounted.
#
#   stop.sh --dir DIR [--purge]
#
# 1. While host B's libvirtd answers: destroys and undefines every domain
#    it has (host A's are another daemon's and never seen here). Volumes:
#    host B's only storage outside DIR is the shared images directory, which
#    host A uses too, so no volume is deleted here (whoever made one removes
#    it); everything under host B's private /var/lib/libvirt is in DIR.
# 2. SIGTERM to libvirtd and virtlogd by the bed's pid files (never by name:
#    host A runs the same programs), SIGKILL after 15 s.
# 3. Any process of the bed still running (a QEMU left running when
#    libvirtd had been killed: found by its mounts, as each QEMU has a mount
#    namespace of its own) is killed; once none is left, the bed's
#    namespaces and all their mounts are gone.
# 4. The cgroup partition directories of the bed are removed when empty.
# DIR stays (logs) unless --purge. Stopping a stopped bed does nothing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/hostb/bed-lib.sh
. "$HERE/bed-lib.sh"

BED_DIR='' PURGE=''
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) BED_DIR=${2:-} && shift ;;
	--purge) PURGE=1 ;;
	*)
		echo "usage: $0 --dir DIR [--purge]" >&2
		exit 64
		;;
	esac
	shift
done
[ -n "$BED_DIR" ] || {
	echo "usage: $0 --dir DIR [--purge]" >&2
	exit 64
}
[ -d "$BED_DIR" ] || exit 0
BED_DIR=$(cd "$BED_DIR" && pwd -P)
[ -f "$BED_DIR/hostb.env" ] || exit 0
[ "$(id -u)" -eq 0 ] || bed_die "must run as root"
# shellcheck disable=SC1091
. "$BED_DIR/hostb.env"

# 1. the domains, while libvirtd answers
if bed_daemon_pid "$BED_DIR/libvirtd.pid" >/dev/null &&
	virsh -q -c "$URI" uri >/dev/null 2>&1; then
	virsh -q -c "$URI" list --all --name | while read -r dom; do
		[ -n "$dom" ] || continue
		virsh -q -c "$URI" destroy "$dom" >/dev/null 2>&1 || true
		virsh -q -c "$URI" undefine "$dom" --managed-save --snapshots-metadata --nvram \
			>/dev/null 2>&1 ||
			virsh -q -c "$URI" undefine "$dom" >/dev/null 2>&1 || true
	done
fi

# 2. the daemons, by their pid files
stop_daemon() {
	local pid
	pid=$(bed_daemon_pid "$BED_DIR/$1.pid") || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! bed_wait_gone 15 "$pid"; then
		echo "hostb: $1 ($pid) ignored SIGTERM for 15 s: SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		bed_wait_gone 5 "$pid" || bed_die "$1 ($pid) does not exit"
	fi
}
stop_daemon libvirtd
stop_daemon virtlogd

# 3. whatever of the bed is left (QEMUs of a killed libvirtd)
left=$(bed_pids | tr '\n' ' ')
if [ -n "$left" ]; then
	echo "hostb: killing what is left in the bed: $left" >&2
	# shellcheck disable=SC2086
	kill -TERM $left 2>/dev/null || true
	# shellcheck disable=SC2086
	if ! bed_wait_gone 10 $left; then
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
		# shellcheck disable=SC2086
		bed_wait_gone 5 $left || bed_die "processes $left of the bed do not exit"
	fi
fi
rm -f "$BED_DIR/mntns" "$BED_DIR/libvirtd.pid" "$BED_DIR/virtlogd.pid"

# 4. the cgroup partition, deepest first (with the domain groups libvirt
# could not remove because it was not running when their QEMU died). A
# group whose last task has just exited may still be busy for a moment:
# try again for a few seconds.
rel=$(bed_partition_dir "$PARTITION")
for _ in $(seq 1 50); do
	left=
	for h in $(bed_cgroup_mounts); do
		[ -d "$h$rel" ] || continue
		find "$h$rel" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ ! -d "$h$rel" ] || left="$left $h$rel"
	done
	[ -n "$left" ] || break
	sleep 0.1
done
[ -z "$left" ] || echo "hostb: cgroup partition left (in use?):$left" >&2

if [ -n "$PURGE" ]; then
	rm -rf "$BED_DIR"
fi
