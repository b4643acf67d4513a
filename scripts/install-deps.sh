#!/usr/bin/env bash
# Installs what building and testing Berth needs on a fresh Debian 12 machine.
# Idempotent: installs only what is missing.
set -euo pipefail

packages=(libseccomp-dev pkg-config busybox-static skopeo umoci curl iproute2 nftables)
# The cgroup v2 VM of crates/berth/tests/cgroup_v2.rs (scripts/cgroup-v2-vm.sh).
packages+=(qemu-system-x86 linux-image-amd64)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "cargo not found: Berth needs a Rust toolchain" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt >/dev/null 2>&1 || true
[ -x /usr/local/bin/docker ] || command -v docker >/dev/null || {
    echo "the docker CLI (28.x) is needed by the end-to-end tests" >&2; exit 1; }
