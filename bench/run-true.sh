#!/usr/bin/env bash
# `run --rm busybox true`: berthd vs dockerd on the same machine, in one run,
# on each daemon's default bridge network (a veth, an address, the bridge's
# firewall) and with `--network none` (loopback only), so the cost of the
# networking shows. dockerd runs with its default bridge and iptables (as
# shipped, minus ip-forward and masquerade), berthd with its own bridge
# bbench0; see lib-bridge.sh for the settings and the cleanup.
# Usage: run-true.sh [N]   (N timed runs per case after 3 warm-up rounds; default 30, about a minute)
set -euo pipefail
N=${1:-30}
cd "$(dirname "$0")/.."
have_dockerd=0
command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] && have_dockerd=1
scripts/install-deps.sh
cargo build --release --workspace --bins -q
. bench/lib-bridge.sh
bench_preflight $have_dockerd

scripts/busybox-tar.sh "$tmp/busybox.tar"
start_berthd
[ $have_dockerd = 1 ] && start_dockerd
DOCKER_HOST=$B $docker import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null
[ $have_dockerd = 1 ] && DOCKER_HOST=$D $docker import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null

# The cases, run round-robin (3 warm-up rounds, then N timed rounds) so
# that the background load of a shared machine falls on all of them alike.
bd() { DOCKER_HOST=$B $docker run --rm --network "$1" busybox true; }
bb() { BERTH_HOST=$B "$bin/berth" run --rm --network "$1" busybox true; }
dk() { DOCKER_HOST=$D $docker run --rm --network "$1" busybox true; }
cases=(bd bb); [ $have_dockerd = 1 ] && cases+=(dk)
# Median in ms of the microsecond figures on stdin.
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m/1000}'; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a/b}'; }
diffms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f ms", a-b}'; }

for r in $(seq -2 "$N"); do
  for c in "${cases[@]}"; do
    for net in bridge none; do
      t0=$(date +%s%N); $c $net >/dev/null; t1=$(date +%s%N)
      [ "$r" -gt 0 ] && echo $(( (t1 - t0) / 1000 )) >> "$tmp/t.$c.$net"
    done
  done
done
declare -A t
for c in "${cases[@]}"; do for net in bridge none; do t[$c,$net]=$(median < "$tmp/t.$c.$net"); done; done

echo "run --rm busybox true, median of $N (ms):"
printf '  %-26s %12s %12s %14s\n' "" "bridge" "none" "bridge - none"
row() { printf '  %-26s %12s %12s %14s\n' "$1" "${t[$2,bridge]}" "${t[$2,none]}" "$(diffms "${t[$2,bridge]}" "${t[$2,none]}")"; }
row "berthd  (docker CLI)" bd
row "berthd  (berth CLI)" bb
if [ $have_dockerd = 1 ]; then
  row "dockerd (docker CLI)" dk
  printf '  %-26s %12s %12s\n' "dockerd/berthd, same CLI" "$(ratio "${t[dk,bridge]}" "${t[bd,bridge]}")" "$(ratio "${t[dk,none]}" "${t[bd,none]}")"
  printf '  %-26s %12s %12s\n' "dockerd+docker/berthd+berth" "$(ratio "${t[dk,bridge]}" "${t[bb,bridge]}")" "$(ratio "${t[dk,none]}" "${t[bb,none]}")"
  drss=$(rss_mb "$dpid"); crss=0
  cpid=$(pgrep -P "$dpid" containerd || true)
  [ -n "$cpid" ] && crss=$(rss_mb "$cpid")
  printf '  daemon RSS: berthd %s MB, dockerd %s MB + containerd %s MB\n' "$(rss_mb "$bpid")" "$drss" "$crss"
else
  echo "  dockerd not installed: no ratio (apt-get install docker.io)"
  printf '  daemon RSS: berthd %s MB\n' "$(rss_mb "$bpid")"
fi
