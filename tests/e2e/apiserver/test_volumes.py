"""Volumes with real pods: configMap, secret, downwardAPI, projected, emptyDir shared between
containers, hostPath with its types, subPath and readOnly - mounted in each container's own mount
namespace, with mount points that do not exist on the host made in a tmpfs layer of their own, so
the host's filesystem never changes. emptyDir medium Memory is one tmpfs per pod on the host,
sized as the kubelet sizes it and gone with the pod; a disk emptyDir over its sizeLimit gets its
pod evicted (measured every 10 s, 0.2 s under these tests' --backoff-scale 0.02). kubectl exec
and exec probes see the volumes.

Unprivileged runs the server as nobody (setpriv, from root): containers mount their volumes - and
enter a stored image - in a user namespace of their own that maps their uid and gid to themselves,
through read-only binds of a nosuid,nodev,noexec,noatime mount, and nothing of nobody's appears
outside its directory; a Memory emptyDir is a shared directory there, with a Warning.
UserNamespacesRefused runs it where user.max_user_namespaces is 0 (in a user namespace of the
test's, not on the host): the old FailedMount and StartError, naming the sysctl.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from jpserver import JOBPLANE, NOBODY, VERSIONS, NobodyServer, as_user, have_kubectl, wait_until
from test_images import MARKER, make_rootfs
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


def mounts_under(path):
    """(mount point, fs type, super options) of every mount at or below path, from mountinfo."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            sep = fields.index("-")
            if point == path or point.startswith(path + "/"):
                out.append((point, fields[sep + 1], fields[sep + 3]))
    return out


