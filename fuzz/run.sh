#!/usr/bin/env bash
# Fuzz smoke test (make fuzz-smoke): runs each libFuzzer binary in BUILD_DIR/fuzz for SECONDS on a
# scratch copy of its seed corpus, all in parallel; fails naming the saved input of any finding.
set -euo pipefail

usage="usage: $0 BUILD_DIR [SECONDS]"
build=${1:?$usage}
seconds=${2:-20}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "$usage" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
bindir=$(cd "$build" && pwd)/fuzz
# Findings outlive the run, in the untracked build tree; the corpus copies do not.
artifacts=$bindir/artifacts/$(date +%Y%m%d-%H%M%S)-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/jp-fuzz.XXXXXX")
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    rm -rf "$work"
    find "$bindir/artifacts" -depth -type d -empty -delete 2>/dev/null || true
}
trap cleanup EXIT

# A fixed seed makes a CI failure repeatable; set FUZZ_SEED=0 for a random one when hunting.
seed=${FUZZ_SEED:-1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

targets=()
for dir in "$here"/corpus/*/; do
    t=$(basename "$dir")
    if [[ ! -x $bindir/$t ]]; then
        echo "fuzz: $bindir/$t missing: build with make fuzz (JP_FUZZ=ON, clang)" >&2
        exit 1
    fi
    targets+=("$t")
done

pids=()
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "$artifacts/$t"
    cp -r "$here/corpus/$t" "$work/$t/corpus"
    dict=()
    [[ -f $here/$t.dict ]] && dict=(-dict="$here/$t.dict")
    # -max_len keeps inputs near request size; the memq target's broker cap is sized to it.
    # -timeout: every target runs at once on a 2-CPU box, so one input's wall time is several
    # times its CPU time (a YAML alias bomb capped at 1M nodes: 0.6 s alone, >10 s under load).
    "$bindir/$t" "$work/$t/corpus" "${dict[@]}" -max_total_time="$seconds" -max_len=4096 \
        -timeout=60 -rss_limit_mb=2048 -seed="$seed" -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t/" >"$work/$t/log" 2>&1 &
    pids+=($!)
done

failed=0
for i in "${!targets[@]}"; do
    t=${targets[$i]}
    if wait "${pids[$i]}"; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log")
        cov=$(grep -o 'cov: [0-9]*' "$work/$t/log" | tail -n 1)
        echo "fuzz: $t ok (${runs:-?} runs, ${cov:-cov: ?})"
    else
        failed=1
        echo "fuzz: $t FAILED; last lines of its log:" >&2
        tail -n 40 "$work/$t/log" >&2
        for f in "$artifacts/$t"/*; do
            [[ -e $f ]] && echo "fuzz: $t: input saved at $f (replay: $bindir/${t}_replay $f)" >&2
        done
    fi
done
exit $failed
