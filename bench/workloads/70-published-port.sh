# shellcheck shell=bash
# Throughput of a published port, as a user's client on the host sees it: a busybox httpd
# container run with `-p 127.0.0.1:BENCH_PORT:80`, loaded from the daemon's own 127.0.0.1
# (the client runs in the daemon's network namespace, lib/daemons.sh):
#   - HTTP GETs of a small page by wrk, BENCH_PORT_CONNS connections for BENCH_PORT_SECS
#     (after a 1 s warm-up): requests/s and latency. busybox httpd closes every connection
#     after its response, so each request is a new TCP connection through the port;
#   - one TCP stream: GET of a BENCH_PORT_STREAM_MIB MiB file (sparse, served from the page
#     cache with sendfile) by curl, 1 warm-up then BENCH_PORT_STREAMS downloads: median MB/s.
# Then the same on a fresh container straight to its address on the bridge, port 80 (no
# published port in the path), to show what each engine's port path costs.
# The engines differ by design here: the reference runs with docker's defaults, so a
# connection to 127.0.0.1 goes through docker-proxy, its userland proxy (one process per
# published port, copying every byte in user space, and a second TCP connection to the
# container per client connection); Berth has no proxy: nftables DNAT in its own table
# (output chain for the host's own connections, route_localnet on the bridge), so the
# kernel forwards the packets.
# Why the defaults are small: busybox httpd listens with a backlog of 9, so more than ~8
# connections at once overflow its accept queue and time SYN retransmits (1 s) instead of
# the port; and since the server closes first, its TIME_WAIT sockets collide with reused
# client ports once a run's connections pass the ephemeral range (~28000): each target gets
# a fresh container, and SYN retransmits seen by the client are reported on stderr.

bench_register_workload published_port "HTTP requests/s and one-stream MB/s through -p 127.0.0.1:PORT:80 (busybox httpd)"

BENCH_PORT=${BENCH_PORT:-18080}
BENCH_PORT_SECS=${BENCH_PORT_SECS:-5}
BENCH_PORT_CONNS=${BENCH_PORT_CONNS:-8}
BENCH_PORT_STREAM_MIB=${BENCH_PORT_STREAM_MIB:-512}
BENCH_PORT_STREAMS=${BENCH_PORT_STREAMS:-5}

BENCH_PORT_CONTAINER=berth-bench-httpd

# Waits up to 20 s until GET http://ADDR/ from daemon NAME's namespace returns the page.
bench_port_wait() {
    local name=$1 addr=$2 i
    for ((i = 0; i < 200; i++)); do
        [[ $(bench_in_netns "$name" curl -sf --max-time 2 "http://$addr/" 2>/dev/null) == hello ]] && return 0
        sleep 0.1
    done
    bench_note "$name: http://$addr/ did not serve the page within 20 s"
    return 1
}

# TcpExtTCPSynRetrans of daemon NAME's network namespace (SYNs the client had to resend).
bench_port_syn_retrans() {
    bench_in_netns "$1" cat /proc/self/net/netstat | awk '
        $1 == "TcpExt:" && !names { for (i = 2; i <= NF; i++) col[$i] = i; names = 1; next }
        $1 == "TcpExt:" { print $col["TCPSynRetrans"] + 0 }'
}

# wrk against http://ADDR/ from daemon NAME's namespace; prints "requests/s p50_ms p99_ms".
bench_port_wrk() {
    local name=$1 addr=$2 out syn_before syn_after
    bench_in_netns "$name" wrk -t 2 -c "$BENCH_PORT_CONNS" -d 1s "http://$addr/" >/dev/null || return 1
    syn_before=$(bench_port_syn_retrans "$name")
    out=$(bench_in_netns "$name" wrk -t 2 -c "$BENCH_PORT_CONNS" -d "${BENCH_PORT_SECS}s" \
        --latency "http://$addr/") || return 1
    syn_after=$(bench_port_syn_retrans "$name")
    bench_note "$name, wrk http://$addr/: $(awk '/requests in|Socket errors|Non-2xx/' <<<"$out" |
        sed 's/^ *//' | tr '\n' ' ')SYN retransmits: $((syn_after - syn_before))"
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v + 0
        }
        $1 == "Requests/sec:" { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        $1 == "Non-2xx" { bad = $NF }
        END {
            if (rps == "" || p50 == "" || bad > 0) exit 1
            printf "%.0f %.2f %.2f\n", rps, p50, p99
        }' <<<"$out"
}

