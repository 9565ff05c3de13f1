#!/usr/bin/env bash
# Writes a busybox root filesystem tarball built from the host's
# busybox-static (no network needed). Usage: busybox-tar.sh OUT.tar
set -euo pipefail
out=${1:?usage: busybox-tar.sh OUT.tar}
bb=${BUSYBOX:-/bin/busybox}
file "$bb" 2>/dev/null | grep -q 'statically linked' || { echo "busybox-tar: $bb is not a static busybox (apt-get install busybox-static)" >&2; exit 1; }
root=$(mktemp -d /tmp/berth-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,root,tmp,home,var,proc,sys,dev}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for c in $("$bb" --list); do
  [ "$c" = busybox ] || ln -s busybox "$root/bin/$c"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$out" .
