"""The job controller, end to end: the chapter's one-shot and parallel Jobs through the real
kubectl, and the numbered rules of job-semantics.md (R21...) with real pods running shell
commands.

Servers run with --backoff-scale 0.02: the Job's 10 s re-creation back-off becomes 0.2 s and the
kubelet's restart back-off likewise, so the rules' "pod 2 starts >= 10 s after pod 1" become
">= 0.2 s". Pods record when they ran in files under the test's directory (non-kuard images run
on the host filesystem, see test_node), which is how the tests see real concurrency and timing.
"""
import json
import os
import random
import re
import signal
import socket
import time
import unittest

from jpserver import AGE, VERSIONS, KubectlCase, chapter, have_kubectl, per_version, read_file, wait_until
from test_node import NodeCase

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)
SCALE = 0.02
JOBS = "/apis/batch/v1/namespaces/default/jobs/"
POD_NAME = re.compile(r"[bcdfghjklmnpqrstvwxz2456789]{5}")


def shjob(name, script, restart="Never", **spec):
    """A Job whose one container runs `sh -c script`; SPEC holds extra spec fields."""
    pod_spec = {"containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script]}],
                "restartPolicy": restart, "terminationGracePeriodSeconds": 1}
    s = {"template": {"spec": pod_spec}}
    s.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": s}


def spans(path):
    """[(start, end)] of the runs a script logged as `start T` / `end T` lines keyed by $HOSTNAME."""
    starts, out = {}, []
    if not os.path.exists(path):
        return out
    for line in read_file(path).splitlines():
        what, who, t = line.split()
        if what == "start":
            starts[who] = float(t)
        elif who in starts:
            out.append((starts.pop(who), float(t)))
    return out


def max_overlap(intervals):
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = cur = 0
    for _, d in edges:
        cur += d
        best = max(best, cur)
    return best


class JobCase(NodeCase):
    server_args = ("--backoff-scale", str(SCALE))

    def setUp(self):
        super().setUp()
        self.log_path = os.path.join(self.s.tmp, "runs.log")
        self.marks = os.path.join(self.s.tmp, "marks")
        os.makedirs(self.marks)

    def logged(self, body):
        """Wraps a script so each run logs its start and end (seconds, ns precision) by pod name."""
        log = self.log_path
        return ('echo start $HOSTNAME $(date +%%s.%%N) >> %s; (%s); rc=$?; '
                'echo end $HOSTNAME $(date +%%s.%%N) >> %s; exit $rc' % (log, body, log))

    def job(self, name):
        return self.s.json("GET", JOBS + name, expect=200)[1]

    def status(self, name):
        return self.job(name).get("status", {})

    def pods(self, name):
        st, lst = self.s.json("GET", "/api/v1/namespaces/default/pods?labelSelector=job-name%3D" + name,
                              expect=200)
        return sorted(lst["items"], key=lambda p: p["metadata"]["creationTimestamp"])

    def conditions(self, name):
        return [(c["type"], c["status"], c.get("reason", "")) for c in self.status(name).get("conditions", [])]

    def wait_condition(self, name, ctype, timeout=60):
        def done():
            return any(t == ctype and s == "True" for t, s, _ in self.conditions(name))
        wait_until(done, timeout, "job %s condition %s (status %s; server log %s)"
                   % (name, ctype, json.dumps(self.status(name)), self.s.log(8)))
        return self.status(name)

    def run_job(self, obj, ctype="Complete", timeout=60):
        self.create(obj, expect="job.batch/%s created" % obj["metadata"]["name"])
        return self.wait_condition(obj["metadata"]["name"], ctype, timeout)

    def events(self, name):
        st, lst = self.s.json("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D"
                              + name, expect=200)
        return [(e["type"], e["reason"], e["message"], e.get("count", 1)) for e in lst["items"]]

    def assert_no_finalizers(self, name):
        wait_until(lambda: all(not p["metadata"].get("finalizers") for p in self.pods(name)), 10,
                   "the tracking finalizers of job %s's pods to go" % name)

    def assert_counts(self, st, succeeded=0, failed=0, active=0):
        got = {k: st.get(k, 0) for k in ("succeeded", "failed", "active")}
        self.assertEqual(got, {"succeeded": succeeded, "failed": failed, "active": active}, json.dumps(st))
        self.assertEqual(st.get("uncountedTerminatedPods", {}), {}, json.dumps(st))


