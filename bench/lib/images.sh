# shellcheck shell=bash
# Base images for the container workloads: one busybox root filesystem per run, built by
# scripts/mkrootfs-busybox.sh, imported into each daemon from the same tar.

# Path of the busybox rootfs tar, built on first use (workloads run in subshells, so the file,
# not a variable, is the cache).
bench_busybox_tar() {
    local tar=$BENCH_WORK/busybox.tar
    if [[ ! -s $tar ]]; then
        "$REPO_ROOT/scripts/mkrootfs-busybox.sh" "$tar.tmp" >&2 || return 1
        mv -f "$tar.tmp" "$tar"
    fi
    echo "$tar"
}

# Imports the busybox rootfs into daemon NAME as busybox:latest (CMD ["sh"], as Docker's own
# image has), unless it is there already.
bench_import_busybox() {
    local name=$1 host tar
    host="unix://${BENCH_SOCK[$name]}"
    "$BENCH_DOCKER_CLI" -H "$host" image inspect busybox:latest >/dev/null 2>&1 && return 0
    tar=$(bench_busybox_tar) || return 1
    "$BENCH_DOCKER_CLI" -H "$host" import -c 'CMD ["sh"]' "$tar" busybox:latest >/dev/null || {
        bench_note "importing $tar into $name failed"
        return 1
    }
}
