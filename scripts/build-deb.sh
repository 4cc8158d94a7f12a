#!/usr/bin/env bash
# Builds the Debian packages (virtscale-common, virtscale-snmp, virtscaled,
# collectd-virtscale) with dpkg-buildpackage -us -uc -b in a clean copy of
# the tree, so the working tree gets no build products, and checks them
# with lintian (its overrides are in debian/*.lintian-overrides, each with
# its reason). The build dependencies: scripts/setup-deps.sh.
#
# Usage: scripts/build-deb.sh [-o OUTDIR] [--no-lintian]
#   OUTDIR (default build-deb/) receives the .deb, .buildinfo and .changes.
#   DEB_BUILD_OPTIONS is passed on (e.g. nocheck to skip the unit tests).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build-deb"
lintian=1
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out="$2"; shift 2 ;;
	--no-lintian) lintian=0; shift ;;
	*) echo "usage: $0 [-o OUTDIR] [--no-lintian]" >&2; exit 2 ;;
	esac
done

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
work=$(mktemp -d /tmp/virtscale-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/virtscale-$version"
mkdir -p "$src"

# The tree's files: what git tracks plus new files not ignored (a checkout
# with uncommitted changes builds what is there), or, outside git (an
# unpacked release), everything but build directories.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$top" && xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$top" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -
fi

echo "build-deb: building virtscale $version in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b)

mkdir -p "$out"
changes="$work/virtscale_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes"
# the .changes names every file it goes with
files=$(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]* [^ ]* [^ ]* //p' "$changes")
for f in $files; do
	cp "$work/$f" "$out/"
done
cp "$changes" "$out/"

if [ "$lintian" -eq 1 ]; then
	echo "build-deb: lintian"
	lintian --fail-on error,warning --display-info \
		"$out/$(basename "$changes")"
fi
echo "build-deb: packages in $out:"
(cd "$out" && ls -1 ./*.deb)
