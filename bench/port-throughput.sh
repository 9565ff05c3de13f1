#!/usr/bin/env bash
# Throughput of a published port: bytes from the host into a container
# through `-p 127.0.0.1::5000`, berthd (kernel DNAT, nftables) vs dockerd
# with its default userland proxy (docker-proxy) and, in a second phase,
# dockerd with --userland-proxy=false (iptables DNAT, like berth). Both
# daemons on their default bridge (see lib-bridge.sh).
#
# Each run: `docker run -d -p 127.0.0.1::5000 busybox nc -l -p 5000 -e dd
# of=/dev/null bs=1M`, wait until the container listens, then a python3
# sender (the host's /usr/bin/python3, no extra package) connects to the
# published port, writes SIZE MiB of zeros, shuts down its write side and
# waits for the connection to close: the receiver only closes after reading
# EOF, so the time is end to end. The container must then exit 0.
# The receiver is `nc -e dd bs=1M` rather than `nc > /dev/null` because
# busybox nc copies 1 KiB per read/poll/write (3 syscalls per KiB), which caps
# it near 600 MB/s on 2 cores and would measure busybox, not the path;
# RECEIVER=nc selects the plain `nc -l -p 5000 > /dev/null` anyway.
# SENDER=sendfile (the default) sends a file of SIZE MiB with sendfile(2),
# so the sender costs no copy of its own and the figures are the path's;
# SENDER=write writes a 1 MiB buffer in a loop. STREAMS=N (default 1) runs N
# containers at once, each receiving SIZE/N MiB on its own published port,
# and times them together: on 2 cores a single stream leaves docker-proxy a
# core of its own, while parallel streams make every copy compete.
# Usage: port-throughput.sh [RUNS] [SIZE_MIB]   (defaults 5 and 1024)
set -euo pipefail
RUNS=${1:-5}
SIZE=${2:-1024}
RECEIVER=${RECEIVER:-dd}
SENDER=${SENDER:-sendfile}
STREAMS=${STREAMS:-1}
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --workspace --bins -q
. bench/lib-bridge.sh
bench_preflight 1
py=/usr/bin/python3

scripts/busybox-tar.sh "$tmp/busybox.tar"
cat > "$tmp/send.py" <<'PY'
import socket, sys, time
host, port, mib, mode, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
buf = bytes(1 << 20)
t0 = time.monotonic()
s = socket.create_connection((host, port))
if mode == "sendfile":
    with open(payload, "rb") as f:
        s.sendfile(f, 0, mib << 20)
else:
    for _ in range(mib):
        s.sendall(buf)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print(f"{time.monotonic() - t0:.6f}")
PY
per=$((SIZE / STREAMS))
# The payload, read once so it sits in the page cache.
head -c $((per << 20)) /dev/zero > "$tmp/payload"
cat "$tmp/payload" > /dev/null
case $RECEIVER in
  dd) rcmd=(nc -l -p 5000 -e dd of=/dev/null bs=1M) ;;
  nc) rcmd=(sh -c 'nc -l -p 5000 > /dev/null') ;;
  *) die "RECEIVER is dd or nc" ;;
esac

start_berthd
start_dockerd
for h in "$B" "$D"; do DOCKER_HOST=$h $docker import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null; done

# One transfer of STREAMS parallel streams through daemon $1; prints MB/s
# (10^6 bytes per second) of all of them together.
transfer() {
  local host=$1 cid pid port code i
  local -a cids=() ports=()
  for i in $(seq 1 "$STREAMS"); do
    cid=$(DOCKER_HOST=$host $docker run -d -p 127.0.0.1::5000 busybox "${rcmd[@]}")
    port=$(DOCKER_HOST=$host $docker port "$cid" 5000/tcp | head -1)
    pid=$(DOCKER_HOST=$host $docker inspect -f '{{.State.Pid}}' "$cid")
    # Listening on 5000 (0x1388) in the container's network namespace?
    for _ in $(seq 1 200); do
      awk '$2 ~ /:1388$/ && $4 == "0A" {f=1} END {exit !f}' "/proc/$pid/net/tcp" 2>/dev/null && break
      sleep 0.02
    done
    cids+=("$cid"); ports+=("${port##*:}")
  done
  local t0 t1
  t0=$(date +%s%N)
  local -a senders=()
  for port in "${ports[@]}"; do
    $py "$tmp/send.py" 127.0.0.1 "$port" "$per" "$SENDER" "$tmp/payload" > /dev/null &
    senders+=($!)
  done
  # Only the senders: a bare `wait` would wait for the daemons too.
  wait "${senders[@]}"
  t1=$(date +%s%N)
  for cid in "${cids[@]}"; do
    code=$(DOCKER_HOST=$host timeout 30 $docker wait "$cid")
    DOCKER_HOST=$host $docker rm "$cid" >/dev/null
    [ "$code" = 0 ] || die "receiver in $cid exited $code"
  done
  awk -v ns=$((t1 - t0)) -v m=$((per * STREAMS)) 'BEGIN {printf "%.0f\n", m * 1048576 / (ns / 1e9) / 1e6}'
}
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.0f\n", m}'; }

# Interleaved, so both daemons see the same background load; one warm-up each.
phase() { # label file for dockerd's figures
  local i
  transfer "$B" >/dev/null; transfer "$D" >/dev/null
  for i in $(seq 1 "$RUNS"); do
    transfer "$B" >> "$tmp/b.$1"
    transfer "$D" >> "$tmp/d.$1"
  done
}
phase proxy
stop_dockerd
start_dockerd --userland-proxy=false
phase nat

echo "published port 127.0.0.1:P -> container:5000, $((per * STREAMS)) MiB per run in $STREAMS stream(s), sender $SENDER, receiver $RECEIVER, median of $RUNS (MB/s):"
for p in proxy nat; do
  bm=$(median < "$tmp/b.$p"); dm=$(median < "$tmp/d.$p")
  case $p in
    proxy) dl="dockerd (docker-proxy)" ;;
    nat) dl="dockerd (userland-proxy=false)" ;;
  esac
  printf '  %-32s %6s   (runs: %s)\n' "berthd (nft DNAT)" "$bm" "$(tr '\n' ' ' < "$tmp/b.$p")"
  printf '  %-32s %6s   (runs: %s)\n' "$dl" "$dm" "$(tr '\n' ' ' < "$tmp/d.$p")"
  awk -v b="$bm" -v d="$dm" 'BEGIN {printf "  ratio berthd/dockerd:              %5.2fx\n", b/d}'
done