def processes_naming(path):
    """Pids with path as an argument (a shim names its attempt directory)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if path.encode() in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out


def container(name, script, mounts, **extra):
    c = {"name": name, "image": "busybox", "command": ["sh", "-c", script], "volumeMounts": mounts}
    c.update(extra)
    return c


def pod_of(name, containers, volumes, restart="Never", init=None):
    spec = {"restartPolicy": restart, "terminationGracePeriodSeconds": 1, "volumes": volumes,
            "containers": containers}
    if init:
        spec["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def memory_limit(size):
    return {"limits": {"memory": size}}


class VolumeCase(NodeCase):
    """What the tests of volumes share: the host checked before and after, pods waited for."""
    V = KV

    def setUp(self):
        super().setUp()
        for g in GHOSTS:
            self.assertFalse(os.path.exists(g), "%s exists on the host before the test" % g)
        self.tmp = tempfile.mkdtemp(prefix="jp-volumes-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self.host_untouched)
        self.addCleanup(self.detach_leftovers)

    def detach_leftovers(self):
        """A failed test must not leave a tmpfs on the host (nor let rmtree empty a live one)."""
        for point, _, _ in reversed(mounts_under(self.s.data_dir)):
            subprocess.run(["umount", "-l", point], check=False)

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

    def pod(self, name):
        return self.s.json("GET", "/api/v1/namespaces/default/pods/" + name, expect=200)[1]

    def pod_dir(self, name):
        return os.path.join(self.s.data_dir, "pods", self.pod(name)["metadata"]["uid"])

    def running(self, name, container="main"):
        def check():
            for st in self.pod(name).get("status", {}).get("containerStatuses", []):
                if st["name"] == container and "running" in st["state"]:
                    return True
            return False
        wait_until(check, 30, "container %s of pod %s to run (log: %s)" % (container, name, self.s.log(5)))

    def deleted(self, name):
        self.k("delete", "pod", name, "--wait=false")
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/" + name)[0] == 404, 30,
                   "pod %s to be gone" % name)

    def ready(self, name):
        return any(c["type"] == "Ready" and c["status"] == "True"
                   for c in self.pod(name).get("status", {}).get("conditions", []))

    def exec_sees_volumes(self):
        """kubectl exec and an exec probe join the container's mount namespace - and the layer
        over "/" its volume's new top-level mount point needed, a chroot the namespace does not
        remember."""
        script = "echo ready > /jp-volume-test-data/probe; while [ ! -e /ctl/go ]; do sleep 0.05; done"
        ctl = os.path.join(self.s.tmp, "ctl")
        os.mkdir(ctl)
        os.chmod(ctl, 0o777)
        c = container("main", script, [{"name": "d", "mountPath": "/jp-volume-test-data"},
                                       {"name": "ctl", "mountPath": "/ctl"}],
                      readinessProbe={"exec": {"command": ["cat", "/jp-volume-test-data/probe"]},
                                      "periodSeconds": 1})
        self.create(pod_of("x", [c], [{"name": "d", "emptyDir": {}}, {"name": "ctl", "hostPath": {"path": ctl}}]))
        wait_until(lambda: self.ready("x"), 30, "the exec probe to pass (log: %s)" % self.s.log(5))
        r = self.k("exec", "x", "--", "sh", "-c", "id -u; cat /jp-volume-test-data/probe; pwd")
        self.expect_rc(r)
        open(os.path.join(ctl, "go"), "w").close()
        phase, _ = self.finish("x")
        self.assertEqual(phase, "Succeeded")
        return r.out.splitlines()


@unittest.skipIf(KV is None, "no kubectl found")
@unittest.skipIf(os.geteuid() != 0, "volumes need a mount namespace per container (root)")
class Volumes(VolumeCase):

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

    def test_exec_and_exec_probes_see_the_volumes(self):
        self.assertEqual(self.exec_sees_volumes(), ["0", "ready", "/"])

    # ---- emptyDir medium and sizeLimit --------------------------------------------------------
    def test_memory_empty_dir_is_one_tmpfs_per_pod_sized_by_its_limit(self):
        ctl = os.path.join(self.tmp, "ctl")
        os.mkdir(ctl)
        main = ("stat -f -c %T /m; stat -f -c '%b %S' /m; stat -c %a /m; echo shared > /m/note; "
                "dd if=/dev/zero of=/m/big bs=4096 count=1024 2>&1 | grep -o 'No space left on device'; "
                "while [ ! -e /ctl/go ]; do sleep 0.05; done")
        second = "while [ ! -s /m/note ]; do sleep 0.05; done; cat /m/note; stat -f -c %T /m"
        m = [{"name": "m", "mountPath": "/m"}]
        self.create(pod_of("mem", [container("main", main, m + [{"name": "ctl", "mountPath": "/ctl"}]),
                                   container("second", second, m)],
                           [{"name": "m", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                            {"name": "ctl", "hostPath": {"path": ctl}}]))
        self.running("mem")
        pod_dir = self.pod_dir("mem")
        # mounted once, on the host, for both containers: the kubelet's size option, nosuid, nodev
        mounts = mounts_under(self.s.data_dir)
        self.assertEqual([(p, t) for p, t, _ in mounts], [(os.path.join(pod_dir, "volumes", "m"), "tmpfs")])
        self.assertIn("size=1024k", mounts[0][2].split(","))
        wait_until(lambda: "No space" in self.k("logs", "mem", "-c", "main").out, 30, "the writer to fill it")
        open(os.path.join(ctl, "go"), "w").close()
        phase, out = self.finish("mem")
        self.assertEqual(phase, "Succeeded", out)
        # a tmpfs, 1Mi (256 pages), tmpfs's own root mode as the kubelet leaves it, full at 1Mi
        self.assertEqual(out.splitlines(), ["tmpfs", "256 4096", "1777", "No space left on device"])
        self.assertEqual(self.k("logs", "mem", "-c", "second").out.splitlines(), ["shared", "tmpfs"])
        # a settled pod gives its memory back; its directory (and logs) stay until it is deleted
        self.assertEqual(mounts_under(self.s.data_dir), [])
        self.assertTrue(os.path.isdir(pod_dir))
        self.deleted("mem")
        wait_until(lambda: not os.path.exists(pod_dir), 20, "the pod directory to go")
        self.assertEqual(mounts_under(self.s.data_dir), [])

    def test_memory_empty_dir_sized_by_memory_limits_survives_server_restart(self):
        ctl = os.path.join(self.tmp, "ctl")
        os.mkdir(ctl)
        # no sizeLimit: the pod's memory limit (every container has one: 12Mi for the app
        # containers, more than the init container's 4Mi), as the kubelet sizes it
        init = container("init", "echo from-init > /m/f", [{"name": "m", "mountPath": "/m"}],
                         resources=memory_limit("4Mi"))
        main = ("if [ -e /m/again ]; then cat /m/f /m/again; stat -f -c '%b %S' /m; "
                "while [ ! -e /ctl/go2 ]; do sleep 0.05; done; exit 0; fi; "
                "echo again > /m/again; while [ ! -e /ctl/go ]; do sleep 0.05; done; exit 1")
        mounts = [{"name": "m", "mountPath": "/m"}, {"name": "ctl", "mountPath": "/ctl"}]
        self.create(pod_of("r", [container("main", main, mounts, resources=memory_limit("12Mi"))],
                           [{"name": "m", "emptyDir": {"medium": "Memory"}},
                            {"name": "ctl", "hostPath": {"path": ctl}}], restart="OnFailure", init=[init]))
        self.running("r")
        self.s.restart()  # containers outlive the server; the next one finds the tmpfs mounted
        open(os.path.join(ctl, "go"), "w").close()  # exit 1: the new server restarts it
        wait_until(lambda: self.pod("r")["status"]["containerStatuses"][0]["restartCount"] == 1
                   and "running" in self.pod("r")["status"]["containerStatuses"][0]["state"], 30,
                   "the restart under the new server")
        # the same tmpfs, not a second one stacked on it
        self.assertEqual(len(mounts_under(self.s.data_dir)), 1, mounts_under(self.s.data_dir))
        open(os.path.join(ctl, "go2"), "w").close()
        phase, out = self.finish("r")
        self.assertEqual((phase, out.splitlines()), ("Succeeded", ["from-init", "again", "3072 4096"]))
        self.assertEqual(mounts_under(self.s.data_dir), [])

    def test_orphaned_pod_directory_loses_its_tmpfs(self):
        ctl = os.path.join(self.tmp, "ctl")
        os.mkdir(ctl)
        self.create(pod_of("o", [container("main", "while [ ! -e /ctl/go ]; do sleep 0.05; done",
                                           [{"name": "m", "mountPath": "/m"}, {"name": "ctl", "mountPath": "/ctl"}])],
                           [{"name": "m", "emptyDir": {"medium": "Memory", "sizeLimit": "2Mi"}},
                            {"name": "ctl", "hostPath": {"path": ctl}}]))
        self.running("o")
        pod_dir = self.pod_dir("o")
        records = self.s.records_dir(self.pod("o")["metadata"]["uid"])
        self.assertEqual(len(mounts_under(pod_dir)), 1)
        # the pod ends and is forgotten while no server runs (nothing unmounts its tmpfs then):
        # the next server finds an orphaned directory with a tmpfs on it
        self.s.kill9()
        open(os.path.join(ctl, "go"), "w").close()
        shim = os.path.join(records, "main", "0")
        wait_until(lambda: os.path.exists(os.path.join(shim, "exit.json")), 20, "the container to end")
        wait_until(lambda: not processes_naming(shim), 20, "its shim to end")
        for f in os.listdir(self.s.data_dir):
            if f.startswith("state.db"):
                os.remove(os.path.join(self.s.data_dir, f))
        self.assertEqual(len(mounts_under(pod_dir)), 1)
        self.s.start()
        wait_until(lambda: not os.path.exists(pod_dir) and not os.path.exists(records), 20,
                   "the orphaned directories to go")
        self.assertEqual(mounts_under(self.s.data_dir), [])

    def test_size_limit_evicts_a_pod_over_it_and_spares_one_under(self):
        s = [{"name": "scratch", "mountPath": "/s"}]
        vol = [{"name": "scratch", "emptyDir": {"sizeLimit": "1024Ki"}}]
        # 2 MiB in a subdirectory: over; the pod would restart (Always), but an eviction is final
        self.create(pod_of("over", [container("main", "mkdir -p /s/a/b && dd if=/dev/zero of=/s/a/b/f bs=4096 "
                                                      "count=512 2>/dev/null; sleep 60", s)], vol, restart="Always"))
        # 600 KiB and a hard link to it (counted once), a symlink to big host files (not followed),
        # then several measurements later a normal end
        under = ("dd if=/dev/zero of=/s/f bs=4096 count=150 2>/dev/null; ln /s/f /s/again; ln -s /usr /s/usr; "
                 "sleep 1.5; echo done")
        self.create(pod_of("under", [container("main", under, s)], vol))
        msg = 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". '
        phase, _ = self.finish("over", timeout=30)
        st = self.pod("over")["status"]
        self.assertEqual((phase, st.get("reason"), st.get("message")), ("Failed", "Evicted", msg))
        cs = st["containerStatuses"][0]
        self.assertEqual(cs["restartCount"], 0)
        self.assertIn("terminated", cs["state"])
        self.assertIn(("Evicted", msg), self.events("over"))
        ev = [e for e in self.s.json("GET", "/api/v1/namespaces/default/events", expect=200)[1]["items"]
              if e["reason"] == "Evicted"]
        self.assertEqual([(e["type"], e["involvedObject"]["name"], e["source"]["component"]) for e in ev],
                         [("Warning", "over", "kubelet")])
        phase, out = self.finish("under")
        self.assertEqual((phase, out), ("Succeeded", "done\n"))
        self.assertNotIn("Evicted", [r for r, _ in self.events("under")])

    def test_unknown_medium_fails_the_mount(self):
        self.create(vpod("disk", "true", [{"name": "v", "mountPath": "/jp-volume-test-data"}],
                         [{"name": "v", "emptyDir": {"medium": "Disk"}}]))
        want = ("FailedMount", 'MountVolume.SetUp failed for volume "v" : unknown storage medium "Disk"')
        wait_until(lambda: want in self.events("disk"), 20, "a FailedMount event")

    def test_size_limit_must_be_a_quantity(self):
        bad = vpod("bad", "true", [], [{"name": "v", "emptyDir": {"sizeLimit": "abc"}}])
        r = self.k("create", "-f", "-", stdin=json.dumps(bad))
        self.expect_err(r, 'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" '
                           "cannot be handled as a Pod: quantities must match the regular expression "
                           "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        neg = vpod("neg", "true", [], [{"name": "v", "emptyDir": {"sizeLimit": "-1Mi"}}])
        r = self.k("create", "-f", "-", stdin=json.dumps(neg))
        self.expect_err(r, 'The Pod "neg" is invalid: spec.volumes[0].emptyDir.sizeLimit: Forbidden: '
                           "SizeLimit field must be a valid resource quantity")


class AsNobody(NobodyServer, VolumeCase):
    """A server run as nobody, where this machine can run one."""


@unittest.skipIf(KV is None, "no kubectl found")
class Unprivileged(AsNobody):
    """The server as nobody: each container with volumes mounts them in a user namespace of its
    own mapping its uid and gid to themselves, so it keeps its identity and needs no root."""

    def setUp(self):
        self.started = time.time()
        super().setUp()
        self.addCleanup(self.nothing_of_nobodys_outside)

    def nothing_of_nobodys_outside(self):
        """Nothing the server's user made since the test began lies outside its own directory:
        not at the top of the filesystem, in /etc, /tmp or /var/tmp, nor elsewhere in the test's."""
        made = []
        for d in ("/", "/etc", "/tmp", "/var/tmp", self.s.tmp):
            for e in os.listdir(d):
                path = os.path.join(d, e)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if st.st_uid == NOBODY and st.st_ctime >= self.started - 1 and path != self.s.user_dir:
                    made.append(path)
        self.assertEqual(made, [])

    def locked_dir(self):
        """A directory on a nosuid,nodev,noexec,noatime tmpfs, as /tmp often is: in a user
        namespace those flags are locked, so a read-only bind must keep them to be made at all."""
        d = os.path.join(self.s.tmp, "locked")
        os.mkdir(d)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,noatime,mode=0755", "jp-locked", d],
                       check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", d], check=False)
        with open(os.path.join(d, "k"), "w") as f:
            f.write("from-a-locked-mount\n")
        return d

    def test_volumes_without_root(self):
        self.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                     "data": {"greeting": "hello"}})
        init = container("init", "mkdir -p /w/sub/dir && echo from-init > /w/sub/dir/f",
                         [{"name": "scratch", "mountPath": "/w"}])
        main = ("id -u; id -g; cat /jp-volume-test-data/sub/dir/f; cat /sub/f; "
                "echo shared > /jp-volume-test-data/note; cat /etc/jp-volume-test-config/greeting; echo; "
                "(echo x > /etc/jp-volume-test-config/new) 2>&1 | grep -o 'Read-only file system'; "
                "cat /locked/k; (echo x > /locked/new) 2>&1 | grep -o 'Read-only file system'; "
                "echo x > /jp-volume-test-top && echo x > /etc/jp-volume-test-file && echo made-in-layers; "
                "(echo x >> /etc/passwd) 2>&1 | grep -o 'Permission denied'; ls /etc/passwd")
        # -s, not -e: the file exists (empty) before main's echo has written to it
        second = "while [ ! -s /s/note ]; do sleep 0.05; done; cat /s/note; id -u"
        mounts = [{"name": "scratch", "mountPath": "/jp-volume-test-data"},
                  {"name": "scratch", "mountPath": "/sub", "subPath": "sub/dir"},
                  {"name": "cfg", "mountPath": "/etc/jp-volume-test-config", "readOnly": True},
                  {"name": "locked", "mountPath": "/locked", "readOnly": True}]
        self.create(pod_of("u", [container("main", main, mounts),
                                 container("second", second, [{"name": "scratch", "mountPath": "/s"}])],
                           [{"name": "scratch", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "cfg"}},
                            {"name": "locked", "hostPath": {"path": self.locked_dir()}}], init=[init]))
        phase, out = self.finish("u")
        self.assertEqual(phase, "Succeeded", out)
        self.assertEqual(out.splitlines(), [
            "65534", "65534", "from-init", "from-init", "hello", "Read-only file system",
            "from-a-locked-mount", "Read-only file system", "made-in-layers", "Permission denied",
            "/etc/passwd"])
        self.assertEqual(self.k("logs", "u", "-c", "second").out.splitlines(), ["shared", "65534"])
        # what the containers wrote is the user's on the host, in the pod's own directory
        note = os.path.join(self.pod_dir("u"), "volumes", "scratch", "note")
        self.assertEqual(os.stat(note).st_uid, NOBODY)
        for gone in ("/jp-volume-test-top", "/etc/jp-volume-test-file"):
            self.assertFalse(os.path.exists(gone), "%s was created on the host" % gone)
        self.assertNotIn("FailedMount", [r for r, _ in self.events("u")])

    def test_exec_and_exec_probes_see_the_volumes(self):
        self.assertEqual(self.exec_sees_volumes(), ["65534", "ready", "/"])

    def test_memory_empty_dir_is_a_shared_directory(self):
        self.create(pod_of("mem", [container("main", "stat -f -c %T /m | grep -vx tmpfs; echo shared > /m/note", [
                                       {"name": "m", "mountPath": "/m"}]),
                                   container("second", "while [ ! -s /m/note ]; do sleep 0.05; done; cat /m/note",
                                             [{"name": "m", "mountPath": "/m"}])],
                           [{"name": "m", "emptyDir": {"medium": "Memory"}}]))
        phase, _ = self.finish("mem")
        self.assertEqual(phase, "Succeeded", self.k("logs", "mem", "-c", "main").out)
        self.assertEqual(self.k("logs", "mem", "-c", "second").out, "shared\n")
        self.assertIn(("MemoryVolumeFallback", 'Volume "m" (emptyDir, medium Memory) is a directory on disk: a '
                       "tmpfs that all the pod's containers share needs jobplane to run as root"),
                      self.events("mem"))
        self.assertEqual(mounts_under(self.s.data_dir), [])

    def test_stored_image_with_volumes_without_root(self):
        rootfs = os.path.join(self.s.tmp, "rootfs")
        make_rootfs(rootfs)
        p = subprocess.run(as_user(NOBODY) + [JOBPLANE, "image", "import", "--data-dir", self.s.data_dir,
                                              "jp-test/shell:1", rootfs], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}})
        script = ("read l < /etc/image-marker; echo $l; test -e /usr/bin/python3 && echo host || echo not-host; "
                  "echo changed > /etc/image-marker; read l < /etc/image-marker; echo $l; "
                  "test -e /proc/self/status && echo proc; echo > /dev/null && echo devnull; "
                  "echo hi > /data/f; read l < /data/f; echo $l; read l < /cfg/k; echo $l; "
                  "(echo x > /cfg/new) 2>/dev/null || echo read-only")
        c = {"name": "main", "image": "jp-test/shell:1", "command": ["/bin/sh", "-c", script],
             "volumeMounts": [{"name": "d", "mountPath": "/data"}, {"name": "c", "mountPath": "/cfg"}]}
        self.create(pod_of("img", [c], [{"name": "d", "emptyDir": {}}, {"name": "c", "configMap": {"name": "cfg"}}]))
        phase, out = self.finish("img")
        self.assertEqual((phase, out.splitlines()), ("Succeeded", [
            MARKER, "not-host", "changed", "proc", "devnull", "hi", "v", "read-only"]))
        stored = os.path.join(self.s.data_dir, "images", "docker.io+jp-test+shell%3A1", "rootfs")
        with open(os.path.join(stored, "etc", "image-marker")) as f:
            self.assertEqual(f.read(), MARKER + "\n")  # the write went to the pod's own layer
        self.assertFalse(os.path.exists(os.path.join(stored, "data")))


