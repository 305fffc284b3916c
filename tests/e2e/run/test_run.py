"""`jobplane run FILE...`: the engine embedded for one run. Each test runs the real binary and
checks what a user sees - the created lines, the pods' logs prefixed as `kubectl logs --prefix`
prints them, progress, the summary - and the exit code: 0 all Jobs completed, 1 one failed,
2 bad input (with kubectl's words), 130 interrupted. The temporary state must be gone after.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "apiserver"))
from jpserver import (JOBPLANE, NOBODY, as_user, chapter, have_kubectl, kubectl_path,  # noqa: E402
                      read_file, unprivileged_unavailable, wait_until)
from test_images import MARKER, make_rootfs  # noqa: E402
from test_portforward import free_port  # noqa: E402

KV = next((v for v in ("1.33", "1.27") if have_kubectl(v)), None)


def shjob(name, script, restart="Never", **spec):
    s = {"template": {"spec": {"containers": [{"name": "main", "image": "busybox",
                                               "command": ["sh", "-c", script]}],
                               "restartPolicy": restart, "terminationGracePeriodSeconds": 5}}}
    s.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": s}



def queue_rs(labels, args=None):
    """The chapter's queue: one kuard pod under a ReplicaSet named queue (args: kuard's flags)."""
    kuard = {"name": "kuard", "image": "gcr.io/kuar-demo/kuard-amd64:blue"}
    if args:
        kuard["args"] = list(args)
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "queue"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"terminationGracePeriodSeconds": 1, "containers": [kuard]}}}}

class Run(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="jp-run-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.tmpdir = os.path.join(self.tmp, "t")  # TMPDIR of the run: must end empty
        os.makedirs(self.tmpdir)

    def write(self, name, docs):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(docs if isinstance(docs, str) else "\n---\n".join(json.dumps(d) for d in docs))
        return p

    def env(self):
        return dict(os.environ, TMPDIR=self.tmpdir)

    def run_jp(self, *args, stdin=None, timeout=120):
        p = subprocess.run([JOBPLANE, "run", "--backoff-scale", "0.02", *args], input=stdin,
                           capture_output=True, text=True, timeout=timeout, env=self.env())
        self.assertEqual(os.listdir(self.tmpdir), [], "the run's temporary state was left behind")
        return p

    def expect(self, p, rc, out_patterns=(), err=None):
        what = "exit %s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, rc, what)
        lines = p.stdout.splitlines()
        pos = 0
        for pat in out_patterns:
            rx = re.compile(pat)
            hit = next((i for i in range(pos, len(lines)) if rx.fullmatch(lines[i])), None)
            self.assertIsNotNone(hit, "no line after %d matches %r\n%s" % (pos, pat, what))
            pos = hit + 1
        if err is not None:
            self.assertEqual(p.stderr, err, what)

    def test_chapter_oneshot_logs_progress_and_summary(self):
        text = read_file(chapter("job-oneshot.yaml")).replace("num-to-gen=10", "num-to-gen=2")
        p = self.run_jp(self.write("job-oneshot.yaml", text))
        self.expect(p, 0, [
            r"job\.batch/oneshot created",
            r"job\.batch/oneshot: Running, 0/1 succeeded, \d active, 0 failed",
            r"\[pod/oneshot-\w{5}/kuard\] .*Starting kuard version: v0.10.0-blue",
            r"\[pod/oneshot-\w{5}/kuard\] .*\(ID 0 1/2\) Item done: SHA256:.*",
            r"\[pod/oneshot-\w{5}/kuard\] .*\(ID 0 2/2\) Item done: SHA256:.*",
            r"\[pod/oneshot-\w{5}/kuard\] .*\(ID 0\) Workload exiting",
            # the Job's last progress line waits for its pod's last log lines
            r"job\.batch/oneshot: Complete, 1/1 succeeded, 0 active, 0 failed \(\d+s\)",
            r"job\.batch/oneshot completed",
            r"  Parallelism:    1",
            r"  Completions:    1",
            r"  Start Time:     \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
            r"  Completed At:   \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
            r"  Duration:       \d+s",
            r"  Pods Statuses:  0 Active \(0 Ready\) / 1 Succeeded / 0 Failed",
        ], err="")

    def test_parallel_and_failing_jobs_from_stdin_exit_1(self):
        docs = [shjob("ok", "echo done $HOSTNAME", completions=4, parallelism=2),
                shjob("bad", "echo trying; exit 3", backoffLimit=1)]
        p = self.run_jp("-", stdin="\n---\n".join(json.dumps(d) for d in docs))
        self.expect(p, 1, [r"job\.batch/ok created", r"job\.batch/bad created"])
        self.assertEqual(len(re.findall(r"^\[pod/ok-\w{5}/main\] done ok-\w{5}$", p.stdout, re.M)), 4,
                         p.stdout)
        self.assertEqual(len(re.findall(r"^\[pod/bad-\w{5}/main\] trying$", p.stdout, re.M)), 2, p.stdout)
        self.assertIn("job.batch/ok completed\n", p.stdout)
        self.assertIn("  Pods Statuses:  0 Active (0 Ready) / 4 Succeeded / 0 Failed\n", p.stdout)
        self.assertIn("job.batch/bad failed\n", p.stdout)
        self.assertIn("  Failed:         BackoffLimitExceeded: Job has reached the specified backoff limit\n",
                      p.stdout)
        self.assertIn("  Pods Statuses:  0 Active (0 Ready) / 0 Succeeded / 2 Failed\n", p.stdout)

    def test_failing_example_exits_1(self):
        p = self.run_jp(os.path.join(HERE, "..", "..", "..", "examples", "job-failing.yaml"))
        self.expect(p, 1, [r"job\.batch/failing created", r"\[pod/failing-\w{5}/main\] working on it",
                           r"\[pod/failing-\w{5}/main\] working on it", r"job\.batch/failing failed",
                           r"  Failed:         BackoffLimitExceeded: Job has reached the specified backoff limit"])

    def test_indexed_and_pod_failure_policy_examples(self):
        ex = os.path.join(HERE, "..", "..", "..", "examples")
        p = self.run_jp(os.path.join(ex, "job-indexed.yaml"))
        self.expect(p, 0, [r"job\.batch/indexed created", r"job\.batch/indexed completed",
                           r"  Completed Indexes:  0-4"])
        for i in range(5):
            self.assertRegex(p.stdout, r"\[pod/indexed-%d-\w{5}/worker\] processing shard %d of 5 on indexed-%d\n"
                             % (i, i, i))
        p = self.run_jp(os.path.join(ex, "job-pod-failure-policy.yaml"))
        self.expect(p, 1, [r"job\.batch/pod-failure-policy failed",
                           r"  Failed:         PodFailurePolicy: Container main for pod default/"
                           r"pod-failure-policy-\w{5} failed with exit code 42 matching FailJob rule at index 0"])

    def test_job_backoff_flags(self):
        path = self.write("j.json", [shjob("b", "date +%s.%N; exit 1", backoffLimit=1)])
        t0 = time.monotonic()
        p = subprocess.run([JOBPLANE, "run", "--job-backoff-base", "1500ms", "--job-backoff-max", "2s", path],
                           capture_output=True, text=True, timeout=60, env=self.env())
        self.expect(p, 1, [r"job\.batch/b failed"])
        stamps = [float(x) for x in re.findall(r"^\[pod/b-\w{5}/main\] (\d+\.\d+)$", p.stdout, re.M)]
        self.assertEqual(len(stamps), 2, p.stdout)
        self.assertGreaterEqual(abs(stamps[1] - stamps[0]), 1.5, p.stdout)
        self.assertLess(time.monotonic() - t0, 9, "the 10 s default back-off was used")
        p = subprocess.run([JOBPLANE, "run", "--job-backoff-base", "10", path], capture_output=True, text=True,
                           env=self.env())
        self.expect(p, 2, err='jobplane run: --job-backoff-base wants a duration like 10s or 6m: '
                              'missing unit in duration "10"\n')

    def test_service_reached_by_name(self):
        """As root, a Job's pod reaches a Service by name through the pod network."""
        labels = {"app": "q"}
        rs = queue_rs(labels)
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "queue"},
               "spec": {"selector": labels, "ports": [{"port": 8080}]}}
        probe = "until curl -sf http://queue:8080/memq/server/stats; do sleep 0.2; done"
        p = self.run_jp(self.write("s.json", [rs, svc, shjob("j", probe, activeDeadlineSeconds=30)]))
        if os.geteuid() != 0:
            self.skipTest("pods reach Services through the pod network as root; RunWithoutRoot "
                          "covers the rest")
        self.expect(p, 0, [r"service/queue created", r"job\.batch/j created",
                           r'\[pod/j-\w{5}/main\] \{"kind":"stats","queues":\[\]\}', r"job\.batch/j completed"])
        self.assertNotIn("warning", p.stderr)

    def test_service_accounts(self):
        """A pod's service account must exist (admission): one the same files create is fine; a
        missing one stops the Job's pods, and the run says why instead of just waiting."""
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}}
        job = shjob("sa", "echo as robot")
        job["spec"]["template"]["spec"]["serviceAccountName"] = "robot"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lone"},
               "spec": {"serviceAccountName": "robot", "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}
        p = self.run_jp(self.write("ok.json", [sa, pod, job]))
        self.expect(p, 0, [r"serviceaccount/robot created", r"pod/lone created", r"job\.batch/sa created",
                           r"\[pod/sa-\w{5}/main\] as robot", r"job\.batch/sa completed"])
        p = self.run_jp(self.write("pod.json", [pod]))
        self.expect(p, 2, err='Error from server (Forbidden): error when creating "%s": pods "lone" is '
                    'forbidden: error looking up service account default/robot: serviceaccount "robot" '
                    'not found\n' % os.path.join(self.tmp, "pod.json"))
        job["spec"]["activeDeadlineSeconds"] = 2
        p = self.run_jp(self.write("job.json", [job]))
        self.expect(p, 1, [r"job\.batch/sa created",
                           r'job\.batch/sa: Warning FailedCreate: Error creating: pods "sa-" is forbidden: '
                           r'error looking up service account default/robot: serviceaccount "robot" not found',
                           r"job\.batch/sa failed"])
        self.assertEqual(p.stdout.count("Warning FailedCreate"), 1, p.stdout)

    def test_no_logs(self):
        p = self.run_jp("--no-logs", self.write("j.json", [shjob("q", "echo secret-output")]))
        self.expect(p, 0, [r"job\.batch/q created", r"job\.batch/q completed"])
        self.assertNotIn("secret-output", p.stdout)

    def test_bad_input_exit_2_with_kubectls_words_and_nothing_runs(self):
        marker = os.path.join(self.tmp, "ran")
        good = shjob("good", "touch %s" % marker)
        invalid = shjob("x", "true", parallelism=-1)
        cases = [
            ([good, invalid], 'The Job "x" is invalid: spec.parallelism: Invalid value: -1: '
                              'must be greater than or equal to 0\n'),
            ([good, {"apiVersion": "v1", "kind": "Foo", "metadata": {"name": "f"}}],
             'error: resource mapping not found for name: "f" namespace: "" from "%s": no matches '
             'for kind "Foo" in version "v1"\nensure CRDs are installed first\n'),
            ([good, {"kind": "Job", "metadata": {"name": "f"}}],
             'error: error validating "%s": error validating data: apiVersion not set; if you '
             'choose to ignore these errors, turn validation off with --validate=false\n'),
        ]
        for i, (docs, err) in enumerate(cases):
            path = self.write("bad%d.json" % i, docs)
            p = self.run_jp(path)
            self.expect(p, 2, err=err.replace("%s", path) if "%s" in err else err)
            self.assertEqual(p.stdout, "")
        p = self.run_jp(os.path.join(self.tmp, "missing.yaml"))
        self.expect(p, 2, err='error: the path "%s" does not exist\n' % os.path.join(self.tmp, "missing.yaml"))
        p = self.run_jp(self.write("broken.yaml", "a: [\n"))
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"^error: error parsing .*broken.yaml: error converting YAML to JSON: .*line 2")
        p = self.run_jp(self.write("unknown.json", [dict(good, spec=dict(good["spec"], parallelizm=2))]))
        self.assertEqual(p.returncode, 2)
        self.assertIn('unknown field "spec.parallelizm"', p.stderr)
        p = subprocess.run([JOBPLANE, "run"], capture_output=True, text=True, env=self.env())
        self.assertEqual(p.returncode, 2)
        self.assertIn("which manifests?", p.stderr)
        self.assertFalse(os.path.exists(marker), "a pod ran although the input was bad")

    def test_interrupt_stops_the_pods_cleanly(self):
        script = "trap 'echo got TERM; exit 0' TERM; echo started; sleep 300 & wait"
        path = self.write("j.json", [shjob("sleepy", script, parallelism=2, completions=4)])
        proc = subprocess.Popen([JOBPLANE, "run", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env(), start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        out = []
        while len([l for l in out if l.endswith("started\n")]) < 2:
            line = proc.stdout.readline()
            self.assertNotEqual(line, "", "the run ended early: %s" % "".join(out))
            out.append(line)
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=20)
        text = "".join(out) + rest
        self.assertEqual(proc.returncode, 130, text + err)
        self.assertEqual(len(re.findall(r"^\[pod/sleepy-\w{5}/main\] got TERM$", text, re.M)), 2, text)
        self.assertIn("job.batch/sleepy did not finish\n", text)
        self.assertIn("interrupted", err)
        self.assertEqual(os.listdir(self.tmpdir), [])
        left = subprocess.run(["pgrep", "-f", "sleep 300"], capture_output=True, text=True).stdout
        mine = [pid for pid in left.split() if self.tmp in open("/proc/%s/environ" % pid, errors="replace").read()
                ] if left else []
        self.assertEqual(mine, [])

    @unittest.skipIf(KV is None, "no kubectl found")
    def test_listen_serves_kubectl_and_data_dir_keeps_the_record(self):
        data = os.path.join(self.tmp, "data")
        path = self.write("j.json", [shjob("watched", "sleep 1; echo hi")])
        proc = subprocess.Popen([JOBPLANE, "run", "--listen", "127.0.0.1:0", "--data-dir", data, path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        line = proc.stderr.readline()
        self.assertIn("serving the Kubernetes API on https://127.0.0.1:", line)
        self.assertEqual(proc.stderr.readline(), "export KUBECONFIG=%s/kubeconfig\n" % data)
        env = dict(os.environ, KUBECONFIG=os.path.join(data, "kubeconfig"), HOME=self.tmp, NO_PROXY="127.0.0.1")
        r = subprocess.run([kubectl_path(KV), "wait", "--for=condition=complete", "job/watched", "--timeout=30s"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual((r.returncode, r.stdout), (0, "job.batch/watched condition met\n"), r.stderr)
        proc.send_signal(signal.SIGINT)  # the Jobs are done: the run's outcome, not "interrupted"
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("job.batch/watched completed\n", out)
        self.assertTrue(os.path.exists(os.path.join(data, "state.db")))


@unittest.skipIf(unprivileged_unavailable(NOBODY), unprivileged_unavailable(NOBODY))
class RunImages(unittest.TestCase):
    """`jobplane image import` stores in the default data dir; a run (temporary data dir) uses
    that store. As nobody, so that the default data dir is one the test owns
    ($XDG_DATA_HOME/jobplane), never the machine's /var/lib/jobplane."""

    def test_a_run_uses_the_images_import_stored(self):
        tmp = tempfile.mkdtemp(prefix="jp-run-images-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        rootfs, home, runs = (os.path.join(tmp, d) for d in ("rootfs", "home", "runs"))
        make_rootfs(rootfs)
        for d in (home, runs):
            os.makedirs(d)
            os.chown(d, NOBODY, NOBODY)
        env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"), TMPDIR=runs)
        p = subprocess.run(as_user(NOBODY) + [JOBPLANE, "image", "import", "example.com/marker:1", rootfs],
                           capture_output=True, text=True, timeout=60, env=env, cwd="/")
        self.assertEqual(p.returncode, 0, p.stderr)
        job = shjob("marked", "read x < /etc/image-marker; echo image says $x")
        job["spec"]["template"]["spec"]["containers"][0]["image"] = "example.com/marker:1"
        manifest = os.path.join(tmp, "job.json")
        with open(manifest, "w") as f:
            json.dump(job, f)
        p = subprocess.run(as_user(NOBODY) + [JOBPLANE, "run", manifest], capture_output=True, text=True,
                           timeout=120, env=env, cwd="/")
        self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        self.assertRegex(p.stdout, r"\[pod/marked-\w+/main\] image says %s\n" % MARKER)
        self.assertEqual(os.listdir(runs), [], "the run's temporary state was left behind")


@unittest.skipIf(unprivileged_unavailable(NOBODY), unprivileged_unavailable(NOBODY))
class RunWithoutRoot(unittest.TestCase):
    """Without root, pods share the host's network: the chapter's five parallel kuards all ask
    for one port, and Services are names for 127.0.0.1. Each test runs `jobplane run` as nobody,
    with a free loopback port for its kuards instead of :8080 on every address."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="jp-run-nonroot-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.runs = os.path.join(self.tmp, "runs")  # the run's TMPDIR: must end empty
        os.makedirs(self.runs)
        os.chown(self.runs, NOBODY, NOBODY)
        self.port = free_port()

    def run_as_nobody(self, text, timeout):
        manifest = os.path.join(self.tmp, "manifest")
        with open(manifest, "w") as f:
            f.write(text)
        p = subprocess.run(as_user(NOBODY) + [JOBPLANE, "run", manifest], capture_output=True, text=True,
                           timeout=timeout, env=dict(os.environ, HOME=self.tmp, TMPDIR=self.runs), cwd="/")
        self.assertEqual(os.listdir(self.runs), [], "the run's temporary state was left behind")
        return p, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr)

    def test_chapter_parallel_job_completes_on_a_shared_network(self):
        # one 4096-bit key per pod (a second or so) keeps the five running at once
        text = read_file(chapter("job-parallel.yaml")).replace("num-to-gen=10", "num-to-gen=1")
        text = text.replace('- "--keygen-enable"', '- "--keygen-enable"\n        - "--address=127.0.0.1:%d"'
                            % self.port)
        p, what = self.run_as_nobody(text, 180)
        self.assertEqual(p.returncode, 0, what)
        self.assertEqual(len(re.findall(r"\(ID 0 1/1\) Item done: SHA256:", p.stdout)), 10, p.stdout)
        self.assertIn("cannot start HTTP server", p.stdout)  # they did share one port

    def test_service_reached_by_name_on_loopback(self):
        """A Service's name is 127.0.0.1 in each container's /etc/hosts: the chapter's consumers
        find `queue`. Nothing forwards a port, so a Service whose port is not its pods' gets a
        warning up front."""
        port = self.port
        labels = {"app": "q"}
        rs = queue_rs(labels, ["--address=127.0.0.1:%d" % port])
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "queue"},
               "spec": {"selector": labels, "ports": [{"port": port}]}}
        other = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mapped"},
                 "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": port}]}}
        probe = ("grep -q '^127.0.0.1.*mapped.default.svc.cluster.local' /etc/hosts && "
                 "until curl -sf http://queue:%d/memq/server/stats; do sleep 0.2; done" % port)
        p, what = self.run_as_nobody("\n---\n".join(
            json.dumps(d) for d in (rs, svc, other, shjob("j", probe, activeDeadlineSeconds=30))), 120)
        self.assertEqual(p.returncode, 0, what)
        self.assertRegex(p.stdout, r'\[pod/j-\w{5}/main\] \{"kind":"stats","queues":\[\]\}', what)
        self.assertEqual(p.stderr.count("warning"), 1, what)
        self.assertIn("jobplane run: warning: service/mapped: without root, pods reach it by name at "
                      "127.0.0.1 with nothing in between: port 80 leads nowhere, its pods listen on %d" % port,
                      p.stderr)

if __name__ == "__main__":
    unittest.main()
