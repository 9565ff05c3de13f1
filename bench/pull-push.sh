#!/usr/bin/env bash
# Pull and push of a ~200 MB image (5 incompressible layers) from a local
# CNCF registry: berthd vs dockerd vs skopeo, in one run, medians and ratios.
set -euo pipefail
N=${1:-3}
MB=${LAYER_MB:-40}
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --workspace --bins -q
bin=$PWD/target/release
docker=/usr/local/bin/docker
tmp=$(mktemp -d /tmp/berth-bench.XXXXXX)
cg=/$(basename "$tmp" | tr -d .)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}" $(cat "$tmp"/*/pid 2>/dev/null); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for m in $(awk -v t="$tmp" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  for h in /sys/fs/cgroup/*/; do rmdir "$h${cg#/}"/* "$h${cg#/}" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() { # name -> prints addr
  local name=$1 port; port=$(free_port)
  mkdir -p "$tmp/$name"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$tmp/$name/data" "$port" > "$tmp/$name/config.yml"
  docker-registry serve "$tmp/$name/config.yml" >"$tmp/$name/log" 2>&1 &
  echo $! > "$tmp/$name/pid"   # runs in a subshell: cleanup reads the pid files
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  echo "127.0.0.1:$port"
}
wait_sock() { for _ in $(seq 1 300); do curl -sf --unix-socket "$1" http://x/_ping >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

SRC=$(start_registry src)

# The image: 5 layers of random bytes, one file each, as an OCI layout.
python3 - "$tmp/layout" "$MB" <<'PY'
import hashlib, io, json, os, sys, tarfile
out, mb = sys.argv[1], int(sys.argv[2])
blobs = os.path.join(out, "blobs", "sha256"); os.makedirs(blobs)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, d), "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
layers, diffs = [], []
for i in range(5):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        data = os.urandom(mb * 1000 * 1000)
        info = tarfile.TarInfo(f"layer{i}/blob.bin"); info.size = len(data); info.mtime = 0
        t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    layers.append(dict(put(raw), mediaType="application/vnd.oci.image.layer.v1.tar"))
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(put(config), mediaType="application/vnd.oci.image.config.v1+json"), "layers": layers}).encode()
m = put(manifest)
json.dump({"schemaVersion": 2, "manifests": [dict(m, mediaType="application/vnd.oci.image.manifest.v1+json",
    annotations={"org.opencontainers.image.ref.name": "v1"})]}, open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
skopeo copy -q --dest-tls-verify=false "oci:$tmp/layout:v1" "docker://$SRC/bench/big:v1"
IMG=$SRC/bench/big:v1

echo '{}' > "$tmp/none.json"
"$bin/berthd" --data-root "$tmp/b/data" --exec-root "$tmp/b/exec" -H "unix://$tmp/b.sock" \
  --config-file "$tmp/none.json" --pidfile "$tmp/b.pid" --cgroup-parent "$cg" --log-level warn >"$tmp/berthd.log" 2>&1 &
pids+=($!)
wait_sock "$tmp/b.sock"
have_dockerd=0
if command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ]; then
  PATH=$PATH:/usr/sbin:/sbin dockerd --ip-forward=false --iptables=false --bridge=none --data-root "$tmp/d/data" \
    --exec-root "$tmp/d/exec" --pidfile "$tmp/d.pid" -H "unix://$tmp/d.sock" >"$tmp/dockerd.log" 2>&1 &
  pids+=($!)
  wait_sock "$tmp/d.sock" && have_dockerd=1
fi
export DOCKER_CONFIG=$tmp/docker-config

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f\n", m/1e9}'; }

# pull_time HOST: seconds for `docker pull` (layers removed before each run)
pull_times() {
  local host=$1 i t0
  for i in $(seq 1 "$N"); do
    DOCKER_HOST=$host $docker rmi -f "$IMG" >/dev/null 2>&1 || true
    DOCKER_HOST=$host $docker image prune -af >/dev/null 2>&1 || true
    t0=$(now); DOCKER_HOST=$host $docker pull -q "$IMG" >/dev/null; echo $(( $(now) - t0 ))
  done | median
}
# Each push goes to a fresh registry, so no run can skip or mount what an
# earlier one uploaded.
push_times() {
  local host=$1 tag=$2 i t0
  for i in $(seq 1 "$N"); do
    local DST; DST=$(start_registry "dst-$tag$i")
    local dst=$DST/$tag$i/big:v1
    DOCKER_HOST=$host $docker tag "$IMG" "$dst"
    t0=$(now); DOCKER_HOST=$host $docker push -q "$dst" >/dev/null; echo $(( $(now) - t0 ))
    kill "$(cat "$tmp/dst-$tag$i/pid")"
  done | median
}
skopeo_pull() {
  for i in $(seq 1 "$N"); do
    rm -rf "$tmp/sk"; t0=$(now)
    skopeo copy -q --src-tls-verify=false "docker://$IMG" "dir:$tmp/sk" >/dev/null; echo $(( $(now) - t0 ))
  done | median
}
skopeo_push() {
  for i in $(seq 1 "$N"); do
    local DST; DST=$(start_registry "dst-skopeo$i")
    t0=$(now)
    skopeo copy -q --dest-tls-verify=false "dir:$tmp/sk" "docker://$DST/skopeo$i/big:v1" >/dev/null; echo $(( $(now) - t0 ))
    kill "$(cat "$tmp/dst-skopeo$i/pid")"
  done | median
}

B="unix://$tmp/b.sock"; D="unix://$tmp/d.sock"
bp=$(pull_times "$B"); bpu=$(push_times "$B" berth)
sp=$(skopeo_pull); spu=$(skopeo_push)
echo "image: 5 layers x ${MB} MB (random), median of $N, seconds"
printf '  %-28s pull %6s   push %6s\n' "berthd" "$bp" "$bpu" "skopeo (dir, no unpack)" "$sp" "$spu"
if [ $have_dockerd = 1 ]; then
  dp=$(pull_times "$D"); dpu=$(push_times "$D" dockerd)
  printf '  %-28s pull %6s   push %6s\n' "dockerd" "$dp" "$dpu"
  awk -v b="$bp" -v d="$dp" -v bu="$bpu" -v du="$dpu" 'BEGIN {printf "  dockerd/berthd: pull %.2fx, push %.2fx\n", d/b, du/bu}'
fi
awk -v b="$bp" -v s="$sp" -v bu="$bpu" -v su="$spu" 'BEGIN {printf "  skopeo/berthd:  pull %.2fx, push %.2fx\n", s/b, su/bu}'
