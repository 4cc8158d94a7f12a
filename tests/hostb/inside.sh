#!/bin/bash
# tests/hostb/inside.sh - runs inside host B's mount namespace (start.sh
# calls it through unshare or nsenter; not meant to be run by hand).
#
#   inside.sh --mount DIR     bind the bed's directories over libvirt's,
#                             record the namespace id, start the daemons
#   inside.sh DIR             start whichever daemon of the bed is not
#                             running (the mounts are already there)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/hostb/bed-lib.sh
. "$HERE/bed-lib.sh"

MOUNT=
if [ "${1:-}" = --mount ]; then
	MOUNT=1
	shift
fi
BED_DIR=$1

if [ -n "$MOUNT" ]; then
	# Shared storage first: the real images directory (what NFS would be
	# between two hosts) inside the private /var/lib/libvirt; --rbind
	# below carries this mount along.
	mount --bind /var/lib/libvirt/images "$BED_DIR/lib/images"
	mount --rbind "$BED_DIR/lib" /var/lib/libvirt
	mount --bind "$BED_DIR/run" /run/libvirt
	mount --bind "$BED_DIR/etc" /etc/libvirt
	mount --bind "$BED_DIR/log" /var/log/libvirt
	mount --bind "$BED_DIR/cache" /var/cache/libvirt
	readlink /proc/self/ns/mnt >"$BED_DIR/mntns"
fi

# The daemons must not inherit the caller's descriptors: one may hold a
# lock (flock around a test run) that would then outlive the run.
for fd in "/proc/$$/fd"/*; do
	fd=${fd##*/}
	case "$fd" in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done

# The daemons' pid files are the bed's own: /run/virtlogd.pid and
# /run/libvirtd.pid belong to host A.
if ! bed_pid_of "$BED_DIR/virtlogd.pid" >/dev/null; then
	virtlogd -d -p "$BED_DIR/virtlogd.pid"
fi
if ! bed_pid_of "$BED_DIR/libvirtd.pid" >/dev/null; then
	libvirtd -d --listen -p "$BED_DIR/libvirtd.pid"
fi
