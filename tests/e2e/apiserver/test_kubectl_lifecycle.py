"""The real kubectl (1.27 and 1.33) against `jobplane server`: delete (three cascades, owner
references, GC), wait (condition, delete, timeout), get -w, scale, describe pod, events.

There are no controllers yet, so the tests play the job controller themselves: they create pods
with ownerReferences, write Job status through the status subresource, and create Events.
"""
import json
import os
import re
import time
import unittest

from jpserver import AGE, chapter, event, job, per_version, pod, rfc3339, wait_until



def complete_status(start, end):
    cond = {"status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods",
            "lastProbeTime": end, "lastTransitionTime": end}
    return {"status": {"startTime": start, "completionTime": end, "active": 0, "ready": 0, "terminating": 0,
                       "succeeded": 1, "failed": 0, "uncountedTerminatedPods": {},
                       "conditions": [dict(cond, type="SuccessCriteriaMet"), dict(cond, type="Complete")]}}


class Delete:
    def names(self, resource):
        r = self.k("get", resource, "-o", "name")
        self.expect_rc(r, 0)
        return sorted(r.out.split())

    def owned_pods(self, jobname, n=2):
        uid = self.uid("job", jobname)
        for i in range(n):
            self.create(pod("%s-p%d" % (jobname, i), labels={"job-name": jobname}, owner=("Job", jobname, uid)),
                        "pod/%s-p%d created" % (jobname, i))
        return uid

    def timed(self, *args, limit=10):
        t0 = time.monotonic()
        r = self.k(*args, timeout=limit + 20)
        dt = time.monotonic() - t0
        if dt > limit:
            self.fail_with(r, "expected the command to return within %ss, it took %.1fs" % (limit, dt))
        return r

    def test_delete_background_default(self):
        self.create(job("x"), "job.batch/x created")
        self.owned_pods("x")
        self.create(pod("bystander"), "pod/bystander created")
        r = self.timed("delete", "job", "x")
        self.expect_out(r, 'job.batch "x" deleted')
        self.expect_err(self.k("get", "job", "x"), 'Error from server (NotFound): jobs.batch "x" not found')
        wait_until(lambda: self.names("pods") == ["pod/bystander"], 15,
                   "the Job's pods to be garbage-collected (background); pods now: %s" % self.names("pods"))

    def test_delete_foreground(self):
        self.create(job("x"), "job.batch/x created")
        self.owned_pods("x")
        r = self.timed("delete", "job", "x", "--cascade=foreground", limit=15)
        self.expect_out(r, 'job.batch "x" deleted')
        self.expect_err(self.k("get", "job", "x"), 'Error from server (NotFound): jobs.batch "x" not found')
        # foreground: the dependents are gone before the owner
        self.assertEqual(self.names("pods"), [], "pods left after a foreground delete")

    def test_delete_orphan(self):
        self.create(job("x"), "job.batch/x created")
        self.owned_pods("x")
        r = self.timed("delete", "job", "x", "--cascade=orphan")
        self.expect_out(r, 'job.batch "x" deleted')
        self.expect_err(self.k("get", "job", "x"), 'Error from server (NotFound): jobs.batch "x" not found')
        self.assertEqual(self.names("pods"), ["pod/x-p0", "pod/x-p1"], "orphaned pods must stay")
        for p in ("x-p0", "x-p1"):
            refs = self.ok("get", "pod", p, "-o", "jsonpath={.metadata.ownerReferences}")
            self.assertEqual(refs, "", "pod %s still has ownerReferences after an orphan delete" % p)

    def test_foreground_waits_for_finalized_dependents(self):
        """Real Job pods carry the batch.kubernetes.io/job-tracking finalizer: with foreground deletion
        the Job shows Terminating (deletionTimestamp + foregroundDeletion finalizer) until its pods are gone."""
        self.create(job("x"), "job.batch/x created")
        uid = self.uid("job", "x")
        p = pod("x-abcde", labels={"job-name": "x"}, owner=("Job", "x", uid))
        p["metadata"]["finalizers"] = ["batch.kubernetes.io/job-tracking"]
        self.create(p, "pod/x-abcde created")
        self.expect_out(self.timed("delete", "job", "x", "--cascade=foreground", "--wait=false"), 'job.batch "x" deleted')
        r = self.k("get", "job", "x")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE", r"x\s+Terminating\s+0/1\s+%s" % AGE])
        fin = self.ok("get", "job", "x", "-o", "jsonpath={.metadata.finalizers} {.metadata.deletionTimestamp}")
        if not re.fullmatch(r'\["foregroundDeletion"\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', fin):
            self.fail("expected the Job's finalizers [\"foregroundDeletion\"] and a deletionTimestamp, got %r" % fin)
        wait_until(lambda: re.search(r"x-abcde\s+0/1\s+Terminating", self.k("get", "pods").out), 10,
                   "the pod to show Terminating (deletionTimestamp set, finalizer pending)")
        # the "job controller" removes its finalizer: the pod goes, then the Job
        self.expect_out(self.k("patch", "pod", "x-abcde", "--type=json", "-p",
                               '[{"op":"remove","path":"/metadata/finalizers"}]'), "pod/x-abcde patched")
        wait_until(lambda: self.k("get", "job", "x").rc == 1 and self.names("pods") == [], 15,
                   "the pod and then the Job to disappear")

    def test_background_with_finalized_or_bound_dependents(self):
        """Background: the owner goes at once; dependents are *deleted*, not removed: one with a
        finalizer, and one bound to a node (graceful deletion), both show Terminating first."""
        self.create(job("x"), "job.batch/x created")
        uid = self.uid("job", "x")
        p = pod("x-abcde", labels={"job-name": "x"}, owner=("Job", "x", uid))
        p["metadata"]["finalizers"] = ["batch.kubernetes.io/job-tracking"]
        self.create(p, "pod/x-abcde created")
        node = self.ok("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}") or "node1"
        b = pod("x-bound", labels={"job-name": "x"}, owner=("Job", "x", uid))
        b["spec"]["nodeName"] = node
        self.create(b, "pod/x-bound created")
        self.expect_out(self.timed("delete", "job", "x"), 'job.batch "x" deleted')
        self.expect_err(self.k("get", "job", "x"), 'Error from server (NotFound): jobs.batch "x" not found')
        r = self.k("get", "pods")
        self.expect_lines(r, [r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", r"x-abcde\s+0/1\s+Terminating\s+0\s+%s" % AGE,
                              r"x-bound\s+0/1\s+Terminating\s+0\s+%s" % AGE])
        self.expect_out(self.k("patch", "pod", "x-abcde", "--type=merge", "-p", '{"metadata":{"finalizers":null}}'),
                        "pod/x-abcde patched")
        wait_until(lambda: self.names("pods") == ["pod/x-bound"], 10,
                   "the finalized pod to disappear once its finalizer is removed")

    def test_delete_variants(self):
        self.create(job("a"), "job.batch/a created")
        self.create(job("b"), "job.batch/b created")
        self.create(job("c", labels={"grp": "g"}), "job.batch/c created")
        self.expect_out(self.timed("delete", "job", "a", "--wait=false"), 'job.batch "a" deleted')
        self.expect_out(self.timed("delete", "job", "b", "--grace-period=0", "--force"), re.compile(
            r'(Warning: Immediate deletion does not wait for confirmation that the running resource has been '
            r'terminated\. The resource may continue to run on the cluster indefinitely\.\n)?job\.batch "b" force deleted'))
        self.expect_out(self.timed("delete", "jobs", "-l", "grp=g"), 'job.batch "c" deleted')
        self.assertEqual(self.names("jobs"), [])
        r = self.k("delete", "job", "a")
        self.expect_err(r, 'Error from server (NotFound): jobs.batch "a" not found')
        self.create(pod("p"), "pod/p created")
        self.expect_out(self.timed("delete", "pod", "p"), 'pod "p" deleted')
        self.create(job("d"), "job.batch/d created")
        self.create(job("e"), "job.batch/e created")
        r = self.timed("delete", "jobs", "--all")
        self.expect_lines(r, [r'job\.batch "d" deleted', r'job\.batch "e" deleted'])
        self.expect_out(self.k("apply", "-f", chapter("job-oneshot.yaml")), "job.batch/oneshot created")
        self.expect_out(self.timed("delete", "-f", chapter("job-oneshot.yaml")), 'job.batch "oneshot" deleted')


