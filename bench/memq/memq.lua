-- wrk script for bench/memq/run.sh: the first script argument picks the request mix, and done()
-- prints one "result key=value ..." line that run.sh parses (latencies in microseconds).
--   wrk ... -s memq.lua URL -- enqueue|dequeue|mixed QUEUE   throughput (mixed alternates)
--   wrk -tT -cT ... -s memq.lua URL -- load QUEUE N T       enqueue work-item-1..N, then stop
--   wrk ... -s memq.lua URL -- drain QUEUE                   dequeue until 204, timed
-- load and drain stop their threads themselves, but wrk's main thread still sleeps for the whole
-- -d, so run.sh interrupts wrk (SIGINT makes it print its report) once /stats shows the end.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1 -- shared by all threads, so per-thread stamps can be compared
local ts = ffi.new("bench_timespec")
local function now()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

-- Main state: setup() runs once per thread, before that thread's init().
local threads = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

-- Thread state from here to done().
function init(args)
    mode = args[1]
    local base = "/memq/server/queues/" .. (args[2] or "bench")
    enqueue_path = base .. "/enqueue"
    -- Content-Length: 0 rather than no length at all, like a real client's empty POST.
    dequeue_req = wrk.format("POST", base .. "/dequeue", nil, "")
    sent, ok, empty, other = 0, 0, 0, 0
    first_req, last_ok = 0, 0
    if mode == "load" then
        -- One connection per thread (-tT -cT): the next request only leaves after the previous
        -- answer, so stopping at the quota leaves nothing in flight. Thread k sends the numbers
        -- k+1, k+1+T, ... so together the threads send work-item-1..N exactly once.
        total = tonumber(args[3])
        nthreads = tonumber(args[4])
        quota = math.floor((total - (id + 1)) / nthreads) + 1
    end
    if mode ~= "load" and mode ~= "drain" then
        -- Throughput runs read their outcome from wrk's counters and /stats instead: without
        -- response() wrk builds no Lua table per answer, so the client steals less CPU from
        -- the server on the same machine (wrk looks for response() after init()).
        response = nil
    end
end

local function enqueue(n)
    return wrk.format("POST", enqueue_path, nil, "work-item-" .. n)
end

function request()
    sent = sent + 1
    if first_req == 0 then first_req = now() end
    if mode == "dequeue" or mode == "drain" then return dequeue_req end
    if mode == "mixed" then
        -- Alternate per thread, so the depth dips by at most about one per connection (plus
        -- one per thread: wrk's extra verify call can make the first real request a dequeue).
        if sent % 2 == 0 then return dequeue_req end
        return enqueue(sent)
    end
    if mode == "load" then
        -- Numbered by answers, not by calls: wrk calls request() once more to verify the script.
        return enqueue(id + 1 + ok * nthreads)
    end
    return enqueue(sent)
end

function response(status)
    if status == 200 then
        ok = ok + 1
        last_ok = now()
        if mode == "load" and ok >= quota then wrk.thread:stop() end
    elseif status == 204 then
        empty = empty + 1
        -- Nobody enqueues during a drain, so the first 204 means the queue stays empty.
        if mode == "drain" then wrk.thread:stop() end
    else
        other = other + 1
    end
end

-- Main state again, after all threads have stopped.
function done(summary, latency, requests)
    local e = summary.errors
    local n200, n204, nother, first, last = 0, 0, 0, math.huge, 0
    for _, t in ipairs(threads) do
        n200 = n200 + t:get("ok")
        n204 = n204 + t:get("empty")
        nother = nother + t:get("other")
        local f, l = t:get("first_req"), t:get("last_ok")
        if f > 0 and f < first then first = f end
        if l > last then last = l end
    end
    local span = 0
    if last > 0 and first < math.huge then span = last - first end
    io.write(string.format(
        "result requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d " ..
        "non2xx=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d " ..
        "seen200=%d seen204=%d seen_other=%d span_s=%.4f\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), latency.max,
        e.status, e.connect, e.read, e.write, e.timeout,
        n200, n204, nother, span))
end
