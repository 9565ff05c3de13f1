#!/usr/bin/env bash
# `run --rm busybox true`: berthd vs dockerd on the same machine, in one run,
# on each daemon's default bridge network (a veth, an address, the bridge's
# firewall), with `--network none` (loopback only), so the cost of the
# networking shows, and on the bridge with a named volume
# (`-v benchvol:/data`, created before the timed runs), so the cost of
# mounting a volume shows. dockerd runs with its default bridge and iptables (as
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

# The named volume of the `vol` case, made before timing. The volumes would
# go with the daemons' temp roots, but they are removed through the API
# before the daemons stop (also after a failure), as a user would.
VOL=benchvol
rm_volumes() {
  [ -n "$bpid" ] && { rm_all_containers "$B"; DOCKER_HOST=$B timeout 30 $docker volume rm -f $VOL >/dev/null 2>&1; }
  [ -n "$dpid" ] && { rm_all_containers "$D"; DOCKER_HOST=$D timeout 30 $docker volume rm -f $VOL >/dev/null 2>&1; }
  return 0
}
trap 'rm_volumes; bench_cleanup' EXIT
DOCKER_HOST=$B $docker volume create $VOL >/dev/null
[ $have_dockerd = 1 ] && DOCKER_HOST=$D $docker volume create $VOL >/dev/null

# The cases, run round-robin (3 warm-up rounds, then N timed rounds) so
# that the background load of a shared machine falls on all of them alike.
# Modes: bridge, none, vol (the default bridge plus the named volume).
opts() { case $1 in vol) echo "--network bridge -v $VOL:/data" ;; *) echo "--network $1" ;; esac; }
bd() { DOCKER_HOST=$B $docker run --rm $(opts "$1") busybox true; }
bb() { BERTH_HOST=$B "$bin/berth" run --rm $(opts "$1") busybox true; }
dk() { DOCKER_HOST=$D $docker run --rm $(opts "$1") busybox true; }
cases=(bd bb); [ $have_dockerd = 1 ] && cases+=(dk)
modes=(bridge none vol)
# Once, untimed: the vol case really mounts the volume, for every case.
for c in "${cases[@]}"; do
  case $c in
    bd) DOCKER_HOST=$B $docker run --rm -v $VOL:/data busybox grep -q ' /data ' /proc/mounts ;;
    bb) BERTH_HOST=$B "$bin/berth" run --rm -v $VOL:/data busybox grep -q ' /data ' /proc/mounts ;;
    dk) DOCKER_HOST=$D $docker run --rm -v $VOL:/data busybox grep -q ' /data ' /proc/mounts ;;
  esac || die "$c: /data is not a mount in the container"
done
# Median in ms of the microsecond figures on stdin.
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m/1000}'; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a/b}'; }
diffms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f ms", a-b}'; }

for r in $(seq -2 "$N"); do
  for c in "${cases[@]}"; do
    for m in "${modes[@]}"; do
      t0=$(date +%s%N); $c $m >/dev/null; t1=$(date +%s%N)
      [ "$r" -gt 0 ] && echo $(( (t1 - t0) / 1000 )) >> "$tmp/t.$c.$m"
    done
  done
done
declare -A t
for c in "${cases[@]}"; do for m in "${modes[@]}"; do t[$c,$m]=$(median < "$tmp/t.$c.$m"); done; done

echo "run --rm busybox true, median of $N (ms); vol = bridge + -v $VOL:/data:"
printf '  %-28s %10s %10s %10s %14s %14s\n' "" "bridge" "none" "vol" "bridge - none" "vol - bridge"
row() { printf '  %-28s %10s %10s %10s %14s %14s\n' "$1" "${t[$2,bridge]}" "${t[$2,none]}" "${t[$2,vol]}" \
  "$(diffms "${t[$2,bridge]}" "${t[$2,none]}")" "$(diffms "${t[$2,vol]}" "${t[$2,bridge]}")"; }
ratios() { printf '  %-28s %10s %10s %10s\n' "$1" "$(ratio "${t[$2,bridge]}" "${t[$3,bridge]}")" \
  "$(ratio "${t[$2,none]}" "${t[$3,none]}")" "$(ratio "${t[$2,vol]}" "${t[$3,vol]}")"; }
row "berthd  (docker CLI)" bd
row "berthd  (berth CLI)" bb
if [ $have_dockerd = 1 ]; then
  row "dockerd (docker CLI)" dk
  ratios "dockerd/berthd, same CLI" dk bd
  ratios "dockerd+docker/berthd+berth" dk bb
  drss=$(rss_mb "$dpid"); crss=0
  cpid=$(pgrep -P "$dpid" containerd || true)
  [ -n "$cpid" ] && crss=$(rss_mb "$cpid")
  printf '  daemon RSS: berthd %s MB, dockerd %s MB + containerd %s MB\n' "$(rss_mb "$bpid")" "$drss" "$crss"
else
  echo "  dockerd not installed: no ratio (apt-get install docker.io)"
  printf '  daemon RSS: berthd %s MB\n' "$(rss_mb "$bpid")"
fi