class Wait:
    def watching(self, bg, what):
        """Waits until the background kubectl (-v=6) logged its watch request; then the test acts.
        Falls back after 5 s (the server may not flush a watch's headers before the first event)."""
        bg.wait_for(r"watch=true", 5, stream="err")

    def test_wait_condition_complete(self):
        self.create(job("x"), "job.batch/x created")
        bg = self.s.kubectl_bg(self.V, "wait", "--for=condition=Complete", "job/x", "--timeout=30s", "-v=6")
        self.watching(bg, "wait")
        start = rfc3339(time.time() - 5)
        r = self.k("patch", "job", "x", "--subresource=status", "--type=merge", "-p",
                   json.dumps(complete_status(start, rfc3339())))
        self.expect_out(r, "job.batch/x patched")
        w = bg.finish(40)
        self.expect_out(w, "job.batch/x condition met")
        r = self.k("get", "job", "x")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE", r"x\s+Complete\s+1/1\s+5s\s+%s" % AGE])
        # already complete: returns at once; lower-case condition name works too
        self.expect_out(self.k("wait", "--for=condition=complete", "job/x", "--timeout=5s"), "job.batch/x condition met")
        self.expect_out(self.k("wait", "--for=jsonpath={.status.succeeded}=1", "job/x", "--timeout=5s"),
                        "job.batch/x condition met")

        r = self.k("describe", "job", "x")
        self.expect_lines(r, [r"Start Time:\s+\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000",
                              r"Completed At:\s+\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000",
                              r"Duration:\s+5s",
                              r"Pods Statuses:\s+0 Active \(0 Ready\) / 1 Succeeded / 0 Failed"])

    def test_status_subresource_validation(self):
        """job-semantics.md §2: [1.32+] status writes are validated."""
        self.create(job("x"), "job.batch/x created")
        bad = [
            ("Complete without SuccessCriteriaMet",
             {"status": {"startTime": rfc3339(time.time() - 5), "completionTime": rfc3339(), "succeeded": 1,
                         "conditions": [{"type": "Complete", "status": "True"}]}}),
            ("completionTime without Complete", {"status": {"startTime": rfc3339(time.time() - 5),
                                                            "completionTime": rfc3339()}}),
            ("finished without startTime",
             dict(complete_status(rfc3339(), rfc3339()), status=dict(complete_status(rfc3339(), rfc3339())["status"],
                                                                     startTime=None))),
            ("completionTime before startTime", complete_status(rfc3339(), rfc3339(time.time() - 100))),
        ]
        accepted = []
        for what, body in bad:
            r = self.k("patch", "job", "x", "--subresource=status", "--type=merge", "-p", json.dumps(body))
            if r.rc != 1 or not r.err.startswith('The Job "x" is invalid: '):
                accepted.append("%s:\n%s" % (what, r))
                self.k("patch", "job", "x", "--subresource=status", "--type=json", "-p",
                       '[{"op":"replace","path":"/status","value":{}}]')  # reset for the next case
        if accepted:
            self.fail("expected 422 Invalid (The Job \"x\" is invalid: ...) for these status writes, they were "
                      "accepted:\n" + "\n".join(accepted))
        self.expect_out(self.k("patch", "job", "x", "--subresource=status", "--type=merge", "-p",
                               json.dumps(complete_status(rfc3339(time.time() - 5), rfc3339()))), "job.batch/x patched")
        # counters may not decrease, terminal conditions may not be removed
        r = self.k("patch", "job", "x", "--subresource=status", "--type=merge", "-p", '{"status":{"succeeded":0}}')
        self.expect_rc(r, 1)
        r = self.k("patch", "job", "x", "--subresource=status", "--type=merge", "-p", '{"status":{"conditions":[]}}')
        self.expect_rc(r, 1)
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.status.succeeded}"), "1")

    def test_wait_timeout(self):
        self.create(job("x"), "job.batch/x created")
        t0 = time.monotonic()
        r = self.k("wait", "--for=condition=Complete", "job/x", "--timeout=2s", timeout=30)
        self.expect_err(r, "error: timed out waiting for the condition on jobs/x")
        self.assertLess(time.monotonic() - t0, 15, "wait --timeout=2s took too long")

    def test_wait_for_delete(self):
        self.create(job("x"), "job.batch/x created")
        bg = self.s.kubectl_bg(self.V, "wait", "--for=delete", "job/x", "--timeout=30s", "-v=6")
        self.watching(bg, "wait --for=delete")
        self.expect_out(self.k("delete", "job", "x", "--wait=false"), 'job.batch "x" deleted')
        w = bg.finish(40)
        self.expect_out(w, "job.batch/x condition met")


