#!/usr/bin/env bash
# Installs and starts everything virtscale needs on a Debian 12 machine.
# Idempotent: running it again changes nothing that is already in place.
# Must run as root (apt-get, libvirtd, /dev/kvm permissions).
set -euo pipefail

PACKAGES=(
	# build
	autoconf automake libtool pkg-config make gcc check
	libglib2.0-dev libjson-glib-dev libvirt-dev libsnmp-dev libcurl4-openssl-dev libesmtp-dev
	collectd-dev libxml2-dev
	# fuzzing (scripts/fuzz.sh: clang's libFuzzer and sanitizers)
	clang libclang-rt-14-dev
	# format check (scripts/check.sh)
	clang-format
	# hypervisor
	libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
	# SNMP master, trap receiver, tools, MIB linter
	snmpd snmp snmptrapd smitools
	# collectd daemon and Prometheus for the dashboard test
	collectd-core prometheus
	# collectd write_prometheus plugin (collectd-core only suggests them)
	libprotobuf-c1 libmicrohttpd12
	# load balancers, SMTP server, load generators, plotting
	nginx-light apache2 python3-aiosmtpd python3-pytest wrk siege gnuplot-nox
	# guest image
	busybox-static cpio
	# Debian packages (scripts/build-deb.sh) and their check
	debhelper dh-autoreconf dpkg-dev fakeroot lintian libssl-dev
	# misc tools the tests use (util-linux, mount: unshare, nsenter, findmnt
	# and mount for the second hypervisor of tests/hostb)
	iproute2 procps psmisc curl xz-utils util-linux mount
)

log() { printf 'setup-deps: %s\n' "$*"; }
# True when the pid file $1 names a live process (the daemons below write
# theirs as root: /run/NAME.pid).
running() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

if [ "$(id -u)" -ne 0 ]; then
	echo "setup-deps: must run as root" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Packaged services must not start on install: there is no init system
	# here and the tests start their own instances on loopback ports.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >/dev/null
	rm -f /usr/sbin/policy-rc.d
fi

# /dev/kvm is root-only on these machines; QEMU runs as libvirt-qemu.
if [ -e /dev/kvm ]; then
	chgrp kvm /dev/kvm 2>/dev/null || true
	chmod 660 /dev/kvm 2>/dev/null || true
fi

# Post-copy live migration: QEMU (libvirt-qemu, unprivileged) needs
# userfaultfd, otherwise libvirt answers "Postcopy is not supported".
sysctl -qw vm.unprivileged_userfaultfd=1 2>/dev/null || true

mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt/images
if ! running /run/virtlogd.pid; then
	log "starting virtlogd"
	virtlogd -d
fi
if ! running /run/libvirtd.pid; then
	log "starting libvirtd"
	libvirtd -d
fi
for _ in $(seq 1 50); do
	if virsh -c qemu:///system version >/dev/null 2>&1; then
		break
	fi
	sleep 0.2
done
virsh -c qemu:///system version >/dev/null || { echo "setup-deps: libvirtd does not answer" >&2; exit 1; }
# A storage pool for clone overlays and test disks.
if ! virsh -q -c qemu:///system pool-info default >/dev/null 2>&1; then
	virsh -q -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
	virsh -q -c qemu:///system pool-autostart default >/dev/null
fi
pool_state=$(virsh -q -c qemu:///system pool-info default)
if ! grep -q 'State: *running' <<<"$pool_state"; then
	virsh -q -c qemu:///system pool-start default >/dev/null
fi
log "ready"
