-- wrk script for bench/api/run.sh: the first script argument picks the request, and done() prints
-- one "result key=value ..." line that run.sh parses (latencies in microseconds). The bearer token
-- comes from wrk -H "Authorization: Bearer ...", which wrk.format() adds to every request.
--   wrk ... -s api.lua URL -- create PREFIX          POST Pods named PREFIX-<thread>-<n>
--   wrk ... -s api.lua URL -- get PATH               GET PATH (one Pod, or a list with ?limit=)
--   wrk ... -s api.lua URL -- load PREFIX N T DIR    create exactly N Pods over T threads, then
--                                                    each thread stops and writes DIR/<thread>:
--                                                    "created failed first_send last_201" (the
--                                                    times as Unix seconds, like $EPOCHREALTIME)
-- load stops its threads itself, but wrk's main thread still sleeps for the whole -d, so run.sh
-- interrupts wrk (SIGINT makes it print its report) once every thread left its file in DIR.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
local ts = ffi.new("bench_timespec")
local function clock(id)
    ffi.C.clock_gettime(id, ts)
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end
-- Shared by all threads, so per-thread stamps can be compared.
local function now() return clock(CLOCK_MONOTONIC) end

-- The Pod every create sends: ~1 KB of JSON with a few labels, an annotation, a command, env and
-- resources, the size of a small real Pod. %s is the name.
local pod_fmt = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"default",' ..
    '"labels":{"app":"api-bench","tier":"backend","release":"stable","run":"jobplane-bench"},' ..
    '"annotations":{"bench.jobplane.io/purpose":"measures the create path of the jobplane ' ..
    'API server with a Pod about the size of a small real one","bench.jobplane.io/owner":' ..
    '"bench/api/run.sh"}},"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":5,' ..
    '"containers":[{"name":"c","image":"busybox","command":["sh","-c","echo started; ' ..
    'for i in 1 2 3; do echo working on item $i; sleep 1; done; echo finished"],' ..
    '"env":[{"name":"MODE","value":"benchmark"},{"name":"LOG_LEVEL","value":"info"},' ..
    '{"name":"WORK_QUEUE","value":"http://queue.default.svc.cluster.local:8080/memq"},' ..
    '{"name":"ITEMS","value":"3"}],"ports":[{"name":"http","containerPort":8080,' ..
    '"protocol":"TCP"}],"resources":{"requests":{"cpu":"10m","memory":"16Mi"},' ..
    '"limits":{"cpu":"100m","memory":"64Mi"}},"workingDir":"/tmp"}]}}'

-- Main state: setup() runs once per thread, before that thread's init().
local threads = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

-- Thread state from here to done().
function init(args)
    mode = args[1]
    sent, created, failed = 0, 0, 0
    first_req, last_ok = 0, 0
    first_rt, last_rt = 0, 0 -- wall clock, for the load mode's file
    if mode == "create" or mode == "load" then
        -- wrk.format() uses wrk.headers (where -H puts the token) only when given no headers.
        json_hdr = {["Content-Type"] = "application/json"}
        for k, v in pairs(wrk.headers) do json_hdr[k] = v end
        pods_path = "/api/v1/namespaces/default/pods"
        prefix = args[2] .. "-" .. id .. "-"
    elseif mode == "get" then
        get_req = wrk.format("GET", args[2])
    else
        error("api.lua: unknown mode '" .. tostring(mode) .. "'")
    end
    if mode == "load" then
        -- Thread k creates prefix-k-1..prefix-k-quota; together the threads create exactly N.
        -- Names come from calls, not answers, so every connection of a thread can have a create in
        -- flight; once the quota is sent, further calls get a cheap GET /healthz instead, until
        -- the last create is answered.
        local total, nthreads = tonumber(args[3]), tonumber(args[4])
        quota = math.floor((total - (id + 1)) / nthreads) + 1
        done_file = args[5] .. "/" .. id
        filler = wrk.format("GET", "/healthz")
        -- wrk calls thread 0's request() once more, right after init(), to check the script, and
        -- never sends that request: it gets a filler so that no name is skipped.
        verify_pending = (id == 0)
    else
        -- Throughput runs read their outcome from wrk's counters: without response() wrk builds
        -- no Lua table per answer, so the client steals less CPU from the server on the same
        -- machine (wrk looks for response() after init()).
        response = nil
    end
end

local function create(n)
    return wrk.format("POST", pods_path, json_hdr, string.format(pod_fmt, prefix .. n))
end

function request()
    if first_req == 0 then
        first_req = now()
        first_rt = clock(CLOCK_REALTIME)
    end
    if mode == "get" then return get_req end
    if mode == "load" then
        if verify_pending then
            verify_pending = false
            return filler
        end
        if sent >= quota then return filler end
    end
    sent = sent + 1
    return create(sent)
end

function response(status)
    -- Only load mode keeps response(); 200 is a filler's answer.
    if status == 200 then return end
    if status == 201 then
        created = created + 1
        last_ok = now()
        last_rt = clock(CLOCK_REALTIME)
    else
        failed = failed + 1
    end
    if created + failed >= quota then
        local f = io.open(done_file, "w")
        if f then
            f:write(string.format("%d %d %.6f %.6f\n", created, failed, first_rt, last_rt))
            f:close()
        end
        wrk.thread:stop()
    end
end

-- Main state again, after all threads have stopped.
function done(summary, latency, requests)
    local e = summary.errors
    local ncreated, nfailed, first, last = 0, 0, math.huge, 0
    for _, t in ipairs(threads) do
        ncreated = ncreated + t:get("created")
        nfailed = nfailed + t:get("failed")
        local f, l = t:get("first_req"), t:get("last_ok")
        if f > 0 and f < first then first = f end
        if l > last then last = l end
    end
    local span = 0
    if last > 0 and first < math.huge then span = last - first end
    io.write(string.format(
        "result requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d " ..
        "non2xx=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d " ..
        "created=%d failed=%d span_s=%.4f\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), latency.max,
        e.status, e.connect, e.read, e.write, e.timeout,
        ncreated, nfailed, span))
end