class Watch:
    def test_get_pods_watch(self):
        self.create(pod("w0"), "pod/w0 created")
        bg = self.s.kubectl_bg(self.V, "get", "pods", "-w", "-v=6")
        ev = self.s.kubectl_bg(self.V, "get", "pods", "-w", "--output-watch-events", "-v=6")
        bg.wait_for(r"watch=true", 5, stream="err")
        ev.wait_for(r"watch=true", 5, stream="err")
        self.create(pod("w1"), "pod/w1 created")
        self.expect_out(self.k("label", "pod", "w1", "step=two"), "pod/w1 labeled")
        self.expect_out(self.k("delete", "pod", "w1"), 'pod "w1" deleted')
        bg.wait_for(r"^w1\s", 10, count=3)
        ev.wait_for(r"^DELETED\s+w1\s", 10)
        r = bg.kill()
        row = r"\s+0/1\s+Pending\s+0\s+%s" % AGE
        self.expect_lines(r, [r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", "w0" + row, "w1" + row, "w1" + row,
                              r"w1\s+0/1\s+(Pending|Terminating)\s+0\s+%s" % AGE], rc=r.rc)
        if r.out.count("NAME") != 1:
            self.fail_with(r, "expected the header exactly once")
        r = ev.kill()
        self.expect_lines(r, [r"EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", "ADDED\\s+w0" + row,
                              "ADDED\\s+w1" + row, "MODIFIED\\s+w1" + row,
                              r"DELETED\s+w1\s+0/1\s+(Pending|Terminating)\s+0\s+%s" % AGE], rc=r.rc)

    def test_get_jobs_watch_and_single_object_watch(self):
        self.create(job("consumers", spec={"parallelism": 5}), "job.batch/consumers created")
        all_jobs = self.s.kubectl_bg(self.V, "get", "jobs", "-w", "-v=6")
        one = self.s.kubectl_bg(self.V, "get", "job", "consumers", "-w", "-v=6")
        all_jobs.wait_for(r"watch=true", 5, stream="err")
        one.wait_for(r"watch=true", 5, stream="err")
        self.create(job("oneshot"), "job.batch/oneshot created")
        self.expect_out(self.k("label", "job", "consumers", "step=two"), "job.batch/consumers labeled")
        self.expect_out(self.k("delete", "job", "oneshot"), 'job.batch "oneshot" deleted')
        all_jobs.wait_for(r"^oneshot\s", 10, count=2)
        one.wait_for(r"^consumers\s", 10, count=2)
        r = all_jobs.kill()
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
                              r"consumers\s+Running\s+0/1 of 5\s+%s" % AGE,
                              r"oneshot\s+Running\s+0/1\s+%s" % AGE], rc=r.rc)
        self.expect_lines(r, [r"consumers\s+Running\s+0/1 of 5\s+%s" % AGE, r"oneshot\s+\S+\s+0/1\s+%s" % AGE],
                          rc=r.rc)
        lines = r.out.rstrip("\n").split("\n")
        if r.out.count("NAME") != 1 or len([l for l in lines if l.startswith("oneshot")]) < 2:
            self.fail_with(r, "expected one header, and oneshot printed for ADDED and DELETED (and consumers again "
                              "for its MODIFIED)")
        r = one.kill()
        # The current object once (from the GET; the synthetic ADDED of the RV=0 watch is swallowed),
        # then one row for the label change.
        rows = [l for l in r.out.rstrip("\n").split("\n") if l.startswith("consumers")]
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
                              r"consumers\s+Running\s+0/1 of 5\s+%s" % AGE,
                              r"consumers\s+Running\s+0/1 of 5\s+%s" % AGE], rc=r.rc)
        if len(rows) != 2:
            self.fail_with(r, "expected exactly 2 consumers rows (current state, then the MODIFIED), got %d" % len(rows))

    def test_watch_label_selector(self):
        bg = self.s.kubectl_bg(self.V, "get", "pods", "-l", "app=web", "-w", "--output-watch-events", "-v=6")
        bg.wait_for(r"watch=true", 5, stream="err")
        self.create(pod("other", labels={"app": "db"}), "pod/other created")
        self.create(pod("web1", labels={"app": "web"}), "pod/web1 created")
        bg.wait_for(r"web1", 10)
        r = bg.kill()
        self.expect_lines(r, [r"EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", r"ADDED\s+web1\s+.*"], rc=r.rc)
        self.expect_no_line(r, r"other")


