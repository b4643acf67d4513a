# shellcheck shell=bash
# Workload registry, result rows, and the side-by-side table.
#
# A workload file calls `bench_register_workload NAME "what it measures"` and defines
# `workload_NAME DAEMON`, which measures the daemon named DAEMON (berth or reference; its
# socket is ${BENCH_SOCK[$DAEMON]}) and reports each figure with
# `bench_result "label (unit)" VALUE [lower|higher]` (default: lower is better).
# A workload that cannot run against a daemon returns non-zero; its cells show "failed".
# A figure that belongs to no daemon (a floor such as bare runc) is reported once with
# `bench_floor "label (unit)" VALUE "label of the engines' matching row"`.

BENCH_WORKLOADS=()
declare -gA BENCH_WORKLOAD_ABOUT=()

bench_register_workload() {
    BENCH_WORKLOADS+=("$1")
    # shellcheck disable=SC2034 # read by bench/run --list
    BENCH_WORKLOAD_ABOUT[$1]=$2
}

# One result row on stdout: label, value, which direction is better.
bench_result() {
    local label=$1 value=$2 better=${3:-lower}
    [[ $label != *$'\t'* ]] || bench_die "result label has a tab: $label"
    printf '%s\t%s\t%s\n' "$label" "$value" "$better"
}

# One floor row: a figure measured with no daemon, which the engines' figures in row OF_LABEL
# (same unit) are compared with. Rendered in both columns, with each engine's OF_LABEL figure
# as a multiple of it in the ratio cell.
bench_floor() {
    local label=$1 value=$2 of_label=$3
    [[ $of_label != *$'\t'* ]] || bench_die "floor reference label has a tab: $of_label"
    bench_result "$label" "$value" "floor:$of_label"
}

# Picks KEY from berth-bench's key=value output and converts microseconds to UNIT (us or ms).
bench_stat() {
    local stats=$1 key=$2 unit=$3
    awk -F= -v k="$key" -v u="$unit" '$1 == k {
        if (u == "ms") printf "%.2f", $2 / 1000; else printf "%.1f", $2 }' <<<"$stats"
}

# Runs workload WL against daemon NAME and appends its rows to the results file, tagged
# with the workload and daemon; a failure is recorded as one "failed" row.
bench_run_workload() {
    local wl=$1 name=$2 out
    bench_note "$wl on $name"
    if out=$("workload_$wl" "$name"); then
        while IFS=$'\t' read -r label value better; do
            [[ -n $label && -n $value && -n $better ]] || continue
            printf '%s\t%s\t%s\t%s\t%s\n' "$wl" "$label" "$name" "$value" "$better" >>"$BENCH_RESULTS"
        done <<<"$out"
    else
        bench_note "$wl failed on $name"
        printf '%s\t%s\t%s\t%s\t%s\n' "$wl" "($wl)" "$name" "failed" "lower" >>"$BENCH_RESULTS"
    fi
}

# The markdown table of every row: label | berth | reference | ratio.
bench_render_table() {
    awk -F'\t' '
        !(($1 SUBSEP $2) in seen) { seen[$1 SUBSEP $2] = 1; order[++n] = $1 SUBSEP $2; label[n] = $2 }
        !($2 in by_label) { by_label[$2] = $1 SUBSEP $2 }
        { value[$1 SUBSEP $2, $3] = $4; better[$1 SUBSEP $2] = $5 }
        function cell(k, d) { return ((k, d) in value) ? value[k, d] : "n/a" }
        function num(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ }
        # A floor row: its one figure in both columns, each engine as a multiple of it.
        function floor_row(i, k, of,   f, o, d, v, parts, ratio) {
            f = cell(k, "berth"); if (!num(f)) f = cell(k, "reference")
            split("berth reference", parts, " "); ratio = ""
            if (num(f) && f + 0 > 0 && (of in by_label)) {
                o = by_label[of]
                for (d = 1; d <= 2; d++) {
                    v = cell(o, parts[d])
                    if (num(v)) ratio = ratio (ratio == "" ? "" : ", ") sprintf("%s %.2fx", parts[d], v / f)
                }
            }
            printf "| %s | %s | %s | %s |\n", label[i], f, f, ratio == "" ? "–" : ratio
        }
        END {
            print "| workload | berth | reference | ratio (>1: Berth better) |"
            print "| --- | ---: | ---: | ---: |"
            for (i = 1; i <= n; i++) {
                k = order[i]
                if (better[k] ~ /^floor:/) { floor_row(i, k, substr(better[k], 7)); continue }
                b = cell(k, "berth"); r = cell(k, "reference"); ratio = "–"
                if (num(b) && num(r) && b + 0 > 0 && r + 0 > 0)
                    ratio = sprintf("%.2f", better[k] == "higher" ? b / r : r / b)
                printf "| %s | %s | %s | %s |\n", label[i], b, r, ratio
            }
        }' "$BENCH_RESULTS"
}
