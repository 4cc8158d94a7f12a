#!/bin/sh
# tests/guest/build.sh - builds the tiny web guest the tests, the demo and
# the benchmarks boot: Debian's cloud kernel (unpacked with dpkg-deb -x,
# never installed) and a busybox-static initramfs whose init loads the
# virtio network modules, configures QEMU user-mode networking
# (10.0.2.15/24 via 10.0.2.2) and serves HTTP on port 80 with busybox httpd.
#
#   tests/guest/build.sh [--force]
#
# Output (readable by libvirt-qemu) in $VS_GUEST_DIR, default
# /var/lib/libvirt/images/virtscale-guest: vmlinuz, initrd.gz, stamp.
# Cached: nothing is done while the stamp matches this script's hash and the
# kernel package name; the .deb is kept in $VS_GUEST_CACHE
# (/var/cache/virtscale-guest) and fetched with `apt-get download` of
# exactly the versioned package linux-image-cloud-amd64 depends on.
#
# What the guest serves:
#   /            "virtscale guest NAME uuid UUID" (one line, text/html)
#   /name        NAME (text/plain)
#   /cgi-bin/burn?N   burns CPU for N loop iterations (default 2000) and
#                     answers "NAME burned N"
#   /cgi-bin/dirty?N  dirties N MiB of memory per second from now on (0
#                     stops; at most 32) and answers "NAME dirties N MiB/s"
#   /cgi-bin/spin?N   keeps one CPU busy for the next N seconds (0 stops, at
#                     most 3600) and answers "NAME spins N s"
#   /cgi-bin/cpus     "NAME cpus N online LIST": the processors in
#                     /proc/cpuinfo and /sys/devices/system/cpu/online
# A hot-plugged vCPU is onlined by init (a loop writes 1 to each offline
# cpuN/online; there is no udev); virtio_balloon is loaded, so a balloon
# change takes effect and the guest reports its memory statistics.
# NAME is vs.name=NAME from the kernel command line, else the SMBIOS system
# product name (libvirt <sysinfo type='smbios'> with <os><smbios
# mode='sysinfo'/>), else "unnamed"; UUID is the SMBIOS system UUID, which
# libvirt sets to the domain's UUID, so every clone answers differently.
set -eu

OUT=${VS_GUEST_DIR:-/var/lib/libvirt/images/virtscale-guest}
CACHE=${VS_GUEST_CACHE:-/var/cache/virtscale-guest}
META=linux-image-cloud-amd64
# network first (in dependency order), then the power button for virsh shutdown
NET_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
ACPI_MODULES="button evdev"
# the balloon driver: live memory changes and the guest's memory statistics
BALLOON_MODULES="virtio_balloon"
MODULES="$NET_MODULES $ACPI_MODULES $BALLOON_MODULES"
BUSYBOX=/bin/busybox

