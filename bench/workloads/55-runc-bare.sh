# shellcheck shell=bash
# The floor under both engines: `runc run` of a bare OCI bundle (the busybox rootfs unpacked,
# `runc spec` with args `true`, no terminal; new namespaces including the network, so like
# --network none), BENCH_RUNC_RUNS times, with no daemon at all. One figure for the run, with
# each engine's `run --rm` median (50-run-rm.sh) as a multiple of it.

bench_register_workload runc_bare "runc run of a bare OCI bundle (no daemon): the floor"

BENCH_RUNC_RUNS=${BENCH_RUNC_RUNS:-100}

workload_runc_bare() {
    local dir=$BENCH_WORK/runc-bare tar stats status=0
    # It measures no daemon: once per run, in the first daemon's turn.
    [[ -e $BENCH_WORK/runc-bare.done ]] && return 0
    touch "$BENCH_WORK/runc-bare.done"
    tar=$(bench_busybox_tar) || return 1
    rm -rf "$dir"
    mkdir -p "$dir/bundle/rootfs" "$dir/state"
    tar -xf "$tar" -C "$dir/bundle/rootfs" || return 1
    (cd "$dir/bundle" && runc spec) || return 1
    local config
    config=$(jq --arg cg "$BENCH_CGROUP/runc/bench" \
        '.process.args = ["true"] | .process.terminal = false | .linux.cgroupsPath = $cg' \
        "$dir/bundle/config.json") || return 1
    printf '%s\n' "$config" >"$dir/bundle/config.json"

    stats=$("$BENCH_TOOL" exec --warmup 3 --runs "$BENCH_RUNC_RUNS" -- \
        runc --root "$dir/state" run --bundle "$dir/bundle" berth-bench-runc) || status=1
    # `runc run` deletes its container on exit; this is for a run cut short.
    runc --root "$dir/state" delete --force berth-bench-runc >/dev/null 2>&1 || true
    bench_remove_cgroups "$BENCH_CGROUP/runc"
    rm -rf "$dir"
    ((status == 0)) || return 1
    bench_floor "runc run of a bare bundle, busybox true, median of $BENCH_RUNC_RUNS (ms): floor, no daemon; ratio: each engine's run --rm median as a multiple" \
        "$(bench_stat "$stats" p50_us ms)" "$BENCH_RUN_RM_MEDIAN_LABEL"
}
