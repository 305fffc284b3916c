"""Bad and unusual input over raw HTTPS (client certificate from DATA/): every error is a Status
with the right code, nothing crashes the server, and resourceVersion/watch semantics hold
(409 on a stale update, 410 for a watch older than the event log).

Each test ends by checking that /healthz still answers, and the harness fails any test during
which the server process died.
"""
import json
import socket
import ssl
import threading
import time
import unittest

from jpserver import Case, event, job, pod, rfc3339, wait_until

CM = "/api/v1/namespaces/default/configmaps"
MERGE = {"Content-Type": "application/merge-patch+json"}


def cm(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


class RawHTTP(Case):
    def tearDown(self):
        st, _, body = self.s.http("GET", "/healthz", auth=None, timeout=10)
        self.assertEqual((st, body), (200, b"ok"), "/healthz after the test")

    def status(self, method, path, body=None, headers=None, code=None, reason=None, what=""):
        """Sends a request and asserts a Status reply with HTTP code == Status.code (and reason)."""
        st, hd, data = self.s.http(method, path, body, headers)
        shown = data[:400]
        if code is not None and st != code:
            self.fail("%s %s %s: expected HTTP %s, got %s: %r" % (what, method, path[:120], code, st, shown))
        try:
            obj = json.loads(data)
        except ValueError:
            self.fail("%s %s %s: expected a JSON Status body, got %r (HTTP %s)" % (what, method, path[:120], shown, st))
        if obj.get("kind") != "Status" or obj.get("code") != st or obj.get("status") != "Failure":
            self.fail("%s %s %s: expected a Status with code %s and status Failure, got %r" % (what, method, path[:120],
                                                                                              st, shown))
        if hd.get("content-type") != "application/json":
            self.fail("%s: error Content-Type %r" % (what, hd.get("content-type")))
        if reason is not None and obj.get("reason") != reason:
            self.fail("%s %s %s: expected reason %s, got %r" % (what, method, path[:120], reason, shown))
        return obj

    def test_discovery_negotiation_and_openapi(self):
        """kubectl-protocol.md §1-2: never v2 discovery to 1.27-1.29; /openapi/v2 as (empty) protobuf."""
        acc127 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        acc133 = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
        for path in ("/api", "/apis"):
            st, hd, body = self.s.http("GET", path + "?timeout=32s", headers={"Accept": acc127})
            self.assertEqual(st, 200)
            ct = hd.get("content-type", "")
            self.assertNotIn("v=v2;", ct + ";", "%s: v2 discovery sent to a 1.27 Accept: %s" % (path, ct))
            if "as=APIGroupDiscoveryList" in ct:
                self.assertEqual(json.loads(body).get("apiVersion"), "apidiscovery.k8s.io/v2beta1")
            st, hd, body = self.s.http("GET", path, headers={"Accept": acc133})
            self.assertEqual(st, 200)
            ct = hd.get("content-type", "")
            obj = json.loads(body)
            if "as=APIGroupDiscoveryList" in ct:
                self.assertEqual(obj.get("kind"), "APIGroupDiscoveryList")
            st, hd, body = self.s.http("GET", path, headers={"Accept": "application/json"})
            self.assertEqual((st, hd.get("content-type")), (200, "application/json"), "legacy discovery of %s" % path)
            self.assertEqual(json.loads(body).get("kind"), "APIVersions" if path == "/api" else "APIGroupList")
        _, rl = self.s.json("GET", "/apis/batch/v1", expect=200)
        by = {r["name"]: r for r in rl["resources"]}
        self.assertEqual(by["jobs"]["verbs"],
                         ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"])
        self.assertEqual((by["jobs"]["kind"], by["jobs"]["singularName"], by["jobs"]["namespaced"]), ("Job", "job", True))
        self.assertIn("jobs/status", by)
        _, rl = self.s.json("GET", "/apis/apps/v1", expect=200)
        sc = {r["name"]: r for r in rl["resources"]}.get("replicasets/scale")
        self.assertEqual((sc or {}).get("group"), "autoscaling", "replicasets/scale: %r" % sc)
        self.assertEqual((sc or {}).get("kind"), "Scale")
        st, hd, body = self.s.http("GET", "/openapi/v2", headers={
            "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
        self.assertEqual(st, 200, "/openapi/v2")
        self.assertNotIn("@", hd.get("content-type", ""), "/openapi/v2 Content-Type")
        self.assertTrue(hd.get("content-type", "").startswith("application/com.github.proto-openapi.spec.v2"),
                        hd.get("content-type"))

    def test_malformed_json(self):
        for body in (b'{"apiVersion":', b"not json", b"", b"null", b"[1,2]", b'{"apiVersion":"v1","kind":"Pod"} trailing',
                     b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c",'
                     b'"image":"i"}]}}}'):
            with self.subTest(body=body[:40]):
                self.status("POST", "/api/v1/namespaces/default/pods", body, {"Content-Type": "application/json"},
                            code=400, reason="BadRequest", what="body %r" % body[:40])
        j = job("x")
        j["spec"]["parallelism"] = 99999999999999999999
        self.status("POST", "/apis/batch/v1/namespaces/default/jobs", j, code=400, reason="BadRequest", what="int32 overflow")
        j["spec"]["parallelism"] = "two"
        self.status("POST", "/apis/batch/v1/namespaces/default/jobs", j, code=400, reason="BadRequest", what="string for int")
        j = job("x")
        j["metadata"]["labels"] = ["not", "a", "map"]
        self.status("POST", "/apis/batch/v1/namespaces/default/jobs", j, code=400, reason="BadRequest", what="list for map")

    def test_mismatches_and_media_types(self):
        o = self.status("POST", "/api/v1/namespaces/default/pods", dict(pod("p"), metadata={"name": "p", "namespace": "other"}),
                        code=400, reason="BadRequest", what="namespace mismatch")
        self.assertEqual(o["message"], "the namespace of the provided object does not match the namespace sent on the request")
        self.status("POST", "/api/v1/namespaces/default/pods", job("j"), code=400, reason="BadRequest", what="Job to pods")
        self.status("POST", "/api/v1/namespaces/default/pods", json.dumps(pod("p")), {"Content-Type": "text/plain"},
                    code=415, reason="UnsupportedMediaType", what="text/plain body")
        st, _, _ = self.s.http("POST", "/api/v1/namespaces/default/pods", pod("p"))
        self.assertEqual(st, 201)
        # a PUT without a namespace takes the request's; another namespace is refused
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
        self.s.json("POST", "/api/v1/namespaces/default/configmaps", cm, expect=201)
        cm["data"]["a"] = "2"
        _, got = self.s.json("PUT", "/api/v1/namespaces/default/configmaps/c", cm, expect=200)
        self.assertEqual((got["metadata"]["namespace"], got["data"]), ("default", {"a": "2"}))
        cm["metadata"]["namespace"] = "other"
        o = self.status("PUT", "/api/v1/namespaces/default/configmaps/c", cm, code=400, reason="BadRequest",
                        what="namespace mismatch on update")
        self.assertEqual(o["message"], "the namespace of the provided object does not match the namespace sent "
                                       "on the request")
        self.status("PATCH", "/api/v1/namespaces/default/pods/p", '{"metadata":{}}', {"Content-Type": "application/foo"},
                    code=415, reason="UnsupportedMediaType", what="unknown patch type")
        self.status("PATCH", "/api/v1/namespaces/default/pods/p", '{"metadata":', MERGE, code=400, reason="BadRequest",
                    what="malformed merge patch")
        self.status("PATCH", "/api/v1/namespaces/default/pods/p", '{"op":"add"}',
                    {"Content-Type": "application/json-patch+json"}, code=400, reason="BadRequest", what="json patch that is not a list")
        self.status("PUT", "/api/v1/namespaces/default/pods/p", dict(pod("q")), code=400, reason="BadRequest",
                    what="PUT with a different name")

    def test_body_size_limit(self):
        big = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":"' + b"x" * (3 << 20) + b'"}}'
        self.status("POST", CM, big, {"Content-Type": "application/json"}, code=413, what="3 MiB + body")
        # just under the cap is accepted: 900 KB of data padded with whitespace to 3 MiB - 64
        doc = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"near"},"data":{"k":"' + b"y" * 900000 + b'"}}'
        doc += b" " * ((3 << 20) - 64 - len(doc))
        st, _, data = self.s.http("POST", CM, doc, {"Content-Type": "application/json"})
        self.assertEqual(st, 201, "a body of 3 MiB - 64 bytes: %s %r" % (st, data[:300]))
        # 20 MiB: the server may answer 413 and close early; it must not die
        try:
            st, _, _ = self.s.http("POST", CM, b"[" + b" " * (20 << 20) + b"]", {"Content-Type": "application/json"})
            self.assertEqual(st, 413)
        except (ConnectionError, ssl.SSLError, OSError):
            pass

    def test_unknown_paths_and_methods(self):
        for path in ("/apis/nope/v1/foos", "/api/v1/namespaces/default/foos", "/api/v2", "/apis/batch/v9/jobs",
                     "/nothing/here", "/api/v1/namespaces/default/pods/p/nosuchsub",
                     "/apis/batch/v1/namespaces/default/jobs/x/scale"):
            with self.subTest(method="GET", path=path):
                self.status("GET", path, code=404, reason="NotFound", what="unknown path")
        # (DELETE on the namespaces collection last: a server that accepts it deletes every namespace)
        for method, path in (("PATCH", "/api/v1/namespaces/default/pods"), ("PUT", "/api/v1/namespaces/default/pods"),
                             ("POST", "/api/v1/namespaces/default/pods/p"),
                             ("POST", "/apis/batch/v1/namespaces/default/jobs/x/status"),
                             ("DELETE", "/api/v1/namespaces")):
            with self.subTest(method=method, path=path):
                self.status(method, path, "{}", {"Content-Type": "application/merge-patch+json"}, code=405,
                            reason="MethodNotAllowed", what="wrong verb")
        # the server refuses a request line beyond its buffer and may close before the client
        # has finished sending it: either a 4xx or a connection cut is a refusal
        try:
            st, _, data = self.s.http("GET", "/api/v1/namespaces/default/pods/" + "a" * 100000)
            self.assertTrue(400 <= st < 500, "100 KB path: %s %r" % (st, data[:200]))
        except (ssl.SSLError, ConnectionError):
            pass
        self.assertEqual(self.s.http("GET", "/healthz")[0], 200)

    def test_eviction(self):
        base = "/api/v1/namespaces/default/pods/"
        ev = lambda name: json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",  # noqa: E731
                                      "metadata": {"name": name, "namespace": "default"}})
        self.status("POST", base + "ghost/eviction", ev("ghost"), code=404, reason="NotFound", what="no pod")
        kept = pod("p")
        kept["metadata"]["finalizers"] = ["example.com/keep"]  # keeps the evicted pod to look at
        self.s.json("POST", base[:-1], kept, expect=201)
        self.status("POST", base + "p/eviction", ev("other"), code=400, reason="BadRequest", what="name mismatch")
        self.status("POST", base + "p/eviction", "[1]", code=400, reason="BadRequest", what="not an Eviction")
        self.status("GET", base + "p/eviction", code=405, reason="MethodNotAllowed", what="GET eviction")
        st, _, data = self.s.http("POST", base + "p/eviction", ev("p"))
        self.assertEqual((st, json.loads(data)), (201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                         "status": "Success", "code": 201}))
        # the pod carries the condition into its deletion
        st, p = self.s.json("GET", base + "p", expect=200)
        self.assertIn("deletionTimestamp", p["metadata"])
        (c,) = [c for c in p["status"]["conditions"] if c["type"] == "DisruptionTarget"]
        self.assertEqual((c["status"], c["reason"], c["message"]),
                         ("True", "EvictionByEvictionAPI", "Eviction API: evicting"))
        self.s.json("PATCH", base + "p", {"metadata": {"finalizers": None}},
                    headers={"Content-Type": "application/merge-patch+json"}, expect=200)

    def test_deep_nesting(self):
        for body in (b"[" * 100000 + b"]" * 100000, b'{"a":' * 100000 + b"1" + b"}" * 100000,
                     b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep","labels":'
                     + b"[" * 50000 + b"]" * 50000 + b"}}"):
            self.status("POST", CM, body, {"Content-Type": "application/json"}, code=400, reason="BadRequest",
                        what="deeply nested body")
        st, _, _ = self.s.http("PATCH", CM + "/x", b'{"a":' * 100000 + b"1" + b"}" * 100000, MERGE)
        self.assertTrue(400 <= st < 500, "deep merge patch: HTTP %s" % st)

    def test_ten_thousand_labels(self):
        labels = {"k%05d" % i: "v%d" % i for i in range(10000)}
        obj = cm("many")
        obj["metadata"]["labels"] = labels
        st, _, data = self.s.http("POST", CM, obj)
        self.assertEqual(st, 201, "10,000 labels: %s %r" % (st, data[:300]))
        st, got = self.s.json("GET", CM + "/many", expect=200)
        self.assertEqual(got["metadata"]["labels"], labels)
        st, lst = self.s.json("GET", CM + "?labelSelector=k09999%3Dv9999", expect=200)
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["many"])
        st, lst = self.s.json("GET", CM + "?labelSelector=k09999%3Dv1", expect=200)
        self.assertEqual(lst["items"], [])

    def test_bad_selectors_and_params(self):
        for q in ("labelSelector=a%20in%20(", "labelSelector=%3D%3D%3D", "labelSelector=a%20notin%20", "labelSelector=-bad-=x",
                  "fieldSelector=spec.bogus%3D1", "fieldSelector=%3D"):
            with self.subTest(query=q):
                self.status("GET", "/api/v1/namespaces/default/pods?" + q, code=400, reason="BadRequest", what=q)
        o = self.status("GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.bogus%3D1", code=400)
        self.assertIn("field label not supported: spec.bogus", o["message"])
        for q in ("limit=abc", "resourceVersion=abc&watch=true", "timeoutSeconds=-5&watch=true", "watch=maybe"):
            st, _, data = self.s.http("GET", "/api/v1/namespaces/default/pods?" + q, timeout=10)
            self.assertTrue(st < 500, "%s: HTTP %s %r" % (q, st, data[:200]))

    def test_stale_resource_version_conflict(self):
        _, c = self.s.json("POST", CM, cm("x", a="1"), expect=201)
        old = json.loads(json.dumps(c))
        c["data"]["a"] = "2"
        st, c2 = self.s.json("PUT", CM + "/x", c, expect=200)
        self.assertGreater(int(c2["metadata"]["resourceVersion"]), int(old["metadata"]["resourceVersion"]))
        old["data"]["a"] = "3"
        o = self.status("PUT", CM + "/x", old, code=409, reason="Conflict", what="stale resourceVersion")
        self.assertEqual(o["message"], 'Operation cannot be fulfilled on configmaps "x": the object has been modified; '
                                       'please apply your changes to the latest version and try again')
        self.assertEqual(o.get("details", {}).get("name"), "x")
        self.assertEqual(o.get("details", {}).get("kind"), "configmaps")
        # a patch carrying a stale RV precondition conflicts too
        self.status("PATCH", CM + "/x", {"metadata": {"resourceVersion": old["metadata"]["resourceVersion"]},
                                         "data": {"a": "4"}}, MERGE, code=409, reason="Conflict", what="stale RV in patch")
        # PUT without resourceVersion is an unconditional update
        c2["metadata"].pop("resourceVersion")
        c2["data"]["a"] = "5"
        self.s.json("PUT", CM + "/x", c2, expect=200)
        # delete with a stale RV precondition
        self.status("DELETE", CM + "/x", {"preconditions": {"resourceVersion": old["metadata"]["resourceVersion"]}},
                    code=409, reason="Conflict", what="stale RV precondition on delete")

    def test_watch_true_spelled_like_go(self):
        """Go's strconv.ParseBool accepts 1, t, T, TRUE, true, True; the Python client sends watch=True."""
        for v in ("true", "True", "1", "t", "TRUE"):
            with self.subTest(watch=v):
                t0 = time.monotonic()
                st, hd, data = self.s.http("GET", "/api/v1/namespaces/default/pods?watch=%s&timeoutSeconds=1" % v,
                                           timeout=10)
                self.assertEqual((st, hd.get("transfer-encoding")), (200, "chunked"),
                                 "watch=%s must start a watch (chunked stream), got HTTP %s %r" % (v, st, data[:200]))
                self.assertGreater(time.monotonic() - t0, 0.5, "watch=%s returned at once: %r" % (v, data[:200]))

    def open_watch(self, query):
        c = self.s.connection(timeout=15)
        c.request("GET", CM + "?watch=true&" + query)
        r = c.getresponse()
        return c, r

    def test_watch_replay_and_410_when_older_than_the_log(self):
        _, c = self.s.json("POST", CM, cm("hot", i="0"), expect=201)
        rv0 = int(c["metadata"]["resourceVersion"])
        conn = self.s.connection()
        last = None
        n = 4200  # the store's watch log holds 4096 events by default
        t0 = time.monotonic()
        for i in range(n):
            st, _, data = self.s.http("PATCH", CM + "/hot", json.dumps({"data": {"i": str(i + 1)}}), MERGE, conn=conn)
            if st != 200:
                self.fail("update %d: HTTP %s %r" % (i, st, data[:200]))
            last = data
        conn.close()
        dt = time.monotonic() - t0
        rv_last = int(json.loads(last)["metadata"]["resourceVersion"])
        # 1) from an RV still in the log: exactly the later events, in order
        c, r = self.open_watch("resourceVersion=%d&timeoutSeconds=3" % (rv_last - 10))
        self.assertEqual(r.status, 200)
        evs = [json.loads(r.readline()) for _ in range(10)]
        c.close()
        self.assertEqual([e["type"] for e in evs], ["MODIFIED"] * 10)
        self.assertEqual([int(e["object"]["metadata"]["resourceVersion"]) for e in evs], list(range(rv_last - 9, rv_last + 1)))
        self.assertEqual(evs[-1]["object"]["data"]["i"], str(n))
        # 2) from before the log: one ERROR event with a 410 Status, then the stream ends
        c, r = self.open_watch("resourceVersion=%d" % rv0)
        self.assertEqual(r.status, 200, "a too-old watch still starts with 200 and reports 410 in-stream")
        line = r.readline()
        rest = r.read()
        c.close()
        try:
            ev = json.loads(line)
        except ValueError:
            self.fail("expected an ERROR event line, got %r" % line[:300])
        self.assertEqual(ev.get("type"), "ERROR", "first event: %r" % line[:300])
        o = ev["object"]
        self.assertEqual((o.get("kind"), o.get("apiVersion"), o.get("status"), o.get("reason"), o.get("code")),
                         ("Status", "v1", "Failure", "Expired", 410), "ERROR event object: %r" % o)
        self.assertTrue(o.get("message", "").startswith("too old resource version: %d (" % rv0), o.get("message"))
        self.assertEqual(rest.strip(), b"", "the stream must end after the 410")
        # 3) a list then a watch from its RV works (what informers do after a 410)
        _, lst = self.s.json("GET", CM, expect=200)
        c, r = self.open_watch("resourceVersion=%s&timeoutSeconds=5" % lst["metadata"]["resourceVersion"])
        self.s.json("PATCH", CM + "/hot", {"data": {"i": "after"}}, MERGE, expect=200)
        ev = json.loads(r.readline())
        c.close()
        self.assertEqual((ev["type"], ev["object"]["data"]["i"]), ("MODIFIED", "after"))
        print("\n  %d updates in %.1fs" % (n, dt))

    def test_watch_rv0_synthetic_added_and_timeout(self):
        self.s.json("POST", CM, cm("a"), expect=201)
        self.s.json("POST", CM, cm("b"), expect=201)
        c, r = self.open_watch("resourceVersion=0&timeoutSeconds=2")
        t0 = time.monotonic()
        data = r.read()  # ends at the timeout
        c.close()
        evs = [json.loads(l) for l in data.split(b"\n") if l.strip()]
        # (and the namespace's kube-root-ca.crt, which every namespace has)
        self.assertEqual(sorted((e["type"], e["object"]["metadata"]["name"]) for e in evs),
                         [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "kube-root-ca.crt")])
        self.assertLess(time.monotonic() - t0, 6, "timeoutSeconds=2 not honoured")
        # bookmarks only when asked for; a field-selector watch of one name
        c, r = self.open_watch("fieldSelector=metadata.name%3Db&resourceVersion=0&timeoutSeconds=3")
        ev = json.loads(r.readline())
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "b"))
        self.s.json("PATCH", CM + "/a", {"data": {"x": "1"}}, MERGE, expect=200)
        self.s.json("DELETE", CM + "/b", expect=200)
        ev = json.loads(r.readline())
        c.close()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("DELETED", "b"))

    def test_watch_selector_transitions(self):
        """An object that stops matching a watch's selector is DELETED for it, and ADDED when it matches again."""
        c, r = self.open_watch("labelSelector=w%3D1&timeoutSeconds=3")
        self.s.json("POST", CM, dict(cm("a"), metadata={"name": "a", "labels": {"w": "1"}}), expect=201)
        self.s.json("POST", CM, dict(cm("b"), metadata={"name": "b", "labels": {"w": "0"}}), expect=201)
        self.s.json("PATCH", CM + "/a", {"metadata": {"labels": {"w": "0"}}}, MERGE, expect=200)
        self.s.json("PATCH", CM + "/b", {"metadata": {"labels": {"w": "1"}}}, MERGE, expect=200)
        self.s.json("DELETE", CM + "/b", expect=200)
        data = r.read()
        c.close()
        evs = [json.loads(l) for l in data.split(b"\n") if l.strip()]
        got = [(e["type"], e["object"]["metadata"]["name"]) for e in evs]
        self.assertEqual(got, [("ADDED", "a"), ("DELETED", "a"), ("ADDED", "b"), ("DELETED", "b")])
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        self.assertEqual(rvs, sorted(set(rvs)), "event resourceVersions must increase (DELETED carries the deletion's RV)")

    def test_stalled_watchers_do_not_block_writes(self):
        self.s.json("POST", CM, cm("big", k="x" * 20000), expect=201)
        stalled = []
        for _ in range(3):
            c, r = self.open_watch("resourceVersion=0")
            stalled.append(c)  # never read
        conn = self.s.connection()
        t0 = time.monotonic()
        for i in range(1500):  # ~30 MB of events per watcher
            st, _, data = self.s.http("PATCH", CM + "/big", json.dumps({"data": {"i": str(i)}}), MERGE, conn=conn)
            self.assertEqual(st, 200, data[:200])
        conn.close()
        dt = time.monotonic() - t0
        self.assertLess(dt, 30, "1500 writes took %.1fs with 3 stalled watchers" % dt)
        st, _, body = self.s.http("GET", "/healthz", auth=None, timeout=5)
        self.assertEqual((st, body), (200, b"ok"))
        for c in stalled:
            c.close()

    def test_transport_abuse(self):
        # plain HTTP to the TLS port
        s = socket.create_connection(("127.0.0.1", self.s.port), timeout=5)
        s.sendall(b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            s.recv(1000)
        except OSError:
            pass
        s.close()
        # TLS, then garbage instead of HTTP; the stalled connections stay open while others are served
        ctx = self.s.ssl_context()
        stalled = []
        for junk in (b"\x00\xff" * 5000, b"GET / HTTP/9.9\r\n\r\n",
                     b"GET /api HTTP/1.1\r\n" + b"X: " + b"a" * 200000 + b"\r\n\r\n",
                     b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Content-Type: application/json\r\n\r\n{\"a\":", b"GET /api HTTP/1.1\r\nHost: x\r\n"):
            t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.s.port), timeout=5), server_hostname="127.0.0.1")
            try:
                t.sendall(junk)
            except (OSError, ssl.SSLError):
                pass
            stalled.append(t)
        st, _, body = self.s.http("GET", "/healthz", auth=None, timeout=5)
        self.assertEqual((st, body), (200, b"ok"), "/healthz while 5 junk/stalled connections are open")
        self.s.json("POST", CM, cm("during-stall"), expect=201)
        for t in stalled:
            t.close()
        # a chunked request body (Go clients may send one)
        c = self.s.connection()
        body = json.dumps(cm("chunked")).encode()
        c.putrequest("POST", CM)
        c.putheader("Content-Type", "application/json")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        c.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        r = c.getresponse()
        st, data = r.status, r.read()
        c.close()
        self.assertEqual(st, 201, "chunked POST: %s %r" % (st, data[:200]))

    def test_concurrent_clients(self):
        errors = []

        def worker(k):
            try:
                conn = self.s.connection()
                for i in range(20):
                    st, _, data = self.s.http("POST", CM, cm("c-%d-%d" % (k, i)), conn=conn)
                    if st != 201:
                        errors.append((st, data[:200]))
                    st, _, _ = self.s.http("GET", CM + "/c-%d-%d" % (k, i), conn=conn)
                    if st != 200:
                        errors.append(("get", st))
                conn.close()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        _, lst = self.s.json("GET", CM, expect=200)
        names = [i["metadata"]["name"] for i in lst["items"] if i["metadata"]["name"] != "kube-root-ca.crt"]
        self.assertEqual(len(names), 16 * 20)
        rvs = [int(i["metadata"]["resourceVersion"]) for i in lst["items"]]
        self.assertEqual(len(set(rvs)), len(rvs), "resourceVersions must be unique")


class EventTTL(Case):
    """--event-ttl: an Event goes that long after its last write (kube-apiserver: 1 h)."""
    server_args = ("--no-node", "--controllers=*,-job,-replicaset", "--event-ttl", "6s")

    def test_events_expire_after_their_last_write(self):
        base = "/api/v1/namespaces/default/events"
        for name in ("once", "again"):
            self.s.json("POST", base, event(name, "Pod", "p", "u", "Test", "hi", "test"), expect=201)
        time.sleep(3)
        st, again = self.s.json("GET", base + "/again", expect=200)
        again["lastTimestamp"] = rfc3339()
        again["count"] = 2
        self.s.json("PUT", base + "/again", again, expect=200)
        def names():
            return {e["metadata"]["name"] for e in self.s.json("GET", base, expect=200)[1]["items"]}
        wait_until(lambda: "once" not in names(), 15, "the unrepeated event to expire")
        self.assertIn("again", names())  # its last write was 3 s later: it lives on
        wait_until(lambda: names() == set(), 15, "the repeated event to expire too")


if __name__ == "__main__":
    unittest.main()
