"""Container probes with real pods: readiness (HTTP, TCP, exec) gating the Ready condition and
a Service's endpoints, liveness restarting a container, startup holding liveness back, and the
kubelet's events for each.
"""
import os
import re
import shutil
import tempfile
import time
import unittest

from jpserver import VERSIONS, have_kubectl, wait_until
from test_node import NodeCase

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)
KUARD = "gcr.io/kuar-demo/kuard-amd64:blue"


def pod(name, container, labels=None, restart="Always"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"restartPolicy": restart, "terminationGracePeriodSeconds": 1, "containers": [container]}}


@unittest.skipIf(KV is None, "no kubectl found")
@unittest.skipIf(os.geteuid() != 0, "pods need their own network namespaces (root)")
class Probes(NodeCase):
    V = KV

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="jp-probes-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def get(self, name):
        return self.s.json("GET", "/api/v1/namespaces/default/pods/" + name, expect=200)[1]

    def condition(self, name, ctype):
        for c in self.get(name)["status"].get("conditions", []):
            if c["type"] == ctype:
                return c
        return {}

    def cstatus(self, name):
        return (self.get(name)["status"].get("containerStatuses") or [{}])[0]

    def events(self, name):
        r = self.k("get", "events", "--field-selector", "involvedObject.name=" + name, "-o",
                   "jsonpath={range .items[*]}{.reason}|{.message}{\"\\n\"}{end}")
        self.expect_rc(r)
        return r.out.splitlines()

    def test_http_readiness_gates_ready_and_endpoints(self):
        labels = {"app": "probed"}
        kuard = {"name": "kuard", "image": KUARD, "args": ["--readiness-fail-next=3"],
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 1}}
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "probed"},
                     "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]}})
        self.create(pod("web", kuard, labels))
        wait_until(lambda: self.cstatus("web").get("state", {}).get("running"), 30, "kuard to run")
        # running but failing its first three checks: not ready, listed as not ready
        ready = self.condition("web", "Ready")
        self.assertEqual((ready.get("status"), ready.get("reason")), ("False", "ContainersNotReady"), ready)
        self.assertEqual(ready.get("message"), "containers with unready status: [kuard]")
        self.assertIs(self.cstatus("web")["ready"], False)
        ip = self.get("web")["status"]["podIP"]
        def subset(key):
            st, ep = self.s.json("GET", "/api/v1/namespaces/default/endpoints/probed")
            return [a["ip"] for s in (ep.get("subsets") or []) for a in s.get(key, [])] if st == 200 else []
        wait_until(lambda: subset("notReadyAddresses") == [ip], 10, "the pod as a not-ready address")
        wait_until(lambda: self.condition("web", "Ready").get("status") == "True", 20, "the pod to become Ready")
        self.assertIs(self.cstatus("web")["ready"], True)
        wait_until(lambda: subset("addresses") == [ip], 10, "the pod as a ready address")
        failed = [e for e in self.events("web") if e.startswith("Unhealthy|")]
        self.assertTrue(failed, self.events("web"))
        # kuard's 500s (a check before it listens is refused, as Go words it)
        self.assertIn("Unhealthy|Readiness probe failed: HTTP probe failed with statuscode: 500", failed)
        refused = 'Unhealthy|Readiness probe failed: Get "http://%s:8080/ready": dial tcp %s:8080: connect: ' \
                  'connection refused' % (ip, ip)
        self.assertLessEqual(set(failed), {refused, "Unhealthy|Readiness probe failed: HTTP probe failed "
                                                    "with statuscode: 500"})
        self.expect_lines(self.k("get", "pod", "web"), [r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE",
                                                        r"web\s+1/1\s+Running\s+0\s+\S+"])

    def test_https_probes_check_no_certificate(self):
        """scheme HTTPS: TLS to a self-signed server, as the kubelet (it verifies nothing)."""
        serve = ("cd /certs && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=probe -keyout k.pem "
                 "-out c.pem -days 1 2>/dev/null && exec python3 -c '%s'" % "\n".join([
                     "import http.server, ssl",
                     "class H(http.server.BaseHTTPRequestHandler):",
                     "    def do_GET(self):",
                     "        self.send_response(200 if self.path == \"/ok\" else 404)",
                     "        self.end_headers()",
                     "    def log_message(self, *a): pass",
                     "s = http.server.HTTPServer((\"\", 8443), H)",
                     "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)",
                     "c.load_cert_chain(\"c.pem\", \"k.pem\")",
                     "s.socket = c.wrap_socket(s.socket, server_side=True)",
                     "s.serve_forever()"]))
        tls = {"name": "tls", "image": "busybox", "command": ["sh", "-c", serve],
               "volumeMounts": [{"name": "certs", "mountPath": "/certs"}],
               "readinessProbe": {"httpGet": {"path": "/ok", "port": 8443, "scheme": "HTTPS"}, "periodSeconds": 1},
               "livenessProbe": {"httpGet": {"path": "/missing", "port": 8443, "scheme": "HTTPS"},
                                 "periodSeconds": 1, "failureThreshold": 1000}}
        spec = pod("tls", tls)
        spec["spec"]["volumes"] = [{"name": "certs", "emptyDir": {}}]
        self.create(spec)
        wait_until(lambda: self.condition("tls", "Ready").get("status") == "True", 30,
                   "the pod to become Ready over HTTPS (events %s)" % self.events("tls"))
        wait_until(lambda: "Unhealthy|Liveness probe failed: HTTP probe failed with statuscode: 404"
                   in self.events("tls"), 10, "a 404 read over HTTPS (events %s)" % self.events("tls"))

    def test_tcp_readiness_on_a_closed_port(self):
        c = {"name": "c", "image": "busybox", "command": ["sleep", "300"],
             "readinessProbe": {"tcpSocket": {"port": 9999}, "periodSeconds": 1, "failureThreshold": 1}}
        self.create(pod("closed", c))
        wait_until(lambda: any("Readiness probe failed" in e for e in self.events("closed")), 20,
                   "a failed readiness check")
        ip = self.get("closed")["status"]["podIP"]
        self.assertIn("Unhealthy|Readiness probe failed: dial tcp %s:9999: connect: connection refused" % ip,
                      self.events("closed"))
        self.assertEqual(self.condition("closed", "Ready").get("status"), "False")
        self.expect_lines(self.k("get", "pod", "closed"), [r"NAME.*", r"closed\s+0/1\s+Running\s+0\s+\S+"])

    def test_exec_liveness_restarts_until_healthy(self):
        flag = os.path.join(self.tmp, "healthy")
        c = {"name": "c", "image": "busybox", "command": ["sleep", "300"],
             "livenessProbe": {"exec": {"command": ["sh", "-c", "cat %s" % flag]}, "periodSeconds": 1,
                               "failureThreshold": 2}}
        self.create(pod("sick", c))
        wait_until(lambda: self.cstatus("sick").get("restartCount", 0) >= 1, 30, "a liveness restart")
        ev = self.events("sick")
        self.assertIn("Killing|Container c failed liveness probe, will be restarted", ev)
        self.assertIn("Unhealthy|Liveness probe failed: cat: %s: No such file or directory" % flag, ev)
        last = self.cstatus("sick")["lastState"]["terminated"]
        self.assertIn(last["exitCode"], (137, 143))
        # healthy from now on: the restarts stop
        with open(flag, "w") as f:
            f.write("ok")
        wait_until(lambda: self.cstatus("sick").get("state", {}).get("running"), 30, "running again")
        n = self.cstatus("sick")["restartCount"]
        time.sleep(3)
        self.assertEqual(self.cstatus("sick")["restartCount"], n)
        self.assertTrue(self.cstatus("sick")["state"].get("running"), self.cstatus("sick"))

    def test_exec_probe_timeout_kills_and_reaps_the_command(self):
        c = {"name": "c", "image": "busybox", "command": ["sleep", "300"],
             "readinessProbe": {"exec": {"command": ["sleep", "30"]}, "periodSeconds": 1, "timeoutSeconds": 1}}
        self.create(pod("slowprobe", c))
        wait_until(lambda: any("command timed out after 1s" in e for e in self.events("slowprobe")), 20,
                   "a timed-out check")
        time.sleep(3)  # several more periods: each killed command must be reaped, not left a zombie
        server = self.s.proc.pid
        def zombies():
            out = []
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % d) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[0] == "Z" and int(fields[1]) == server:
                    out.append(int(d))
            return out
        wait_until(lambda: zombies() == [], 5, "no zombie children of the server (%r)" % zombies())
        self.assertEqual(self.condition("slowprobe", "Ready").get("status"), "False")

    def test_startup_probe_holds_liveness_back(self):
        flag = os.path.join(self.tmp, "started")
        c = {"name": "c", "image": "busybox", "command": ["sleep", "300"],
             "startupProbe": {"exec": {"command": ["test", "-f", flag]}, "periodSeconds": 1,
                              "failureThreshold": 60},
             "livenessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1}}
        self.create(pod("slow", c))
        wait_until(lambda: any(e.startswith("Unhealthy|Startup probe failed") for e in self.events("slow")), 20,
                   "a failed startup check")
        st = self.cstatus("slow")
        self.assertIs(st["started"], False)
        self.assertEqual(st["restartCount"], 0)
        self.assertFalse([e for e in self.events("slow") if "Liveness" in e])
        open(flag, "w").close()
        # started: liveness runs now, and its `false` has the container killed
        wait_until(lambda: any(re.match(r"Killing\|Container c failed liveness probe", e)
                               for e in self.events("slow")), 20, "liveness to run after startup")


if __name__ == "__main__":
    unittest.main()
