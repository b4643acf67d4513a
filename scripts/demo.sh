#!/usr/bin/env bash
# The main job on a fresh machine: install, build, start a daemon, and use it with the
# real docker CLI and with berth. Everything lives in a temporary directory and is removed
# at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "== building berth (release)"
cargo build --release -p berth
BERTH="${CARGO_TARGET_DIR:-$PWD/target}/release/berth"

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
sock="$work/berth.sock"
daemon_pid=
# Its own default bridge and subnet, so a berth or docker already on this host is not touched.
bridge=berthdemo0
cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid"; wait "$daemon_pid" || true
    fi
    # Nothing of the demo may outlive it: mounts, and its own bridge (which a daemon keeps
    # across restarts, as dockerd keeps docker0).
    grep -o " $work[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    [ -e /sys/class/net/$bridge ] && ip link delete "$bridge" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== starting berth daemon (data root $work/data)"
"$BERTH" daemon --data-root "$work/data" --exec-root "$work/exec" \
    --pidfile "$work/berthd.pid" -H "unix://$sock" --bridge "$bridge" \
    >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { cat "$work/daemon.log"; exit 1; }

export DOCKER_HOST="unix://$sock"
echo "== docker version (the real docker CLI against berth)"
docker version
echo
echo "== berth info"
"$BERTH" info
echo "== importing busybox (built from Debian's busybox-static) through the API"
scripts/mkrootfs-busybox.sh "$work/busybox.tar"
docker import -c 'CMD ["sh"]' "$work/busybox.tar" busybox:latest
"$BERTH" images
"$BERTH" save busybox | "$BERTH" load
docker history busybox
echo
echo "== running containers"
docker run --rm busybox echo "hello from a container started by the docker CLI"
"$BERTH" run --rm busybox sh -c 'echo "hello from $(hostname), uid $(id -u), $(grep -c ^ /proc/self/mountinfo) mounts"'
echo "piped through stdin" | "$BERTH" run --rm -i busybox cat
"$BERTH" run -d --name demo-worker busybox sh -c 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done'
sleep 1
"$BERTH" ps
"$BERTH" exec demo-worker sh -c 'echo "exec sees PID 1: $(cat /proc/1/cmdline | tr "\0" " ")"'
"$BERTH" logs --tail 3 demo-worker
"$BERTH" stop -t 1 demo-worker
"$BERTH" ps -a
"$BERTH" rm demo-worker
docker system df
echo
echo "== a web server from the busybox image, published on the host's port 18080"
"$BERTH" network create demo-net
"$BERTH" run -d --name demo-web --network demo-net -p 127.0.0.1:18080:80 busybox \
    sh -c 'mkdir -p /www && echo "<h1>Hello from $(hostname) on Berth</h1>" >/www/index.html && exec httpd -f -p 80 -h /www'
"$BERTH" run --rm --network demo-net busybox nslookup demo-web | grep -A1 '^Name:'
for _ in $(seq 100); do curl -fsS http://127.0.0.1:18080/ >/dev/null 2>&1 && break; sleep 0.1; done
echo "curl http://127.0.0.1:18080/ on the host:"
curl -fsS http://127.0.0.1:18080/
"$BERTH" port demo-web
"$BERTH" ps
"$BERTH" rm -f demo-web
"$BERTH" network rm demo-net