# ---- the chapter ---------------------------------------------------------------------------
class ChapterMixin:
    """The chapter's flow with each kubectl: describe of the one-shot, ten parallel pods."""
    server_args = ("--backoff-scale", str(SCALE))

    def test_oneshot_describe_events_and_immutable_template(self):
        text = read_file(chapter("job-oneshot.yaml"))
        if self.V != KV:  # the verbatim manifest makes 10 RSA-4096 keys (~15 s here): once is enough
            text = text.replace("--keygen-num-to-gen=10", "--keygen-num-to-gen=1")
        path = self.write("job-oneshot.yaml", text)
        self.expect_out(self.k("apply", "-f", path), "job.batch/oneshot created")
        wait_until(lambda: any(c["type"] == "Complete" for c in self.s.json("GET", JOBS + "oneshot")[1]
                               .get("status", {}).get("conditions", [])), 120,
                   "the one-shot to complete (log %s)" % self.s.log(10))
        r = self.k("describe", "jobs", "oneshot")
        uid = r"[0-9a-f-]{36}"
        self.expect_lines(r, [
            r"Name:\s+oneshot",
            r"Namespace:\s+default",
            r"Selector:\s+batch.kubernetes.io/controller-uid=" + uid,
            r"Labels:\s+batch.kubernetes.io/controller-uid=" + uid,
            r"\s+batch.kubernetes.io/job-name=oneshot",
            r"\s+controller-uid=" + uid,
            r"\s+job-name=oneshot",
            # kubectl since 1.2x hides the last-applied annotation the chapter's older one showed
            r"Annotations:\s+(<none>|kubectl.kubernetes.io/last-applied-configuration:)",
            r"Parallelism:\s+1",
            r"Completions:\s+1",
            r"Start Time:\s+\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
            r"Completed At:\s+\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
            r"Duration:\s+\d+s",
            r"Pods Statuses:\s+0 (Active \(0 Ready\)|Running) / 1 Succeeded / 0 Failed",
            r"Pod Template:",
            r"\s+kuard:",
            r"\s+Image:\s+gcr.io/kuar-demo/kuard-amd64:blue",
            r"\s+/kuard",
            r"\s+--keygen-enable",
            r"Events:",
            r"\s+Type\s+Reason\s+Age\s+From\s+Message",
            r"\s+Normal\s+SuccessfulCreate\s+%s\s+job-controller\s+Created pod: oneshot-%s"
            % (AGE, POD_NAME.pattern),
            r"\s+Normal\s+Completed\s+%s\s+job-controller\s+Job completed" % AGE,
        ])
        self.expect_lines(self.k("get", "pods"), [
            r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE",
            r"oneshot-%s\s+0/1\s+Completed\s+0\s+%s" % (POD_NAME.pattern, AGE)])
        self.expect_lines(self.k("get", "jobs"), [
            r"NAME\s+(STATUS\s+)?COMPLETIONS\s+DURATION\s+AGE",
            r"oneshot\s+(Complete\s+)?1/1\s+\d+s\s+%s" % AGE])
        changed = self.write("job-oneshot-2.yaml", text.replace('- "--keygen-enable"',
                                                                '- "--keygen-enable"\n        - "--x"'))
        r = self.k("apply", "-f", changed)
        self.expect_rc(r, 1)
        self.assertRegex(r.err, r'^The Job "oneshot" is invalid: spec.template: Invalid value: '
                                r'core.PodTemplateSpec\{.*\}: field is immutable\n$')

    def test_parallel_ten_pods_never_more_than_five(self):
        text = read_file(chapter("job-parallel.yaml"))
        if self.V != KV:  # verbatim once (100 RSA-4096 keys: ~1-2 min on 2 CPUs); one key per pod else
            text = text.replace("num-to-gen=10", "num-to-gen=1")
        watch = self.s.kubectl_bg(self.V, "get", "pods", "-w", "-v=6", "--output-watch-events")
        self.addCleanup(watch.proc.kill)
        self.assertTrue(watch.wait_for(r"watch=true", 10, stream="err"), watch.err)
        self.expect_out(self.k("apply", "-f", self.write("p.yaml", text)), "job.batch/parallel created")
        wait_until(lambda: any(c["type"] == "Complete" for c in self.s.json("GET", JOBS + "parallel")[1]
                               .get("status", {}).get("conditions", [])), 240,
                   "the parallel Job to complete (log %s)" % self.s.log(10))
        r = self.k("get", "pods")
        lines = r.out.splitlines()[1:]
        self.assertEqual(len(lines), 10, r.out)
        for l in lines:
            self.assertRegex(l, r"^parallel-%s\s+0/1\s+Completed\s+0\s+%s$" % (POD_NAME.pattern, AGE))
        # the watch saw every pod's phases: count those alive at once in event order
        self.assertTrue(watch.wait_for(r"Completed", 10, count=10), "\n".join(watch.out))
        alive, peak = set(), 0
        for l in watch.out:
            f = l.split()
            if len(f) < 4 or not f[1].startswith("parallel-"):
                continue
            if f[0] in ("ADDED", "MODIFIED") and f[3] not in ("Completed", "Error"):
                alive.add(f[1])
            else:
                alive.discard(f[1])
            peak = max(peak, len(alive))
        self.assertLessEqual(peak, 5, "\n".join(watch.out))
        self.assertGreaterEqual(peak, 2, "\n".join(watch.out))
        self.expect_lines(self.k("describe", "job", "parallel"), [
            r"Parallelism:\s+5", r"Completions:\s+10",
            r"Pods Statuses:\s+0 (Active \(0 Ready\)|Running) / 10 Succeeded / 0 Failed"])


per_version(type("Chapter", (ChapterMixin, JobCase), {}), globals())


