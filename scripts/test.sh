#!/usr/bin/env bash
# README command 2 (and CI): install what the tests need, build, lint, and
# run every unit and integration test. Under CI=true a missing prerequisite
# fails the run instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
net_before=$(mktemp /tmp/berth-netstate.XXXXXX)
# Removed however the run ends (a failed step stops it under set -e).
trap 'rm -f "$net_before" /tmp/berth-test-output.$$' EXIT
scripts/net-state.sh > "$net_before"
cargo fmt --all --check
cargo build --workspace --bins
cargo clippy --workspace --all-targets -- -D warnings
# A failing test must not stop the run here: fuzzing and the leak check
# still run, and the status is the tests' own.
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee /tmp/berth-test-output.$$
status=${PIPESTATUS[0]}
set -e
# The parsers of untrusted bytes under libFuzzer, briefly (fuzz/, scripts/fuzz.sh).
scripts/fuzz.sh 10 || status=1
scripts/check-leaks.sh "$net_before"
rm -f /tmp/berth-test-output.$$ "$net_before"
exit "$status"
