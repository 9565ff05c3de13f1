#!/usr/bin/env bash
# Push and pull a ~200 MB, 6-layer image (incompressible random layers) with
# skopeo against berth-registry (release build) and the CNCF registry
# (Debian's docker-registry), each started fresh on 127.0.0.1 with a temp
# root for every run. Prints per-run times, medians and ratios
# (CNCF time / berth time: above 1 means berth-registry is faster).
# skopeo's own CPU work (hashing, files) is most of those times on 2 cores,
# so each run also times the same 6 layers with curl in parallel (raw
# server throughput: POST+PATCH+PUT uploads, GET downloads to /dev/null).
# The pull is also timed against an ideal server: nginx serving the image's
# files as static files with sendfile, no registry logic at all. What skopeo
# needs against it is the client's own floor, so CNCF pull / ideal pull is
# the best pull ratio any registry could reach with this client here. The
# push is also timed against berth-registry with its in-memory driver: no
# disk and no fsync, which shows what durability costs on this disk.
#   bench/registry.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
LAYERS=6
LAYER_MB=33
if ! command -v nginx >/dev/null; then
  echo "installing nginx-light (the ideal static server)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
for t in skopeo docker-registry python3 nginx; do
  command -v "$t" >/dev/null || { echo "bench/registry.sh: $t is required" >&2; exit 1; }
done
cargo build --release -q -p berth-registry
BIN=$PWD/target/release/berth-registry
WORK=$(mktemp -d /tmp/berth-reg-bench.XXXXXX)
chmod 755 "$WORK"  # the ideal server's workers read it as www-data
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The image: an OCI layout whose layers are gzip streams of random bytes
# (stored blocks), so skopeo neither recompresses nor shrinks them.
python3 - "$WORK/img" "$LAYERS" "$LAYER_MB" <<'PY'
import gzip, hashlib, json, os, sys
out, n, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{out}/blobs/sha256")
def put(b):
    d = hashlib.sha256(b).hexdigest()
    with open(f"{out}/blobs/sha256/{d}", "wb") as f:
        f.write(b)
    return "sha256:" + d
layers = []
for _ in range(n):
    b = gzip.compress(os.urandom(mb << 20), compresslevel=0)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(b), "size": len(b)})
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
                "layers": layers}).encode()
md = put(m)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": md, "size": len(m), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
          open(f"{out}/index.json", "w"))
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
echo "image: $LAYERS layers, $(du -sm "$WORK/img" | cut -f1) MB"
LAYER_FILES=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(" ".join(l["digest"][7:] for l in m["layers"]))' \
  "$WORK/img/blobs/sha256/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$WORK/img/index.json")")

# The ideal server's tree: the image's files under the paths a registry
# client asks for (hard links, no copies).
MANIFEST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$WORK/img/index.json")
STATIC=$WORK/static/v2/bench/img
mkdir -p "$STATIC/manifests" "$STATIC/blobs" "$WORK/nginx"
echo '{}' >"$WORK/static/v2/index.json"
ln "$WORK/img/blobs/sha256/${MANIFEST#sha256:}" "$STATIC/manifests/latest"
for f in "$WORK"/img/blobs/sha256/*; do ln "$f" "$STATIC/blobs/sha256:${f##*/}"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$1/v2/" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "registry on port $1 did not start" >&2; cat "$WORK"/nginx/stderr "$WORK"/nginx/error.log >&2 2>/dev/null; exit 1
}
now() { date +%s%N; }

start_berth() {  # $1 root, $2 port
  RUST_LOG=warn "$BIN" serve --addr "127.0.0.1:$2" --root "$1" >/dev/null 2>"$WORK/berth.log" &
  PIDS+=($!); SERVER=$!
}
start_cncf() {
  cat >"$WORK/cncf.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
YML
  docker-registry serve "$WORK/cncf.yml" >/dev/null 2>"$WORK/cncf.log" &
  PIDS+=($!); SERVER=$!
}

start_ideal() {  # $1 (unused), $2 port
  cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/pid;
error_log $WORK/nginx/error.log error;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$2;
    root $WORK/static;
    add_header Docker-Distribution-API-Version registry/2.0 always;
    location = /v2/ { default_type application/json; try_files /v2/index.json =404; }
    location /v2/bench/img/manifests/ {
      types { } default_type application/vnd.oci.image.manifest.v1+json;
      add_header Docker-Content-Digest $MANIFEST;
      add_header Docker-Distribution-API-Version registry/2.0;
    }
    location /v2/bench/img/blobs/ { types { } default_type application/octet-stream; }
  }
}
CONF
  nginx -c "$WORK/nginx.conf" 2>"$WORK/nginx/stderr" &
  PIDS+=($!); SERVER=$!
}