# BENCH_PORT_STREAMS downloads (after one untimed) of the big file from ADDR, one at a time;
# prints the median MB/s (1 MB = 10^6 bytes).
bench_port_stream() {
    local name=$1 addr=$2 want=$((BENCH_PORT_STREAM_MIB * 1048576)) i out speeds=()
    for ((i = 0; i <= BENCH_PORT_STREAMS; i++)); do
        out=$(bench_in_netns "$name" curl -sS --max-time 120 -o /dev/null \
            -w '%{size_download} %{speed_download}' "http://$addr/big") || return 1
        if [[ ${out%% *} != "$want" ]]; then
            bench_note "$name: downloaded ${out%% *} bytes of $want from http://$addr/big"
            return 1
        fi
        ((i > 0)) && speeds+=("${out#* }")
    done
    bench_note "$name, one stream from http://$addr/big: $(printf '%s ' "${speeds[@]}")B/s"
    printf '%s\n' "${speeds[@]}" | sort -g | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f\n", m / 1e6 }'
}

# Starts the httpd container on daemon NAME (published on 127.0.0.1:BENCH_PORT, a small
# index page and the big file) and waits until the published port serves the page.
bench_port_start_httpd() {
    local name=$1 host=$2 i
    "$BENCH_DOCKER_CLI" -H "$host" rm -f "$BENCH_PORT_CONTAINER" >/dev/null 2>&1 || true
    # A sparse file: read from the page cache as zeros, no disk traffic, no memory until read.
    "$BENCH_DOCKER_CLI" -H "$host" run -d --name "$BENCH_PORT_CONTAINER" \
        -p "127.0.0.1:$BENCH_PORT:80" busybox sh -c \
        "mkdir -p /www && echo hello >/www/index.html && truncate -s ${BENCH_PORT_STREAM_MIB}M /www/big && exec httpd -f -p 80 -h /www" \
        >/dev/null || return 1
    for ((i = 0; i < 200; i++)); do
        [[ $(bench_in_netns "$name" curl -sf --max-time 2 "http://127.0.0.1:$BENCH_PORT/" 2>/dev/null) == hello ]] &&
            return 0
        sleep 0.1
    done
    bench_note "$name: http://127.0.0.1:$BENCH_PORT/ did not serve the page within 20 s"
    return 1
}

bench_port_remove_httpd() {
    "$BENCH_DOCKER_CLI" -H "$2" rm -f "$BENCH_PORT_CONTAINER" >/dev/null 2>&1 && return 0
    bench_note "warning: could not remove $BENCH_PORT_CONTAINER from $1"
    return 1
}

# One target on a fresh container: "published" (127.0.0.1:BENCH_PORT) or "direct" (the
# container's address on the bridge, port 80).
bench_port_target() {
    local name=$1 host=$2 target=$3 addr via wrk_out mbs rps p50 p99
    bench_port_start_httpd "$name" "$host" || return 1
    if [[ $target == published ]]; then
        addr=127.0.0.1:$BENCH_PORT
        via="published port $addr"
    else
        addr=$("$BENCH_DOCKER_CLI" -H "$host" inspect -f \
            '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$BENCH_PORT_CONTAINER") || return 1
        [[ -n $addr ]] || { bench_note "$name: the container has no address"; return 1; }
        addr=$addr:80
        via="no published port: container address on the bridge"
    fi
    wrk_out=$(bench_port_wrk "$name" "$addr") || return 1
    read -r rps p50 p99 <<<"$wrk_out"
    bench_result "$via, HTTP GET, new connection each, $BENCH_PORT_CONNS clients, wrk (requests/s)" "$rps" higher
    bench_result "$via, HTTP GET latency p50 (ms)" "$p50"
    bench_result "$via, HTTP GET latency p99 (ms)" "$p99"
    mbs=$(bench_port_stream "$name" "$addr") || return 1
    bench_result "$via, one TCP stream, $BENCH_PORT_STREAM_MIB MiB GET, median of $BENCH_PORT_STREAMS (MB/s)" "$mbs" higher
}

workload_published_port() {
    local name=$1 host target
    host="unix://${BENCH_SOCK[$name]}"
    bench_import_busybox "$name" || return 1
    for target in published direct; do
        if ! bench_port_target "$name" "$host" "$target"; then
            bench_port_remove_httpd "$name" "$host"
            return 1
        fi
        bench_port_remove_httpd "$name" "$host" || return 1
    done
}
