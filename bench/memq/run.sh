#!/usr/bin/env bash
# Benchmarks kuard's memq server on 127.0.0.1 (throughput, latency, memory per message, drain
# time) against nginx returning a canned reply, and prints the results as markdown on stdout.
#   bash bench/memq/run.sh        (or `make bench`); progress goes to stderr
# Environment: KUARD (default build/kuard, never built here), BENCH_SECONDS (per run, default 5),
# NGINX (default /usr/sbin/nginx; the baseline is skipped with a note if it is missing).
set -euo pipefail
export LC_ALL=C # decimal points in printf and awk, whatever the caller's locale

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
kuard=${KUARD:-$root/build/kuard}
nginx=${NGINX:-/usr/sbin/nginx}
secs=${BENCH_SECONDS:-5}
lua=$here/memq.lua
msgs=100000          # the memory and drain goals are stated for 100k queued messages
levels=(1 16 64)     # connections per run; threads come from wrk_threads
ops=(enqueue dequeue mixed)
# ~130-byte JSON like kuard's enqueue/dequeue reply, so both servers write similar responses.
canned='{"kind":"message","id":"72ad0d2c5090b4325ee743df9fb2058d","body":"work-item-1","creationTimestamp":"2026-01-01T00:00:00.000000000Z"}'

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[[ $secs =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a whole number of seconds, got '$secs'"
[ -x "$kuard" ] || die "kuard binary '$kuard' not found: run 'make' first or set KUARD=/path/to/kuard"
for tool in wrk curl; do
    command -v "$tool" >/dev/null || die "'$tool' not found: run 'bash scripts/deps.sh --bench'"
done

# Every process we start is recorded here, so the traps can end exactly those.
kuard_pid='' nginx_pid='' wrk_pid=''
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memq-bench.XXXXXX")

# stop_pid PID: SIGTERM, then SIGKILL if it lingers (kuard frees a deep queue before exiting).
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "$wrk_pid" "$nginx_pid" "$kuard_pid"; do
        if [ -n "$pid" ]; then stop_pid "$pid"; fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT # the EXIT trap does the cleanup
trap 'exit 143' TERM

# cpu_busy: percent of all CPU time spent outside idle over the next second.
cpu_busy() {
    local s0 s1
    s0=$(head -1 /proc/stat)
    sleep 1
    s1=$(head -1 /proc/stat)
    # Fields after "cpu": user nice system idle iowait irq softirq steal.
    awk -v a="$s0" -v b="$s1" 'BEGIN {
        split(a, x); split(b, y)
        for (i = 2; i <= 9; i++) total += y[i] - x[i]
        idle = y[5] - x[5] + y[6] - x[6]
        printf "%.0f", (total > 0 ? 100 * (total - idle) / total : 0)
    }'
}

wrk_threads() { if [ "$1" -eq 1 ]; then echo 1; else echo 2; fi; }

# --- kuard ------------------------------------------------------------------------------------

# start_kuard NAME: starts a fresh kuard on a free loopback port; sets kuard_pid and kuard_url.
start_kuard() {
    local log=$tmp/kuard-$1.log port='' i
    mkdir -p "$tmp/no-tls"
    : >"$log" # exists before kuard opens it, so the readiness poll can read it at once
    # An empty --tls-dir keeps kuard from opening its TLS listener, which defaults to :8443.
    "$kuard" --address 127.0.0.1:0 --tls-address 127.0.0.1:0 --tls-dir "$tmp/no-tls" \
        >"$log" 2>&1 &
    kuard_pid=$!
    for ((i = 0; i < 200; i++)); do
        port=$(sed -n 's/.*Serving on HTTP on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
        [ -z "$port" ] || break
        kill -0 "$kuard_pid" 2>/dev/null || die "kuard exited at start: $(tail -3 "$log")"
        sleep 0.05
    done
    [ -n "$port" ] || die "kuard not serving after 10 s: $(tail -3 "$log")"
    kuard_url=http://127.0.0.1:$port
}

stop_kuard() { stop_pid "$kuard_pid"; kuard_pid=''; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Private memory: RSS minus the shared libraries' file pages, which every process mapping them
# counts again (libc, GnuTLS under libmicrohttpd, libcurl's dependency chain).
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# memq VERB PATH: one API call that must succeed.
memq() { curl -sf -o /dev/null -X "$1" "$kuard_url/memq/server$2" || die "$1 $2 failed"; }

# queue_stat QUEUE FIELD: one counter of one queue from GET /stats. The stats are flat objects
# with fixed keys, so matching inside the queue's object is enough (no JSON tool needed).
queue_stat() {
    local json v
    json=$(curl -sf "$kuard_url/memq/server/stats") || die "GET /stats failed"
    v=$(sed -n "s/.*{\"name\":\"$1\",\([^}]*\)}.*/\1/p" <<<"$json" | grep -o "\"$2\":[0-9]*" |
        cut -d: -f2) || true
    [ -n "$v" ] || die "no $2 for queue $1 in /stats: $json"
    echo "$v"
}

# --- wrk ----------------------------------------------------------------------------------------

# wrk_start OUT THREADS CONNS DURATION URL SCRIPT-ARGS...: wrk always runs in the background
# and we wait for it, so a signal reaches our traps at once instead of after the run.
wrk_start() {
    local out=$1 threads=$2 conns=$3 dur=$4 url=$5
    shift 5
    wrk -t"$threads" -c"$conns" -d"$dur" -s "$lua" "$url" -- "$@" >"$out" 2>&1 &
    wrk_pid=$!
}
wrk_finish() {
    local out=$1 rc=0
    wait "$wrk_pid" || rc=$?
    wrk_pid=''
    if [ "$rc" -ne 0 ] || ! grep -q '^result ' "$out"; then
        die "wrk failed (exit $rc): $(cat "$out")"
    fi
}
# wrk_run: wrk_start, then wrk_finish.
wrk_run() {
    wrk_start "$@"
    wrk_finish "$1"
}

# get FILE KEY: a value from the "result key=value ..." line that memq.lua's done() prints.
get() { sed -n "s/^result.* $2=\([^ ]*\).*/\1/p" "$1"; }

# errors FILE: non-2xx answers plus socket errors, as wrk counted them.
errors() {
    echo $(($(get "$1" non2xx) + $(get "$1" connect_err) + $(get "$1" read_err) +
        $(get "$1" write_err) + $(get "$1" timeout_err)))
}

# wait_depth QUEUE WANT SECONDS WHAT: polls /stats while a load or drain wrk runs, because wrk's
# main thread sleeps for its whole -d even after the script stopped every thread.
wait_depth() {
    local deadline=$((SECONDS + $3))
    until [ "$(queue_stat "$1" depth)" = "$2" ]; do
        kill -0 "$kuard_pid" 2>/dev/null || die "$4: kuard exited"
        kill -0 "$wrk_pid" 2>/dev/null || die "$4: wrk ended early: $(cat "$tmp/$4.out")"
        ((SECONDS < deadline)) || die "$4: queue $1 did not reach depth $2 within $3 s"
        sleep 0.05
    done
    # SIGINT makes wrk stop sleeping, join its threads and print its report.
    kill -INT "$wrk_pid"
}

# --- nginx baseline -----------------------------------------------------------------------------

nginx_conf() {
    local port=$1 dir=$tmp/nginx m v temp_paths=''
    # Temp paths default to /var/lib/nginx, which may be unwritable; modules built out of
    # this nginx would reject their directive.
    v=$("$nginx" -V 2>&1)
    for m in proxy fastcgi uwsgi scgi; do
        [[ $v == *--without-http_${m}_module* ]] || temp_paths+="    ${m}_temp_path $dir/$m;"$'\n'
    done
    cat <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
$temp_paths
    server {
        listen 127.0.0.1:$port;
        default_type application/json;
        location / { return 200 '$canned'; }
    }
}
EOF
}

# start_nginx: sets nginx_pid and nginx_url, or returns 1 if nginx would not serve.
start_nginx() {
    local dir=$tmp/nginx attempt port i
    mkdir -p "$dir"
    # nginx cannot report the port it got, so try a few random ones below Linux's ephemeral range
    # (where wrk's own client ports come from), skipping any that already answers.
    for ((attempt = 0; attempt < 10; attempt++)); do
        port=$((20000 + RANDOM % 12000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        nginx_conf "$port" >"$dir/nginx.conf"
        "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
        nginx_pid=$!
        for ((i = 0; i < 100; i++)); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            if curl -sf -o /dev/null "http://127.0.0.1:$port/"; then
                nginx_url=http://127.0.0.1:$port
                return 0
            fi
            sleep 0.05
        done
        stop_pid "$nginx_pid"
        nginx_pid=''
        say "nginx on port $port failed: $(tail -2 "$dir/error.log" 2>/dev/null)"
    done
    return 1
}

# --- measurements -------------------------------------------------------------------------------

declare -A res note # res[op:conns] = wrk output file; note[op:conns] = extra text for errors
notes=()            # lines printed under the tables

measure_nginx() {
    local c
    if [ ! -x "$nginx" ]; then
        notes+=("nginx baseline skipped: '$nginx' not found (apt-get install nginx-light)")
        return
    fi
    if ! start_nginx; then
        notes+=("nginx baseline skipped: nginx would not start (see messages above)")
        return
    fi
    for c in "${levels[@]}"; do
        say "nginx canned reply, $c connections"
        # The very request the enqueue runs send; nginx discards the body and answers.
        wrk_run "$tmp/nginx-$c.out" "$(wrk_threads "$c")" "$c" "${secs}s" "$nginx_url" enqueue bench
        res[nginx:$c]=$tmp/nginx-$c.out
    done
    stop_pid "$nginx_pid"
    nginx_pid=''
}

# Memory and drain time on a fresh kuard, so earlier runs leave nothing in its heap.
measure_memory_and_drain() {
    local n
    start_kuard mem
    rss_idle=$(rss_kb "$kuard_pid")
    anon_idle=$(anon_kb "$kuard_pid")
    memq PUT /queues/mem
    say "enqueueing $msgs messages"
    # One connection per thread lets memq.lua stop at exactly $msgs (see its load mode).
    wrk_start "$tmp/load.out" 2 2 600s "$kuard_url" load mem "$msgs" 2
    wait_depth mem "$msgs" 120 load
    wrk_finish "$tmp/load.out"
    n=$(queue_stat mem enqueued)
    [ "$n" = "$msgs" ] || die "load: kuard counted $n enqueues, want $msgs"
    rss_full=$(rss_kb "$kuard_pid")

    say "draining $msgs messages with 16 connections"
    wrk_start "$tmp/drain.out" 2 16 600s "$kuard_url" drain mem
    wait_depth mem 0 120 drain
    wrk_finish "$tmp/drain.out"
    n=$(queue_stat mem dequeued)
    [ "$n" = "$msgs" ] || die "drain: kuard counted $n dequeues, want $msgs"
    # memq.lua times from the first request sent to the last 200 received, across threads.
    drain_s=$(get "$tmp/drain.out" span_s)
    drain_err=$(errors "$tmp/drain.out")
    stop_kuard
}

# check_empty OP CONNS DEPTH_BEFORE DEQUEUED_BEFORE: notes when a dequeue-side run may have timed
# cheap 204 answers instead of real dequeues.
check_empty() {
    local op=$1 c=$2 d0=$3 q0=$4 out=$tmp/$1-$2.out d1 q1 n204 dip
    # Each wrk thread alternates, so the depth dips by at most about one per connection and
    # thread (see memq.lua); starting deeper than that, mixed never sees an empty queue.
    dip=$((c + $(wrk_threads "$c") + 1))
    d1=$(queue_stat bench depth)
    q1=$(queue_stat bench dequeued)
    if [ "$op" = dequeue ] && [ "$d1" -eq 0 ]; then
        # Requests not matched by a dequeue were 204s (approximate: requests still in flight
        # when wrk stopped are counted by kuard but not by wrk).
        n204=$(($(get "$out" requests) - (q1 - q0)))
        note[$op:$c]="ran empty, ~$((n204 > 0 ? n204 : 0)) x 204"
    elif [ "$op" = mixed ] && { [ "$d0" -le "$dip" ] || [ "$d1" -eq 0 ]; }; then
        note[$op:$c]="may have run empty (depth $d0 -> $d1)"
    fi
}

measure_kuard() {
    local c t op d0 q0
    start_kuard tp
    memq PUT /queues/bench
    for c in "${levels[@]}"; do
        t=$(wrk_threads "$c")
        # Start each level empty so the queue (and kuard's --memq-max-bytes cap) stays bounded.
        memq POST /queues/bench/drain
        say "enqueue, $c connections"
        wrk_run "$tmp/enqueue-$c.out" "$t" "$c" "${secs}s" "$kuard_url" enqueue bench
        res[enqueue:$c]=$tmp/enqueue-$c.out
        # Dequeue runs about as fast as enqueue, so one enqueue run's worth would run dry and
        # the dequeue run would time 204s. A second, unmeasured run doubles the stock.
        say "refilling for dequeue, $c connections"
        wrk_run "$tmp/refill-$c.out" "$t" "$c" "${secs}s" "$kuard_url" enqueue bench
        for op in dequeue mixed; do
            d0=$(queue_stat bench depth)
            q0=$(queue_stat bench dequeued)
            say "$op, $c connections (depth $d0)"
            wrk_run "$tmp/$op-$c.out" "$t" "$c" "${secs}s" "$kuard_url" "$op" bench
            res[$op:$c]=$tmp/$op-$c.out
            check_empty "$op" "$c" "$d0" "$q0"
        done
    done
    stop_kuard
}

# --- report -------------------------------------------------------------------------------------

yes_no() { if [ "$1" = 1 ]; then echo yes; else echo "**no**"; fi; }

# row LABEL OP CONNS: one throughput row, with the goal that applies at that connection count.
row() {
    local label=$1 op=$2 c=$3 out=${res[$2:$3]} rps p50 p99 err ratio goal met
    rps=$(get "$out" rps) p50=$(get "$out" p50_us) p99=$(get "$out" p99_us)
    err=$(errors "$out")
    if [ -n "${note[$op:$c]:-}" ]; then err="$err; ${note[$op:$c]}"; fi
    ratio=n/a
    if [ -n "${res[nginx:$c]:-}" ]; then
        ratio=$(awk -v a="$rps" -v b="$(get "${res[nginx:$c]}" rps)" \
            'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    fi
    goal='' met=''
    if [ "$op" != nginx ]; then
        case $c in
        1)
            goal='≥ 20k req/s, p50 ≤ 50 µs'
            met=$(yes_no "$(awk -v r="$rps" -v p="$p50" 'BEGIN { print (r >= 20000 && p <= 50) }')")
            ;;
        16)
            goal='≥ 50k req/s, p99 ≤ 5 ms'
            met=$(yes_no "$(awk -v r="$rps" -v p="$p99" 'BEGIN { print (r >= 50000 && p <= 5000) }')")
            ;;
        esac
    fi
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' \
        "$label" "$c" "$rps" "$p50" "$p99" "$err" "$ratio" "$goal" "$met"
}

report() {
    local op c avg_body per_msg overhead
    echo "## memq benchmark: kuard vs nginx canned reply"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($busy0% busy just before)," \
        "${secs} s per run, wrk and servers on 127.0.0.1 (wrk -t1 at 1 connection, -t2 otherwise)."
    echo
    echo '| operation | conns | req/s | p50 µs | p99 µs | errors | vs nginx | goal | met |'
    echo '|---|---:|---:|---:|---:|---|---:|---|---|'
    for op in "${ops[@]}"; do
        for c in "${levels[@]}"; do row "$op" "$op" "$c"; done
    done
    for c in "${levels[@]}"; do
        if [ -n "${res[nginx:$c]:-}" ]; then row 'nginx canned 200' nginx "$c"; fi
    done
    echo

    # Bodies are work-item-1..N, so the average body length is exact, not assumed.
    avg_body=$(awk -v n="$msgs" \
        'BEGIN { for (i = 1; i <= n; i++) s += length("work-item-" i); printf "%.1f", s / n }')
    per_msg=$(awk -v a="$rss_idle" -v b="$rss_full" -v n="$msgs" \
        'BEGIN { printf "%.1f", (b - a) * 1024 / n }')
    overhead=$(awk -v p="$per_msg" -v b="$avg_body" 'BEGIN { printf "%.1f", p - b }')
    echo '| memory and drain | kuard | goal | met |'
    echo '|---|---:|---|---|'
    echo "| idle RSS just after start | $rss_idle KB | ≤ 2048 KB | $(yes_no $((rss_idle <= 2048))) |"
    echo "| of which private (RssAnon; the rest is shared library pages) | $anon_idle KB | | |"
    echo "| RSS with $msgs messages queued | $rss_full KB | | |"
    echo "| bytes per queued message | $per_msg B | | |"
    echo "| overhead per message beyond its $avg_body B body | $overhead B | ≤ 128 B |" \
        "$(yes_no "$(awk -v o="$overhead" 'BEGIN { print (o <= 128) }')") |"
    echo "| drain $msgs messages, 16 connections | $(printf '%.3f' "$drain_s") s" \
        "(errors: $drain_err) | ≤ 2 s | $(yes_no "$(awk -v d="$drain_s" 'BEGIN { print (d <= 2) }')") |"

    if [ ${#notes[@]} -gt 0 ]; then
        echo
        printf -- '- %s\n' "${notes[@]}"
    fi
}

# wrk and the servers share the CPUs, so anything else running skews every number. Sampled
# over a second rather than read from loadavg, which lags by minutes.
busy0=$(cpu_busy)
if [ "$busy0" -ge 10 ]; then
    notes+=("the CPUs were $busy0% busy before the runs: other processes competed with them")
fi
measure_nginx
measure_memory_and_drain
measure_kuard
report
