#!/usr/bin/env python3
"""Job throughput benchmark: how fast `jobplane run` takes Jobs of many `true` pods to the end.

    python3 bench/jobs/run.py          (after `make`); a markdown table on stdout, progress on stderr

One run, one machine:
  1. baseline - the machine's raw fork+exec rate: posix_spawn + waitpid of /bin/true from as
     many threads as there are CPUs;
  2. a NonIndexed Job of COMPLETIONS completions of `true`, parallelism 100;
  3. an Indexed Job of COMPLETIONS indexes of `true`, parallelism 100.
Each Job runs under `jobplane run --no-logs --data-dir DIR` with durable state (SQLite
synchronous=FULL): wall time from exec to exit, pods/s (completions / wall time), the ratio of
pods/s to the baseline, peak RSS of jobplane (VmHWM, sampled) and the SQLite files' size at the
end (state.db + WAL). Every pod really runs: each is a shim, a network namespace and `true`.

Environment: JOBPLANE (default build/jobplane), COMPLETIONS (default 10000), PARALLELISM
(default 100), TMPDIR (where the data dirs go; its filesystem type is printed).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from baseline import spawn_rate  # noqa: E402  (bench/baseline.py, shared)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
JOBPLANE = os.environ.get("JOBPLANE", os.path.join(ROOT, "build/jobplane"))
COMPLETIONS = int(os.environ.get("COMPLETIONS", "10000"))
PARALLELISM = int(os.environ.get("PARALLELISM", "100"))


def say(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def job(name, indexed):
    spec = {"completions": COMPLETIONS, "parallelism": PARALLELISM,
            "template": {"spec": {"restartPolicy": "Never",
                                  "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}
    if indexed:
        spec["completionMode"] = "Indexed"
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def vm_hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_job(tmp, name, indexed):
    data = os.path.join(tmp, name)
    manifest = os.path.join(tmp, name + ".json")
    with open(manifest, "w") as f:
        json.dump(job(name, indexed), f)
    t0 = time.monotonic()
    p = subprocess.Popen([JOBPLANE, "run", "--no-logs", "--data-dir", data, manifest],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while p.poll() is None:
        peak = max(peak, vm_hwm(p.pid))
        time.sleep(0.2)
    wall = time.monotonic() - t0
    out, err = p.stdout.read(), p.stderr.read()
    if p.returncode != 0 or "completed" not in out:
        say("%s: exit %s\n%s\n%s" % (name, p.returncode, out[-2000:], err[-2000:]))
        raise SystemExit(1)
    db = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("state.db"))
    return wall, peak, db


def fstype(path):
    r = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def main():
    tmp = tempfile.mkdtemp(prefix="jp-bench-jobs-")
    try:
        cpus = os.cpu_count() or 1
        say("baseline: posix_spawn+waitpid of /bin/true from %d threads" % cpus)
        base = max(spawn_rate(4000, cpus), spawn_rate(4000, cpus))
        rows = []
        for name, indexed in (("nonindexed", False), ("indexed", True)):
            say("%s Job: %d completions of true, parallelism %d" % (name, COMPLETIONS, PARALLELISM))
            wall, peak, db = run_job(tmp, name, indexed)
            rate = COMPLETIONS / wall
            rows.append((name, wall, rate, rate / base, peak, db))
            say("  %.1f s, %.0f pods/s" % (wall, rate))
        print("\n## bench/jobs (%d CPUs, data dir on %s, SQLite synchronous=FULL)\n" % (cpus, fstype(tmp)))
        print("baseline: raw fork+exec of /bin/true, %d threads: **%.0f /s**\n" % (cpus, base))
        print("| Job | completions | parallelism | wall | pods/s | vs baseline | peak RSS | SQLite size |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, wall, rate, ratio, peak, db in rows:
            print("| %s | %d | %d | %.1f s | %.0f | %.3fx | %.1f MB | %.1f MB |"
                  % (name, COMPLETIONS, PARALLELISM, wall, rate, ratio, peak / 1024, db / 1e6))
        print("\ngoal: >= 1,000 pods/s with durable state")
    finally:
        for proc in subprocess.run(["pgrep", "-f", tmp], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(proc), 9)
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
