# shellcheck shell=bash
# `docker version` round trip through the real docker CLI 28: process start, API version
# negotiation (/_ping), GET /version, output. What a user feels on every CLI command.

bench_register_workload docker_version "docker CLI 'version' round trip"

BENCH_VERSION_RUNS=${BENCH_VERSION_RUNS:-30}

workload_docker_version() {
    local name=$1 stats
    stats=$("$BENCH_TOOL" exec --warmup 3 --runs "$BENCH_VERSION_RUNS" -- \
        "$BENCH_DOCKER_CLI" -H "unix://${BENCH_SOCK[$name]}" version) || return 1
    bench_result "docker version, mean of $BENCH_VERSION_RUNS (ms)" "$(bench_stat "$stats" mean_us ms)"
    bench_result "docker version, median (ms)" "$(bench_stat "$stats" p50_us ms)"
}