# Runs argv[1:] in a user namespace of its own (every id mapped to itself, by a child left in the
# parent namespace: only it may map more than one id) whose user.max_user_namespaces is 0, as a
# kernel that refuses user namespaces would be - without changing the host's setting.
REFUSING = r"""
import ctypes, os, sys
r, w = os.pipe()
me = os.getpid()
if os.fork() == 0:
    os.read(r, 1)
    for m in ("uid_map", "gid_map"):
        with open("/proc/%d/%s" % (me, m), "w") as f:
            f.write("0 0 4294967295")
    os._exit(0)
if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:  # CLONE_NEWUSER
    sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
os.write(w, b"x")
os.wait()
with open("/proc/sys/user/max_user_namespaces", "w") as f:
    f.write("0")
os.execvp(sys.argv[1], sys.argv[1:])
"""


@unittest.skipIf(KV is None, "no kubectl found")
class UserNamespacesRefused(AsNobody):
    """The server as nobody where the kernel allows no user namespace: volumes and stored images
    fail as they did before there were user namespaces, naming the sysctl."""
    server_wrapper = (sys.executable, "-c", REFUSING)

    def test_volumes_and_stored_images_say_why(self):
        cause = "this kernel refuses them to users (sysctl user.max_user_namespaces is 0)"
        self.create(vpod("v", "true", [{"name": "d", "mountPath": "/jp-volume-test-data"}],
                         [{"name": "d", "emptyDir": {}}]))
        want = ("FailedMount", "MountVolume.SetUp failed: volumes need jobplane to run as root or in a user "
                               "namespace, and " + cause)
        wait_until(lambda: want in self.events("v"), 20, "a FailedMount event (%s)" % self.events("v"))
        st = self.pod("v")["status"]
        self.assertEqual((st["phase"], st["containerStatuses"][0]["state"]["waiting"]["reason"]),
                         ("Pending", "ContainerCreating"))
        # a stored image needs a mount namespace too; a pod with neither runs
        rootfs = os.path.join(self.s.tmp, "rootfs")
        make_rootfs(rootfs)
        p = subprocess.run(as_user(NOBODY) + [JOBPLANE, "image", "import", "--data-dir", self.s.data_dir,
                                              "jp-test/shell:1", rootfs], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.create(pod_of("img", [{"name": "main", "image": "jp-test/shell:1", "command": ["/bin/sh", "-c", "true"]}],
                           []))
        self.create(pod_of("plain", [container("main", "id -u", [])], []))
        phase, out = self.finish("plain")
        self.assertEqual((phase, out), ("Succeeded", "65534\n"))
        self.assertEqual(self.finish("img")[0], "Failed")
        term = self.pod("img")["status"]["containerStatuses"][0]["state"]["terminated"]
        self.assertEqual((term["reason"], term["message"]), (
            "StartError", 'image "jp-test/shell:1" is in the image store, but a container runs in an '
                          "image's root filesystem only when jobplane runs as root or in a user namespace, "
                          "and " + cause))


if __name__ == "__main__":
    unittest.main()
