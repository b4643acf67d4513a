# shellcheck shell=bash
# `docker system df` and `docker ps -a -s` with BENCH_DF_CONTAINERS stopped containers, each
# of which wrote a few dozen small files into its writable layer: what a user with many
# containers waits for. dockerd 20.10 walks every container's layer on every call; Berth
# keeps a stopped container's size until it runs again, so only its first call walks them
# (reported apart). BENCH_DF_RUNS timed calls of each, after that first one.

BENCH_DF_CONTAINERS=${BENCH_DF_CONTAINERS:-200}
BENCH_DF_RUNS=${BENCH_DF_RUNS:-10}
# Containers created at once (each engine gets the same).
BENCH_DF_JOBS=${BENCH_DF_JOBS:-4}

bench_register_workload disk_usage "system df and ps -a -s with $BENCH_DF_CONTAINERS stopped containers"

bench_df_names() {
    local i
    for ((i = 1; i <= BENCH_DF_CONTAINERS; i++)); do echo "berth-bench-df-$i"; done
}

# What each container writes: 24 files of 512 random bytes in two new directories, a
# 1 KB log, a changed image file. (Expanded by the container's shell, not here.)
# shellcheck disable=SC2016
BENCH_DF_SCRIPT='mkdir -p /data/cache /data/logs
i=0
while [ $i -lt 24 ]; do head -c 512 /dev/urandom > /data/cache/f$i; i=$((i + 1)); done
head -c 1024 /dev/zero > /data/logs/log
echo bench >> /etc/passwd'

bench_df_remove_all() {
    local host=$1 names
    mapfile -t names < <(bench_df_names)
    "$BENCH_DOCKER_CLI" -H "$host" rm -f "${names[@]}" >/dev/null 2>&1 || true
}

workload_disk_usage() {
    local name=$1 host=unix://${BENCH_SOCK[$1]} stats count
    bench_import_busybox "$name" || return 1
    bench_note "creating $BENCH_DF_CONTAINERS containers on $name ($BENCH_DF_JOBS at a time)"
    if ! bench_df_names | xargs -P "$BENCH_DF_JOBS" -I{} \
        "$BENCH_DOCKER_CLI" -H "$host" run --network none --name {} busybox sh -c "$BENCH_DF_SCRIPT" >/dev/null; then
        bench_note "creating the containers failed on $name"
        bench_df_remove_all "$host"
        return 1
    fi
    count=$("$BENCH_DOCKER_CLI" -H "$host" ps -aq | wc -l)
    if ((count != BENCH_DF_CONTAINERS)); then
        bench_note "$name has $count containers, not $BENCH_DF_CONTAINERS"
        bench_df_remove_all "$host"
        return 1
    fi

    local df=("$BENCH_DOCKER_CLI" -H "$host" system df)
    local ps=("$BENCH_DOCKER_CLI" -H "$host" ps -a -s)
    stats=$("$BENCH_TOOL" exec --warmup 0 --runs 1 -- "${df[@]}") || { bench_df_remove_all "$host"; return 1; }
    bench_result "system df, $BENCH_DF_CONTAINERS stopped containers, first call (ms)" \
        "$(bench_stat "$stats" p50_us ms)"
    stats=$("$BENCH_TOOL" exec --warmup 0 --runs "$BENCH_DF_RUNS" -- "${df[@]}") || { bench_df_remove_all "$host"; return 1; }
    bench_result "system df, $BENCH_DF_CONTAINERS stopped containers, median of $BENCH_DF_RUNS (ms)" \
        "$(bench_stat "$stats" p50_us ms)"
    stats=$("$BENCH_TOOL" exec --warmup 0 --runs "$BENCH_DF_RUNS" -- "${ps[@]}") || { bench_df_remove_all "$host"; return 1; }
    bench_result "ps -a -s, $BENCH_DF_CONTAINERS stopped containers, median of $BENCH_DF_RUNS (ms)" \
        "$(bench_stat "$stats" p50_us ms)"
    # Both engines must agree on what they measured: the containers' total.
    bench_note "$name: $("$BENCH_DOCKER_CLI" -H "$host" system df --format '{{.Type}} {{.TotalCount}} {{.Size}}' | tr '\n' ';')"

    bench_df_remove_all "$host"
}
