#!/bin/sh
# tests/guest/define-template.sh - defines a (shut-off) domain of the test
# guest from template.xml.in, with its disk volume in a libvirt storage pool.
#
#   define-template.sh NAME PORT [CPU_QUOTA [MEMORY_MIB [POOL]]]
#
# NAME: domain name (also what the guest's page says); PORT: host port
# forwarded to the guest's port 80; CPU_QUOTA: microseconds per 100 ms
# period (default 50000 = half a CPU, -1 = no cap); MEMORY_MIB (default
# 96); POOL: storage pool (default "default"). Builds the guest first if
# needed (build.sh is cached). Prints the domain XML file used.
# Environment: VS_TEST_URI (default qemu:///system), VS_GUEST_DIR,
# VS_TEST_HOSTFWD_ADDRESS (the loopback address PORT is bound on, default
# 127.0.0.1; each host of the bed has its own: tests/hostb uses 127.0.0.2),
# VS_TEST_PARTITION (cgroup <partition> of the domain, e.g. /machine/hostb
# for host B; default none: libvirt's /machine), VS_TEST_MAX_VCPUS (the most
# vCPUs the guest may be given live; it boots with 1; default 1).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
URI=${VS_TEST_URI:-qemu:///system}
GUEST_DIR=${VS_GUEST_DIR:-/var/lib/libvirt/images/virtscale-guest}
HOSTFWD_ADDRESS=${VS_TEST_HOSTFWD_ADDRESS:-127.0.0.1}
PARTITION=${VS_TEST_PARTITION:-}
MAX_VCPUS=${VS_TEST_MAX_VCPUS:-1}

[ $# -ge 2 ] || { echo "usage: $0 NAME PORT [CPU_QUOTA [MEMORY_MIB [POOL]]]" >&2; exit 64; }
NAME=$1 PORT=$2 QUOTA=${3:-50000} MEM=${4:-96} POOL=${5:-default}
printf '%s' "$NAME" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$' ||
	{ echo "$0: bad domain name '$NAME'" >&2; exit 64; }
case "$PORT" in ''|*[!0-9]*) echo "$0: bad port '$PORT'" >&2; exit 64 ;; esac
case "$QUOTA" in -1|[0-9]*) ;; *) echo "$0: bad quota '$QUOTA'" >&2; exit 64 ;; esac
# tests send traffic only to 127.0.0.0/8
printf '%s' "$HOSTFWD_ADDRESS" | grep -Eq '^127(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$' ||
	{ echo "$0: bad VS_TEST_HOSTFWD_ADDRESS '$HOSTFWD_ADDRESS' (want 127.x.y.z)" >&2; exit 64; }
[ -z "$PARTITION" ] || printf '%s' "$PARTITION" | grep -Eq '^(/[A-Za-z0-9_-]+)+$' ||
	{ echo "$0: bad VS_TEST_PARTITION '$PARTITION'" >&2; exit 64; }
case "$MAX_VCPUS" in [1-9]|[1-9][0-9]) ;; *) echo "$0: bad VS_TEST_MAX_VCPUS '$MAX_VCPUS'" >&2; exit 64 ;; esac
if [ -n "$PARTITION" ]; then DROP_PARTITION='s/^//'; else DROP_PARTITION='/@PARTITION@/d'; fi

"$HERE/build.sh" >&2
VOL="$NAME.qcow2"
# A pool whose directory another host shares (tests/hostb) may have changed
# behind this libvirtd's back: look at the directory again first.
virsh -q -c "$URI" pool-refresh "$POOL" >/dev/null
if ! virsh -q -c "$URI" vol-info --pool "$POOL" "$VOL" >/dev/null 2>&1; then
	virsh -q -c "$URI" vol-create-as "$POOL" "$VOL" 16M --format qcow2 >/dev/null
fi
DISK=$(virsh -q -c "$URI" vol-path --pool "$POOL" "$VOL")
XML=$(mktemp /tmp/virtscale-guest-XXXXXX.xml)
sed -e '/<!--/,/-->/d' -e "$DROP_PARTITION" -e "s|@NAME@|$NAME|g" -e "s|@PORT@|$PORT|g" \
	-e "s|@GUEST_DIR@|$GUEST_DIR|g" -e "s|@DISK@|$DISK|g" -e "s|@MEMORY_MIB@|$MEM|g" \
	-e "s|@CPU_QUOTA@|$QUOTA|g" -e "s|@HOSTFWD_ADDRESS@|$HOSTFWD_ADDRESS|g" \
	-e "s|@PARTITION@|$PARTITION|g" -e "s|@MAX_VCPUS@|$MAX_VCPUS|g" "$HERE/template.xml.in" >"$XML"
virsh -q -c "$URI" define "$XML" >/dev/null
echo "$XML"