run_ideal() {  # $1 run number; appends "push pull" seconds to $WORK/ideal
  local port out t0 t1 t2 mem
  port=$(free_port)
  printf '[storage]\ndriver = "inmemory"\n' >"$WORK/inmemory.toml"
  RUST_LOG=warn "$BIN" serve --addr "127.0.0.1:$port" --config "$WORK/inmemory.toml" >/dev/null 2>>"$WORK/berth.log" &
  PIDS+=($!); SERVER=$!
  wait_port "$port"
  t0=$(now)
  skopeo copy -q --dest-tls-verify=false "oci:$WORK/img:latest" "docker://127.0.0.1:$port/bench/img:r$1" >/dev/null
  t1=$(now)
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  mem=$(( (t1 - t0) / 1000000 ))
  port=$(free_port)
  start_ideal "" "$port"
  wait_port "$port"
  out="$WORK/pull-ideal-$1"
  t0=$(now)
  skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$port/bench/img:latest" "oci:$out:latest" >/dev/null
  t1=$(now)
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  rm -rf "$out"
  echo "$mem $(( (t1 - t0) / 1000000 ))" >>"$WORK/ideal"
  printf '%-6s run %d: skopeo push  %4d ms  pull %5d ms (push: berth-registry in memory; pull: nginx sendfile)\n' \
    floor "$1" "$mem" $(( (t1 - t0) / 1000000 ))
}

run_one() {  # $1 kind, $2 run number; appends "push pull" seconds to $WORK/$1
  local root="$WORK/root-$1-$2" port out t0 t1 t2 t3 t4
  port=$(free_port)
  "start_$1" "$root" "$port"
  wait_port "$port"
  out="$WORK/pull-$1-$2"
  t0=$(now)
  skopeo copy -q --dest-tls-verify=false "oci:$WORK/img:latest" "docker://127.0.0.1:$port/bench/img:r$2" >/dev/null
  t1=$(now)
  skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$port/bench/img:r$2" "oci:$out:latest" >/dev/null
  t2=$(now)
  local base="http://127.0.0.1:$port/v2/bench/raw" l loc jobs=()
  for l in $LAYER_FILES; do
    (
      loc=$(curl -sf -X POST -D - -o /dev/null "$base/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
      case $loc in http*) ;; *) loc="http://127.0.0.1:$port$loc" ;; esac
      loc=$(curl -sf -X PATCH -T "$WORK/img/blobs/sha256/$l" -H 'Content-Type: application/octet-stream' \
        -D - -o /dev/null "$loc" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
      case $loc in http*) ;; *) loc="http://127.0.0.1:$port$loc" ;; esac
      case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
      curl -sf -X PUT -o /dev/null "$loc${sep}digest=sha256:$l"
    ) &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  t3=$(now)
  jobs=()
  for l in $LAYER_FILES; do
    curl -sf -o /dev/null "$base/blobs/sha256:$l" &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  t4=$(now)
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  rm -rf "$root" "$out"
  local push=$(( (t1 - t0) / 1000000 )) pull=$(( (t2 - t1) / 1000000 ))
  local up=$(( (t3 - t2) / 1000000 )) down=$(( (t4 - t3) / 1000000 ))
  echo "$push $pull $up $down" >>"$WORK/$1"
  printf '%-6s run %d: skopeo push %5d ms  pull %5d ms | curl up %5d ms  down %5d ms\n' "$1" "$2" "$push" "$pull" "$up" "$down"
}

for i in $(seq 1 "$RUNS"); do
  # Alternate the order so neither side always runs on a warmer machine.
  if (( i % 2 )); then run_one berth "$i"; run_one cncf "$i"; else run_one cncf "$i"; run_one berth "$i"; fi
  run_ideal "$i"
done

python3 - "$WORK/berth" "$WORK/cncf" "$(du -sm "$WORK/img" | cut -f1)" "$WORK/ideal" <<'PY'
import statistics, sys
def load(p):
    rows = [[float(x) / 1000 for x in l.split()] for l in open(p)]
    return [statistics.median(r[i] for r in rows) for i in range(len(rows[0]))]
b, c, mb = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
print(f"\nmedians over the runs ({mb:.0f} MB image):")
print(f"  {'':14}{'skopeo push':>12}{'skopeo pull':>12}{'curl up':>10}{'curl down':>10}")
for name, r in (("berth-registry", b), ("cncf registry", c)):
    print(f"  {name:14}" + "".join(f"{x:>{w}.3f}s" for x, w in zip(r, (11, 11, 9, 9))))
print(f"  ratio (cncf / berth): skopeo push {c[0]/b[0]:.2f}x  pull {c[1]/b[1]:.2f}x"
      f" | curl up {c[2]/b[2]:.2f}x  down {c[3]/b[3]:.2f}x")
f = load(sys.argv[4])
print(f"  floors: pull from an ideal static server (nginx sendfile) {f[1]:.3f}s,"
      f" so no registry can pull faster than {c[1]/f[1]:.2f}x the CNCF registry here;")
print(f"          push to berth-registry in memory (no disk, no fsync) {f[0]:.3f}s"
      f" (cncf / that: {c[0]/f[0]:.2f}x)")
PY
