#!/usr/bin/env bash
# Run every cargo-fuzz target of latchkey-protocol for a bounded time; fail on any crash.
# Usage: crates/protocol/fuzz/run-ci.sh [seconds per target, default 20]
# Needs the nightly toolchain (sanitizers); installs cargo-fuzz if it is missing.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-${FUZZ_SECONDS:-20}}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=$(cargo +nightly fuzz list)
# One build for all targets, then bounded runs; seeds are the known-answer vectors' messages.
cargo +nightly fuzz build
for t in $targets; do
    mkdir -p "corpus/$t"
    seeds=()
    if [ -d "seeds/$t" ]; then seeds=("seeds/$t"); fi
    echo "fuzz: $t for ${secs}s"
    cargo +nightly fuzz run "$t" "corpus/$t" "${seeds[@]}" -- -max_total_time="$secs" -max_len=2048
done
echo "fuzz: all targets ran ${secs}s without a crash"
