#!/usr/bin/env bash
# Writes a busybox root filesystem tarball built from Debian's
# busybox-static: the host's (no network needed), or, with ARCH (a Debian
# architecture: arm64, armhf, ...), that architecture's package, fetched
# with apt-get download (install-deps.sh adds the architecture) and kept in
# BERTH_DEB_CACHE. Usage: busybox-tar.sh OUT.tar [ARCH]
set -euo pipefail
out=${1:?usage: busybox-tar.sh OUT.tar [ARCH]}
arch=${2:-}
host_bb=${BUSYBOX:-/bin/busybox}
file "$host_bb" 2>/dev/null | grep -q 'statically linked' || { echo "busybox-tar: $host_bb is not a static busybox (apt-get install busybox-static)" >&2; exit 1; }
root=$(mktemp -d /tmp/berth-rootfs.XXXXXX)
extract=$(mktemp -d /tmp/berth-deb.XXXXXX)
trap 'rm -rf "$root" "$extract"' EXIT
bb=$host_bb
if [ -n "$arch" ] && [ "$arch" != "$(dpkg --print-architecture)" ]; then
  cache=${BERTH_DEB_CACHE:-/var/cache/berth-test-debs}
  mkdir -p "$cache"
  deb=$(ls "$cache"/busybox-static_*_"$arch".deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    (cd "$cache" && apt-get download -qq "busybox-static:$arch" 2>/dev/null) \
      || { echo "busybox-tar: cannot fetch busybox-static:$arch (dpkg --add-architecture $arch; apt-get update)" >&2; exit 1; }
    deb=$(ls "$cache"/busybox-static_*_"$arch".deb | head -1)
  fi
  dpkg-deb -x "$deb" "$extract"
  bb=$extract/bin/busybox
fi
mkdir -p "$root"/{bin,etc,root,tmp,home,var,proc,sys,dev}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
# The applet list of the host's busybox: Debian builds every architecture's
# busybox-static from the same configuration (and a foreign one may not run).
for c in $("$host_bb" --list); do
  [ "$c" = busybox ] || ln -s busybox "$root/bin/$c"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$out" .
