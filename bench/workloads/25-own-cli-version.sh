# shellcheck shell=bash
# Each engine's own CLI, `version` round trip against its own daemon: `berth version` for
# Berth, the docker CLI for the reference. The start-up cost of the CLI a user types.

bench_register_workload own_cli_version "own CLI 'version' round trip (berth CLI vs docker CLI)"

workload_own_cli_version() {
    local name=$1 cli stats
    if [[ $name == berth ]]; then cli=$BENCH_BERTH; else cli=$BENCH_DOCKER_CLI; fi
    stats=$("$BENCH_TOOL" exec --warmup 3 --runs "${BENCH_VERSION_RUNS:-30}" -- \
        "$cli" -H "unix://${BENCH_SOCK[$name]}" version) || return 1
    bench_result "own CLI version, median of ${BENCH_VERSION_RUNS:-30} (ms)" "$(bench_stat "$stats" p50_us ms)"
}
