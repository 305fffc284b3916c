"""Volumes with real pods: configMap, secret, downwardAPI, projected, emptyDir shared between
containers, hostPath with its types, subPath and readOnly - mounted in each container's own mount
namespace, with mount points that do not exist on the host made in a copy-on-write layer, so
the host's filesystem never changes.
"""
import base64
import json
import os
import shutil
import tempfile
import unittest

from jpserver import VERSIONS, have_kubectl, wait_until
from test_node import NodeCase

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)
# mount points that must never appear on the host
GHOSTS = ("/jp-volume-test-data", "/etc/jp-volume-test-config")


def vpod(name, script, mounts, volumes, init=None, labels=None):
    spec = {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1, "volumes": volumes,
            "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script],
                            "volumeMounts": mounts}]}
    if init:
        spec["initContainers"] = [init]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}, "annotations": {"team": "batch"}},
            "spec": spec}


@unittest.skipIf(KV is None, "no kubectl found")
@unittest.skipIf(os.geteuid() != 0, "volumes need a mount namespace per container (root)")
class Volumes(NodeCase):
    V = KV

    def setUp(self):
        super().setUp()
        for g in GHOSTS:
            self.assertFalse(os.path.exists(g), "%s exists on the host before the test" % g)
        self.tmp = tempfile.mkdtemp(prefix="jp-volumes-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self.host_untouched)

    def host_untouched(self):
        for g in GHOSTS:
            self.assertFalse(os.path.exists(g), "%s was created on the host" % g)

    def finish(self, name, timeout=60):
        path = "/api/v1/namespaces/default/pods/" + name
        wait_until(lambda: self.s.json("GET", path, expect=200)[1]["status"].get("phase") in ("Succeeded", "Failed"),
                   timeout, "pod %s to finish (log: %s)" % (name, self.s.log(5)))
        pod = self.s.json("GET", path, expect=200)[1]
        return pod["status"]["phase"], self.k("logs", name, "-c", "main").out

    def events(self, name):
        _, lst = self.s.json("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D" + name,
                             expect=200)
        return [(e["reason"], e["message"]) for e in lst["items"]]

    def test_config_map_secret_downward_api_and_projected(self):
        self.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                     "data": {"greeting": "hello", "script.sh": "echo from-script"}})
        self.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec"},
                     "data": {"password": base64.b64encode(b"s3cret\x00\x01").decode()}})
        script = ("cat /etc/jp-volume-test-config/greeting; echo; sh /etc/jp-volume-test-config/bin/run.sh; "
                  "stat -c %a /etc/jp-volume-test-config/bin/run.sh; od -An -c /s/password | tr -s ' '; "
                  "cat /info/labels; echo; cat /info/annotations; echo; cat /info/name; echo; "
                  "ls /all | sort | tr '\\n' ' '; echo; "
                  "touch /etc/jp-volume-test-config/new 2>/dev/null && echo writable || echo read-only; "
                  "ls /etc/passwd >/dev/null && echo host-etc-visible")
        mounts = [{"name": "cfg", "mountPath": "/etc/jp-volume-test-config"},
                  {"name": "sec", "mountPath": "/s"},
                  {"name": "info", "mountPath": "/info"},
                  {"name": "all", "mountPath": "/all"}]
        volumes = [{"name": "cfg", "configMap": {"name": "cfg", "items": [
                       {"key": "greeting", "path": "greeting"},
                       {"key": "script.sh", "path": "bin/run.sh", "mode": 0o755}]}},
                   {"name": "sec", "secret": {"secretName": "sec"}},
                   {"name": "info", "downwardAPI": {"items": [
                       {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                       {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
                       {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
                   {"name": "all", "projected": {"sources": [
                       {"configMap": {"name": "cfg"}}, {"secret": {"name": "sec"}},
                       {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}}]
        self.create(vpod("v", script, mounts, volumes, labels={"app": "v", "tier": "batch"}))
        phase, out = self.finish("v")
        self.assertEqual(phase, "Succeeded", out)
        self.assertEqual(out.splitlines(), [
            "hello", "from-script", "755", " s 3 c r e t \\0 001", 'app="v"', 'tier="batch"',
            'team="batch"', "v", "greeting ns password script.sh ", "read-only", "host-etc-visible"])

    def test_empty_dir_shared_subpath_and_read_only(self):
        init = {"name": "init", "image": "busybox", "command": ["sh", "-c", "echo from-init > /w/sub/dir/f"],
                "volumeMounts": [{"name": "scratch", "mountPath": "/w"}]}
        script = ("cat /jp-volume-test-data/f; echo more > /jp-volume-test-data/g; cat /r/dir/f; "
                  "(echo x > /r/y) 2>/dev/null || echo ro-refused; ls /jp-volume-test-data | tr '\\n' ' '")
        mounts = [{"name": "scratch", "mountPath": "/jp-volume-test-data", "subPath": "sub/dir"},
                  {"name": "scratch", "mountPath": "/r", "subPath": "sub", "readOnly": True}]
        # the init container makes sub/dir before the app's subPath needs it
        init["command"] = ["sh", "-c", "mkdir -p /w/sub/dir && echo from-init > /w/sub/dir/f"]
        self.create(vpod("e", script, mounts, [{"name": "scratch", "emptyDir": {}}], init=init))
        phase, out = self.finish("e")
        self.assertEqual(phase, "Succeeded", out)
        self.assertEqual(out.splitlines(), ["from-init", "from-init", "ro-refused", "f g "])

    def test_host_path_types(self):
        made = os.path.join(self.tmp, "made", "deeper")
        mounts = [{"name": "h", "mountPath": "/jp-volume-test-data"}]
        vol = [{"name": "h", "hostPath": {"path": made, "type": "DirectoryOrCreate"}}]
        self.create(vpod("h1", "echo from-pod > /jp-volume-test-data/out", mounts, vol))
        phase, out = self.finish("h1")
        self.assertEqual(phase, "Succeeded", out)
        with open(os.path.join(made, "out")) as f:
            self.assertEqual(f.read(), "from-pod\n")  # a hostPath writes through to the host
        # a File that is a directory, and a path through a symlink: FailedMount, never started
        os.symlink(self.tmp, os.path.join(self.tmp, "link"))
        bad = {"h2": {"path": made, "type": "File"},
               "h3": {"path": os.path.join(self.tmp, "link", "made"), "type": "Directory"}}
        for name, hp in bad.items():
            self.create(vpod(name, "true", mounts, [{"name": "h", "hostPath": hp}]))
        wait_until(lambda: all(any(r == "FailedMount" for r, _ in self.events(n)) for n in bad), 20,
                   "FailedMount events")
        msgs = {n: [m for r, m in self.events(n) if r == "FailedMount"][0] for n in bad}
        self.assertEqual(msgs["h2"], 'MountVolume.SetUp failed for volume "h" : hostPath type check failed: '
                                     '%s is not a File' % made)
        self.assertEqual(msgs["h3"], 'MountVolume.SetUp failed for volume "h" : %s is a symbolic link'
                         % os.path.join(self.tmp, "link"))
        st = self.s.json("GET", "/api/v1/namespaces/default/pods/h2", expect=200)[1]["status"]
        self.assertEqual(st["phase"], "Pending")
        self.assertEqual(st["containerStatuses"][0]["state"]["waiting"]["reason"], "ContainerCreating")

    def test_missing_config_map_waits_then_mounts(self):
        mounts = [{"name": "cfg", "mountPath": "/etc/jp-volume-test-config"}]
        self.create(vpod("late", "cat /etc/jp-volume-test-config/k", mounts,
                         [{"name": "cfg", "configMap": {"name": "later"}}]))
        wait_until(lambda: ("FailedMount", 'MountVolume.SetUp failed for volume "cfg" : configmap "later" not found')
                   in self.events("late"), 20, "a FailedMount event")
        self.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "later"}, "data": {"k": "v"}})
        phase, out = self.finish("late")
        self.assertEqual((phase, out.strip()), ("Succeeded", "v"))


if __name__ == "__main__":
    unittest.main()
