#!/usr/bin/env bash
# README command 1: install, build, start berthd with its embedded defaults,
# make busybox:latest from the host's busybox-static, and run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --workspace --bins
bin=$PWD/target/release
sock=/run/berth/berth.sock
if ! curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup "$bin/berthd" >/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do
    curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null || { cat /var/log/berthd.log >&2; exit 1; }
  echo "berthd started (pid $(cat /run/berth/berthd.pid)); log: /var/log/berthd.log"
fi
if ! "$bin/berth" image inspect busybox:latest >/dev/null 2>&1; then
  tar=$(mktemp /tmp/berth-busybox.XXXXXX.tar)
  scripts/busybox-tar.sh "$tar"
  "$bin/berth" import -c 'CMD ["sh"]' "$tar" busybox:latest
  rm -f "$tar"
fi
"$bin/berth" run --rm busybox echo hello