die() { echo "guest/build.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (writes $OUT and $CACHE)"
[ -x "$BUSYBOX" ] && "$BUSYBOX" --list | grep -qx httpd ||
	die "$BUSYBOX with httpd is needed: apt-get install busybox-static"
if command -v file >/dev/null; then
	file -L "$BUSYBOX" | grep -q 'statically linked' ||
		die "$BUSYBOX is not static: apt-get install busybox-static"
fi

PKG=$(apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$PKG" ] || die "apt-cache depends $META names no versioned kernel package"
KVER=${PKG#linux-image-}
STAMP="$(sha256sum "$0" | cut -c1-32) $PKG"

if [ "${1:-}" != --force ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STAMP" ] &&
	[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ]; then
	echo "guest: up to date in $OUT ($PKG)"
	exit 0
fi

# exactly one package, never a wildcard (that would fetch every version)
mkdir -p "$CACHE"
DEB=$(ls "$CACHE/${PKG}_"*.deb 2>/dev/null | head -n1 || true)
if [ -z "$DEB" ]; then
	echo "guest: downloading $PKG"
	(cd "$CACHE" && apt-get download "$PKG" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
		die "apt-get download $PKG failed"
	DEB=$(ls "$CACHE/${PKG}_"*.deb | head -n1)
fi

WORK=$(mktemp -d /tmp/virtscale-guest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM
dpkg-deb -x "$DEB" "$WORK/kernel"
[ -f "$WORK/kernel/boot/vmlinuz-$KVER" ] || die "no vmlinuz-$KVER in $DEB"

R="$WORK/root"
mkdir -p "$R/bin" "$R/sbin" "$R/etc/acpi/PWRF" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" \
	"$R/www/cgi-bin" "$R/lib/modules" "$R/run"
cp "$BUSYBOX" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
for m in $MODULES; do
	f=$(find "$WORK/kernel/lib/modules/$KVER" -name "$m.ko*" | head -n1)
	[ -n "$f" ] || die "module $m not in $PKG"
	case "$f" in
	*.ko.xz) xz -dc "$f" >"$R/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$R/lib/modules/$m.ko" ;;
	*) cp "$f" "$R/lib/modules/$m.ko" ;;
	esac
done

cat >"$R/init" <<'INIT'
#!/bin/busybox sh
# init of the virtscale test guest (see tests/guest/build.sh)
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

# no modules.dep: load in a few passes until every dependency is in
load_modules() {
	for pass in 1 2 3; do
		for m in "$@"; do
			[ -d /sys/module/$m ] || insmod /lib/modules/$m.ko 2>/dev/null
		done
	done
}
load_modules NET_MODULES_LIST BALLOON_MODULES_LIST

# the name: vs.name= on the command line, else the SMBIOS product name
name=
for arg in $(cat /proc/cmdline); do
	case "$arg" in vs.name=*) name=${arg#vs.name=} ;; esac
done
[ -n "$name" ] || name=$(cat /sys/class/dmi/id/product_name 2>/dev/null)
name=$(printf '%s' "$name" | tr -cd 'A-Za-z0-9._-' | cut -c1-64)
case "$name" in ""|Standard*) name=unnamed ;; esac
uuid=$(tr -cd 'A-Fa-f0-9-' </sys/class/dmi/id/product_uuid 2>/dev/null)
hostname "$name"

echo "virtscale guest $name uuid $uuid" >/www/index.html
echo "$name" >/www/name
sed -i "s/@NAME@/$name/" /www/cgi-bin/burn /www/cgi-bin/dirty /www/cgi-bin/spin /www/cgi-bin/cpus

# vCPU hotplug: the kernel adds a hot-plugged CPU offline and nothing here
# runs udev, so bring every offline CPU online (an unplug offlines and
# ejects the CPU under the kernel's hotplug lock: this loop cannot race it)
(
	while :; do
		for f in /sys/devices/system/cpu/cpu[0-9]*/online; do
			[ -f "$f" ] && [ "$(cat "$f")" = 0 ] && echo 1 >"$f" 2>/dev/null
		done
		sleep 0.5
	done
) </dev/null >/dev/null 2>&1 &

ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
httpd -p 80 -h /www
echo "virtscale guest $name ready" >/dev/console

# virsh shutdown: ACPI power button -> evdev -> busybox acpid (given the
# event devices; without them it reads /proc/acpi/event, which is gone)
load_modules ACPI_MODULES_LIST
i=0
while ! ls /dev/input/event* >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
# -l: the default log file /var/log/acpid.log does not exist here, and
# acpid exits when it cannot open it
acpid -f -c /etc/acpi -l /dev/console /dev/input/event* >/dev/console 2>&1 &
while :; do sleep 3600; done
INIT
sed -i -e "s/NET_MODULES_LIST/$NET_MODULES/" -e "s/ACPI_MODULES_LIST/$ACPI_MODULES/" \
	-e "s/BALLOON_MODULES_LIST/$BALLOON_MODULES/" "$R/init"
chmod 755 "$R/init"

cat >"$R/www/cgi-bin/burn" <<'BURN'
#!/bin/sh
# burns CPU for N loop iterations (QUERY_STRING "N" or "n=N"), then answers
n=${QUERY_STRING#n=}
case "$n" in ''|*[!0-9]*) n=2000 ;; esac
[ "$n" -le 10000000 ] || n=10000000
i=0
while [ $i -lt $n ]; do i=$((i + 1)); done
printf 'Content-Type: text/plain\r\n\r\n@NAME@ burned %s\n' "$n"
BURN
chmod 755 "$R/www/cgi-bin/burn"

cat >"$R/www/cgi-bin/dirty" <<'DIRTY'
#!/bin/sh
# dirties N MiB of memory per second (QUERY_STRING "N" or "n=N", 0 stops,
# at most 32): a background loop rewrites an N MiB file in /tmp (RAM) every
# second with the other of two random MiB (one cat per round: a process
# per MiB is slow under TCG), so every page of it changes every second; a
# new request replaces the loop
n=${QUERY_STRING#n=}
case "$n" in ''|*[!0-9]*) n=0 ;; esac
[ "$n" -le 32 ] || n=32
[ -f /tmp/dirty.pid ] && kill "$(cat /tmp/dirty.pid)" 2>/dev/null
rm -f /tmp/dirty.pid /tmp/dirty.area
if [ "$n" -gt 0 ]; then
	for s in a b; do
		[ -f /tmp/dirty.$s ] || dd if=/dev/urandom of=/tmp/dirty.$s bs=1024 count=1024 2>/dev/null
	done
	a='' b='' i=0
	while [ $i -lt "$n" ]; do
		a="$a /tmp/dirty.a" b="$b /tmp/dirty.b" i=$((i + 1))
	done
	(
		while :; do
			# shellcheck disable=SC2086 # one word per file
			cat $a >/tmp/dirty.area
			sleep 1
			# shellcheck disable=SC2086
			cat $b >/tmp/dirty.area
			sleep 1
		done
	) </dev/null >/dev/null 2>&1 &
	echo $! >/tmp/dirty.pid
fi
printf 'Content-Type: text/plain\r\n\r\n@NAME@ dirties %s MiB/s\n' "$n"
DIRTY
chmod 755 "$R/www/cgi-bin/dirty"

cat >"$R/www/cgi-bin/spin" <<'SPIN'
#!/bin/sh
# keeps one CPU busy for N seconds (QUERY_STRING "N" or "n=N", 0 stops, at
# most 3600) in a background loop; a new request replaces the loop
n=${QUERY_STRING#n=}
case "$n" in ''|*[!0-9]*) n=0 ;; esac
[ "$n" -le 3600 ] || n=3600
[ -f /tmp/spin.pid ] && kill "$(cat /tmp/spin.pid)" 2>/dev/null
rm -f /tmp/spin.pid
if [ "$n" -gt 0 ]; then
	(
		end=$(($(date +%s) + n))
		while [ "$(date +%s)" -lt "$end" ]; do
			i=0
			while [ $i -lt 20000 ]; do i=$((i + 1)); done
		done
		rm -f /tmp/spin.pid
	) </dev/null >/dev/null 2>&1 &
	echo $! >/tmp/spin.pid
fi
printf 'Content-Type: text/plain\r\n\r\n@NAME@ spins %s s\n' "$n"
SPIN
chmod 755 "$R/www/cgi-bin/spin"

cat >"$R/www/cgi-bin/cpus" <<'CPUS'
#!/bin/sh
# the processors the guest's kernel shows: /proc/cpuinfo and the online list
n=$(grep -c '^processor' /proc/cpuinfo)
printf 'Content-Type: text/plain\r\n\r\n@NAME@ cpus %s online %s\n' "$n" \
	"$(cat /sys/devices/system/cpu/online)"
CPUS
chmod 755 "$R/www/cgi-bin/cpus"

# ACPI power button (virsh shutdown): busybox acpid runs /etc/acpi/PWRF/00000080
printf '#!/bin/sh\nexec poweroff -f\n' >"$R/etc/acpi/PWRF/00000080"
chmod 755 "$R/etc/acpi/PWRF/00000080"

mkdir -p "$OUT"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -9) >"$WORK/initrd.gz"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
chmod 644 "$WORK/initrd.gz" "$WORK/vmlinuz"
mv "$WORK/vmlinuz" "$OUT/vmlinuz.new" && mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
mv "$WORK/initrd.gz" "$OUT/initrd.gz.new" && mv "$OUT/initrd.gz.new" "$OUT/initrd.gz"
chmod 755 "$OUT"
echo "$STAMP" >"$OUT/stamp"
echo "guest: built $OUT (kernel $KVER, initrd $(du -k "$OUT/initrd.gz" | cut -f1) KiB)"
