#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit, daemon and end-to-end tests.
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
# Every test binary; daemon tests start isolated daemons of their own.
cargo test --workspace --no-fail-fast
