#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (libFuzzer through cargo-fuzz, on the
# machine's stable toolchain, so without a sanitizer: a panic or an abort is
# what is caught) for SECONDS each, growing the corpora kept in
# fuzz/corpus/<target>. A crash fails the run and leaves its input in
# fuzz/artifacts/<target>/; make it a regression test beside the parser.
# The test suite runs this briefly (scripts/test.sh); run it longer by hand.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (default 10 s, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
[ $# -gt 0 ] && shift
command -v cargo-fuzz >/dev/null || cargo install -q --locked cargo-fuzz --version 0.13.2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(reference dockerfile dockerignore registry_auth api_bodies shim_frames manifest daemon_json layer_tar)
cd fuzz
# The targets' scratch files (layer_tar's roots) go to a directory of this
# run's, removed at the end.
scratch=$(mktemp -d /tmp/berth-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch
cargo fuzz build -s none -O
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "fuzz: $t for ${secs}s"
  cargo fuzz run "$t" -s none -O -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 \
    | grep -E '^(Done|==|SUMMARY|thread)|panicked|stat::' || true
  # grep's status is not the fuzzer's: a crash leaves an artifact.
  if compgen -G "artifacts/$t/crash-*" > /dev/null || compgen -G "artifacts/$t/oom-*" > /dev/null; then
    echo "fuzz: $t found a crash: fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
