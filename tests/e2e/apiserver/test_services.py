"""Services end to end, with real pods on the pod network: the endpoints controller (Endpoints
and EndpointSlices), pod addresses, Service names in each pod's /etc/hosts and the ClusterIP
proxy - and the chapter's work queue, verbatim: the queue ReplicaSet and Service, 20 items
loaded through `kubectl port-forward rs/queue`, the consumers Job draining them through
`queue:8080`.
"""
import json
import os
import re
import subprocess
import unittest

from jpserver import VERSIONS, NobodyServer, chapter, have_kubectl, wait_until
from test_node import NodeCase
from test_portforward import FORWARDING, free_port

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)
KUARD = "gcr.io/kuar-demo/kuard-amd64:blue"
POD_IP = re.compile(r"^10\.244\.\d+\.\d+$")
ITEMS = 20


def shell_pod(name, script, labels=None):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", script]}]}}


# the API by name with the mounted CA: /version; /api without credentials, then with the token;
# the pods with the token (the default account may not list them, as on a cluster)
IN_CLUSTER = ("D=/var/run/secrets/kubernetes.io/serviceaccount; T=\"Authorization: Bearer $(cat $D/token)\"; "
              "curl -sS --cacert $D/ca.crt https://kubernetes.default.svc/version; echo; "
              "curl -sS -o /dev/null -w '%{http_code} ' --cacert $D/ca.crt "
              "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api; "
              "curl -sS -o /dev/null -w '%{http_code} ' --cacert $D/ca.crt -H \"$T\" https://kubernetes/api; "
              "curl -sS -o /dev/null -w '%{http_code}\\n' --cacert $D/ca.crt "
              "-H \"$T\" https://kubernetes/api/v1/namespaces/default/pods; "
              "cat $D/namespace; echo; cat $D/ca.crt")

PY_IN_CLUSTER = ("from kubernetes import client, config; config.load_incluster_config(); "
                 "p = client.CoreV1Api().read_namespaced_pod(\"py\", \"default\"); "
                 "print(p.spec.service_account_name, p.metadata.name, p.metadata.namespace)")


def kuard_rs(name, replicas, labels):
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "kuard", "image": KUARD,
                                                           "ports": [{"name": "http", "containerPort": 8080}]}]}}}}


def service(name, selector, port, target, labels=None):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"selector": dict(selector), "ports": [{"port": port, "targetPort": target}]}}


