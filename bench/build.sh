#!/usr/bin/env bash
# `docker build` with the legacy builder (DOCKER_BUILDKIT=0, POST /build):
# berthd vs dockerd on the same machine, in one run, both driven by the real
# docker CLI (`docker build -q -t benchimg ctx`). The context (issue 10's
# benchmark): FROM busybox, 3 RUN and a COPY of a 50 MB file of random bytes.
#   cold:   the image removed (busybox stays), then `--no-cache`: every RUN
#           runs a container, the COPY makes a 50 MB layer.
#   cached: the same build again right after, every step from the cache.
#   docker CLI alone: the cached build's floor, the CLI sending the same
#           context to a stand-in daemon that does nothing with it
#           (bench/null-daemon.py): no daemon's cached build can beat it.
# The daemons run as in run-true.sh (lib-bridge.sh: berthd on its own bridge
# bbench0, dockerd on docker0 with --ip-forward=false; RUN steps use each
# daemon's default bridge); see lib-bridge.sh for the settings and the cleanup.
# Usage: build.sh [N]   (N timed rounds after 1 warm-up round; default 5,
# about a minute after the release build)
set -euo pipefail
N=${1:-5}
MB=50
cd "$(dirname "$0")/.."
have_dockerd=0
command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] && have_dockerd=1
scripts/install-deps.sh
cargo build --release --workspace --bins -q
. bench/lib-bridge.sh
bench_preflight $have_dockerd
export DOCKER_BUILDKIT=0

# The context, made once: the Dockerfile and the blob (MB * 10^6 random bytes).
ctx=$tmp/ctx
mkdir -p "$ctx"
head -c $((MB * 1000 * 1000)) /dev/urandom > "$ctx/blob"
cat > "$ctx/Dockerfile" <<'EOF'
FROM busybox
RUN echo a > /a
RUN echo b > /b
RUN echo c > /c
COPY blob /blob
EOF
blob_sum=$(sha256sum < "$ctx/blob" | cut -d' ' -f1)

scripts/busybox-tar.sh "$tmp/busybox.tar"
start_berthd
[ $have_dockerd = 1 ] && start_dockerd
DOCKER_HOST=$B $docker import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null
[ $have_dockerd = 1 ] && DOCKER_HOST=$D $docker import -c 'CMD ["sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null

cases=(b); [ $have_dockerd = 1 ] && cases+=(d)
host() { case $1 in b) echo "$B" ;; d) echo "$D" ;; esac; }
name() { case $1 in b) echo berthd ;; d) echo dockerd ;; esac; }
# One build. The CLI's stderr (the legacy builder's deprecation notice, or
# the build's error) goes to a file, shown if the build fails.
build() { # case [--no-cache]
  local c=$1; shift
  DOCKER_HOST=$(host "$c") $docker build -q "$@" -t benchimg "$ctx" >/dev/null 2>"$tmp/err.$c" \
    || { cat "$tmp/err.$c" >&2; die "$(name "$c"): build $* failed"; }
}
# The built image's ID, asked afterwards, untimed (not from `-q`'s output,
# which berthd leaves empty: it sends the ID only as an aux message).
image_id() { DOCKER_HOST=$(host "$1") $docker image inspect -f '{{.Id}}' benchimg; }
rmi() { DOCKER_HOST=$(host "$1") $docker rmi -f benchimg >/dev/null 2>&1 || true; }
now() { date +%s%N; }

# Once, untimed: each daemon's image has the three files and the whole blob.
for c in "${cases[@]}"; do
  build "$c"
  got=$(DOCKER_HOST=$(host "$c") $docker run --rm benchimg sh -c 'cat /a /b /c; sha256sum /blob' 2>"$tmp/err.$c" | tr '\n' ' ')
  [ "$got" = "a b c $blob_sum  /blob " ] || { cat "$tmp/err.$c" >&2; die "$(name "$c"): the built image is not right: $got"; }
done

