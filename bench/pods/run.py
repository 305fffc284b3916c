#!/usr/bin/env python3
"""Pod start benchmark: how fast `jobplane server` turns created Pods into started containers.

    python3 bench/pods/run.py            (after `make`); markdown tables on stdout, progress on stderr

One run, one machine, four measurements:
  1. baseline - the machine's raw spawn rate: posix_spawn + waitpid of /bin/true, sequentially
     and from as many threads as there are CPUs (the best of the two is the baseline);
  1b. the monitor ceiling - the same starts, each under a bare per-container monitor process
     (monitor_floor.c, built here with cc into a temp dir, its records where the server keeps
     its own: /dev/shm as root): what the process model alone leaves of the baseline before any
     API work. Context for the goal, not a new baseline;
  2. pod start latency - one Pod at a time: POST the Pod, then the time until a watch on pods
     shows its container started (state running or terminated: a `true` container may finish
     before its Running status is written, since status writes are batched);
  3. throughput - PODS Pods running `true` created from 8 connections at once: Pods per second
     from the first POST to the last container seen started, and the same latency per Pod.

Environment: JOBPLANE (default build/jobplane), PODS (default 1000), LATENCY_PODS (default 200),
TMPDIR (where the server's data dir goes; its filesystem type is printed with the results),
SERVER_ARGS (extra server flags, e.g. --no-pod-network to measure pods without the pod network).
Everything runs on 127.0.0.1; the temp dir and every process started are removed at the end.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from baseline import spawn_rate  # noqa: E402  (bench/baseline.py, shared)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
sys.path.insert(0, os.path.join(ROOT, "tests/e2e/apiserver"))
os.environ.setdefault("JOBPLANE", os.path.join(ROOT, "build/jobplane"))
from jpserver import Server  # noqa: E402  (the e2e harness: start, credentials, cleanup)

PODS = int(os.environ.get("PODS", "1000"))
LATENCY_PODS = int(os.environ.get("LATENCY_PODS", "200"))
CREATORS = 8
PATH = "/api/v1/namespaces/default/pods"


def say(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def pod(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}


class Watcher(threading.Thread):
    """Reads a pods watch and records when each pod's container is first seen started."""

    def __init__(self, server, rv):
        super().__init__(daemon=True)
        self.conn = server.connection(timeout=600)
        self.conn.request("GET", PATH + "?watch=true&resourceVersion=%s" % rv)
        self.resp = self.conn.getresponse()
        self.started = {}
        self.cond = threading.Condition()

    def run(self):
        for line in self.resp:
            # only a pod with a container status can show a start; decoding every other event
            # would spend the CPUs the server under test needs on this harness
            if b'"containerStatuses"' not in line:
                continue
            ev = json.loads(line)
            obj = ev["object"]
            name = obj["metadata"]["name"]
            for cs in obj.get("status", {}).get("containerStatuses", []):
                st = cs.get("state", {})
                if ("running" in st or "terminated" in st) and name not in self.started:
                    with self.cond:
                        self.started[name] = time.monotonic()
                        self.cond.notify_all()

    def wait(self, names, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not all(n in self.started for n in names):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = [n for n in names if n not in self.started]
                    raise SystemExit("bench: %d pods never started, e.g. %s" % (len(missing), missing[:3]))
                self.cond.wait(left)


def filesystem(path):
    """The type of the filesystem holding path (file creation cost differs a lot between them:
    journal-less ext4 scans for free inodes on every create)."""
    best, kind = "", "?"
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if path.startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return kind


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def delete_all(s):
    s.http("DELETE", PATH + "?gracePeriodSeconds=0")
    conn = s.connection()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        st, lst = s.json("GET", PATH)
        if not lst["items"]:
            return
        time.sleep(0.2)
    conn.close()


def records_dir():
    """Where the server keeps running containers' records: as root on the tmpfs at /dev/shm when
    there is one (docs/server.md, --data-dir), else in the data dir (under TMPDIR here)."""
    if os.geteuid() == 0 and filesystem("/dev/shm/") == "tmpfs" and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return None


def monitor_ceiling(n):
    """Starts/s of /bin/true each under a bare monitor process (monitor_floor.c), its records where
    the server keeps its own; None when it cannot be built or run (the reason goes to stderr)."""
    tmp = tempfile.mkdtemp(prefix="jp-floor-")  # the program: /dev/shm may be noexec
    work = tempfile.mkdtemp(prefix="jp-floor-records-", dir=records_dir())
    try:
        exe = os.path.join(tmp, "monitor_floor")
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-O2", "-o", exe, os.path.join(HERE, "monitor_floor.c")], check=True)
        out = subprocess.run([exe, work, str(n), str(os.cpu_count() or 1)], check=True,
                             capture_output=True, text=True).stdout
        return float(out)
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        say("monitor ceiling skipped: %s" % e)
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def main():
    say("baseline: raw spawn rate of /bin/true")
    raw_seq = spawn_rate(1000, 1)
    raw_par = spawn_rate(2000, os.cpu_count() or 1)
    raw = max(raw_seq, raw_par)
    say("ceiling: /bin/true under a bare per-container monitor")
    ceiling = monitor_ceiling(2000)
    say("starting jobplane server")
    s = Server(extra_args=("--sync", "normal") + tuple(os.environ.get("SERVER_ARGS", "").split()))
    fs_type = filesystem(s.data_dir)
    try:
        st, lst = s.json("GET", PATH)
        w = Watcher(s, lst["metadata"]["resourceVersion"])
        w.start()
        # --- latency, one at a time
        say("latency: %d pods, one at a time" % LATENCY_PODS)
        lat = []
        conn = s.connection()
        for i in range(LATENCY_PODS):
            name = "lat-%04d" % i
            t0 = time.monotonic()
            s.http("POST", PATH, pod(name), conn=conn)
            w.wait([name], 30)
            lat.append(w.started[name] - t0)
        conn.close()
        delete_all(s)
        # --- throughput
        say("throughput: %d pods from %d connections" % (PODS, CREATORS))
        created = {}
        names = ["tp-%05d" % i for i in range(PODS)]

        def creator(k):
            c = s.connection()
            for name in names[k::CREATORS]:
                created[name] = time.monotonic()
                st, _, body = s.http("POST", PATH, pod(name), conn=c)
                if st != 201:
                    raise SystemExit("bench: create %s: HTTP %s %s" % (name, st, body[:200]))
            c.close()
        ts = [threading.Thread(target=creator, args=(k,)) for k in range(CREATORS)]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        w.wait(names, 600)
        elapsed = max(w.started[n] for n in names) - t0
        tp_lat = [w.started[n] - created[n] for n in names]
        rate = PODS / elapsed
        delete_all(s)
    finally:
        s.close()

    ms = lambda x: "%.1f" % (x * 1000)  # noqa: E731
    print("## Pod start (jobplane server, process runtime, %d CPUs, data dir on %s)\n"
          % (os.cpu_count() or 1, fs_type))
    print("| measurement | value | goal |")
    print("|---|---|---|")
    print("| raw spawn rate, /bin/true (1 thread / %d threads) | %.0f/s / %.0f/s | baseline |"
          % (os.cpu_count() or 1, raw_seq, raw_par))
    if ceiling is not None:
        print("| ceiling: /bin/true under a bare monitor process, records on %s, no API (%d workers) "
              "| %.0f/s (%.2fx) | context |"
              % (filesystem(records_dir() or tempfile.gettempdir()), os.cpu_count() or 1, ceiling, ceiling / raw))
    print("| start latency, one pod at a time: p50 / p99 (ms) | %s / %s | <= 5 / <= 50 |"
          % (ms(statistics.median(lat)), ms(pct(lat, 99))))
    print("| %d pods from %d connections: pods/s | %.0f/s | |" % (PODS, CREATORS, rate))
    print("| pods/s vs raw spawn rate | %.2fx | >= 0.50x |" % (rate / raw))
    print("| start latency under that load: p50 / p99 (ms) | %s / %s | |"
          % (ms(statistics.median(tp_lat)), ms(pct(tp_lat, 99))))


if __name__ == "__main__":
    main()