class Scale:
    def test_scale_rs(self):
        self.expect_out(self.k("apply", "-f", chapter("rs-queue.yaml")), "replicaset.apps/queue created")
        self.expect_out(self.k("scale", "rs", "queue", "--replicas=3"), "replicaset.apps/queue scaled")
        r = self.k("get", "rs", "queue")
        self.expect_lines(r, [r"NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE", r"queue\s+3\s+0\s+0\s+%s" % AGE])
        r = self.k("get", "--raw", "/apis/apps/v1/namespaces/default/replicasets/queue/scale")
        self.expect_rc(r, 0)
        sc = json.loads(r.out)
        uid = self.uid("rs", "queue")
        want = {"kind": "Scale", "apiVersion": "autoscaling/v1", "spec": {"replicas": 3}}
        got = {k: sc.get(k) for k in want}
        if got != want or sc.get("status", {}).get("selector") != "app=work-queue,chapter=jobs,component=queue" \
                or sc["metadata"].get("name") != "queue" or sc["metadata"].get("uid") != uid \
                or sc.get("status", {}).get("replicas") != 0:
            self.fail_with(r, "expected Scale %s with metadata.name queue, uid %s, status.replicas 0 and "
                              "status.selector app=work-queue,chapter=jobs,component=queue" % (want, uid))
        # --current-replicas: GET /scale then PUT /scale
        self.expect_out(self.k("scale", "rs/queue", "--current-replicas=3", "--replicas=2"),
                        "replicaset.apps/queue scaled")
        self.expect_out(self.k("get", "rs", "queue", "-o", "jsonpath={.spec.replicas}"), "2")
        r = self.k("scale", "rs/queue", "--current-replicas=5", "--replicas=1")
        self.expect_rc(r, 1)
        self.expect_out(self.k("get", "rs", "queue", "-o", "jsonpath={.spec.replicas}"), "2")
        # kubectl's own wording (1.27 drops the NotFound, 1.33 appends it)
        self.expect_err(self.k("scale", "rs", "nope", "--replicas=1"),
                        "error: no objects passed to scale" if self.V == "1.27" else
                        'error: no objects passed to scale replicasets.apps "nope" not found')


