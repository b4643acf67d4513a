# shellcheck shell=bash
# `docker load` and `docker save` of a ~300 MB image of 6 layers (incompressible data,
# generated once per run by lib/mkarchive.py), through the real docker CLI, in MB/s.

bench_register_workload save_load "load and save of a 6-layer ~300 MB image"

BENCH_SAVELOAD_MIB=${BENCH_SAVELOAD_MIB:-50}

bench_saveload_archive() {
    local archive=$BENCH_OUT_DIR/saveload-image.tar
    if [[ ! -f $archive ]]; then
        python3 "$BENCH_HOME/lib/mkarchive.py" "$archive" 6 "$BENCH_SAVELOAD_MIB" bench/saveload:1 >&2
    fi
    echo "$archive"
}

workload_save_load() {
    local name=$1 archive host size start end saved
    archive=$(bench_saveload_archive)
    size=$(stat -c %s "$archive")
    host="unix://${BENCH_SOCK[$name]}"
    saved=${BENCH_DIR[$name]}/saved.tar
    sync
    start=$(date +%s%N)
    "$BENCH_DOCKER_CLI" -H "$host" load -q -i "$archive" >/dev/null || return 1
    end=$(date +%s%N)
    bench_result "load 6x${BENCH_SAVELOAD_MIB} MiB image (MB/s)" \
        "$(awk -v b="$size" -v ns=$((end - start)) 'BEGIN { printf "%.1f", b / 1e6 / (ns / 1e9) }')" higher
    start=$(date +%s%N)
    "$BENCH_DOCKER_CLI" -H "$host" save -o "$saved" bench/saveload:1 || return 1
    end=$(date +%s%N)
    bench_result "save 6x${BENCH_SAVELOAD_MIB} MiB image (MB/s)" \
        "$(awk -v b="$(stat -c %s "$saved")" -v ns=$((end - start)) 'BEGIN { printf "%.1f", b / 1e6 / (ns / 1e9) }')" higher
    rm -f "$saved"
    "$BENCH_DOCKER_CLI" -H "$host" rmi -f bench/saveload:1 >/dev/null || true
}
