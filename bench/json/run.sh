#!/usr/bin/env bash
# Compares the Debian C JSON libraries (jansson, json-c, YAJL, jsmn) doing what jobplane's store
# does on each object write, on a ~3.7 KB Job Pod (pod.json, compacted), and checks the
# correctness facts that matter for the choice. Prints two markdown tables on stdout; progress on stderr.
#   bash bench/json/run.sh
# Builds json_bench.c once per library (gcc -O2, into a temp dir; nothing in the repo).
# Environment: CC (default gcc), JSON_BENCH_MS (one timed run, default 300), JSON_BENCH_RUNS
# (runs per cell, default 5).
#
# Performance table. Times are µs per operation as "best (median)" of the runs; MB/s from the best.
#   parse+free   bytes → DOM, then free it
#   dump         DOM → compact bytes the caller owns (json-c and YAJL hand out an internal
#                buffer, so their time includes copying it out, as the store keeps the bytes)
#   write        parse, set metadata.resourceVersion, add a label, set status.phase, dump, free
#                (jsmn: tokenize, find the three values, splice new text into a copy)
#   heap         mallinfo2() in-use bytes held per parsed document (64 live ones / 64), and that
#                over the compact text size
# Facts table: each cell is what the library did with that input, through the same calls the
# performance table times (probes dump what was accepted). The nesting tests run in a child
# process with a 10 s alarm, so crashes and hangs are reported rather than fatal.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cc=${CC:-gcc}
libs=(jansson jsonc yajl jsmn)
declare -A define=([jansson]=LIB_JANSSON [jsonc]=LIB_JSONC [yajl]=LIB_YAJL [jsmn]=LIB_JSMN)
declare -A link=([jansson]=-ljansson [jsonc]=-ljson-c [yajl]=-lyajl [jsmn]='')
declare -A pkg=([jansson]=libjansson-dev [jsonc]=libjson-c-dev [yajl]=libyajl-dev
    [jsmn]=libjsmn-dev)

die() { echo "bench/json: $*" >&2; exit 1; }
say() { echo "bench/json: $*" >&2; }

missing=()
for l in "${libs[@]}"; do
    dpkg-query -W -f='${Status}' "${pkg[$l]}" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("${pkg[$l]}")
done
[ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: sudo apt-get install ${missing[*]}"
command -v "$cc" >/dev/null || die "compiler '$cc' not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/json-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for l in "${libs[@]}"; do
    say "building $l"
    # shellcheck disable=SC2086 # link flags are words
    "$cc" -std=c17 -O2 -Wall -Wextra -Werror -D"${define[$l]}" -o "$tmp/$l" \
        "$here/json_bench.c" ${link[$l]}
done

# cpu_busy: percent of all CPU time spent outside idle over the next second.
cpu_busy() {
    local s0 s1
    s0=$(head -1 /proc/stat)
    sleep 1
    s1=$(head -1 /proc/stat)
    awk -v a="$s0" -v b="$s1" 'BEGIN {
        split(a, x); split(b, y)
        for (i = 2; i <= 9; i++) total += y[i] - x[i]
        idle = y[5] - x[5] + y[6] - x[6]
        printf "%.0f", (total > 0 ? 100 * (total - idle) / total : 0)
    }'
}

busy_before=$(cpu_busy)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for l in "${libs[@]}"; do
    say "running $l"
    "$tmp/$l" "$here/pod.json" >"$tmp/$l.out"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

outs=()
for l in "${libs[@]}"; do outs+=("$tmp/$l.out"); done

echo "## JSON libraries on a Job Pod"
echo
echo "| library (calls) | parse+free µs | parse MB/s | dump µs | dump MB/s | write µs | heap B/doc | heap/text | notes |"
echo "|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '$1 == "perf" { print $2 }' "${outs[@]}"
echo
echo "## Correctness facts"
echo
awk -F'\t' '
$1 == "fact" {
    k = $2; c = $4
    if (!(k in label)) { label[k] = $3; keys[++nk] = k }
    if (!(c in seen)) { seen[c] = 1; cols[++nc] = c }
    id = k SUBSEP c
    if (id in cell) cell[id] = cell[id] "; " $5
    else cell[id] = $5
}
END {
    line = "| input or property |"; sep = "|---|"
    for (j = 1; j <= nc; j++) { line = line " " cols[j] " |"; sep = sep "---|" }
    print line; print sep
    for (i = 1; i <= nk; i++) {
        line = "| " label[keys[i]] " |"
        for (j = 1; j <= nc; j++) {
            id = keys[i] SUBSEP cols[j]
            line = line " " ((id in cell) ? cell[id] : "—") " |"
        }
        print line
    }
}' "${outs[@]}"
echo
echo "Notes:"
echo
awk -F'\t' '$1 == "info" { print "- " $2 }' "${outs[@]}"
echo "- versions: $(for l in "${libs[@]}"; do dpkg-query -W -f='${Package} ${Version}, ' "${pkg[$l]}"; done | sed 's/, $//'); $("$cc" --version | head -1)"
echo "- CPU: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); busy ${busy_before}% in the second before the runs; load average ${load_before} before, ${load_after} after"
if [ "$busy_before" -ge 10 ]; then
    echo "- **the CPUs were ${busy_before}% busy before the runs: other work shares them, so the times are high and noisy**"
fi
