"""Durability of `jobplane server`: a clean restart keeps every object byte-for-byte (same uid and
resourceVersion) and later writes get higher resourceVersions; and, in the slow test, SIGKILL at
random moments while kubectl writes never loses an acknowledged write.
"""
import json
import os
import random
import signal
import subprocess
import threading
import time
import unittest

from jpserver import JOBPLANE, VERSIONS, Case, have_kubectl, job, pod, read_file, wait_until

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)


def cm(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


class Restart(Case):
    def objects(self):
        out = {}
        for path in ("/apis/batch/v1/namespaces/default/jobs", "/api/v1/namespaces/default/pods",
                     "/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/services",
                     "/apis/apps/v1/namespaces/default/replicasets", "/api/v1/namespaces",
                     "/apis/batch/v1/namespaces/other/jobs"):
            st, lst = self.s.json("GET", path, expect=200)
            for it in lst["items"]:
                # the API's own Service follows the port it is served on, rewritten at each start
                if path.endswith("/services") and it["metadata"]["name"] == "kubernetes":
                    continue
                out[(path, it["metadata"]["name"])] = it
        return out

    def test_a_second_server_on_the_same_data_dir_is_refused(self):
        # two would each run, adopt and write the same pods: the second says who holds it
        p = subprocess.run([JOBPLANE, "server", "--data-dir", self.s.data_dir, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("%s is in use by another jobplane (pid %d)" % (self.s.data_dir, self.s.proc.pid),
                      p.stderr)
        self.s.json("GET", "/api/v1/namespaces", expect=200)  # the first one is untouched
        r = subprocess.run([JOBPLANE, "run", "--data-dir", self.s.data_dir, "-"],
                           input=json.dumps(cm("c")), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("is in use by another jobplane (pid %d)" % self.s.proc.pid, r.stderr)

    def test_sigterm_restart_keeps_everything(self):
        s = self.s
        self.assertEqual(s.lines_out, ["export KUBECONFIG=%s" % s.kubeconfig], "server stdout")
        ca = read_file(os.path.join(s.data_dir, "ca.crt"))
        s.json("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}},
               expect=201)
        s.json("POST", "/apis/batch/v1/namespaces/default/jobs", job("j1"), expect=201)
        s.json("POST", "/apis/batch/v1/namespaces/other/jobs", job("j2"), expect=201)
        s.json("POST", "/api/v1/namespaces/default/pods", pod("p1"), expect=201)
        s.json("POST", "/api/v1/namespaces/default/configmaps", cm("c1", a="1"), expect=201)
        s.json("POST", "/api/v1/namespaces/default/configmaps", cm("gone"), expect=201)
        s.json("PATCH", "/api/v1/namespaces/default/configmaps/c1", {"data": {"a": "2"}},
               headers={"Content-Type": "application/merge-patch+json"}, expect=200)
        s.json("PATCH", "/apis/batch/v1/namespaces/default/jobs/j1/status",
               {"status": {"startTime": "2026-01-01T00:00:00Z", "active": 1}},
               headers={"Content-Type": "application/merge-patch+json"}, expect=200)
        s.json("DELETE", "/api/v1/namespaces/default/configmaps/gone", expect=200)
        before = self.objects()
        _, lst = s.json("GET", "/api/v1/namespaces/default/configmaps", expect=200)
        list_rv = int(lst["metadata"]["resourceVersion"])
        max_rv = max(int(o["metadata"]["resourceVersion"]) for o in before.values())
        old_port = s.port
        code = s.stop()
        self.assertEqual(code, 0, "exit code after SIGTERM; log:\n" + s.log())
        s.start()
        self.assertEqual(read_file(os.path.join(s.data_dir, "ca.crt")), ca, "the CA must survive a restart")
        after = self.objects()
        self.assertEqual(sorted(after), sorted(before), "objects after restart (port %d -> %d)" % (old_port, s.port))
        for k in before:
            self.assertEqual(after[k], before[k], "object %s changed across the restart" % (k,))
        self.assertNotIn(("/api/v1/namespaces/default/configmaps", "gone"), after)
        _, lst = s.json("GET", "/api/v1/namespaces/default/configmaps", expect=200)
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]), list_rv, "list RV after restart")
        _, new = s.json("POST", "/api/v1/namespaces/default/configmaps", cm("c2"), expect=201)
        self.assertGreater(int(new["metadata"]["resourceVersion"]), max(max_rv, list_rv),
                           "a write after the restart must get a higher resourceVersion")
        _, upd = s.json("PATCH", "/api/v1/namespaces/default/configmaps/c1", {"data": {"a": "3"}},
                        headers={"Content-Type": "application/merge-patch+json"}, expect=200)
        self.assertGreater(int(upd["metadata"]["resourceVersion"]), int(new["metadata"]["resourceVersion"]))
        self.assertNotEqual(new["metadata"]["uid"], before[("/api/v1/namespaces/default/configmaps", "c1")]["metadata"]["uid"])
        if KV:
            r = s.kubectl(KV, "get", "job", "j1", "-o", "jsonpath={.metadata.uid} {.status.active}")
            self.expect_out(r, "%s 1" % before[("/apis/batch/v1/namespaces/default/jobs", "j1")]["metadata"]["uid"])
        # a watch from an RV before the restart (the event log restarted empty) must not silently skip
        # what happened since: a 410 ERROR (or a faithful replay) comes at once
        st, _, data = self.s.http("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2&"
                                  "resourceVersion=%d" % (list_rv - 3), timeout=10)
        first = json.loads(data.split(b"\n")[0]) if data.strip() else None
        if not first or not (first["type"] == "ERROR" and first["object"].get("code") == 410
                             or first["type"] in ("ADDED", "MODIFIED", "DELETED")):
            self.fail("watch from resourceVersion %d (before the restart): expected an ERROR 410 event or a replay, "
                      "got HTTP %s %r" % (list_rv - 3, st, data[:300]))
        # a watch from the RV we hold now sees the next write (the log restarts cleanly)
        c = s.connection()
        c.request("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5&resourceVersion=%s"
                  % upd["metadata"]["resourceVersion"])
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        s.json("POST", "/api/v1/namespaces/default/configmaps", cm("c3"), expect=201)
        line = resp.readline()
        c.close()
        ev = json.loads(line)
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "c3"), "first watch event: %r" % line)


