# shellcheck shell=bash
# Memory per running container: BENCH_CONTAINERS detached `sleep 3600` containers
# (--network none) on the engine, then the PSS (from /proc/PID/smaps_rollup) of every shim
# (`berth shim` for Berth, containerd-shim* for the reference) divided by the container
# count, and how much the daemon itself (berth daemon; dockerd + containerd) grew over its
# container-less size. The containers are then removed with `docker rm -f` and the workload
# checks that no container, shim or container process is left.

BENCH_CONTAINERS=${BENCH_CONTAINERS:-100}

bench_register_workload container_memory "per-container memory of $BENCH_CONTAINERS sleeping containers"

# Whether PID is one of daemon NAME's shims: judged by its command line, which names the
# shim and the daemon's temp dir (`berth shim EXEC_ROOT/…`; containerd-shim-runc-v2 …
# -address EXEC_ROOT/containerd/containerd.sock).
bench_is_shim() {
    local name=$1 pid=$2 argv0 arg1 cmdline
    cmdline=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ $cmdline == *"${BENCH_DIR[$name]}"* ]] || return 1
    { read -r argv0; read -r arg1; } <<<"$cmdline"
    case $name in
    berth) [[ $argv0 == "$BENCH_BERTH" || ${argv0##*/} == berth ]] && [[ $arg1 == shim ]] ;;
    *) [[ ${argv0##*/} == containerd-shim* ]] ;;
    esac
}

# The shims of daemon NAME (in its process tree or re-parented away, as containerd's are).
bench_shim_pids() {
    local name=$1 p
    for p in $(bench_daemon_pids "$name"); do
        bench_is_shim "$name" "$p" && echo "$p"
    done
    return 0
}

# The daemon's own processes: its process tree without the shims and what runs under them
# (dockerd and its containerd; the berth daemon).
bench_daemon_core_pids() {
    local name=$1 shims
    shims=" $(bench_shim_pids "$name" | tr '\n' ' ') "
    bench_tree_without "${BENCH_PID[$name]}" "$shims"
}
bench_tree_without() {
    local pid=$1 prune=$2 child
    bench_pid_alive "$pid" || return 0
    [[ $prune == *" $pid "* ]] && return 0
    echo "$pid"
    # shellcheck disable=SC2013 # the file is space-separated PIDs
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        bench_tree_without "$child" "$prune"
    done
}

bench_mem_names() {
    local i
    for ((i = 1; i <= BENCH_CONTAINERS; i++)); do echo "berth-bench-mem-$i"; done
}

# Removes the workload's containers, then reports how many containers, shims and processes
# in the daemon's container cgroups are left (shims exit on their own: wait up to 20 s).
bench_mem_remove_all() {
    local name=$1 host=unix://${BENCH_SOCK[$1]} names i containers shims procs
    mapfile -t names < <(bench_mem_names)
    "$BENCH_DOCKER_CLI" -H "$host" rm -f "${names[@]}" >/dev/null 2>&1 || true
    for ((i = 0; i < 200; i++)); do
        containers=$("$BENCH_DOCKER_CLI" -H "$host" ps -aq 2>/dev/null | wc -l)
        shims=$(bench_shim_pids "$name" | wc -l)
        procs=$(bench_cgroup_pids "${BENCH_CGROUP_PARENT[$name]}" | wc -l)
        ((containers + shims + procs == 0)) && break
        # A daemon that is gone removes nothing more: the harness's exit clean-up takes over.
        bench_pid_alive "${BENCH_PID[$name]}" || break
        sleep 0.1
    done
    echo "$containers $shims $procs"
}

workload_container_memory() {
    local name=$1 host=unix://${BENCH_SOCK[$1]} idle_kib loaded_kib idle_anon loaded_anon
    local shim_kib shims left name_i running core
    bench_import_busybox "$name" || return 1
    # The container-less size, settled.
    sleep 2
    core=$(bench_daemon_core_pids "$name")
    # shellcheck disable=SC2086 # one PID per word
    idle_kib=$(bench_smaps_sum_kib Pss: $core)
    # shellcheck disable=SC2086
    idle_anon=$(bench_smaps_sum_kib Pss_Anon: $core)

    bench_note "starting $BENCH_CONTAINERS containers on $name"
    for name_i in $(bench_mem_names); do
        if ! "$BENCH_DOCKER_CLI" -H "$host" run -d --network none --name "$name_i" busybox sleep 3600 >/dev/null; then
            bench_note "starting $name_i failed; removing the others"
            bench_mem_remove_all "$name" >/dev/null
            return 1
        fi
    done
    running=$("$BENCH_DOCKER_CLI" -H "$host" ps -q | wc -l)
    sleep 2
    mapfile -t shims < <(bench_shim_pids "$name")
    shim_kib=$(bench_smaps_sum_kib Pss: "${shims[@]}")
    core=$(bench_daemon_core_pids "$name")
    # shellcheck disable=SC2086 # one PID per word
    loaded_kib=$(bench_smaps_sum_kib Pss: $core)
    # shellcheck disable=SC2086
    loaded_anon=$(bench_smaps_sum_kib Pss_Anon: $core)
    bench_note "$name: $running running, ${#shims[@]} shims, shim PSS $shim_kib KiB, daemon PSS $idle_kib -> $loaded_kib KiB (anonymous $idle_anon -> $loaded_anon KiB)"

    left=$(bench_mem_remove_all "$name")
    bench_note "$name after rm -f: containers, shims, container processes left: $left"
    if ((running != BENCH_CONTAINERS)); then
        bench_note "$name ran $running of $BENCH_CONTAINERS containers"
        return 1
    fi

    bench_result "shim PSS per container, $BENCH_CONTAINERS sleeping containers (KiB)" \
        "$((shim_kib / BENCH_CONTAINERS))"
    bench_result "shim processes for $BENCH_CONTAINERS containers (count)" "${#shims[@]}"
    bench_result "daemon PSS, no containers (MiB)" "$(bench_kib_to_mib "$idle_kib")"
    bench_result "daemon PSS with $BENCH_CONTAINERS containers (MiB)" "$(bench_kib_to_mib "$loaded_kib")"
    bench_result "daemon PSS growth for $BENCH_CONTAINERS containers (MiB)" \
        "$(bench_kib_to_mib $((loaded_kib - idle_kib)))"
    # Without the file-backed share, which moves when shims map the same binary (Berth's do).
    bench_result "daemon anonymous PSS growth for $BENCH_CONTAINERS containers (MiB)" \
        "$(bench_kib_to_mib $((loaded_anon - idle_anon)))"
    bench_result "left after docker rm -f: containers + shims + container processes (count)" \
        "$(awk '{print $1 + $2 + $3}' <<<"$left")"
}
