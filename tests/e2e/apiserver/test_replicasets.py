"""The ReplicaSet controller, end to end with kubectl: the chapter's queue ReplicaSet runs its
kuard pod, scaling up and down, replacement of a deleted pod, adoption of a matching orphan,
release of a pod whose labels change, and deletion with each propagation policy.
"""
import json
import time
import unittest

from jpserver import AGE, VERSIONS, chapter, have_kubectl, wait_until
from test_node import NodeCase

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)
LABELS = {"app": "work-queue", "component": "queue", "chapter": "jobs"}
SEL = "app%3Dwork-queue,component%3Dqueue,chapter%3Djobs"


def rs(name, replicas, command=("sleep", "300")):
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(LABELS)},
                     "template": {"metadata": {"labels": dict(LABELS)},
                                  "spec": {"terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "c", "image": "busybox",
                                                           "command": list(command)}]}}}}


@unittest.skipIf(KV is None, "no kubectl found")
class ReplicaSets(NodeCase):
    V = KV

    def pods(self, running=True):
        _, lst = self.s.json("GET", "/api/v1/namespaces/default/pods?labelSelector=" + SEL, expect=200)
        return [p for p in lst["items"] if not running or
                (p["status"].get("phase") in ("Pending", "Running") and "deletionTimestamp" not in p["metadata"])]

    def status(self, name):
        return self.s.json("GET", "/apis/apps/v1/namespaces/default/replicasets/" + name, expect=200)[1]

    def wait_replicas(self, n, ready=None, timeout=30):
        wait_until(lambda: len(self.pods()) == n and
                   (ready is None or self.status("queue")["status"].get("readyReplicas", 0) == ready),
                   timeout, "%d pods (%s ready)" % (n, ready))

    def test_chapter_queue_scales_and_replaces(self):
        self.expect_out(self.k("apply", "-f", chapter("rs-queue.yaml")), "replicaset.apps/queue created")
        self.wait_replicas(1, ready=1)
        uid = self.status("queue")["metadata"]["uid"]
        (p,) = self.pods()
        self.assertEqual(p["metadata"]["ownerReferences"],
                         [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "queue", "uid": uid,
                           "controller": True, "blockOwnerDeletion": True}])
        self.assertRegex(p["metadata"]["name"], r"^queue-[a-z0-9]{5}$")
        self.expect_lines(self.k("get", "rs"), [r"NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE",
                                                r"queue\s+1\s+1\s+1\s+%s" % AGE])
        st = self.status("queue")["status"]
        self.assertEqual((st["replicas"], st["readyReplicas"], st["availableReplicas"], st["observedGeneration"]),
                         (1, 1, 1, 1))
        self.expect_out(self.k("scale", "rs", "queue", "--replicas=3"), "replicaset.apps/queue scaled")
        self.wait_replicas(3, ready=3)
        self.expect_out(self.k("scale", "rs", "queue", "--replicas=1"), "replicaset.apps/queue scaled")
        self.wait_replicas(1)
        self.expect_lines(self.k("describe", "rs", "queue"), [
            r"Replicas:\s+1 current / 1 desired",
            r"\s+Normal\s+SuccessfulCreate\s+%s\s+replicaset-controller\s+Created pod: queue-\w{5}" % AGE,
            r"\s+Normal\s+SuccessfulDelete\s+%s\s+replicaset-controller\s+Deleted pod: queue-\w{5}" % AGE,
        ], ordered=False)
        (p,) = self.pods()
        self.expect_out(self.k("delete", "pod", p["metadata"]["name"], "--wait=false"),
                        'pod "%s" deleted' % p["metadata"]["name"])
        wait_until(lambda: [q["metadata"]["name"] for q in self.pods()] not in ([], [p["metadata"]["name"]]), 20,
                   "a replacement pod")

    def test_adopts_a_matching_orphan_and_releases_a_relabelled_pod(self):
        orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray", "labels": dict(LABELS)},
                  "spec": {"terminationGracePeriodSeconds": 1,
                           "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "300"]}]}}
        self.create(orphan)
        self.create(rs("queue", 1))
        wait_until(lambda: self.pods()[0]["metadata"].get("ownerReferences"), 10, "the orphan to be adopted")
        time.sleep(0.5)
        self.assertEqual([p["metadata"]["name"] for p in self.pods()], ["stray"])
        self.ok("label", "pod", "stray", "component=other", "--overwrite")
        wait_until(lambda: len(self.pods()) == 1 and self.pods()[0]["metadata"]["name"] != "stray", 20,
                   "a replacement for the released pod")
        _, stray = self.s.json("GET", "/api/v1/namespaces/default/pods/stray", expect=200)
        self.assertNotIn("ownerReferences", stray["metadata"])

    def test_delete_propagation(self):
        self.create(rs("queue", 2))
        self.wait_replicas(2)
        self.expect_out(self.k("delete", "rs", "queue", "--cascade=orphan"), 'replicaset.apps "queue" deleted')
        time.sleep(0.5)
        pods = self.pods()
        self.assertEqual(len(pods), 2)
        self.assertTrue(all("ownerReferences" not in p["metadata"] for p in pods), json.dumps(pods)[:500])
        self.create(rs("queue", 2))  # adopts the two orphans: no new pods
        wait_until(lambda: all(p["metadata"].get("ownerReferences") for p in self.pods()), 10, "adoption")
        self.assertEqual(len(self.pods(running=False)), 2)
        self.expect_out(self.k("delete", "rs", "queue"), 'replicaset.apps "queue" deleted')
        wait_until(lambda: self.pods(running=False) == [], 20, "the pods to go with the ReplicaSet")


if __name__ == "__main__":
    unittest.main()