# ---- the rules -----------------------------------------------------------------------------
@unittest.skipIf(KV is None, "no kubectl found")
class Rules(JobCase):
    V = KV

    def test_r21_fixed_completions_bounded_by_parallelism(self):
        st = self.run_job(shjob("x", self.logged("sleep 0.3"), completions=10, parallelism=5))
        self.assert_counts(st, succeeded=10)
        self.assertEqual(len(self.pods("x")), 10)
        runs = spans(self.log_path)
        self.assertEqual(len(runs), 10, runs)
        self.assertLessEqual(max_overlap(runs), 5, runs)
        self.assertGreaterEqual(max_overlap(runs), 2, runs)

    def test_r22_parallelism_above_completions(self):
        st = self.run_job(shjob("x", "sleep 0.2", completions=3, parallelism=10))
        self.assert_counts(st, succeeded=3)
        self.assertEqual(len(self.pods("x")), 3)

    def test_r23_work_queue_all_succeed(self):
        st = self.run_job(shjob("x", "sleep 0.3; exit 0", parallelism=5))
        self.assert_counts(st, succeeded=5)
        self.assertEqual(len(self.pods("x")), 5)
        self.expect_lines(self.k("get", "job", "x"), [r"x\s+(Complete\s+)?5/1 of 5\s+\d+s\s+%s" % AGE])

    def test_r24_work_queue_one_success_ends_it(self):
        script = "if mkdir %s/first 2>/dev/null; then exit 0; fi; sleep 1; exit 1" % self.marks
        st = self.run_job(shjob("x", script, parallelism=3))
        wait_until(lambda: self.status("x").get("failed") == 2, 20, "both failures counted")
        self.assert_counts(self.status("x"), succeeded=1, failed=2)
        self.assertEqual(len(self.pods("x")), 3)
        self.assertEqual(st.get("succeeded"), 1)

    def test_r19_r31_r32_pod_shape_status_and_events(self):
        st = self.run_job(shjob("x", "exit 0"))
        self.assert_counts(st, succeeded=1)
        job = self.job("x")
        uid = job["metadata"]["uid"]
        conds = st["conditions"]
        self.assertEqual([(c["type"], c["status"], c["reason"]) for c in conds],
                         [("SuccessCriteriaMet", "True", "CompletionsReached"),
                          ("Complete", "True", "CompletionsReached")])
        self.assertEqual(st["completionTime"], conds[1]["lastTransitionTime"])
        self.assertEqual(st.get("ready", 0), 0)
        self.assertEqual(st.get("terminating", 0), 0)
        self.assert_no_finalizers("x")
        (p,) = self.pods("x")
        self.assertRegex(p["metadata"]["name"], r"^x-%s$" % POD_NAME.pattern)
        self.assertEqual(p["metadata"]["ownerReferences"],
                         [{"apiVersion": "batch/v1", "kind": "Job", "name": "x", "uid": uid,
                           "controller": True, "blockOwnerDeletion": True}])
        self.assertEqual(p["metadata"]["labels"], {
            "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "x",
            "controller-uid": uid, "job-name": "x"})
        self.assertEqual(p["status"]["phase"], "Succeeded")
        evs = self.events("x")
        self.assertIn(("Normal", "SuccessfulCreate", "Created pod: " + p["metadata"]["name"], 1), evs)
        self.assertIn(("Normal", "Completed", "Job completed", 1), evs)
        self.expect_lines(self.k("get", "job", "x"), [r"x\s+(Complete\s+)?1/1\s+\d+s\s+%s" % AGE])
        st, _, body = self.s.http("GET", "/metrics")
        text = body.decode()
        for line in ('job_controller_jobs_finished_total{completion_mode="NonIndexed",'
                     'reason="CompletionsReached",result="succeeded"} 1',
                     'job_controller_job_pods_finished_total{completion_mode="NonIndexed",result="succeeded"} 1',
                     'job_controller_job_pods_creation_total{reason="new",status="succeeded"} 1'):
            self.assertIn(line + "\n", text)
        self.assertRegex(text, r'job_controller_job_syncs_total\{action="pods_created",'
                               r'completion_mode="NonIndexed",result="success"\} 1\n')
        self.assertIn("# TYPE job_controller_job_sync_duration_seconds histogram\n", text)

    def test_r29_zero_completions_complete_at_once(self):
        st = self.run_job(shjob("x", "exit 0", completions=0), timeout=5)
        self.assert_counts(st)
        self.assertEqual(self.pods("x"), [])

    def test_r28_zero_parallelism_then_one(self):
        self.create(shjob("x", "exit 0", parallelism=0))
        wait_until(lambda: "startTime" in self.status("x"), 5, "startTime")
        time.sleep(0.5)
        self.assertEqual(self.pods("x"), [])
        self.expect_out(self.k("patch", "job", "x", "-p", '{"spec":{"parallelism":1}}'), "job.batch/x patched")
        self.assert_counts(self.wait_condition("x", "Complete"), succeeded=1)

    def test_r30_orphans_are_adopted_and_relabelled_pods_released(self):
        self.create(shjob("x", "sleep 300", parallelism=1, completions=1))
        wait_until(lambda: self.status("x").get("active") == 1, 20, "a pod")
        (p,) = self.pods("x")
        name = p["metadata"]["name"]
        self.ok("patch", "pod", name, "--type=json", "-p", '[{"op":"remove","path":"/metadata/ownerReferences"}]')
        wait_until(lambda: self.get_pod(name)["metadata"].get("ownerReferences"), 10, "the pod re-adopted")
        again = self.get_pod(name)["metadata"]
        self.assertEqual(again["ownerReferences"][0]["uid"], self.job("x")["metadata"]["uid"])
        self.assertIn("batch.kubernetes.io/job-tracking", again.get("finalizers", []))
        self.assertEqual([q["metadata"]["name"] for q in self.pods("x")], [name], "a replacement appeared")
        self.ok("label", "pod", name, "batch.kubernetes.io/controller-uid-", "controller-uid-")
        wait_until(lambda: "ownerReferences" not in self.get_pod(name)["metadata"], 10, "the pod released")
        self.assertNotIn("finalizers", self.get_pod(name)["metadata"])
        wait_until(lambda: any(q["metadata"]["name"] != name for q in self.pods("x")), 10, "a replacement")

    def get_pod(self, name):
        return self.s.json("GET", "/api/v1/namespaces/default/pods/" + name, expect=200)[1]

    def test_r33_running_pod_is_active_and_ready(self):
        self.create(shjob("x", "sleep 30"))
        wait_until(lambda: self.status("x").get("ready") == 1, 20, "ready=1 (%s)" % self.status)
        st = self.status("x")
        self.assertEqual((st.get("active"), st.get("ready"), st.get("terminating", 0)), (1, 1, 0))

    def test_r35_backoff_limit_zero(self):
        st = self.run_job(shjob("x", "exit 1", backoffLimit=0), "Failed")
        self.assert_counts(st, failed=1)
        self.assertEqual([(c["type"], c["reason"]) for c in st["conditions"]],
                         [("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")])
        self.assertEqual(st["conditions"][1]["message"], "Job has reached the specified backoff limit")
        self.assertNotIn("completionTime", st)
        self.assertEqual(len(self.pods("x")), 1)
        self.assertIn(("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit", 1),
                      self.events("x"))
        self.expect_lines(self.k("get", "job", "x"), [r"x\s+(Failed\s+)?0/1\s+\d+s\s+%s" % AGE])
        self.expect_lines(self.k("get", "pods"), [r"x-%s\s+0/1\s+Error\s+0\s+%s" % (POD_NAME.pattern, AGE)])

    def test_r36_backoff_limit_two_waits_between_pods(self):
        st = self.run_job(shjob("x", self.logged("exit 1"), backoffLimit=2), "Failed")
        self.assert_counts(st, failed=3)
        self.assertEqual(len(self.pods("x")), 3)
        runs = sorted(spans(self.log_path))
        self.assertEqual(len(runs), 3, runs)
        self.assertGreaterEqual(runs[1][0] - runs[0][1], 10 * SCALE, runs)
        self.assertGreaterEqual(runs[2][0] - runs[1][1], 20 * SCALE, runs)

    def test_r37_failure_on_first_run_only(self):
        script = self.logged("mkdir %s/ran 2>/dev/null && exit 1; exit 0" % self.marks)
        st = self.run_job(shjob("x", script, completions=3, parallelism=1))
        self.assert_counts(st, succeeded=3, failed=1)
        self.assertEqual(len(self.pods("x")), 4)
        runs = sorted(spans(self.log_path))
        self.assertGreaterEqual(runs[1][0] - runs[0][1], 10 * SCALE, runs)

    def test_r39_r44_deadline_fails_running_pods(self):
        st = self.run_job(shjob("x", "sleep 300", parallelism=2, completions=4, activeDeadlineSeconds=2),
                          "Failed", timeout=20)
        self.assertEqual([(c["type"], c["reason"]) for c in st["conditions"]],
                         [("FailureTarget", "DeadlineExceeded"), ("Failed", "DeadlineExceeded")])
        self.assertEqual(st["conditions"][1]["message"], "Job was active longer than specified deadline")
        self.assert_counts(st, failed=2)
        self.assertEqual(st.get("terminating", 0), 0)
        self.assertIn("Warning", [e[0] for e in self.events("x") if e[1] == "DeadlineExceeded"])

    def test_r39_failure_of_one_counts_the_deleted_other(self):
        script = "if mkdir %s/first 2>/dev/null; then exit 1; fi; sleep 300" % self.marks
        st = self.run_job(shjob("x", script, parallelism=2, completions=2, backoffLimit=0), "Failed")
        self.assert_counts(st, failed=2)

    def test_r41_on_failure_restarts_count_against_the_limit(self):
        st = self.run_job(shjob("x", "exit 1", restart="OnFailure", backoffLimit=2), "Failed")
        self.assert_counts(st, failed=1)
        self.assertEqual(st["conditions"][-1]["reason"], "BackoffLimitExceeded")
        wait_until(lambda: self.pods("x") == [], 20, "the failed OnFailure pod to be deleted")

    def test_r40_on_failure_restart_then_success(self):
        # each pod fails on its first run (a marker per pod name) and succeeds after a restart
        script = "mkdir %s/$HOSTNAME 2>/dev/null && exit 1; exit 0" % self.marks
        st = self.run_job(shjob("x", script, restart="OnFailure", completions=2, parallelism=2))
        self.assert_counts(st, succeeded=2)
        pods = self.pods("x")
        self.assertEqual([p["status"]["containerStatuses"][0]["restartCount"] for p in pods], [1, 1])

    def test_r43_on_failure_restarts_summed_across_pods(self):
        script = "mkdir %s/$HOSTNAME 2>/dev/null && exit 1; sleep 3; exit 0" % self.marks
        st = self.run_job(shjob("x", script, restart="OnFailure", completions=2, parallelism=2,
                                backoffLimit=1), "Failed")
        self.assertEqual(st["conditions"][-1]["reason"], "BackoffLimitExceeded")
        self.assert_counts(st, failed=2)

    def test_r47_deleting_a_running_pod_counts_a_failure_and_replaces_it(self):
        self.create(shjob("x", "sleep 300"))
        wait_until(lambda: self.status("x").get("active") == 1 and len(self.pods("x")) == 1, 20, "one pod")
        (p,) = self.pods("x")
        self.s.json("DELETE", "/api/v1/namespaces/default/pods/" + p["metadata"]["name"], expect=200)
        wait_until(lambda: self.status("x").get("failed") == 1, 10, "failed=1")
        wait_until(lambda: any(q["metadata"]["name"] != p["metadata"]["name"] and
                               q["status"].get("phase") == "Running" for q in self.pods("x")), 20,
                   "a replacement pod")

    def test_r48_replacement_policy_failed_waits_for_the_failure(self):
        script = "trap 'sleep 1; exit 1' TERM; sleep 300 & wait"
        job = shjob("x", script, podReplacementPolicy="Failed")
        job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 10
        self.create(job)
        wait_until(lambda: self.status("x").get("ready") == 1, 20, "a ready pod")
        (p,) = self.pods("x")
        self.s.json("DELETE", "/api/v1/namespaces/default/pods/" + p["metadata"]["name"], expect=200)
        wait_until(lambda: self.status("x").get("terminating") == 1, 5, "terminating=1")
        st = self.status("x")
        self.assertEqual((st.get("active", 0), st.get("failed", 0)), (0, 0), json.dumps(st))
        self.assertEqual(len(self.pods("x")), 1, "replaced before it failed")
        wait_until(lambda: self.status("x").get("failed") == 1, 10, "failed=1 once the pod failed")
        wait_until(lambda: any(q["metadata"]["name"] != p["metadata"]["name"] for q in self.pods("x")), 10,
                   "the replacement")

    def test_r49_pod_deadline_fails_the_job(self):
        st = self.run_job(shjob("x", "sleep 30", backoffLimit=0,
                                template={"spec": {
                                    "containers": [{"name": "main", "image": "busybox",
                                                    "command": ["sleep", "30"]}],
                                    "restartPolicy": "Never", "activeDeadlineSeconds": 1}}), "Failed")
        self.assertEqual(st["conditions"][-1]["reason"], "BackoffLimitExceeded")
        (p,) = self.pods("x")
        self.assertEqual((p["status"]["phase"], p["status"].get("reason")), ("Failed", "DeadlineExceeded"))

    def test_r27_parallelism_up_and_down(self):
        self.create(shjob("x", "sleep 300", completions=6, parallelism=1))
        wait_until(lambda: self.status("x").get("active") == 1, 20, "1 active")
        self.ok("patch", "job", "x", "-p", '{"spec":{"parallelism":3}}')
        wait_until(lambda: self.status("x").get("active") == 3, 5, "3 active")
        self.ok("patch", "job", "x", "-p", '{"spec":{"parallelism":1}}')
        wait_until(lambda: self.status("x").get("active") == 1, 10, "1 active again")
        wait_until(lambda: sum(1 for e in self.events("x") if e[1] == "SuccessfulDelete") == 2, 10,
                   "two SuccessfulDelete events (%s)" % self.events)
        time.sleep(1.5)  # the deleted pods end during their grace period; none may count as failed
        self.assertEqual(self.status("x").get("failed", 0), 0)

    def test_r63_r64_created_suspended_then_resumed(self):
        self.create(shjob("x", "exit 0", suspend=True))
        st = self.wait_condition("x", "Suspended")
        self.assertNotIn("startTime", st)
        c = [c for c in st["conditions"] if c["type"] == "Suspended"][0]
        self.assertEqual((c["reason"], c["message"]), ("JobSuspended", "Job suspended"))
        self.assertIn(("Normal", "Suspended", "Job suspended", 1), self.events("x"))
        self.expect_lines(self.k("get", "job", "x"), [r"x\s+(Suspended\s+)?0/1\s+%s" % AGE])
        self.assertEqual(self.pods("x"), [])
        self.ok("patch", "job", "x", "-p", '{"spec":{"suspend":false}}')
        st = self.wait_condition("x", "Complete")
        self.assertIn("startTime", st)
        c = [c for c in st["conditions"] if c["type"] == "Suspended"][0]
        self.assertEqual((c["status"], c["reason"]), ("False", "JobResumed"))
        self.assertIn(("Normal", "Resumed", "Job resumed", 1), self.events("x"))

    def test_r65_suspending_a_running_job(self):
        self.create(shjob("x", "sleep 300", parallelism=2, completions=4))
        wait_until(lambda: self.status("x").get("active") == 2, 20, "2 active")
        self.ok("patch", "job", "x", "-p", '{"spec":{"suspend":true}}')
        wait_until(lambda: self.status("x").get("active", 0) == 0 and self.pods("x") == [], 20, "no pods")
        self.assertEqual(self.status("x").get("failed", 0), 0)
        self.assertEqual(sum(1 for e in self.events("x") if e[1] == "SuccessfulDelete"), 2)

    def test_r18_r20_r25_indexed_pods(self):
        script = self.logged('echo "$JOB_COMPLETION_INDEX $HOSTNAME $(hostname)" > %s/ix-$JOB_COMPLETION_INDEX; '
                             'sleep 0.2' % self.marks)
        st = self.run_job(shjob("ix", script, completions=4, parallelism=2, completionMode="Indexed"))
        self.assert_counts(st, succeeded=4)
        self.assertEqual(st["completedIndexes"], "0-3")
        pods = self.pods("ix")
        self.assertEqual(len(pods), 4)
        for p in pods:
            meta = p["metadata"]
            i = meta["annotations"]["batch.kubernetes.io/job-completion-index"]
            self.assertEqual(meta["labels"]["batch.kubernetes.io/job-completion-index"], i)
            self.assertRegex(meta["name"], r"^ix-%s-%s$" % (i, POD_NAME.pattern))
            self.assertEqual(p["spec"]["hostname"], "ix-" + i)
            # as root a pod has its own UTS namespace: `hostname` says ix-<i> too
            host = "ix-" + i if os.geteuid() == 0 else socket.gethostname()
            self.assertEqual(read_file(os.path.join(self.marks, "ix-" + i)), "%s ix-%s %s\n" % (i, i, host))
        first_two = sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
                           for p in pods[:2])
        self.assertEqual(first_two, ["0", "1"])
        self.assertLessEqual(max_overlap(spans(self.log_path)), 2)

    def test_r26_completed_indexes_intervals(self):
        script = 'case $JOB_COMPLETION_INDEX in 2|6) sleep 300;; esac'
        self.create(shjob("ix", script, completions=8, parallelism=8, completionMode="Indexed"))
        wait_until(lambda: self.status("ix").get("completedIndexes") == "0,1,3-5,7", 30,
                   "completedIndexes 0,1,3-5,7 (%s)" % self.status)
        st = self.status("ix")
        self.assertEqual((st.get("succeeded"), st.get("active")), (6, 2))
        self.assertNotIn("conditions", st)

    def pfp(self, *rules):
        return {"rules": [dict(action=a, onExitCodes={"operator": op, "values": list(v)}) for a, op, v in rules]}

    def test_r50_fail_job_rule(self):
        script = "if mkdir %s/first 2>/dev/null; then exit 42; fi; sleep 300" % self.marks
        st = self.run_job(shjob("x", script, parallelism=2, completions=2,
                                podFailurePolicy=self.pfp(("FailJob", "In", [42]))), "Failed")
        c = st["conditions"][-1]
        self.assertEqual((c["type"], c["reason"]), ("Failed", "PodFailurePolicy"))
        self.assertRegex(c["message"], r"^Container main for pod default/x-%s failed with exit code 42 "
                                       r"matching FailJob rule at index 0$" % POD_NAME.pattern)
        self.assertEqual(st["conditions"][0]["type"], "FailureTarget")
        self.assert_counts(st, failed=2)
        self.assertIn("PodFailurePolicy", [e[1] for e in self.events("x") if e[0] == "Warning"])

    def test_r51_ignore_rule_replaces_without_counting(self):
        script = self.logged("mkdir %s/ran 2>/dev/null && exit 3; exit 0" % self.marks)
        st = self.run_job(shjob("x", script, backoffLimit=0,
                                podFailurePolicy=self.pfp(("Ignore", "In", [3]))))
        self.assert_counts(st, succeeded=1)
        self.assertEqual(len(self.pods("x")), 2)
        runs = sorted(spans(self.log_path))
        self.assertGreaterEqual(runs[1][0] - runs[0][1], 10 * SCALE, runs)

    def test_r52_r53_unmatched_codes_count_and_zero_never_matches(self):
        st = self.run_job(shjob("a", "exit 5", backoffLimit=0,
                                podFailurePolicy=self.pfp(("Ignore", "In", [3]))), "Failed")
        self.assertEqual(st["conditions"][-1]["reason"], "BackoffLimitExceeded")
        self.assert_counts(st, failed=1)
        st = self.run_job(shjob("b", "exit 0", podFailurePolicy=self.pfp(("FailJob", "NotIn", [1]))))
        self.assert_counts(st, succeeded=1)

    def test_r54_evicted_pod_ignored_by_disruption_target_rule(self):
        pfp = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
        job = shjob("x", "mkdir %s/first 2>/dev/null && exec sleep 300; exit 0" % self.marks,
                    backoffLimit=0, podFailurePolicy=pfp)
        self.create(job, expect="job.batch/x created")
        wait_until(lambda: os.path.exists(os.path.join(self.marks, "first")), 30, "the first run")
        (first,) = self.pods("x")
        name = first["metadata"]["name"]
        eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                    "metadata": {"name": name, "namespace": "default"}}
        st, body = self.s.json("POST", "/api/v1/namespaces/default/pods/%s/eviction" % name, eviction)
        self.assertEqual((st, body.get("status"), body.get("code")), (201, "Success", 201), body)
        # the evicted pod fails with the condition; the Job ignores it (backoffLimit 0 would fail)
        st = self.wait_condition("x", "Complete")
        self.assert_counts(st, succeeded=1)
        self.assertEqual(len([e for e in self.events("x") if e[1] == "SuccessfulCreate"]), 2)

    def test_r55_deleted_pod_replaced_only_once_failed(self):
        """Under a podFailurePolicy (podReplacementPolicy Failed), a pod being deleted keeps its
        place until it has Failed: no replacement runs beside it during its grace period."""
        job = shjob("x", "trap '' TERM; mkdir %s/first 2>/dev/null && sleep 300; exit 0" % self.marks,
                    podFailurePolicy=self.pfp(("FailJob", "In", [42])))
        job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 2
        self.create(job, expect="job.batch/x created")
        wait_until(lambda: os.path.exists(os.path.join(self.marks, "first")), 30, "the first run")
        (first,) = self.pods("x")
        t0 = time.monotonic()
        name = first["metadata"]["name"]
        self.ok("delete", "pod", name, "--wait=false")
        seen = {}  # the old pod's phase whenever a replacement is first seen
        def replaced():
            pods = self.pods("x")
            if any(p["metadata"]["name"] != name for p in pods):
                seen["old"] = [p["status"].get("phase") for p in pods if p["metadata"]["name"] == name]
                return True
            return False
        wait_until(replaced, 30, "a replacement pod")
        waited = time.monotonic() - t0
        self.assertIn(seen["old"], ([], ["Failed"]))  # replaced only once it had failed
        self.assertGreaterEqual(waited, 1.5, "replaced %.1f s after the delete: within the grace period" % waited)
        st = self.wait_condition("x", "Complete")
        self.assert_counts(st, succeeded=1, failed=1)

    def ixjob(self, name, script, completions, parallelism, **spec):
        return shjob(name, script, completions=completions, parallelism=parallelism,
                     completionMode="Indexed", **spec)

    def test_r56_r57_failed_indexes(self):
        script = "exit $((JOB_COMPLETION_INDEX % 2))"
        st = self.run_job(self.ixjob("x", script, 4, 2, backoffLimitPerIndex=1), "Failed")
        self.assertEqual(st["conditions"][-1]["reason"], "FailedIndexes")
        self.assertEqual(st["conditions"][-1]["message"], "Job has failed indexes")
        self.assertEqual((st.get("failedIndexes"), st.get("completedIndexes")), ("1,3", "0,2"))
        self.assert_counts(st, succeeded=2, failed=4)
        one = [p for p in self.pods("x") if p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "1"]
        self.assertEqual(sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"]
                                for p in one), ["0", "1"])

    def test_r58_max_failed_indexes(self):
        st = self.run_job(self.ixjob("x", "exit 1", 4, 1, backoffLimitPerIndex=0, maxFailedIndexes=0), "Failed")
        self.assertEqual(st["conditions"][-1]["reason"], "MaxFailedIndexesExceeded")
        self.assertEqual(st["conditions"][-1]["message"],
                         "Job has exceeded the specified maximal number of failed indexes")
        self.assertEqual(st.get("failedIndexes"), "0")
        self.assert_counts(st, failed=1)
        self.assertEqual(len(self.pods("x")), 1)

    def test_r59_fail_index_rule(self):
        pfp = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}}]}
        st = self.run_job(self.ixjob("x", "exit $JOB_COMPLETION_INDEX", 2, 2, backoffLimitPerIndex=1,
                                     podFailurePolicy=pfp), "Failed")
        self.assertEqual((st.get("failedIndexes"), st.get("completedIndexes")), ("1", "0"))
        self.assert_counts(st, succeeded=1, failed=1)
        self.assertEqual(len(self.pods("x")), 2)

    def test_ignored_failures_are_not_tries_of_the_index(self):
        pfp = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}]}
        script = "mkdir %s/ran 2>/dev/null && exit 3; exit 0" % self.marks
        st = self.run_job(self.ixjob("x", script, 1, 1, backoffLimitPerIndex=0, podFailurePolicy=pfp))
        self.assert_counts(st, succeeded=1)
        pods = self.pods("x")
        self.assertEqual(len(pods), 2)
        (second,) = [p for p in pods if p["status"]["phase"] == "Succeeded"]
        ann = second["metadata"]["annotations"]
        self.assertEqual((ann["batch.kubernetes.io/job-index-failure-count"],
                          ann["batch.kubernetes.io/job-index-ignored-failure-count"]), ("0", "1"))

    def test_r60_success_policy_indexes(self):
        script = "[ $JOB_COMPLETION_INDEX = 0 ] && exit 0; sleep 300"
        st = self.run_job(self.ixjob("x", script, 5, 5, successPolicy={"rules": [{"succeededIndexes": "0"}]}))
        self.assertEqual([(c["type"], c["reason"], c["message"]) for c in st["conditions"]],
                         [("SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 0"),
                          ("Complete", "SuccessPolicy", "Matched rules at index 0")])
        self.assertEqual(st.get("completedIndexes"), "0")
        self.assert_counts(st, succeeded=1)
        wait_until(lambda: len(self.pods("x")) == 1, 20, "the other pods to be deleted")
        self.expect_lines(self.k("get", "job", "x"), [r"x\s+(Complete\s+)?1/5\s+\d+s\s+%s" % AGE])

    def test_r61_r62_success_policy_count(self):
        script = "[ $JOB_COMPLETION_INDEX -lt 2 ] && exit 0; sleep 300"
        st = self.run_job(self.ixjob("x", script, 4, 4, successPolicy={"rules": [{"succeededCount": 2}]}))
        self.assert_counts(st, succeeded=2)
        self.assertEqual(st["conditions"][-1]["reason"], "SuccessPolicy")
        st = self.run_job(self.ixjob("y", "exit 0", 2, 2, successPolicy={"rules": [{"succeededCount": 2}]}))
        self.assertEqual(st["conditions"][-1]["reason"], "SuccessPolicy")
        self.assert_counts(st, succeeded=2)

    def test_r42_on_failure_limit_zero(self):
        st = self.run_job(shjob("x", "exit 1", restart="OnFailure", backoffLimit=0), "Failed")
        self.assertEqual(st["conditions"][-1]["reason"], "BackoffLimitExceeded")
        self.assert_counts(st, failed=1)

    def test_r46_failure_target_while_pods_terminate(self):
        # the first pod fails only once the second has its trap set: a SIGTERM before that would
        # end it at once, and the Job would rightly be Failed straight away
        script = ("if mkdir {m}/first 2>/dev/null; then"
                  " until [ -e {m}/armed ]; do sleep 0.05; done; exit 1; fi; "
                  "trap 'sleep 2; exit 0' TERM; touch {m}/armed; sleep 300 & wait").format(m=self.marks)
        job = shjob("x", script, parallelism=2, completions=2, backoffLimit=0)
        job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 10
        self.create(job)
        st = self.wait_condition("x", "FailureTarget", timeout=20)
        self.assertNotIn("Failed", [c["type"] for c in st["conditions"]])
        wait_until(lambda: self.status("x").get("terminating") == 1, 5, "terminating=1")
        st = self.status("x")
        self.assertEqual(st.get("active", 0), 0)
        self.assertNotIn("Failed", [c["type"] for c in st["conditions"]], "Failed before the pod ended")
        st = self.wait_condition("x", "Failed", timeout=15)
        self.assert_counts(st, failed=2)
        self.assertEqual(st.get("terminating", 0), 0)

    def test_r66_deadline_does_not_tick_while_suspended(self):
        self.create(shjob("x", "sleep 300", activeDeadlineSeconds=2, suspend=True))
        time.sleep(3)
        self.assertNotIn("FailureTarget", [c["type"] for c in self.status("x").get("conditions", [])])
        self.ok("patch", "job", "x", "-p", '{"spec":{"suspend":false}}')
        resumed = time.time()
        wait_until(lambda: self.status("x").get("active") == 1, 10, "a pod after the resume")
        st = self.wait_condition("x", "Failed", timeout=15)
        self.assertEqual(st["conditions"][-1]["reason"], "DeadlineExceeded")
        # counted from the new startTime, which has whole seconds (as upstream): up to 1 s early
        self.assertGreaterEqual(time.time() - resumed, 1.0)

    def test_elastic_indexed_scale_down_and_up(self):
        script = "[ $JOB_COMPLETION_INDEX -lt 2 ] && exit 0; sleep 300"
        self.create(self.ixjob("x", script, 4, 4))
        wait_until(lambda: self.status("x").get("completedIndexes") == "0,1", 20, "indexes 0 and 1 done")
        self.ok("patch", "job", "x", "-p", '{"spec":{"completions":2,"parallelism":2}}')
        st = self.wait_condition("x", "Complete")
        self.assertEqual(st.get("completedIndexes"), "0,1")
        self.assert_counts(st, succeeded=2)
        self.create(self.ixjob("y", "exit 0", 2, 2))
        self.wait_condition("y", "Complete")
        r = self.k("patch", "job", "y", "-p", '{"spec":{"completions":3}}')
        self.expect_rc(r, 1)
        self.assertIn("spec.completions: Invalid value: 3: can only be modified in tandem with spec.parallelism",
                      r.err)

    def test_r15_mutable_and_immutable_fields(self):
        self.create(shjob("x", "sleep 300", completions=3))
        gen = self.job("x")["metadata"]["generation"]
        self.ok("patch", "job", "x", "-p", '{"spec":{"backoffLimit":3,"activeDeadlineSeconds":100}}')
        self.assertEqual(self.job("x")["metadata"]["generation"], gen + 1)
        r = self.k("patch", "job", "x", "-p", '{"spec":{"completions":4}}')
        self.expect_rc(r, 1)
        self.assertIn("spec.completions: Invalid value: 4: field is immutable", r.err)