@unittest.skipIf(KV is None, "no kubectl.%s found" % "/".join(VERSIONS))
class CrashLoop(Case):
    """kill -9 at random moments while kubectl creates objects: every `created` must survive."""
    ITERATIONS = 10

    def writer(self, prefix, acked, stop):
        i = 0
        while not stop.is_set():
            name = "%s-%d" % (prefix, i)
            i += 1
            r = self.s.kubectl(KV, "create", "-f", "-", stdin=json.dumps(cm(name, i=str(i))), timeout=20)
            if r.rc == 0 and r.out.strip() == "configmap/%s created" % name:
                acked.append(name)
            elif r.rc == 0:
                self.problems.append("unexpected output: %s" % r)
            else:
                return  # the server is gone

    def raw_writer(self, prefix, acked, stop):
        i = 0
        conn = self.s.connection(timeout=10)
        try:
            while not stop.is_set():
                name = "%s-%d" % (prefix, i)
                i += 1
                st, _, _ = self.s.http("POST", "/api/v1/namespaces/default/configmaps", cm(name), conn=conn)
                if st == 201:
                    acked.append(name)
        except Exception:  # noqa: BLE001 - the server was killed under us
            return
        finally:
            conn.close()

    def test_kill9_never_loses_acknowledged_writes(self):
        rnd = random.Random(os.environ.get("JP_SEED", "12345"))
        acked_all = []
        t_start = time.monotonic()
        self.problems = []
        for it in range(self.ITERATIONS):
            acked, stop = [], threading.Event()
            threads = [threading.Thread(target=self.writer, args=("k%d" % it, acked, stop)),
                       threading.Thread(target=self.writer, args=("K%d" % it, acked, stop)),
                       threading.Thread(target=self.raw_writer, args=("r%d" % it, acked, stop))]
            for t in threads:
                t.start()
            wait_until(lambda: sum(1 for n in acked if n[0] in "kK") >= 2, 20,
                       "the first kubectl-acknowledged writes of iteration %d" % it)
            time.sleep(rnd.uniform(0.05, 0.8))  # a random moment to pull the plug
            code = self.s.kill9()
            stop.set()
            for t in threads:
                t.join(30)
            self.assertEqual(code, -signal.SIGKILL)
            acked_all += acked
            self.s.start()
            _, lst = self.s.json("GET", "/api/v1/namespaces/default/configmaps", expect=200)
            have = {i["metadata"]["name"] for i in lst["items"]}
            lost = [n for n in acked_all if n not in have]
            self.assertEqual(lost, [], "iteration %d: acknowledged writes lost after kill -9 (of %d acknowledged)"
                             % (it, len(acked_all)))
            rvs = [int(i["metadata"]["resourceVersion"]) for i in lst["items"]]
            self.assertEqual(len(rvs), len(set(rvs)), "duplicate resourceVersions after restart")
        self.assertEqual(self.problems, [])
        # after all that, a write still gets a higher RV than everything stored
        _, lst = self.s.json("GET", "/api/v1/namespaces/default/configmaps", expect=200)
        top = max(int(i["metadata"]["resourceVersion"]) for i in lst["items"])
        _, new = self.s.json("POST", "/api/v1/namespaces/default/configmaps", cm("final"), expect=201)
        self.assertGreater(int(new["metadata"]["resourceVersion"]), top)
        print("\n  crash loop: %d iterations, %d acknowledged writes (%d by kubectl), %.1fs"
              % (self.ITERATIONS, len(acked_all), sum(1 for n in acked_all if n[0] in "kK"),
                 time.monotonic() - t_start))


if __name__ == "__main__":
    unittest.main()
