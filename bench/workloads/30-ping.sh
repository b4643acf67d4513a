# shellcheck shell=bash
# GET /_ping latency over raw HTTP/1.1 on one keep-alive connection to the unix socket, timed
# by a compiled client so the client's own cost stays small: the API server's floor.

bench_register_workload ping "/_ping latency, keep-alive HTTP/1.1"

BENCH_PING_REQUESTS=${BENCH_PING_REQUESTS:-2000}

workload_ping() {
    local name=$1 stats
    stats=$("$BENCH_TOOL" http --socket "${BENCH_SOCK[$name]}" --path /_ping \
        --warmup 200 --requests "$BENCH_PING_REQUESTS") || return 1
    bench_result "/_ping p50 of $BENCH_PING_REQUESTS (µs)" "$(bench_stat "$stats" p50_us us)"
    bench_result "/_ping p99 (µs)" "$(bench_stat "$stats" p99_us us)"
}
