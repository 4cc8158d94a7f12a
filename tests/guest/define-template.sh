#!/bin/sh
# tests/guest/define-template.sh - defines a (shut-off) domain of the test
# guest from template.xml.in, with its disk volume in a libvirt storage pool.
#
#   define-template.sh NAME PORT [CPU_QUOTA [MEMORY_MIB [POOL]]]
#
# NAME: domain name (also what the guest's page says); PORT: host port on
# 127.0.0.1 forwarded to the guest's port 80; CPU_QUOTA: microseconds per
# 100 ms period (default 50000 = half a CPU, -1 = no cap); MEMORY_MIB
# (default 96); POOL: storage pool (default "default"). Builds the guest
# first if needed (build.sh is cached). Prints the domain XML file used.
# Environment: VS_TEST_URI (default qemu:///system), VS_GUEST_DIR.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
URI=${VS_TEST_URI:-qemu:///system}
GUEST_DIR=${VS_GUEST_DIR:-/var/lib/libvirt/images/virtscale-guest}

[ $# -ge 2 ] || { echo "usage: $0 NAME PORT [CPU_QUOTA [MEMORY_MIB [POOL]]]" >&2; exit 64; }
NAME=$1 PORT=$2 QUOTA=${3:-50000} MEM=${4:-96} POOL=${5:-default}
printf '%s' "$NAME" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$' ||
	{ echo "$0: bad domain name '$NAME'" >&2; exit 64; }
case "$PORT" in ''|*[!0-9]*) echo "$0: bad port '$PORT'" >&2; exit 64 ;; esac
case "$QUOTA" in -1|[0-9]*) ;; *) echo "$0: bad quota '$QUOTA'" >&2; exit 64 ;; esac

"$HERE/build.sh" >&2
VOL="$NAME.qcow2"
if ! virsh -q -c "$URI" vol-info --pool "$POOL" "$VOL" >/dev/null 2>&1; then
	virsh -q -c "$URI" vol-create-as "$POOL" "$VOL" 16M --format qcow2 >/dev/null
fi
DISK=$(virsh -q -c "$URI" vol-path --pool "$POOL" "$VOL")
XML=$(mktemp /tmp/virtscale-guest-XXXXXX.xml)
sed -e '/<!--/,/-->/d' -e "s|@NAME@|$NAME|g" -e "s|@PORT@|$PORT|g" -e "s|@GUEST_DIR@|$GUEST_DIR|g" \
	-e "s|@DISK@|$DISK|g" -e "s|@MEMORY_MIB@|$MEM|g" -e "s|@CPU_QUOTA@|$QUOTA|g" \
	"$HERE/template.xml.in" >"$XML"
virsh -q -c "$URI" define "$XML" >/dev/null
echo "$XML"
