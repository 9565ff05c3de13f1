#!/usr/bin/env bash
# `run --rm busybox true`: berthd vs dockerd on the same machine, in one run.
set -euo pipefail
N=${1:-20}
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --workspace --bins -q
bin=$PWD/target/release
docker=/usr/local/bin/docker
tmp=$(mktemp -d /tmp/berth-bench.XXXXXX)
cg=/$(basename "$tmp" | tr -d .)
bpid=""; dpid=""
cleanup() {
  set +e
  [ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
  [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
  for m in $(awk -v t="$tmp" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  for h in /sys/fs/cgroup/*/; do rmdir "$h${cg#/}"/* "$h${cg#/}" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

scripts/busybox-tar.sh "$tmp/busybox.tar"
echo "{}" > "$tmp/none.json"
wait_sock() { for _ in $(seq 1 300); do curl -sf --unix-socket "$1" http://x/_ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "daemon on $1 did not start" >&2; return 1; }

"$bin/berthd" --data-root "$tmp/b/data" --exec-root "$tmp/b/exec" -H "unix://$tmp/b.sock" \
  --config-file "$tmp/none.json" --pidfile "$tmp/b.pid" --cgroup-parent "$cg" --log-level warn >"$tmp/berthd.log" 2>&1 &
bpid=$!
wait_sock "$tmp/b.sock"
have_dockerd=0
if command -v dockerd >/dev/null; then
  PATH=$PATH:/usr/sbin:/sbin dockerd --ip-forward=false --iptables=false --bridge=none --data-root "$tmp/d/data" \
    --exec-root "$tmp/d/exec" --pidfile "$tmp/d.pid" -H "unix://$tmp/d.sock" >"$tmp/dockerd.log" 2>&1 &
  dpid=$!
  wait_sock "$tmp/d.sock" && have_dockerd=1
fi

B="unix://$tmp/b.sock"; D="unix://$tmp/d.sock"
DOCKER_HOST=$B $docker import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null
[ $have_dockerd = 1 ] && DOCKER_HOST=$D $docker import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null

# Times one command N times (after 3 warm-ups); prints the median in ms.
median_ms() {
  local i t0 t1; local -a ts=()
  for i in 1 2 3; do "$@" >/dev/null; done
  for i in $(seq 1 "$N"); do
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    ts+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m/1000}'
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

export DOCKER_CONFIG=$tmp/docker-config
b_docker=$(DOCKER_HOST=$B median_ms $docker run --rm --network none busybox true)
b_berth=$(BERTH_HOST=$B median_ms "$bin/berth" run --rm busybox true)
echo "run --rm busybox true, median of $N:"
printf '  %-34s %8s ms\n' "berthd  (docker CLI)" "$b_docker" "berthd  (berth CLI)" "$b_berth"
if [ $have_dockerd = 1 ]; then
  d_docker=$(DOCKER_HOST=$D median_ms $docker run --rm --network none busybox true)
  printf '  %-34s %8s ms\n' "dockerd (docker CLI)" "$d_docker"
  awk -v b="$b_docker" -v d="$d_docker" 'BEGIN {printf "  ratio dockerd/berthd (same CLI):    %6.2fx\n", d/b}'
  awk -v b="$b_berth" -v d="$d_docker" 'BEGIN {printf "  ratio dockerd+docker / berthd+berth: %5.2fx\n", d/b}'
  drss=$(rss_mb "$dpid"); crss=0
  cpid=$(pgrep -P "$dpid" containerd || true)
  [ -n "$cpid" ] && crss=$(rss_mb "$cpid")
  printf '  daemon RSS: berthd %s MB, dockerd %s MB + containerd %s MB\n' "$(rss_mb "$bpid")" "$drss" "$crss"
else
  echo "  dockerd not installed: no ratio (apt-get install docker.io)"
  printf '  daemon RSS: berthd %s MB\n' "$(rss_mb "$bpid")"
fi
