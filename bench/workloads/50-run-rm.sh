# shellcheck shell=bash
# `docker run --rm busybox true` through the real docker CLI: create, start, wait, remove, the
# whole life of a container as a user sees it. BENCH_RUN_RM_RUNS one after another, then one
# round of BENCH_RUN_RM_PARALLEL started at once. --network none on both engines: the container
# machinery alone; 52-run-rm-bridge.sh times the same on the default bridge network.

bench_register_workload run_rm "docker run --rm busybox true, sequential and parallel"

BENCH_RUN_RM_RUNS=${BENCH_RUN_RM_RUNS:-100}
BENCH_RUN_RM_PARALLEL=${BENCH_RUN_RM_PARALLEL:-20}
# The row the runc floor (55-runc-bare.sh) compares each engine with.
BENCH_RUN_RM_MEDIAN_LABEL="run --rm --network none busybox true, median of $BENCH_RUN_RM_RUNS sequential (ms)"

workload_run_rm() {
    local name=$1 host stats left
    host="unix://${BENCH_SOCK[$name]}"
    bench_import_busybox "$name" || return 1
    local run=("$BENCH_DOCKER_CLI" -H "$host" run --rm --network none busybox true)

    stats=$("$BENCH_TOOL" exec --warmup 3 --runs "$BENCH_RUN_RM_RUNS" -- "${run[@]}") || return 1
    bench_result "run --rm --network none busybox true, mean of $BENCH_RUN_RM_RUNS sequential (ms)" \
        "$(bench_stat "$stats" mean_us ms)"
    bench_result "$BENCH_RUN_RM_MEDIAN_LABEL" "$(bench_stat "$stats" p50_us ms)"

    stats=$("$BENCH_TOOL" parallel --warmup 1 --jobs "$BENCH_RUN_RM_PARALLEL" -- "${run[@]}") || return 1
    bench_result "$BENCH_RUN_RM_PARALLEL parallel run --rm --network none busybox true, wall time for all (ms)" \
        "$(bench_stat "$stats" wall_us ms)"
    bench_result "$BENCH_RUN_RM_PARALLEL parallel run --rm --network none busybox true, per-run mean (ms)" \
        "$(bench_stat "$stats" mean_us ms)"

    # --rm is the daemon's AutoRemove: nothing may be left once every CLI has exited.
    left=$("$BENCH_DOCKER_CLI" -H "$host" ps -aq | wc -l)
    ((left == 0)) || bench_note "warning: $left containers left on $name after run --rm"
}