class DescribeAndEvents:
    def test_describe_pod(self):
        self.create(job("oneshot"), "job.batch/oneshot created")
        ju = self.uid("job", "oneshot")
        self.create(pod("oneshot-abcde", labels={"app": "demo", "job-name": "oneshot"}, owner=("Job", "oneshot", ju)),
                    "pod/oneshot-abcde created")
        pu = self.uid("pod", "oneshot-abcde")
        r = self.k("describe", "pod", "oneshot-abcde")
        self.expect_lines(r, [r"Name:\s+oneshot-abcde", r"Namespace:\s+default", r"Node:\s+<none>",
                              r"Labels:\s+app=demo", r"\s+job-name=oneshot", r"Annotations:\s+<none>",
                              r"Status:\s+Pending", r"Controlled By:\s+Job/oneshot", r"Containers:", r"  c:",
                              r"    Image:\s+busybox", r"    Command:", r"      sleep", r"      3600",
                              r"QoS Class:\s+BestEffort", r"Events:\s+<none>"])
        r = self.k("get", "pods", "-o", "wide")
        self.expect_lines(r, [r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES",
                              r"oneshot-abcde\s+0/1\s+Pending\s+0\s+%s\s+<none>\s+<none>\s+<none>\s+<none>" % AGE])
        self.create(event("oneshot-abcde.1", "Pod", "oneshot-abcde", pu, "Scheduled",
                          "Successfully assigned default/oneshot-abcde to node1", "default-scheduler",
                          api_version="v1"), "event/oneshot-abcde.1 created")
        r = self.k("describe", "pod", "oneshot-abcde")
        self.expect_lines(r, [r"Events:", r"  Type\s+Reason\s+Age\s+From\s+Message", r"  ----\s+------\s+----\s+----\s+-------",
                              r"  Normal\s+Scheduled\s+%s\s+default-scheduler\s+Successfully assigned "
                              r"default/oneshot-abcde to node1" % AGE])
        r = self.k("describe", "pods", "-l", "job-name=oneshot")
        self.expect_lines(r, [r"Name:\s+oneshot-abcde", r"  Normal\s+Scheduled\s+.*"])

    def test_events_and_describe_job_events(self):
        self.create(job("oneshot"), "job.batch/oneshot created")
        self.create(job("other"), "job.batch/other created")
        uid, other_uid = self.uid("job", "oneshot"), self.uid("job", "other")
        self.create(event("oneshot.1", "Job", "oneshot", uid, "SuccessfulCreate", "Created pod: oneshot-abcde",
                          "job-controller", t=time.time() - 3), "event/oneshot.1 created")
        self.create(event("other.1", "Job", "other", other_uid, "SuccessfulCreate", "Created pod: other-zzzzz",
                          "job-controller"), "event/other.1 created")
        # same name, a previous incarnation's uid: must not show in describe
        self.create(event("oneshot.old", "Job", "oneshot", "00000000-0000-0000-0000-000000000000", "Completed",
                          "Job completed", "job-controller"), "event/oneshot.old created")
        r = self.k("get", "events")
        self.expect_lines(r, [r"LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE"])
        self.expect_lines(r, [r"%s\s+Normal\s+SuccessfulCreate\s+job/oneshot\s+Created pod: oneshot-abcde" % AGE,
                              r"%s\s+Normal\s+SuccessfulCreate\s+job/other\s+Created pod: other-zzzzz" % AGE,
                              r"%s\s+Normal\s+Completed\s+job/oneshot\s+Job completed" % AGE], ordered=False)
        r = self.k("get", "ev", "--field-selector", "involvedObject.name=other", "-o", "name")
        self.expect_out(r, "event/other.1")
        r = self.k("describe", "job", "oneshot")
        self.expect_lines(r, [r"Name:\s+oneshot", r"Events:", r"  Type\s+Reason\s+Age\s+From\s+Message",
                              r"  ----\s+------\s+----\s+----\s+-------",
                              r"  Normal\s+SuccessfulCreate\s+%s\s+job-controller\s+Created pod: oneshot-abcde" % AGE])
        self.expect_no_line(r, r"other-zzzzz|Job completed")
        ev_lines = r.out[r.out.index("Events:"):].rstrip("\n").split("\n")
        if len(ev_lines) != 4:
            self.fail_with(r, "expected exactly one event row in describe's Events table")


