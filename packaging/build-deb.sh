#!/bin/sh
# build-deb.sh OUTDIR — build the Debian package from this source tree without
# leaving anything in it: copies the sources (git's tracked and untracked
# files, build directories left out) to a temporary directory, puts
# packaging/debian at ./debian as dpkg-buildpackage expects, runs
# `dpkg-buildpackage -us -uc -b` there and copies the .deb, .ddeb, .changes
# and .buildinfo files to OUTDIR. The temporary directory is removed.
#
# Build dependencies: packaging/debian/control (all are in
# scripts/install-deps.sh). DEB_BUILD_OPTIONS is passed through (e.g.
# DEB_BUILD_OPTIONS=nocheck skips the unit tests); jobs: TM_DEB_JOBS or nproc.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
upstream=${version%-*}
work=$(mktemp -d "${TMPDIR:-/tmp}/tenantmail-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
src="$work/tenantmail-$upstream"
mkdir "$src"

if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and untracked files as they are in the work tree (not the
    # index), minus what .gitignore excludes (build*/, out/, ...).
    git -C "$top" ls-files -z --cached --others --exclude-standard |
        (cd "$top" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
        tar -C "$top" --null --files-from=- -cf - | tar -C "$src" -xf -
else
    tar -C "$top" --exclude=./.git --exclude='./build*' --exclude=./out -cf - . | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -a "$top/packaging/debian" "$src/debian"

echo "build-deb: building tenantmail $version in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b -j"${TM_DEB_JOBS:-$(nproc)}")

found=0
for f in "$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo; do
    [ -e "$f" ] || continue
    cp "$f" "$out/"
    echo "build-deb: $out/$(basename "$f")"
    found=1
done
[ "$found" = 1 ] || { echo "build-deb: dpkg-buildpackage produced no package" >&2; exit 1; }