@unittest.skipIf(KV is None, "no kubectl found")
class Backoff(JobCase):
    """Back-off rules whose timing needs a coarser scale: 10 s becomes 1 s."""
    V = KV
    server_args = ("--backoff-scale", "0.1")

    def test_r38_a_success_resets_the_backoff(self):
        script = self.logged("n=$(ls %s | wc -l); touch %s/$n; case $n in 0|2) exit 1;; esac; exit 0"
                             % (self.marks, self.marks))
        st = self.run_job(shjob("x", script, completions=2, parallelism=1), timeout=30)
        self.assert_counts(st, succeeded=2, failed=2)
        runs = sorted(spans(self.log_path))
        self.assertEqual(len(runs), 4, runs)
        self.assertGreaterEqual(runs[1][0] - runs[0][1], 1.0, runs)
        gap = runs[3][0] - runs[2][1]
        self.assertGreaterEqual(gap, 1.0, runs)
        self.assertLess(gap, 1.9, "the back-off did not reset after the success: %s" % runs)

    def test_r45_deadline_during_backoff(self):
        # failures at t1 and t1+1+r, the third pod due at t1+r+3 > 3: the deadline falls in the
        # 2 s back-off whenever the first two runs take under 2 s in all (1 s of slack at 2)
        st = self.run_job(shjob("x", "exit 1", activeDeadlineSeconds=3), "Failed", timeout=30)
        self.assertEqual(st["conditions"][-1]["reason"], "DeadlineExceeded")
        self.assert_counts(st, failed=2)