class Namespaces:
    def test_namespace_lifecycle(self):
        p = self.write("job-ns.json", job("nsjob"))
        self.expect_err(self.k("create", "-f", p, "-n", "ghost"),
                        'Error from server (NotFound): error when creating "%s": namespaces "ghost" not found' % p)
        self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}, "namespace/other created")
        # every namespace has the API's CA to verify kubernetes.default.svc with, as on any cluster
        with open(os.path.join(self.s.data_dir, "ca.crt")) as f:
            ca = f.read()
        for ns in ("default", "other"):
            wait_until(lambda: self.k("get", "cm", "kube-root-ca.crt", "-n", ns, "-o",
                                      "jsonpath={.data.ca\\.crt}").out == ca, 10, "kube-root-ca.crt in " + ns)
        self.expect_out(self.k("create", "-f", p, "-n", "other"), "job.batch/nsjob created")
        self.create(pod("p", ns="other"), "pod/p created")
        r = self.k("delete", "ns", "other", timeout=30)
        self.expect_out(r, 'namespace "other" deleted')
        self.expect_err(self.k("get", "ns", "other"), 'Error from server (NotFound): namespaces "other" not found')
        # the namespace's content goes with it
        r = self.k("get", "jobs,pods", "-n", "other")
        self.expect_out(r, "")
        self.expect_out(r, "No resources found in other namespace.", stream="err")
        r = self.k("get", "jobs", "-A", "-o", "name")
        self.expect_out(r, "")

    def test_system_namespaces_cannot_be_deleted(self):
        for ns in ("default", "kube-system", "kube-public"):
            r = self.k("delete", "ns", ns, "--wait=false")
            self.expect_err(r, 'Error from server (Forbidden): namespaces "%s" is forbidden: this namespace may not be '
                               'deleted' % ns)
        self.expect_out(self.k("get", "ns", "default", "-o", "name"), "namespace/default")


for _m in (Delete, Wait, Watch, Scale, DescribeAndEvents, Namespaces):
    per_version(_m, globals())
del _m

if __name__ == "__main__":
    unittest.main()
