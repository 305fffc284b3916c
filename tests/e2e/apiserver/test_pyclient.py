"""The official Python client (Debian's python3-kubernetes) against `jobplane server`: load the
kubeconfig the server wrote, create a Job and Pods, list with selectors, read, strategic-merge
patch, watch (ADDED/MODIFIED/DELETED for changes the test makes concurrently), delete, errors.
"""
import threading
import time
import unittest

from jpserver import Case, job, pod

try:
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException
except ImportError:  # pragma: no cover - run by /usr/bin/python3, which has python3-kubernetes
    client = None


@unittest.skipIf(client is None, "the kubernetes Python module is not installed (python3-kubernetes)")
class PythonClient(Case):
    def setUp(self):
        super().setUp()
        cfg = client.Configuration()
        config.load_kube_config(config_file=self.s.kubeconfig, client_configuration=cfg)
        self.api = client.ApiClient(cfg)
        self.addCleanup(self.api.close)
        self.batch = client.BatchV1Api(self.api)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)

    def api_error(self, fn, status, *args, **kw):
        try:
            fn(*args, **kw)
        except ApiException as e:
            self.assertEqual(e.status, status, "%s: expected HTTP %s, got %s: %s" % (fn.__name__, status, e.status, e.body))
            return e
        self.fail("%s%r: expected ApiException %s, got success" % (fn.__name__, args, status))

    def test_version_and_discovery(self):
        v = client.VersionApi(self.api).get_code()
        self.assertEqual((v.major, v.minor, v.git_version), ("1", "33", "v1.33.0-jobplane"))
        groups = {g.name for g in client.ApisApi(self.api).get_api_versions().groups}
        self.assertTrue({"batch", "apps"} <= groups, "groups: %s" % groups)
        res = {r.name for r in self.batch.get_api_resources().resources}
        self.assertTrue({"jobs", "jobs/status"} <= res, "batch/v1 resources: %s" % res)

    def test_crud_selectors_patch_delete(self):
        j = self.batch.create_namespaced_job("default", job("pyjob", labels={"via": "python"}))
        self.assertEqual(j.metadata.name, "pyjob")
        uid = j.metadata.uid
        self.assertEqual(j.spec.selector.match_labels, {"batch.kubernetes.io/controller-uid": uid})
        self.assertEqual(j.spec.template.metadata.labels.get("batch.kubernetes.io/job-name"), "pyjob")
        self.assertEqual((j.spec.parallelism, j.spec.completions, j.spec.backoff_limit), (1, 1, 6))
        for i in range(3):
            self.core.create_namespaced_pod("default", pod("pp%d" % i, labels={"app": "web" if i < 2 else "db",
                                                                              "idx": str(i)}))
        names = sorted(p.metadata.name for p in self.core.list_namespaced_pod("default", label_selector="app=web").items)
        self.assertEqual(names, ["pp0", "pp1"], "label_selector=app=web")
        names = sorted(p.metadata.name for p in self.core.list_namespaced_pod(
            "default", label_selector="app in (web,db),idx!=0").items)
        self.assertEqual(names, ["pp1", "pp2"], "label_selector=app in (web,db),idx!=0")
        names = [p.metadata.name for p in self.core.list_namespaced_pod("default", field_selector="metadata.name=pp2").items]
        self.assertEqual(names, ["pp2"], "field_selector=metadata.name=pp2")
        names = sorted(p.metadata.name for p in self.core.list_pod_for_all_namespaces(label_selector="idx").items)
        self.assertEqual(names, ["pp0", "pp1", "pp2"], "all namespaces, label_selector=idx")
        jobs = self.batch.list_namespaced_job("default", label_selector="via=python").items
        self.assertEqual([x.metadata.name for x in jobs], ["pyjob"])
        # paging: limit 1 with continue tokens must visit each pod exactly once (ignoring limit is fine too)
        seen, cont = [], None
        for _ in range(10):
            page = self.core.list_namespaced_pod("default", limit=1, _continue=cont)
            seen += [p.metadata.name for p in page.items]
            cont = page.metadata._continue
            if not cont:
                break
        self.assertEqual(sorted(seen), ["pp0", "pp1", "pp2"], "paged list")
        r = self.batch.read_namespaced_job("pyjob", "default")
        self.assertEqual(r.metadata.uid, uid)
        rv = r.metadata.resource_version
        p = self.batch.patch_namespaced_job("pyjob", "default", {"spec": {"backoffLimit": 2},
                                                                 "metadata": {"labels": {"extra": "1"}}})
        self.assertEqual(p.spec.backoff_limit, 2)
        self.assertEqual(p.metadata.labels, {"via": "python", "extra": "1"})
        self.assertGreater(int(p.metadata.resource_version), int(rv))
        # strategic merge of the containers list by name is rejected for a Job (immutable template)
        e = self.api_error(self.batch.patch_namespaced_job, 422, "pyjob", "default",
                           {"spec": {"template": {"spec": {"containers": [{"name": "kuard", "image": "x"}]}}}})
        self.assertIn("field is immutable", e.body)
        # pods: strategic merge on containers keeps other fields
        pp = self.core.patch_namespaced_pod("pp0", "default", {"metadata": {"labels": {"app": None, "new": "x"}}})
        self.assertEqual(pp.metadata.labels, {"idx": "0", "new": "x"})
        # status subresource
        st = self.batch.patch_namespaced_job_status("pyjob", "default", {"status": {"startTime": "2026-01-01T00:00:00Z",
                                                                                   "active": 1, "ready": 0}})
        self.assertEqual(st.status.active, 1)  # (22.6's V1JobStatus model has no `ready`)
        self.assertEqual(self.batch.read_namespaced_job_status("pyjob", "default").status.active, 1)
        # the main resource ignores status
        self.batch.patch_namespaced_job("pyjob", "default", {"status": {"active": 7}})
        self.assertEqual(self.batch.read_namespaced_job("pyjob", "default").status.active, 1)
        # errors
        self.api_error(self.batch.read_namespaced_job, 404, "nope", "default")
        e = self.api_error(self.batch.create_namespaced_job, 409, "default", job("pyjob"))
        self.assertIn('jobs.batch \\"pyjob\\" already exists', e.body)
        self.api_error(self.batch.create_namespaced_job, 422, "default", job("bad", restart="Always"))
        # delete
        self.batch.delete_namespaced_job("pyjob", "default", propagation_policy="Background")
        self.api_error(self.batch.read_namespaced_job, 404, "pyjob", "default")
        self.core.delete_namespaced_pod("pp2", "default")
        self.core.delete_collection_namespaced_pod("default", label_selector="app=web")
        left = sorted(p.metadata.name for p in self.core.list_namespaced_pod("default").items)
        self.assertEqual(left, ["pp0"], "pods left after delete and deletecollection(app=web)")

    def test_watch_events(self):
        # NB the client sends watch=True (Python's bool); the apiserver parses it with Go's strconv.ParseBool.
        self.core.create_namespaced_pod("default", pod("before", labels={"w": "1"}))
        rv = self.core.list_namespaced_pod("default").metadata.resource_version
        events = []
        errors = []

        def mutate():
            try:
                time.sleep(0.3)  # let the watch connect; the watch starts from rv so nothing is missed anyway
                self.core.create_namespaced_pod("default", pod("wp", labels={"w": "1"}))
                self.core.patch_namespaced_pod("wp", "default", {"metadata": {"labels": {"step": "2"}}})
                self.core.create_namespaced_pod("default", pod("unrelated", labels={"w": "0"}))
                self.core.delete_namespaced_pod("wp", "default")
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=mutate)
        w = watch.Watch()
        t.start()
        t0 = time.monotonic()
        for ev in w.stream(self.core.list_namespaced_pod, "default", label_selector="w=1", resource_version=rv,
                           timeout_seconds=5):
            events.append((ev["type"], ev["object"].metadata.name, ev["object"].metadata.resource_version))
            if ev["type"] == "DELETED":
                w.stop()
        t.join()
        self.assertEqual(errors, [])
        self.assertEqual([e[:2] for e in events], [("ADDED", "wp"), ("MODIFIED", "wp"), ("DELETED", "wp")],
                         "watch events for label_selector=w=1 from rv %s" % rv)
        rvs = [int(e[2]) for e in events]
        self.assertEqual(rvs, sorted(rvs), "resourceVersions in watch order")
        self.assertLess(time.monotonic() - t0, 10)

    def test_watch_timeout_and_initial_added(self):
        # a watch from "now" with timeout_seconds ends by itself
        t0 = time.monotonic()
        rv = self.core.list_namespaced_pod("default").metadata.resource_version
        n = sum(1 for _ in watch.Watch().stream(self.core.list_namespaced_pod, "default", resource_version=rv,
                                                timeout_seconds=1))
        self.assertEqual(n, 0)
        self.assertLess(time.monotonic() - t0, 5, "timeout_seconds=1 watch did not end in time")
        # jobs: watch without resource_version sends ADDED for existing objects first
        self.batch.create_namespaced_job("default", job("wj"))
        seen = []
        w = watch.Watch()
        for ev in w.stream(self.batch.list_namespaced_job, "default", timeout_seconds=3):
            seen.append((ev["type"], ev["object"].metadata.name))
            w.stop()
        self.assertEqual(seen, [("ADDED", "wj")])


if __name__ == "__main__":
    unittest.main()