@unittest.skipIf(KV is None, "no kubectl found")
class Deletion(JobCase):
    V = KV

    def start(self):
        self.create(shjob("x", "trap \"\" TERM; sleep 300 & wait", parallelism=2, completions=2))
        wait_until(lambda: self.status("x").get("active") == 2, 20, "2 active")
        return [p["metadata"]["name"] for p in self.pods("x")]

    def test_r67_background(self):
        self.start()
        self.expect_out(self.k("delete", "job", "x"), 'job.batch "x" deleted')
        self.s.json("GET", JOBS + "x", expect=404)
        wait_until(lambda: self.pods("x") == [], 20, "the pods to go")

    def test_r68_orphan(self):
        names = self.start()
        self.expect_out(self.k("delete", "job", "x", "--cascade=orphan"), 'job.batch "x" deleted')
        wait_until(lambda: self.s.json("GET", JOBS + "x")[0] == 404, 10, "the job to go")
        time.sleep(0.5)
        pods = self.pods("x")
        self.assertEqual(sorted(p["metadata"]["name"] for p in pods), sorted(names))
        for p in pods:
            self.assertEqual(p["status"]["phase"], "Running")
            self.assertNotIn("ownerReferences", p["metadata"])
            self.assertNotIn("finalizers", p["metadata"])

    def test_r69_foreground(self):
        self.start()
        r = self.k("delete", "job", "x", "--cascade=foreground", "--wait=false")
        self.expect_out(r, 'job.batch "x" deleted')
        self.assertIn("foregroundDeletion", self.job("x")["metadata"]["finalizers"])
        wait_until(lambda: self.s.json("GET", JOBS + "x")[0] == 404, 20, "the job to go after its pods")
        self.assertEqual(self.pods("x"), [])

    def test_r71_ttl_after_finished(self):
        self.create(shjob("t0", "exit 0", ttlSecondsAfterFinished=0))
        self.create(shjob("t1", "exit 1", backoffLimit=0, ttlSecondsAfterFinished=0))
        self.create(shjob("t2", "exit 0", ttlSecondsAfterFinished=2))
        for name in ("t0", "t1"):  # right after finishing, Complete or Failed, pods too
            wait_until(lambda: self.s.json("GET", JOBS + name)[0] == 404 and self.pods(name) == [], 10,
                       "job %s and its pods to go" % name)
        st = self.wait_condition("t2", "Complete")
        finished = time.time()
        self.assertEqual(len(self.pods("t2")), 1)
        wait_until(lambda: self.s.json("GET", JOBS + "t2")[0] == 404, 10, "job t2 to go")
        self.assertGreaterEqual(time.time() - finished, 1.0, st)
        wait_until(lambda: self.pods("t2") == [], 10, "t2's pod to go")

    def test_r70_raw_delete_orphans(self):
        names = self.start()
        self.s.json("DELETE", JOBS + "x", expect=200)
        wait_until(lambda: self.s.json("GET", JOBS + "x")[0] == 404, 10, "the job to go")
        time.sleep(0.5)
        self.assertEqual(sorted(p["metadata"]["name"] for p in self.pods("x")), sorted(names))