# Rounds (1 warm-up, then N timed), interleaved: each daemon's cold build,
# then its cached one, so a shared machine's background load falls on both
# alike. The cached build must give the cold build's image ID (every step
# hit the cache); a cold build must give a new one (nothing came from it).
prev_b=""; prev_d=""
for r in $(seq 0 "$N"); do
  for c in "${cases[@]}"; do
    rmi "$c"
    t0=$(now); build "$c" --no-cache; t1=$(now); cold=$(image_id "$c")
    t1b=$(now); build "$c"; t2=$(now); cached=$(image_id "$c")
    [ "$cached" = "$cold" ] || die "$(name "$c") round $r: the cached build gave $cached, the cold one $cold"
    prev_var=prev_$c
    [ "$cold" != "${!prev_var}" ] || die "$(name "$c") round $r: --no-cache gave the previous image $cold"
    printf -v "$prev_var" '%s' "$cold"
    if [ "$r" -gt 0 ]; then
      echo $(( (t1 - t0) / 1000 )) >> "$tmp/t.$c.cold"
      echo $(( (t2 - t1b) / 1000 )) >> "$tmp/t.$c.cached"
    fi
  done
done

# The floor under a cached build: the docker CLI alone, against a stand-in
# daemon that reads the context and answers at once (bench/null-daemon.py).
python3 bench/null-daemon.py "$tmp/null.sock" & npid=$!
wait_sock "$tmp/null.sock" || die "the stand-in daemon did not start"
for r in $(seq 0 "$N"); do
  t0=$(now)
  DOCKER_HOST="unix://$tmp/null.sock" $docker build -q "$ctx" >/dev/null 2>"$tmp/err.n" \
    || { cat "$tmp/err.n" >&2; die "the docker CLI against the stand-in daemon failed"; }
  t1=$(now)
  [ "$r" -gt 0 ] && echo $(( (t1 - t0) / 1000 )) >> "$tmp/t.n.cached"
done
kill "$npid"; wait "$npid" 2>/dev/null || true

# Median in ms of the microsecond figures on stdin.
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m/1000}'; }
range() { sort -n | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.0f-%.0f", lo/1000, hi/1000}'; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a/b}'; }
declare -A t rg
for c in "${cases[@]}"; do
  for m in cold cached; do t[$c,$m]=$(median < "$tmp/t.$c.$m"); rg[$c,$m]=$(range < "$tmp/t.$c.$m"); done
done

echo "docker build (DOCKER_BUILDKIT=0) of FROM busybox + 3 RUN + COPY of $MB MB, docker CLI, median of $N (ms) [min-max]:"
printf '  %-24s %10s %14s %10s %14s\n' "" "cold" "" "cached" ""
for c in "${cases[@]}"; do
  printf '  %-24s %10s %14s %10s %14s\n' "$(name "$c")" "${t[$c,cold]}" "[${rg[$c,cold]}]" "${t[$c,cached]}" "[${rg[$c,cached]}]"
done
printf '  %-24s %10s %14s %10s %14s\n' "docker CLI alone" "" "" "$(median < "$tmp/t.n.cached")" "[$(range < "$tmp/t.n.cached")]"
if [ $have_dockerd = 1 ]; then
  printf '  %-24s %10s %14s %10s\n' "ratio dockerd/berthd" "$(ratio "${t[d,cold]}" "${t[b,cold]}")" "" \
    "$(ratio "${t[d,cached]}" "${t[b,cached]}")"
fi
# What the builds left: containers (there should be none) and images.
for c in "${cases[@]}"; do
  n_ctr=$(DOCKER_HOST=$(host "$c") $docker ps -aq | wc -l)
  n_img=$(DOCKER_HOST=$(host "$c") $docker images -aq | wc -l)
  printf '  %s: %s containers, %s images (with intermediates) left after the runs\n' "$(name "$c")" "$n_ctr" "$n_img"
done
if [ $have_dockerd = 1 ]; then
  drss=$(rss_mb "$dpid"); crss=0
  cpid=$(pgrep -P "$dpid" containerd || true)
  [ -n "$cpid" ] && crss=$(rss_mb "$cpid")
  printf '  daemon RSS: berthd %s MB, dockerd %s MB + containerd %s MB\n' "$(rss_mb "$bpid")" "$drss" "$crss"
else
  echo "  dockerd not installed: no ratio (apt-get install docker.io)"
  printf '  daemon RSS: berthd %s MB\n' "$(rss_mb "$bpid")"
fi
