# shellcheck shell=bash
# Shared helpers: messages, a clean-up stack run by the EXIT trap, and process lookups by PID.

bench_step() { printf '\n== %s\n' "$*" >&2; }
bench_note() { printf '   %s\n' "$*" >&2; }
bench_die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}

# Clean-up actions, run last-registered first when the harness exits for any reason.
BENCH_CLEANUPS=()
bench_on_exit() { BENCH_CLEANUPS+=("$*"); }
bench_run_cleanups() {
    local i
    for ((i = ${#BENCH_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${BENCH_CLEANUPS[i]}" || true
    done
    BENCH_CLEANUPS=()
}

# PIDs of running processes whose executable is one of the given paths.
bench_pids_of_exe() {
    local d exe want
    for d in /proc/[0-9]*; do
        exe=$(readlink "$d/exe" 2>/dev/null) || continue
        for want in "$@"; do
            [[ $exe == "$want" ]] && echo "${d#/proc/}"
        done
    done
}

bench_pid_alive() { [[ -n $1 && -d /proc/$1 ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# The PID and all its descendants, one per line (children first found through /proc/PID/task/*/children).
bench_process_tree() {
    local pid=$1 child
    bench_pid_alive "$pid" || return 0
    echo "$pid"
    # shellcheck disable=SC2013 # the file is space-separated PIDs
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        bench_process_tree "$child"
    done
}

# PIDs whose command line mentions PATH (shims re-parent away from their daemon, but keep
# naming its state directory on their command line).
bench_pids_mentioning() {
    local needle=$1 d cmdline
    for d in /proc/[0-9]*; do
        [[ ${d#/proc/} == "$$" ]] && continue
        cmdline=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
        [[ $cmdline == *"$needle"* ]] && echo "${d#/proc/}"
    done
    return 0
}

# Sends SIG to PID and waits up to SECS for it to go, then SIGKILLs it.
bench_kill_pid_and_wait() {
    local pid=$1 sig=${2:-TERM} secs=${3:-10} i
    bench_pid_alive "$pid" || return 0
    kill -s "$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < secs * 10; i++)); do
        bench_pid_alive "$pid" || return 0
        sleep 0.1
    done
    bench_note "pid $pid ignored SIG$sig for ${secs}s: killing it"
    kill -s KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        bench_pid_alive "$pid" || return 0
        sleep 0.1
    done
}

# Unmounts every mount point at or below DIR, deepest first.
bench_unmount_under() {
    local dir=$1 mp
    [[ -d $dir ]] || return 0
    dir=$(realpath "$dir")
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo |
        sort -r | while read -r mp; do
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || bench_note "could not unmount $mp"
    done
}

# Waits until GET /_ping on the unix socket answers OK, or the PID dies, or SECS pass.
bench_wait_for_ping() {
    local sock=$1 pid=$2 secs=${3:-60} i
    for ((i = 0; i < secs * 10; i++)); do
        if [[ -S $sock ]] && [[ $(curl -s --max-time 2 --unix-socket "$sock" http://localhost/_ping 2>/dev/null) == OK ]]; then
            return 0
        fi
        bench_pid_alive "$pid" || return 1
        sleep 0.1
    done
    return 1
}

# Sum, in KiB, of one field of /proc/PID/smaps_rollup (Rss:, Pss:, …) over the given PIDs;
# PIDs that are gone or unreadable count for nothing.
bench_smaps_sum_kib() {
    local field=$1 p kib total=0
    shift
    for p in "$@"; do
        kib=$(awk -v f="$field" '$1 == f {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
        [[ $kib =~ ^[0-9]+$ ]] && total=$((total + kib))
    done
    echo "$total"
}

bench_kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# The directory of cgroup REL (a path from each hierarchy's root) in every mounted hierarchy
# where it exists: one on a pure cgroup v2 host, one per controller (and unified) on v1.
bench_cgroup_dirs() {
    local rel=${1#/} top
    [[ -n $rel ]] || return 0
    if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then
        [[ -d /sys/fs/cgroup/$rel ]] && echo "/sys/fs/cgroup/$rel"
        return 0
    fi
    for top in /sys/fs/cgroup/*/; do
        [[ -d $top$rel ]] && echo "$top$rel"
    done
    return 0
}

# PIDs in cgroup REL or any cgroup below it.
bench_cgroup_pids() {
    local dir
    for dir in $(bench_cgroup_dirs "$1"); do
        find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -un
}

# Kills every process left in cgroup REL and below (thawing frozen ones first), then removes
# those cgroups, deepest first, retrying for up to 10 s while the processes die.
bench_remove_cgroups() {
    local rel=$1 i dir pid d
    [[ -n ${rel#/} ]] || return 0
    for ((i = 0; i < 100; i++)); do
        for dir in $(bench_cgroup_dirs "$rel"); do
            find "$dir" -name freezer.state -exec sh -c 'for f; do echo THAWED >"$f"; done' sh {} + 2>/dev/null
            find "$dir" -name cgroup.freeze -exec sh -c 'for f; do echo 0 >"$f"; done' sh {} + 2>/dev/null
        done
        for pid in $(bench_cgroup_pids "$rel"); do
            if ((pid > 1)); then kill -s KILL "$pid" 2>/dev/null || true; fi
        done
        for dir in $(bench_cgroup_dirs "$rel"); do
            find "$dir" -depth -type d -print 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null; done
        done
        if [[ -z $(bench_cgroup_dirs "$rel") ]]; then return 0; fi
        sleep 0.1
    done
    bench_note "could not remove cgroup $rel: $(bench_cgroup_dirs "$rel" | tr '\n' ' ')"
}
