# shellcheck shell=bash
# `docker run --rm busybox true` on the default network, through the real docker CLI: what
# 50-run-rm.sh measures plus the network setup and teardown (default bridge, veth pair, IP
# address, and the engine's firewall bookkeeping). BENCH_RUN_RM_RUNS one after another, then one
# round of BENCH_RUN_RM_PARALLEL started at once. Each daemon runs in a network namespace of its
# own (lib/daemons.sh); the reference with docker's defaults (docker0, iptables, userland
# proxy), Berth with its berth0 bridge and nftables table.

bench_register_workload run_rm_bridge "docker run --rm busybox true on the default bridge, sequential and parallel"

BENCH_RUN_RM_RUNS=${BENCH_RUN_RM_RUNS:-100}
BENCH_RUN_RM_PARALLEL=${BENCH_RUN_RM_PARALLEL:-20}

workload_run_rm_bridge() {
    local name=$1 host stats left addr
    host="unix://${BENCH_SOCK[$name]}"
    bench_import_busybox "$name" || return 1
    # Timing an engine that quietly gave no network would flatter it: the container must see
    # an IPv4 address on eth0.
    addr=$("$BENCH_DOCKER_CLI" -H "$host" run --rm busybox ip -4 -o addr show dev eth0 2>&1) || {
        bench_note "$name: no eth0 in a default-network container: $addr"
        return 1
    }
    [[ $addr == *" inet "* ]] || {
        bench_note "$name: eth0 has no IPv4 address: $addr"
        return 1
    }
    bench_note "$name: default network container: $(awk '{print $2, $4}' <<<"$addr")"
    local run=("$BENCH_DOCKER_CLI" -H "$host" run --rm busybox true)

    stats=$("$BENCH_TOOL" exec --warmup 3 --runs "$BENCH_RUN_RM_RUNS" -- "${run[@]}") || return 1
    bench_result "run --rm busybox true, default bridge, mean of $BENCH_RUN_RM_RUNS sequential (ms)" \
        "$(bench_stat "$stats" mean_us ms)"
    bench_result "run --rm busybox true, default bridge, median of $BENCH_RUN_RM_RUNS sequential (ms)" \
        "$(bench_stat "$stats" p50_us ms)"

    stats=$("$BENCH_TOOL" parallel --warmup 1 --jobs "$BENCH_RUN_RM_PARALLEL" -- "${run[@]}") || return 1
    bench_result "$BENCH_RUN_RM_PARALLEL parallel run --rm busybox true, default bridge, wall time for all (ms)" \
        "$(bench_stat "$stats" wall_us ms)"
    bench_result "$BENCH_RUN_RM_PARALLEL parallel run --rm busybox true, default bridge, per-run mean (ms)" \
        "$(bench_stat "$stats" mean_us ms)"

    left=$("$BENCH_DOCKER_CLI" -H "$host" ps -aq | wc -l)
    ((left == 0)) || bench_note "warning: $left containers left on $name after run --rm"
    # Every veth goes with its container: only lo and the bridge may be left in the namespace.
    left=$(bench_in_netns "$name" ip -o link show type veth | wc -l)
    ((left == 0)) || bench_note "warning: $left veth links left in $name's namespace after run --rm"
}
