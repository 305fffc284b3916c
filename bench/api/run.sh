#!/usr/bin/env bash
# Benchmarks the jobplane API server on 127.0.0.1 over HTTPS: cold start, memory idle and with
# 10,000 Pods, create/get/list throughput and latency, LIST of 10,000 Pods, watch fan-out to 100
# watchers, against nginx serving a canned Pod over TLS, and prints markdown tables on stdout.
#   bash bench/api/run.sh        (after `make`); progress goes to stderr
# Environment: JOBPLANE (default build/jobplane, never built here), BENCH_SECONDS (per wrk run,
# default 5), NGINX (default /usr/sbin/nginx; the baseline is skipped with a note if it is
# missing), PYTHON (default /usr/bin/python3, for the cold-start poller bench/api/coldstart.py).
set -euo pipefail
export LC_ALL=C # decimal points in printf and awk, whatever the caller's locale

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
jobplane=${JOBPLANE:-$root/build/jobplane}
nginx=${NGINX:-/usr/sbin/nginx}
python=${PYTHON:-/usr/bin/python3}
secs=${BENCH_SECONDS:-5}
lua=$here/api.lua
starts=10       # cold starts per data dir; the median is reported
stored=10000    # Pods for the memory, LIST-all and warm-start measurements (the goals' 10,000)
list_pods=1000  # Pods stored for the ?limit=500 list runs
list_runs=5     # LISTs of all $stored Pods per format; the median is reported
watchers=100    # concurrent watches ...
watch_k=2000    # ... each of which must receive this many ADDED events
levels=(1 16)   # connections per wrk run; threads come from wrk_threads
pods=/api/v1/namespaces/default/pods
table_accept='application/json;as=Table;v=v1;g=meta.k8s.io'

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[[ $secs =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a whole number of seconds, got '$secs'"
[ -x "$jobplane" ] || die "'$jobplane' not found: run 'make' first or set JOBPLANE=/path/to/jobplane"
if [ ! -x "$python" ]; then python=$(command -v python3) || die "python3 not found (set PYTHON)"; fi
for tool in wrk curl grep awk; do
    command -v "$tool" >/dev/null || die "'$tool' not found: run 'bash scripts/deps.sh --bench'"
done

# Every process we start is recorded here, so the traps can end exactly those.
srv_pid='' nginx_pid='' wrk_pid='' helper_pid=''
watch_pids=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/api-bench.XXXXXX")

# stop_pid PID: SIGTERM, then SIGKILL if it lingers.
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
    for pid in "${watch_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${watch_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for pid in "$wrk_pid" "$helper_pid" "$nginx_pid" "$srv_pid"; do
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

# median V...: the middle value (the mean of the two middle ones for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        printf "%.6f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }'; }

# --- jobplane -----------------------------------------------------------------------------------

# start_server NAME: a server on a free loopback port with data dir $tmp/NAME (new or not); sets
# srv_pid, srv_url, srv_dir and token.
start_server() {
    local log=$tmp/$1.log port='' i
    srv_name=$1 srv_dir=$tmp/$1
    : >"$log" # exists before the server writes it, so the readiness poll can read it at once
    "$jobplane" server --data-dir "$srv_dir" --listen 127.0.0.1:0 >/dev/null 2>"$log" &
    srv_pid=$!
    for ((i = 0; i < 400; i++)); do
        port=$(sed -n 's/.*serving the Kubernetes API on https:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
        [ -z "$port" ] || break
        kill -0 "$srv_pid" 2>/dev/null || die "jobplane exited at start: $(tail -3 "$log")"
        sleep 0.025
    done
    [ -n "$port" ] || die "jobplane not serving after 10 s: $(tail -3 "$log")"
    srv_url=https://127.0.0.1:$port
    token=$(cat "$srv_dir/token")
}

# stop_server: stops it and passes on what it logged as a warning or error (klog's W, E, F).
stop_server() {
    local log=$tmp/$srv_name.log n
    stop_pid "$srv_pid"
    srv_pid=''
    n=$(grep -cE '^[WEF][0-9]{4} ' "$log") || true
    if [ "$n" -gt 0 ]; then
        notes+=("server '$srv_name' logged $n warning/error lines, e.g. \`$(grep -m1 -E '^[WEF][0-9]{4} ' "$log")\`")
    fi
}

# api ARGS...: curl against the current server, verifying its certificate, with the token.
api() { curl -s --cacert "$srv_dir/ca.crt" -H "Authorization: Bearer $token" "$@"; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Private memory: RSS minus the shared libraries' file pages (GnuTLS, SQLite, libc, ...).
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }
file_kb() { awk '/^RssFile:/ { print $2 }' "/proc/$1/status"; }

# create_pod NAME: one small Pod through the API, which must answer 201.
create_pod() {
    local code
    code=$(api -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}" \
        "$srv_url$pods") || true
    [ "$code" = 201 ] || die "creating Pod $1: HTTP $code"
}

# count_pods: the Pods in namespace default, counted in one LIST.
count_pods() {
    api -f "$srv_url$pods" | grep -o '{"kind":"Pod","apiVersion"' | wc -l
}

# current_rv: the resourceVersion of a list of namespace default, to watch from.
current_rv() {
    api -f "$srv_url$pods?limit=1" | grep -o '"resourceVersion":"[0-9]*"' | head -1 | grep -o '[0-9][0-9]*'
}

# --- wrk ----------------------------------------------------------------------------------------

# wrk_start OUT THREADS CONNS DURATION URL SCRIPT-ARGS...: wrk always runs in the background
# and we wait for it, so a signal reaches our traps at once instead of after the run.
wrk_start() {
    local out=$1 threads=$2 conns=$3 dur=$4 url=$5
    shift 5
    wrk -t"$threads" -c"$conns" -d"$dur" -H "Authorization: Bearer $token" -s "$lua" "$url" \
        -- "$@" >"$out" 2>&1 &
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
wrk_run() {
    wrk_start "$@"
    wrk_finish "$1"
}

# get FILE KEY: a value from the "result key=value ..." line that api.lua's done() prints.
get() { sed -n "s/^result.* $2=\([^ ]*\).*/\1/p" "$1"; }

# sock_errors FILE: socket errors as wrk counted them (non-2xx answers are counted apart).
sock_errors() {
    echo $(($(get "$1" connect_err) + $(get "$1" read_err) + $(get "$1" write_err) +
        $(get "$1" timeout_err)))
}

# load_pods NAME PREFIX N: creates exactly N Pods PREFIX-<thread>-<n> with 2 threads x 8
# connections and checks that all N were answered 201; the per-thread files (see api.lua) are left
# in $tmp/NAME.done/. wrk's main thread sleeps for its whole -d even after the script stopped every
# thread, so we interrupt it once both threads left their file.
load_pods() {
    local name=$1 prefix=$2 n=$3 done_dir=$tmp/$1.done deadline=$((SECONDS + 300)) created failed
    mkdir -p "$done_dir"
    wrk_start "$tmp/$name.out" 2 16 900s "$srv_url" load "$prefix" "$n" 2 "$done_dir"
    until [ -e "$done_dir/0" ] && [ -e "$done_dir/1" ]; do
        kill -0 "$srv_pid" 2>/dev/null || die "$name: jobplane exited: $(tail -3 "$tmp/$srv_name.log")"
        kill -0 "$wrk_pid" 2>/dev/null || die "$name: wrk ended early: $(cat "$tmp/$name.out")"
        ((SECONDS < deadline)) || die "$name: $n creates not answered within 300 s"
        sleep 0.01
    done
    kill -INT "$wrk_pid" # SIGINT makes wrk join its threads and print its report
    wrk_finish "$tmp/$name.out"
    created=$(get "$tmp/$name.out" created)
    failed=$(get "$tmp/$name.out" failed)
    if [ "$created" != "$n" ] || [ "$failed" != 0 ]; then
        die "$name: $created of $n creates answered 201, $failed answered otherwise"
    fi
}

# --- cold start -----------------------------------------------------------------------------------

# coldstart HOW WHERE: runs bench/api/coldstart.py (see there); sets cold_ms to its milliseconds.
coldstart() {
    local out=$tmp/coldstart-$1.out rc=0
    "$python" "$here/coldstart.py" "$jobplane" "$starts" "$1" "$2" >"$out" 2>&1 &
    helper_pid=$!
    wait "$helper_pid" || rc=$?
    helper_pid=''
    [ "$rc" -eq 0 ] || die "cold start ($1) failed: $(tail -3 "$out")"
    IFS=, read -ra cold_ms < <(sed -n 's/^result ms=//p' "$out")
    [ ${#cold_ms[@]} -eq "$starts" ] || die "cold start ($1): no result in $(cat "$out")"
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
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $dir/server.crt;
        ssl_certificate_key $dir/server.key;
        root $dir/www;
        location / {
            default_type application/json;
            etag off;
            try_files /pod.json =404;
        }
    }
}
EOF
}

# start_nginx CERT_DIR POD_JSON: nginx over TLS with jobplane's own server certificate (ECDSA
# P-256) answering every GET with POD_JSON; sets nginx_pid and nginx_url, or returns 1.
start_nginx() {
    local dir=$tmp/nginx attempt port i
    mkdir -p "$dir/www"
    cp "$1/server.crt" "$1/server.key" "$dir/"
    cp "$2" "$dir/www/pod.json"
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
            if curl -sfk -o /dev/null "https://127.0.0.1:$port/"; then
                nginx_url=https://127.0.0.1:$port
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

declare -A res # res[op:conns] = wrk output file
notes=()       # lines printed under the tables

measure_cold_fresh() {
    say "cold start x$starts, fresh data dir each time"
    mkdir -p "$tmp/cold"
    coldstart fresh "$tmp/cold"
    cold_fresh=("${cold_ms[@]}")
    rm -rf "$tmp/cold"
}

# One fresh server: idle memory, then $stored Pods through the API, memory again, then the LIST
# of all of them. Its data dir then serves the warm (10k Pods) cold starts.
measure_memory_and_list() {
    local i n t out
    start_server mem
    rss_idle=$(rss_kb "$srv_pid")
    anon_idle=$(anon_kb "$srv_pid")
    file_idle=$(file_kb "$srv_pid")
    say "creating $stored Pods (2 threads x 8 connections)"
    load_pods mem-load pod "$stored"
    load_s=$(get "$tmp/mem-load.out" span_s)
    rss_full=$(rss_kb "$srv_pid")
    anon_full=$(anon_kb "$srv_pid")
    n=$(count_pods)
    [ "$n" = "$stored" ] || die "a LIST after the load counted $n Pods, want $stored"
    api -f -o "$tmp/pod.json" "$srv_url$pods/pod-0-1" || die "GET pod-0-1 failed"

    say "LIST of all $stored Pods, $list_runs times each as JSON and as Table"
    list_json_total=() list_json_tls=() list_json_ttfb=()
    list_table_total=() list_table_tls=() list_table_ttfb=()
    for ((i = 0; i < list_runs; i++)); do
        for t in json table; do
            out=$tmp/list-$t.body
            if [ "$t" = json ]; then
                set -- -H 'Accept: application/json'
            else
                set -- -H "Accept: $table_accept"
            fi
            read -r code total tls ttfb size < <(api "$@" -o "$out" \
                -w '%{http_code} %{time_total} %{time_appconnect} %{time_starttransfer} %{size_download}\n' \
                "$srv_url$pods")
            [ "$code" = 200 ] || die "LIST of $stored Pods as $t: HTTP $code"
            if [ "$t" = json ]; then
                list_json_total+=("$total") list_json_tls+=("$tls") list_json_ttfb+=("$ttfb")
                list_json_size=$size
            else
                list_table_total+=("$total") list_table_tls+=("$tls") list_table_ttfb+=("$ttfb")
                list_table_size=$size
            fi
        done
    done
    n=$(grep -o '"cells":\[' "$tmp/list-table.body" | wc -l)
    [ "$n" = "$stored" ] || die "the Table LIST had $n rows, want $stored"
    # The items are the stored JSON joined by commas, so this is the stored size per Pod.
    avg_json=$(awk -v s="$list_json_size" -v n="$stored" 'BEGIN { printf "%.0f", s / n }')
    rss_after_lists=$(rss_kb "$srv_pid")
    stop_server
    rm -f "$tmp"/list-*.body
}

measure_cold_warm() {
    say "cold start x$starts with the $stored Pods' data dir"
    coldstart reuse "$tmp/mem"
    cold_warm=("${cold_ms[@]}")
}

measure_nginx() {
    local c
    if [ ! -x "$nginx" ]; then
        notes+=("nginx baseline skipped: '$nginx' not found (apt-get install nginx-light)")
        return
    fi
    if ! start_nginx "$tmp/mem" "$tmp/pod.json"; then
        notes+=("nginx baseline skipped: nginx would not start (see messages above)")
        return
    fi
    for c in "${levels[@]}"; do
        say "nginx canned Pod over TLS, $(conns "$c")"
        wrk_run "$tmp/nginx-$c.out" "$(wrk_threads "$c")" "$c" "${secs}s" "$nginx_url" get /pod
        res[nginx:$c]=$tmp/nginx-$c.out
    done
    stop_pid "$nginx_pid"
    nginx_pid=''
}

measure_create() {
    local c
    start_server create
    for c in "${levels[@]}"; do
        say "create, $(conns "$c")"
        wrk_run "$tmp/create-$c.out" "$(wrk_threads "$c")" "$c" "${secs}s" "$srv_url" create "c$c"
        res[create:$c]=$tmp/create-$c.out
    done
    create_rss=$(rss_kb "$srv_pid")
    create_n=$(count_pods)
    stop_server
}

measure_read() {
    local c
    start_server read
    say "creating $list_pods Pods for get and list"
    load_pods read-load pod "$list_pods"
    for c in "${levels[@]}"; do
        say "get, $(conns "$c")"
        wrk_run "$tmp/get-$c.out" "$(wrk_threads "$c")" "$c" "${secs}s" "$srv_url" get "$pods/pod-0-1"
        res[get:$c]=$tmp/get-$c.out
    done
    for c in "${levels[@]}"; do
        say "list ?limit=500 of $list_pods Pods, $(conns "$c")"
        wrk_run "$tmp/list-$c.out" "$(wrk_threads "$c")" "$c" "${secs}s" "$srv_url" get "$pods?limit=500"
        res[list:$c]=$tmp/list-$c.out
    done
    list500_size=$(api -f "$srv_url$pods?limit=500" | wc -c)
    stop_server
}

# watch_count I: the reading end of watcher I's stream. It marks the watcher ready at the warm-up
# Pod's event, then counts ADDED events until $watch_k and records when it got there.
watch_count() {
    local w=$tmp/watch n
    grep -m1 -q -F '"name":"watch-ready"' && : >"$w/$1.ready"
    # Nothing else is sent before every watcher is ready, so the first grep read no further.
    n=$(grep -m "$watch_k" -c -F '"type":"ADDED"') || true
    echo "$n $EPOCHREALTIME" >"$w/$1.t"
}

measure_watch() {
    local w=$tmp/watch rv i n t deadline f t_first t_last_201 t_end
    start_server watch
    mkdir -p "$w"
    rv=$(current_rv)
    [ -n "$rv" ] || die "no resourceVersion in a LIST"
    say "starting $watchers watches from resourceVersion $rv"
    for ((i = 0; i < watchers; i++)); do
        # curl itself, not the api function: $! must be curl's pid, for the cleanup.
        curl -sN --cacert "$srv_dir/ca.crt" -H "Authorization: Bearer $token" \
            "$srv_url$pods?watch=true&resourceVersion=$rv" > >(watch_count "$i") 2>/dev/null &
        watch_pids+=($!)
    done
    # A watch that starts after this create still replays it from $rv.
    create_pod watch-ready
    deadline=$((SECONDS + 30))
    for ((i = 0; i < watchers; i++)); do
        until [ -e "$w/$i.ready" ]; do
            ((SECONDS < deadline)) || die "watcher $i did not see the warm-up Pod within 30 s"
            sleep 0.01
        done
    done
    say "creating $watch_k Pods with $watchers watchers"
    load_pods watch-load w "$watch_k"
    deadline=$((SECONDS + 120))
    for ((i = 0; i < watchers; i++)); do
        until [ -e "$w/$i.t" ]; do
            if ((SECONDS >= deadline)) || ! kill -0 "$srv_pid" 2>/dev/null; then break 2; fi
            sleep 0.01
        done
    done
    watch_rss=$(rss_kb "$srv_pid")
    # Ending the streams lets the counters of any incomplete watcher report what they got.
    for i in "${watch_pids[@]}"; do kill "$i" 2>/dev/null || true; done
    for i in "${watch_pids[@]}"; do wait "$i" 2>/dev/null || true; done
    watch_pids=()
    sleep 0.2
    watch_complete=0 watch_got=0 watch_lags=()
    t_first=$(awk '{ print $3 }' "$tmp/watch-load.done/"* | sort -g | head -1)
    t_last_201=$(awk '{ print $4 }' "$tmp/watch-load.done/"* | sort -g | tail -1)
    t_end=$t_first
    for ((i = 0; i < watchers; i++)); do
        f=$w/$i.t
        [ -e "$f" ] || continue
        read -r n t <"$f"
        watch_got=$((watch_got + n))
        if [ "$n" = "$watch_k" ]; then
            watch_complete=$((watch_complete + 1))
            watch_lags+=("$(awk -v a="$t" -v b="$t_last_201" 'BEGIN { d = (a - b) * 1000; printf "%.1f", (d > 0 ? d : 0) }')")
            t_end=$(awk -v a="$t" -v b="$t_end" 'BEGIN { print (a > b ? a : b) }')
        fi
    done
    watch_create_rate=$(awk -v k="$watch_k" -v a="$t_first" -v b="$t_last_201" \
        'BEGIN { printf "%.0f", (b > a ? k / (b - a) : 0) }')
    watch_rate=$(awk -v e="$((watch_complete * watch_k))" -v a="$t_first" -v b="$t_end" \
        'BEGIN { printf "%.0f", (b > a ? e / (b - a) : 0) }')
    watch_span_ms=$(awk -v a="$t_first" -v b="$t_end" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
    if [ "$watch_complete" -ne "$watchers" ]; then
        notes+=("watch: only $watch_complete of $watchers watchers received all $watch_k events ($watch_got events in all)")
    fi
    stop_server
}

# --- report -------------------------------------------------------------------------------------

yes_no() { if [ "$1" = 1 ]; then echo yes; else echo "**no**"; fi; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print ((a <= b) ? 1 : 0) }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; } # seconds -> ms
conns() { if [ "$1" -eq 1 ]; then echo "1 connection"; else echo "$1 connections"; fi; }
us_ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

row() {
    local label=$1 op=$2 c=$3 out=${res[$2:$3]} rps p50 p99 max ratio=n/a
    rps=$(get "$out" rps) p50=$(get "$out" p50_us) p99=$(get "$out" p99_us) max=$(get "$out" max_us)
    if [ "$op" = get ] && [ -n "${res[nginx:$c]:-}" ]; then
        ratio=$(awk -v a="$rps" -v b="$(get "${res[nginx:$c]}" rps)" \
            'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    fi
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$label" "$c" "$rps" "$p50" "$p99" \
        "$max" "$(get "$out" non2xx)" "$(sock_errors "$out")" "$ratio"
}

goal() { # goal TEXT MEASURED OK
    echo "| $1 | $2 | $(yes_no "$3") |"
}

report() {
    local c cf cw per_pod lj lt p
    echo "## jobplane API server benchmark"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($busy0% busy just before, $busy1% just after), ${secs} s" \
        "per wrk run, HTTPS keep-alive on 127.0.0.1 (wrk -t1 at 1 connection, -t2 at 16)," \
        "SQLite synchronous=full, data under ${TMPDIR:-/tmp}."
    echo
    echo '| operation | conns | req/s | p50 µs | p99 µs | max µs | non-2xx | socket errors | vs nginx |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
    for c in "${levels[@]}"; do row "create Pod (POST, ~1 KB)" create "$c"; done
    for c in "${levels[@]}"; do row "get Pod" get "$c"; done
    for c in "${levels[@]}"; do row "list ?limit=500 of $list_pods Pods" list "$c"; done
    for c in "${levels[@]}"; do
        if [ -n "${res[nginx:$c]:-}" ]; then row "nginx: canned Pod over TLS" nginx "$c"; fi
    done
    echo
    echo "get and nginx answer the same $(wc -c <"$tmp/pod.json")-byte Pod; a list ?limit=500" \
        "answer is $((list500_size / 1024)) KB."
    echo

    cf=$(printf '%.1f' "$(median "${cold_fresh[@]}")")
    cw=$(printf '%.1f' "$(median "${cold_warm[@]}")")
    per_pod=$(awk -v a="$rss_idle" -v b="$rss_full" -v n="$stored" -v j="$avg_json" \
        'BEGIN { printf "%.2f", ((b - a) * 1024 / n - j) / 1024 }')
    lj=$(median "${list_json_total[@]}")
    lt=$(median "${list_table_total[@]}")
    echo '| startup, memory, LIST | jobplane |'
    echo '|---|---:|'
    echo "| exec to first 200 from /healthz, fresh data dir (median of $starts, min–max ms) |" \
        "$cf ms ($(minmax "${cold_fresh[@]}")) |"
    echo "| same, data dir holding $stored Pods | $cw ms ($(minmax "${cold_warm[@]}")) |"
    echo "| idle RSS just after start: VmRSS (RssAnon + RssFile) | $rss_idle KB ($anon_idle + $file_idle KB) |"
    echo "| $stored Pods created through the API (16 connections) | $(printf '%.2f' "$load_s") s |"
    echo "| RSS with $stored Pods: VmRSS / RssAnon | $rss_full KB / $anon_full KB |"
    echo "| stored JSON per Pod (LIST size / $stored) | $avg_json B |"
    echo "| RSS per stored Pod beyond its JSON: ((VmRSS - idle) / $stored - JSON) | $per_pod KB |"
    echo "| LIST all $stored Pods as JSON, $((list_json_size / 1024)) KB: total (TLS setup, first byte), median of $list_runs |" \
        "$(ms "$lj") ms ($(ms "$(median "${list_json_tls[@]}")"), $(ms "$(median "${list_json_ttfb[@]}")")) |"
    echo "| LIST all $stored Pods as Table, $((list_table_size / 1024)) KB: total (TLS setup, first byte), median of $list_runs |" \
        "$(ms "$lt") ms ($(ms "$(median "${list_table_tls[@]}")"), $(ms "$(median "${list_table_ttfb[@]}")")) |"
    echo "| VmRSS after those $((2 * list_runs)) LISTs | $rss_after_lists KB |"
    echo "| VmRSS after the create runs, $create_n Pods stored | $create_rss KB |"
    echo

    echo '| watch fan-out | jobplane |'
    echo '|---|---:|'
    echo "| watchers (curl -N, from one resourceVersion) x ADDED events each | $watchers x $watch_k |"
    echo "| create rate while watched (16 connections; unwatched: the create rows above) | $watch_create_rate Pods/s |"
    echo "| watchers that received all $watch_k events | $watch_complete of $watchers |"
    echo "| events delivered, first create sent to last watcher complete | $((watch_complete * watch_k)) in $watch_span_ms ms |"
    echo "| delivered events/s (all watchers) | $watch_rate |"
    if [ ${#watch_lags[@]} -gt 0 ]; then
        echo "| lag of a watcher's last event after the last create's 201: median / max |" \
            "$(printf '%.1f' "$(median "${watch_lags[@]}")") ms / $(printf '%s\n' "${watch_lags[@]}" | sort -g | tail -1) ms |"
    fi
    echo "| VmRSS with the $watchers watches open, after the events | $watch_rss KB |"
    echo

    echo '| goal | measured | met |'
    echo '|---|---:|---|'
    goal "ready ≤ 20 ms after exec (fresh data dir)" "$cf ms" "$(le "$cf" 20)"
    goal "ready ≤ 20 ms after exec ($stored Pods stored)" "$cw ms" "$(le "$cw" 20)"
    goal "idle RSS ≤ 10 MB (VmRSS)" "$rss_idle KB" "$(le "$rss_idle" 10240)"
    for c in "${levels[@]}"; do
        p=$(get "$tmp/create-$c.out" p50_us)
        goal "create p50 ≤ 1 ms ($(conns "$c"))" "$(us_ms "$p") ms" "$(le "$p" 1000)"
        p=$(get "$tmp/create-$c.out" p99_us)
        goal "create p99 ≤ 10 ms ($(conns "$c"))" "$(us_ms "$p") ms" "$(le "$p" 10000)"
    done
    for c in "${levels[@]}"; do
        p=$(get "$tmp/get-$c.out" p99_us)
        goal "GET p99 ≤ 1 ms ($(conns "$c"))" "$(us_ms "$p") ms" "$(le "$p" 1000)"
    done
    goal "LIST of $stored Pods ≤ 50 ms (JSON)" "$(ms "$lj") ms" "$(le "$lj" 0.050)"
    goal "LIST of $stored Pods ≤ 50 ms (Table)" "$(ms "$lt") ms" "$(le "$lt" 0.050)"
    goal "≤ 8 KB RSS per stored Pod beyond its JSON" "$per_pod KB" "$(le "$per_pod" 8)"

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
measure_cold_fresh
measure_memory_and_list
measure_cold_warm
measure_nginx
measure_create
measure_read
measure_watch
busy1=$(cpu_busy)
if [ "$busy1" -ge 10 ]; then
    notes+=("the CPUs were $busy1% busy just after the runs, with every process of this benchmark ended: something else ran alongside")
fi
report
