# shellcheck shell=bash
# Starts and stops the two daemons under test, each confined to a temp dir of its own.
#
# For each started daemon NAME (berth, reference) these are set:
#   BENCH_SOCK[NAME]  its unix socket      BENCH_PID[NAME]  its main process
#   BENCH_DIR[NAME]   its temp dir (data root, exec root, socket, pidfile and log are inside)
#   BENCH_CGROUP_PARENT[NAME]  its containers' cgroup parent, $BENCH_CGROUP/NAME, so that
#                     what they leave can be found and removed
# BENCH_DAEMONS lists the names that answered /_ping, in table order; BENCH_SKIPPED[NAME]
# says why a daemon is missing from the run.
#
# Each daemon runs in a fresh network namespace of its own (only `lo`, up), so that its
# default bridge, veths, addresses, nftables/iptables rules and sysctls live and die with it:
# the reference dockerd runs with docker's defaults (bridge, iptables, userland proxy), and
# dockerd 20.10 leaves its iptables rules (FORWARD policy DROP among them) behind, which on
# the host would break other traffic. The API socket is a unix socket, reachable from any
# network namespace; a client of a published port runs in the daemon's namespace through
# `bench_in_netns NAME CMD...`.

declare -gA BENCH_SOCK=() BENCH_PID=() BENCH_DIR=() BENCH_CGROUP_PARENT=() BENCH_SKIPPED=()
BENCH_DAEMONS=()

bench_daemon_dir() {
    local name=$1 dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-$name.XXXXXX")
    chmod 0711 "$dir"
    mkdir -p "$dir/data" "$dir/exec"
    BENCH_DIR[$name]=$dir
    BENCH_SOCK[$name]=$dir/daemon.sock
    BENCH_CGROUP_PARENT[$name]=$BENCH_CGROUP/$name
    bench_on_exit "bench_stop_daemon $name"
}

# Starts the command in ARGV for daemon NAME, logging to its dir, and waits for /_ping.
# Returns non-zero (with the log tail shown) if it dies or never answers.
bench_launch_daemon() {
    local name=$1
    shift
    local dir=${BENCH_DIR[$name]}
    "$@" >"$dir/daemon.log" 2>&1 </dev/null &
    BENCH_PID[$name]=$!
    if ! bench_wait_for_ping "${BENCH_SOCK[$name]}" "${BENCH_PID[$name]}" 60; then
        bench_note "$name did not answer /_ping; last lines of $dir/daemon.log:"
        tail -n 15 "$dir/daemon.log" | sed 's/^/     | /' >&2
        return 1
    fi
    BENCH_DAEMONS+=("$name")
    bench_note "$name: pid ${BENCH_PID[$name]}, socket ${BENCH_SOCK[$name]}"
}