@unittest.skipIf(KV is None, "no kubectl found")
class Crash(JobCase):
    """kill -9 at random moments during a 200-completion parallel Job, restart, repeat: the Job
    ends with exactly 200 successes, no failure, and no pod beyond the 200 it needed."""
    V = KV
    COMPLETIONS = 200

    def test_kill9_loop_counts_every_completion_once(self):
        rnd = random.Random(os.environ.get("JP_SEED", "4242"))
        script = self.logged("sleep 0.%d" % rnd.randint(1, 3))
        self.create(shjob("crash", script, completions=self.COMPLETIONS, parallelism=10))
        kills, t0 = 0, time.monotonic()
        while True:
            time.sleep(rnd.uniform(0.1, 0.9))
            st = self.status("crash")
            if any(c["type"] == "Complete" for c in st.get("conditions", [])):
                break
            self.assertEqual(self.s.kill9(), -signal.SIGKILL)
            kills += 1
            self.s.start()
            self.assertLess(time.monotonic() - t0, 240, "the Job never completed (status %s)" % st)
        st = self.wait_condition("crash", "Complete")
        pods = self.pods("crash")
        bad = [(p["metadata"]["name"], p["status"]) for p in pods if p["status"].get("phase") != "Succeeded"]
        self.assertEqual(bad, [], json.dumps(bad, indent=1))
        self.assert_counts(st, succeeded=self.COMPLETIONS)
        self.assertEqual(len(pods), self.COMPLETIONS, "pods beyond what the Job needed")
        self.assertTrue(all(p["status"]["phase"] == "Succeeded" for p in pods))
        runs = spans(self.log_path)
        print("\n  job crash loop: %d kills, %d pods, %d runs logged, %.1fs"
              % (kills, len(pods), len(runs), time.monotonic() - t0))
        self.assertGreaterEqual(kills, 3)


if __name__ == "__main__":
    unittest.main()
