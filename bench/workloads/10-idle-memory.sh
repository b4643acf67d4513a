# shellcheck shell=bash
# Idle memory: RSS and PSS of everything the daemon runs (dockerd + containerd + shims for the
# reference; the berth daemon and anything it spawned), once it has been up and idle a while.

bench_register_workload idle_memory "idle memory of the daemon's whole process tree"

BENCH_IDLE_SECS=${BENCH_IDLE_SECS:-5}

# Seconds since PID started (from /proc/PID/stat's start time, in clock ticks after boot).
bench_process_age() {
    local pid=$1 start_ticks hz uptime
    start_ticks=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$pid/stat")
    hz=$(getconf CLK_TCK)
    uptime=$(awk '{print $1}' /proc/uptime)
    awk -v s="$start_ticks" -v hz="$hz" -v up="$uptime" 'BEGIN { printf "%d", up - s / hz }'
}

workload_idle_memory() {
    local name=$1 pid=${BENCH_PID[$1]} age pids p rss=0 pss=0 kib count=0 counted=""
    age=$(bench_process_age "$pid")
    if ((age < BENCH_IDLE_SECS)); then
        sleep $((BENCH_IDLE_SECS - age))
    fi
    pids=$(bench_daemon_pids "$name")
    for p in $pids; do
        [[ -r /proc/$p/smaps_rollup ]] || continue
        read -r kib < <(awk '$1 == "Rss:" {print $2}' "/proc/$p/smaps_rollup") || continue
        rss=$((rss + kib))
        read -r kib < <(awk '$1 == "Pss:" {print $2}' "/proc/$p/smaps_rollup") || continue
        pss=$((pss + kib))
        count=$((count + 1))
        counted+=" $p:$(tr -d '\n' <"/proc/$p/comm")"
    done
    bench_note "$name processes:$counted"
    ((count > 0)) || return 1
    bench_result "idle RSS, whole process tree (MiB)" "$(bench_kib_to_mib "$rss")"
    bench_result "idle PSS, whole process tree (MiB)" "$(bench_kib_to_mib "$pss")"
    bench_result "idle processes (count)" "$count"
}