bench_start_reference() {
    bench_step "starting the reference dockerd $(dockerd --version 2>/dev/null | sed 's/^Docker version //')"
    bench_daemon_dir reference
    local dir=${BENCH_DIR[reference]}
    case $dir/ in /run/* | /etc/docker/*) bench_die "TMPDIR must not be under /run or /etc/docker" ;; esac
    echo '{}' >"$dir/daemon.json"
    # With no --containerd, dockerd 20.10 starts its own containerd child with root
    # <data-root>/containerd/daemon, state <exec-root>/containerd/daemon and socket
    # <exec-root>/containerd/containerd.sock, all inside our temp dir; but it uses a system
    # containerd instead if /run/containerd/containerd.sock exists, and it writes
    # /etc/docker/key.json and /run/docker/plugins whatever its roots. So it runs in a private
    # mount namespace with fresh tmpfs on /run and /etc/docker: no system daemon is seen, the
    # host is left untouched, and every mount it makes goes when it exits. `exec` keeps
    # dockerd's PID the one we record. The new network namespace (--net) is the daemon's own.
    # Docker's networking defaults (default bridge docker0, iptables, masquerade, userland
    # proxy), as users run it, in the daemon's own network namespace (see the top of this file).
    local dockerd_cmd=(dockerd --config-file "$dir/daemon.json"
        --data-root "$dir/data" --exec-root "$dir/exec"
        -H "unix://${BENCH_SOCK[reference]}" --pidfile "$dir/daemon.pid"
        --cgroup-parent "${BENCH_CGROUP_PARENT[reference]}"
        --ip6tables=false --log-level warn)
    # iptables' lock (/run/xtables.lock) lands in the private /run too.
    # shellcheck disable=SC2016 # expanded by the inner sh
    local isolate='ip link set lo up &&
        mount -t tmpfs -o mode=0755,size=64m berth-bench /run &&
        mount -t tmpfs -o mode=0755,size=1m berth-bench /etc/docker && exec "$@"'
    bench_launch_daemon reference unshare --mount --net --propagation private -- \
        sh -c "$isolate" sh "${dockerd_cmd[@]}" ||
        bench_die "the reference dockerd did not start (log: $BENCH_OUT_DIR/reference-daemon.log)"
}

bench_start_berth() {
    bench_step "starting berth daemon ($BENCH_BERTH)"
    if [[ ! -x $BENCH_BERTH ]]; then
        BENCH_SKIPPED[berth]="no binary at $BENCH_BERTH"
        bench_note "skipping berth: ${BENCH_SKIPPED[berth]}"
        return 0
    fi
    bench_daemon_dir berth
    local dir=${BENCH_DIR[berth]}
    # Its own network namespace (see the top of this file), with its default bridge berth0;
    # the mount namespace stays the host's, as before. `exec` keeps berth's PID the recorded one.
    # shellcheck disable=SC2016 # expanded by the inner sh
    local isolate='ip link set lo up && exec "$@"'
    if ! bench_launch_daemon berth unshare --net -- sh -c "$isolate" sh "$BENCH_BERTH" daemon \
        --data-root "$dir/data" --exec-root "$dir/exec" \
        -H "unix://${BENCH_SOCK[berth]}" --pidfile "$dir/daemon.pid" \
        --cgroup-parent "${BENCH_CGROUP_PARENT[berth]}"; then
        BENCH_SKIPPED[berth]="berth daemon did not answer /_ping (log: $BENCH_OUT_DIR/berth-daemon.log)"
        bench_note "skipping berth: ${BENCH_SKIPPED[berth]}"
        bench_keep_log berth
        bench_stop_daemon berth
    fi
}

# Runs CMD... in daemon NAME's network namespace (its published ports are on its own
# 127.0.0.1), with the harness's mounts and everything else.
bench_in_netns() {
    local name=$1
    shift
    bench_pid_alive "${BENCH_PID[$name]:-}" || return 1
    nsenter --net="/proc/${BENCH_PID[$name]}/ns/net" -- "$@"
}

# Copies a daemon's log into bench/out before its temp dir goes.
bench_keep_log() {
    local name=$1
    [[ -f ${BENCH_DIR[$name]:-}/daemon.log ]] || return 0
    cp "${BENCH_DIR[$name]}/daemon.log" "$BENCH_OUT_DIR/$name-daemon.log" 2>/dev/null || true
}

# Every process that belongs to daemon NAME: its process tree, plus any process naming its
# temp dir on the command line (containerd shims re-parent away from containerd).
bench_daemon_pids() {
    local name=$1
    {
        bench_process_tree "${BENCH_PID[$name]:-}"
        [[ -n ${BENCH_DIR[$name]:-} ]] && bench_pids_mentioning "${BENCH_DIR[$name]}"
    } | sort -un
}

# Stops daemon NAME by PID (SIGTERM, then SIGKILL), then its leftover processes and whatever
# is left in its containers' cgroups, unmounts anything under its dir and removes the dir and
# the cgroups. Safe to call twice.
bench_stop_daemon() {
    local name=$1
    local dir=${BENCH_DIR[$name]:-} pid=${BENCH_PID[$name]:-} leftovers p
    [[ -n $dir ]] || return 0
    leftovers=$(bench_daemon_pids "$name")
    if [[ -n $pid ]]; then
        bench_kill_pid_and_wait "$pid" TERM 20
    fi
    for p in $leftovers; do
        [[ $p == "$pid" ]] && continue
        bench_kill_pid_and_wait "$p" TERM 5
    done
    for p in $(bench_pids_mentioning "$dir"); do
        bench_kill_pid_and_wait "$p" KILL 5
    done
    bench_remove_cgroups "${BENCH_CGROUP_PARENT[$name]:-}"
    bench_keep_log "$name"
    bench_unmount_under "$dir"
    rm -rf --one-file-system "$dir" 2>/dev/null || rm -rf "$dir" || bench_note "could not remove $dir"
    unset "BENCH_DIR[$name]" "BENCH_PID[$name]"
    local kept=()
    for p in "${BENCH_DAEMONS[@]}"; do [[ $p != "$name" ]] && kept+=("$p"); done
    BENCH_DAEMONS=("${kept[@]}")
}
