# shellcheck shell=bash
# Installs the reference engine (Debian's docker.io: dockerd 20.10, containerd, runc) and the
# static busybox the container workloads' image is built from, if missing,
# without letting the package start the system services, and keeps the docker CLI 28 at
# /usr/local/bin/docker the one the benchmarks drive.

# Debian packages the harness needs; each entry is "package:command-it-provides".
# nftables and iproute2: Berth's port rules (`nft`) and the daemons' network namespaces (`ip`);
# wrk: the HTTP loader of the published-port workload.
BENCH_APT_PACKAGES=(docker.io:dockerd containerd:containerd runc:runc curl:curl busybox-static:busybox
    nftables:nft iproute2:ip wrk:wrk jq:jq)

POLICY_RC=/usr/sbin/policy-rc.d

# Runs apt-get install with a policy-rc.d that forbids every service start, restoring whatever
# policy-rc.d was there before (or removing ours) when the install is done.
bench_apt_install_no_services() {
    local backup="" status=0
    if [[ -e $POLICY_RC ]]; then
        backup=$(mktemp /usr/sbin/policy-rc.d.bench-backup.XXXXXX)
        cp -a "$POLICY_RC" "$backup"
    fi
    printf '#!/bin/sh\n# written by bench/run for the duration of an apt-get install\nexit 101\n' >"$POLICY_RC"
    chmod 0755 "$POLICY_RC"

    if ((!BENCH_APT_UPDATED)); then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || status=$?
        BENCH_APT_UPDATED=1
    fi
    if ((status == 0)); then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
            >"$BENCH_LOG_DIR/apt-install.log" 2>&1 || status=$?
    fi

    if [[ -n $backup ]]; then
        mv -f "$backup" "$POLICY_RC"
    else
        rm -f "$POLICY_RC"
    fi
    if ((status != 0)); then
        bench_die "apt-get install $* failed (exit $status); see $BENCH_LOG_DIR/apt-install.log"
    fi
}

# Stops system dockerd/containerd processes that a package install may have started anyway.
# Only processes started from the packaged binaries with no --data-root of ours are touched,
# and only those that did not exist before the install (so a user's own daemon is left alone).
bench_stop_services_started_by_install() {
    local before=" $1 " pid exe
    for pid in $(bench_pids_of_exe /usr/bin/dockerd /usr/bin/containerd); do
        [[ $before == *" $pid "* ]] && continue
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
        bench_note "stopping $exe (pid $pid), started by the package install"
        bench_kill_pid_and_wait "$pid" TERM 10
    done
}

bench_install() {
    local missing=() entry pkg cmd before
    BENCH_APT_UPDATED=${BENCH_APT_UPDATED:-0}
    for entry in "${BENCH_APT_PACKAGES[@]}"; do
        pkg=${entry%%:*} cmd=${entry#*:}
        dpkg -s "$pkg" >/dev/null 2>&1 && command -v "$cmd" >/dev/null || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        bench_step "installing ${missing[*]} (services kept stopped)"
        before=$(bench_pids_of_exe /usr/bin/dockerd /usr/bin/containerd | tr '\n' ' ')
        bench_apt_install_no_services "${missing[@]}"
        bench_stop_services_started_by_install "$before"
    fi
    [[ -x $BENCH_DOCKER_CLI ]] || bench_die "the docker CLI 28 is expected at $BENCH_DOCKER_CLI"
    # docker.io puts its own CLI 20.10 in /usr/bin: ours must still win in PATH.
    case ":$PATH:" in
    *":$(dirname "$BENCH_DOCKER_CLI"):"*) ;;
    *) PATH="$(dirname "$BENCH_DOCKER_CLI"):$PATH" ;;
    esac
    local first
    first=$(command -v docker)
    if [[ $first != "$BENCH_DOCKER_CLI" ]]; then
        PATH="$(dirname "$BENCH_DOCKER_CLI"):$PATH"
    fi
    export PATH
    command -v cargo >/dev/null || bench_die "cargo not found: building berth needs a Rust toolchain"
}
