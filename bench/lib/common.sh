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