@unittest.skipIf(KV is None, "no kubectl found")
@unittest.skipIf(os.geteuid() != 0, "the pod network needs root")
class Services(NodeCase):
    V = KV

    def run_pod(self, name, script, timeout=60):
        """Runs a shell script in a pod; returns (exit code, its output)."""
        self.create(shell_pod(name, script))
        path = "/api/v1/namespaces/default/pods/" + name
        wait_until(lambda: self.s.json("GET", path, expect=200)[1]["status"].get("phase") in ("Succeeded", "Failed"),
                   timeout, "pod %s to finish (log: %s)" % (name, self.s.log(5)))
        st = self.s.json("GET", path, expect=200)[1]["status"]["containerStatuses"][0]
        return st["state"]["terminated"]["exitCode"], self.k("logs", name).out

    def endpoints(self, name):
        st, ep = self.s.json("GET", "/api/v1/namespaces/default/endpoints/" + name)
        return ep if st == 200 else None

    def addresses(self, name, key="addresses"):
        ep = self.endpoints(name) or {}
        return sorted(a["ip"] for s in ep.get("subsets", []) for a in s.get(key, []))

    def slices(self, name):
        st, lst = self.s.json("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                              "?labelSelector=kubernetes.io%2Fservice-name%3D" + name, expect=200)
        return lst["items"]

    def pod_ips(self, selector):
        _, lst = self.s.json("GET", "/api/v1/namespaces/default/pods?labelSelector=" + selector, expect=200)
        return sorted(p["status"].get("podIP", "") for p in lst["items"]
                      if p["status"].get("phase") == "Running" and "deletionTimestamp" not in p["metadata"])

    def test_chapter_work_queue(self):
        self.expect_out(self.k("apply", "-f", chapter("rs-queue.yaml")), "replicaset.apps/queue created\n")
        self.expect_out(self.k("apply", "-f", chapter("service-queue.yaml")), "service/queue created\n")
        wait_until(lambda: len(self.addresses("queue")) == 1, 30, "the queue pod in the Service's endpoints")
        (ip,) = self.addresses("queue")
        self.assertRegex(ip, POD_IP)
        self.assertEqual(self.pod_ips("app%3Dwork-queue"), [ip])
        for v in ("1.27", KV):
            if have_kubectl(v):
                self.expect_lines(self.s.kubectl(v, "describe", "service", "queue"),
                                  [r"Endpoints:\s+%s:8080$" % re.escape(ip)], ordered=False)
        # load the queue as the book does: kubectl port-forward rs/queue, then curl (once kuard
        # listens: a refused forward makes kubectl exit)
        _, pods = self.s.json("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dwork-queue", expect=200)
        queue_pod = pods["items"][0]["metadata"]["name"]
        wait_until(lambda: "Serving on HTTP" in self.k("logs", queue_pod).out, 30, "kuard to listen")
        port = free_port()
        bg = self.s.kubectl_bg(self.V, "port-forward", "rs/queue", "%d:8080" % port)
        self.addCleanup(bg.kill)
        self.assertTrue(bg.wait_for(FORWARDING % 8080, 30), bg.err)
        base = "http://localhost:%d/memq/server" % port
        def curl(*args):
            r = subprocess.run(["curl", "-sSf", "--max-time", "20", *args], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, "curl %s: %s" % (" ".join(args), r.stderr))
            return r.stdout
        curl("-X", "PUT", base + "/queues/keygen")
        for i in range(ITEMS):
            curl("-X", "POST", base + "/queues/keygen/enqueue", "-d", "work-item-%d" % i)
        self.assertEqual(json.loads(curl(base + "/stats"))["queues"][0]["depth"], ITEMS)
        self.expect_out(self.k("apply", "-f", chapter("job-consumers.yaml")), "job.batch/consumers created\n")
        path = "/apis/batch/v1/namespaces/default/jobs/consumers"
        wait_until(lambda: any(c["type"] == "Complete" for c in
                               self.s.json("GET", path, expect=200)[1]["status"].get("conditions", [])),
                   240, "the consumers Job to complete (log: %s)" % self.s.log(5), interval=0.5)
        status = self.s.json("GET", path, expect=200)[1]["status"]
        self.assertEqual((status["succeeded"], status.get("failed", 0)), (5, 0))
        q = json.loads(curl(base + "/stats"))["queues"][0]
        self.assertEqual((q["name"], q["depth"], q["dequeued"]), ("keygen", 0, ITEMS))
        # and from a pod, by the Service's full name
        rc, out = self.run_pod("stats", "curl -sf http://queue.default.svc.cluster.local:8080/memq/server/stats")
        self.assertEqual(rc, 0, out)
        self.assertEqual(json.loads(out)["queues"][0]["dequeued"], ITEMS, out)
        done = 0
        _, lst = self.s.json("GET", "/api/v1/namespaces/default/pods?labelSelector=job-name%3Dconsumers",
                             expect=200)
        for p in lst["items"]:
            done += self.k("logs", p["metadata"]["name"]).out.count("Item done: SHA256:")
        self.assertEqual(done, ITEMS)

    def test_the_api_is_the_kubernetes_service(self):
        """default/kubernetes, as on any cluster: 10.96.0.1:443 to the API's port, reached from a
        pod by name with the server's certificate valid for it, and the pod's own account token
        mounted where in-cluster clients look."""
        self.expect_lines(self.k("get", "svc", "kubernetes"),
                          [r"NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE",
                           r"kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443/TCP\s+\S+"])
        self.assertEqual(self.addresses("kubernetes"), ["127.0.0.1"])
        self.assertEqual([s["endpoints"][0]["addresses"] for s in self.slices("kubernetes")], [["127.0.0.1"]])
        code, out = self.run_pod("incluster", IN_CLUSTER)
        self.assertEqual(code, 0, out)
        version, codes, ns, ca = out.split("\n", 3)
        self.assertIn('"gitVersion":"v1.33.0-jobplane"', version)
        self.assertEqual((codes, ns), ("401 200 403", "default"))
        with open(os.path.join(self.s.data_dir, "ca.crt")) as f:
            self.assertEqual(ca, f.read())

    def test_in_cluster_clients_use_the_mounted_token(self):
        """The Python client's load_incluster_config, inside a pod, as the pod's account."""
        self.ok("create", "serviceaccount", "robot")
        self.ok("create", "rolebinding", "robot-view", "--clusterrole=view", "--serviceaccount=default:robot")
        m = shell_pod("py", "exec /usr/bin/python3 -c '%s'" % PY_IN_CLUSTER)
        m["spec"]["serviceAccountName"] = "robot"
        self.create(m)
        path = "/api/v1/namespaces/default/pods/py"
        wait_until(lambda: self.s.json("GET", path)[1]["status"].get("phase") in ("Succeeded", "Failed"), 60,
                   "pod py to finish")
        pod = self.s.json("GET", path)[1]
        self.assertEqual(self.k("logs", "py").out, "robot py default\n")
        (vol,) = pod["spec"]["volumes"]
        self.assertRegex(vol["name"], r"^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$")
        self.assertEqual(pod["spec"]["containers"][0]["volumeMounts"], [
            {"name": vol["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}])
        # opting out: the pod, or its account
        code, out = self.run_pod("mounted", "ls /var/run/secrets/kubernetes.io/serviceaccount")
        self.assertEqual((code, out), (0, "ca.crt\nnamespace\ntoken\n"))
        m = shell_pod("optout", "test -e /var/run/secrets/kubernetes.io/serviceaccount && echo mounted || echo none")
        m["spec"]["automountServiceAccountToken"] = False
        self.create(m)
        self.ok("patch", "sa", "robot", "-p", '{"automountServiceAccountToken": false}')
        m = shell_pod("robot", "test -e /var/run/secrets/kubernetes.io/serviceaccount && echo mounted || echo none")
        m["spec"]["serviceAccountName"] = "robot"
        self.create(m)
        for name in ("optout", "robot"):
            wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/" + name)[1]["status"]
                       .get("phase") == "Succeeded", 60, "pod %s to finish" % name)
            self.assertEqual(self.k("logs", name).out, "none\n")
            self.assertNotIn("volumes", self.s.json("GET", "/api/v1/namespaces/default/pods/" + name)[1]["spec"])

    def test_named_target_port_round_robin_and_no_endpoints(self):
        labels = {"app": "web"}
        self.create(kuard_rs("web", 2, labels))
        self.create(service("web", labels, 80, "http", labels={"tier": "front"}))
        self.create(service("nobody", {"app": "none"}, 80, 8080))
        wait_until(lambda: len(self.addresses("web")) == 2, 30, "two web endpoints")
        ips = self.addresses("web")
        self.assertEqual(ips, self.pod_ips("app%3Dweb"))
        self.assertNotEqual(ips[0], ips[1])
        ep = self.endpoints("web")
        self.assertEqual(ep["subsets"][0]["ports"], [{"port": 8080, "protocol": "TCP"}])
        self.assertEqual(ep["metadata"]["labels"], {"tier": "front"})
        self.assertNotIn("labels", self.endpoints("nobody")["metadata"])
        (sl,) = self.slices("web")
        self.assertEqual(sl["addressType"], "IPv4")
        self.assertEqual(sl["ports"], [{"name": "", "port": 8080, "protocol": "TCP"}])
        self.assertEqual(sorted(e["addresses"][0] for e in sl["endpoints"]), ips)
        self.assertTrue(all(e["conditions"]["ready"] for e in sl["endpoints"]))
        self.assertEqual(sl["metadata"]["ownerReferences"][0]["kind"], "Service")
        # kuard's page names the pod that answered: both answer, by the Service's name
        script = ("for i in 1 2 3 4; do curl -sf http://web/ | grep -o 'Hostname: <code>[^<]*'; done; "
                  "curl -s -m 5 http://nobody/ >/dev/null; echo \"nobody: $?\"; cat /etc/hosts")
        rc, out = self.run_pod("client", script)
        self.assertEqual(rc, 0, out)
        hostnames = set(re.findall(r"Hostname: <code>(web-\w{5})", out))
        self.assertEqual(len(hostnames), 2, out)
        # no endpoints: refused at once (a reset: curl's 56, or 55 when it lands while the
        # request is being sent, or 7), never a hang (28)
        self.assertRegex(out, r"nobody: (7|52|55|56)\n")
        self.assertRegex(out, r"\n10\.\d+\.\d+\.\d+\tweb web\.default web\.default\.svc "
                              r"web\.default\.svc\.cluster\.local\n")
        # scaled to zero: no address, one empty slice kept (the placeholder)
        self.ok("scale", "rs", "web", "--replicas=0")
        wait_until(lambda: self.addresses("web") == [] and "subsets" not in self.endpoints("web"), 30,
                   "the web endpoints to empty")
        wait_until(lambda: [len(s.get("endpoints") or []) for s in self.slices("web")] == [0], 30,
                   "one empty slice")
        # a deleted Service takes its Endpoints and slices along
        self.ok("delete", "service", "web")
        wait_until(lambda: self.endpoints("web") is None and self.slices("web") == [], 30,
                   "the web endpoints and slices to go")

    def test_not_ready_and_finished_pods(self):
        labels = {"app": "batch"}
        self.create(service("batch", labels, 9000, 9000))
        self.create(shell_pod("short", "exit 0", labels))
        self.create(dict(shell_pod("long", "sleep 300", labels)))
        wait_until(lambda: len(self.addresses("batch")) == 1, 30, "the running pod's address")
        self.assertEqual(self.addresses("batch"), self.pod_ips("app%3Dbatch"))
        self.assertEqual(self.addresses("batch", "notReadyAddresses"), [])
        # the finished pod never shows, and a pod being deleted leaves at once
        self.ok("delete", "pod", "long", "--wait=false")
        wait_until(lambda: self.addresses("batch") == [], 30, "the deleted pod to leave the endpoints")


@unittest.skipIf(KV is None, "no kubectl found")
class OnLoopback(NobodyServer, NodeCase):
    """The server as nobody: no pod network, so each container's /etc/hosts names every Service
    127.0.0.1 - kept current as Services come and go, like the pod network's."""
    V = KV

    def test_a_service_made_after_the_pod_is_named(self):
        script = "until grep -q '^127.0.0.1.*late.default.svc.cluster.local' /etc/hosts; do sleep 0.1; done"
        self.create(shell_pod("early", script))
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/early")[1]
                   .get("status", {}).get("phase") == "Running", 30, "the pod to run")
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "late"},
                     "spec": {"selector": {"app": "none"}, "ports": [{"port": 8080}]}})
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/early")[1]
                   .get("status", {}).get("phase") == "Succeeded", 20,
                   "the pod to see the Service's name in its /etc/hosts")

    def test_the_token_is_mounted(self):
        """In the container's user namespace, as root's pods have it."""
        script = ("D=/var/run/secrets/kubernetes.io/serviceaccount; cat $D/namespace; echo; "
                  "test -s $D/token && test -s $D/ca.crt && echo token")
        self.create(shell_pod("t", script))
        path = "/api/v1/namespaces/default/pods/t"
        wait_until(lambda: self.s.json("GET", path)[1].get("status", {}).get("phase") in ("Succeeded", "Failed"),
                   30, "the pod to finish")
        self.assertEqual(self.k("logs", "t").out, "default\ntoken\n")


if __name__ == "__main__":
    unittest.main()
