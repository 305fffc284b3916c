"""The local image store: `jobplane image import|ls|rm` with a root filesystem directory, a tar,
a `docker save` archive (made here with tarfile: two layers, a whiteout, a config) and stdin;
pods of stored images running inside the image's own root filesystem (its files, not the
host's; writes that never reach the stored image; its Entrypoint, Cmd, Env and WorkingDir under
the container's own; volumes inside it; imageID sha256:<config digest>); and with
--no-host-fallback an unknown image failing to pull while a stored one runs.

The test image is this machine's /bin/sh and the libraries ldd names for it, plus marker files:
its scripts use shell built-ins only (read, echo, test, pwd), so no other program is needed.
"""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import unittest

from jpserver import JOBPLANE, VERSIONS, have_kubectl, wait_until
from test_node import NodeCase

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)
ROOT_ONLY = "a container runs in an image's root filesystem only as root (a mount namespace)"
MARKER = "from-the-image"
HOST_ONLY = "/usr/bin/python3"  # on this machine (the tests run with it), never in the image
CONFIG = {"architecture": "amd64", "os": "linux",
          "config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo cmd:$GREETING; pwd"],
                     "Env": ["GREETING=hello", "PATH=/bin"], "WorkingDir": "/work"}}


def make_rootfs(root):
    """A root filesystem with /bin/sh, the libraries it needs and /etc/image-marker."""
    sh = os.path.realpath("/bin/sh")
    libs = re.findall(r"(/\S+\.so[.\d]*)", subprocess.run(["ldd", sh], capture_output=True,
                                                          text=True, check=True).stdout)
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy2(sh, os.path.join(root, "bin", "sh"))
    for lib in libs:
        dst = os.path.join(root, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.realpath(lib), dst)
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "image-marker"), "w") as f:
        f.write(MARKER + "\n")
    with open(os.path.join(root, "etc", "doomed"), "w") as f:
        f.write("removed by the second layer\n")
    os.mkfifo(os.path.join(root, "etc", "wait"))  # `read < /etc/wait` blocks: a sleep without sleep


def tar_bytes(add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        add(t)
    return buf.getvalue()


def add_bytes(t, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))


def docker_save(rootfs, path, tag):
    """A `docker save` archive: layer 1 the rootfs, layer 2 a whiteout of /etc/doomed and a new
    file; manifest.json names them in order and the config by its digest."""
    layer1 = tar_bytes(lambda t: t.add(rootfs, arcname="."))

    def second(t):
        add_bytes(t, "etc/.wh.doomed", b"")
        add_bytes(t, "etc/layer2", b"second layer\n")
    layer2 = tar_bytes(second)
    config = json.dumps(CONFIG).encode()
    digest = hashlib.sha256(config).hexdigest()

    def archive(t):
        add_bytes(t, digest + ".json", config)
        add_bytes(t, "l1/layer.tar", layer1)
        add_bytes(t, "l2/layer.tar", layer2)
        add_bytes(t, "manifest.json", json.dumps([{"Config": digest + ".json", "RepoTags": [tag],
                                                   "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode())
    with open(path, "wb") as f:
        f.write(tar_bytes(archive))
    return "sha256:" + digest


def oci_layout(rootfs, path, ref_name):
    """An OCI image layout archive: an index naming a multi-platform index whose linux/amd64
    entry is the image (gzip-compressed layer), all blobs by digest."""
    blobs = {}

    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return {"digest": "sha256:" + d, "size": len(data)}
    gz = io.BytesIO()
    with tarfile.open(fileobj=gz, mode="w:gz") as t:
        t.add(rootfs, arcname=".")
    config = blob(json.dumps({"architecture": "amd64", "os": "linux",
                              "config": {"Cmd": ["/bin/sh", "-c", "echo oci"]}}).encode())
    manifest = blob(json.dumps({"schemaVersion": 2, "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
                                "layers": [dict(blob(gz.getvalue()),
                                                mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode())
    other = blob(b'{"schemaVersion":2,"config":{"digest":"sha256:' + b"0" * 64 + b'"},"layers":[]}')
    index = blob(json.dumps({"schemaVersion": 2, "manifests": [
        dict(other, mediaType="application/vnd.oci.image.manifest.v1+json",
             platform={"os": "linux", "architecture": "s390x"}),
        dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
             platform={"os": "linux", "architecture": "amd64"})]}).encode())

    def archive(t):
        add_bytes(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(t, "index.json", json.dumps({"schemaVersion": 2, "manifests": [dict(
            index, mediaType="application/vnd.oci.image.index.v1+json",
            annotations={"org.opencontainers.image.ref.name": ref_name})]}).encode())
        for d, data in blobs.items():
            add_bytes(t, "blobs/sha256/" + d, data)
    with open(path, "wb") as f:
        f.write(tar_bytes(archive))
    return config["digest"]


def image_cli(data_dir, *args, stdin=None):
    p = subprocess.run([JOBPLANE, "image", args[0], "--data-dir", data_dir, *args[1:]],
                       input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class Fixture:
    """A temp dir with the rootfs and a docker save archive of it."""

    def make_fixture(self):
        self.tmp = tempfile.mkdtemp(prefix="jp-images-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.rootfs = os.path.join(self.tmp, "rootfs")
        make_rootfs(self.rootfs)
        self.saved = os.path.join(self.tmp, "saved.tar")
        self.saved_id = docker_save(self.rootfs, self.saved, "jp-test/saved:v1")

    def imp(self, data_dir, name, source, *flags, stdin=None):
        rc, out, err = image_cli(data_dir, "import", *flags, name, source, stdin=stdin)
        self.assertEqual(rc, 0, "import %s %s: %s%s" % (name, source, out, err))
        return out


class Cli(Fixture, unittest.TestCase):
    def setUp(self):
        self.make_fixture()
        self.data = os.path.join(self.tmp, "data")

    def ls(self):
        rc, out, err = image_cli(self.data, "ls")
        self.assertEqual(rc, 0, err)
        return [l.split() for l in out.splitlines()]

    def test_import_list_replace_and_remove(self):
        self.assertRegex(self.imp(self.data, "jp-test/shell", self.rootfs),
                         r"^imported docker\.io/jp-test/shell:latest \(sha256:[0-9a-f]{64}, \S+B\)\n$")
        self.imp(self.data, "docker.io/jp-test/saved:v1", self.saved)
        with open(self.saved, "rb") as f:  # a tar on stdin, gzip-compressed
            self.imp(self.data, "jp-test/stdin:gz", "-", stdin=subprocess.run(
                ["gzip", "-c"], stdin=f, capture_output=True, check=True).stdout)
        rows = self.ls()
        self.assertEqual(rows[0], ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"])
        self.assertEqual(rows[1][:2], ["gcr.io/kuar-demo/kuard-amd64", "<any>"])
        by_name = {(r[0], r[1]): r for r in rows[2:]}
        self.assertEqual(sorted(by_name), [("docker.io/jp-test/saved", "v1"), ("docker.io/jp-test/shell", "latest"),
                                           ("docker.io/jp-test/stdin", "gz")])
        # a docker save archive's ID is its config's digest, as `docker images` shows it
        self.assertEqual(by_name[("docker.io/jp-test/saved", "v1")][2], self.saved_id[7:19])
        self.assertRegex(by_name[("docker.io/jp-test/shell", "latest")][3], r"^[0-9.]+[kM]B$")
        # the layers applied in order: the whiteout hid the first layer's file
        root = os.path.join(self.data, "images", "docker.io+jp-test+saved%3Av1", "rootfs")
        self.assertTrue(os.path.exists(os.path.join(root, "etc", "layer2")))
        self.assertFalse(os.path.exists(os.path.join(root, "etc", "doomed")))
        self.assertFalse(os.path.exists(os.path.join(root, "manifest.json")))
        # re-importing a name replaces it (here with a config the flags give)
        self.imp(self.data, "jp-test/shell", self.rootfs, "--cmd", '["echo","x"]', "--env", "A=1")
        with open(os.path.join(self.data, "images", "docker.io+jp-test+shell%3Alatest", "config.json")) as f:
            cfg = json.load(f)
        self.assertEqual((cfg["cmd"], cfg["env"], cfg["source"]), (["echo", "x"], ["A=1"], "dir"))
        self.assertEqual(len(self.ls()), 5)
        rc, out, err = image_cli(self.data, "rm", "docker.io/jp-test/shell:latest")
        self.assertEqual((rc, out), (0, "deleted docker.io/jp-test/shell:latest\n"), err)
        self.assertEqual(len(self.ls()), 4)
        self.assertEqual(sorted(os.listdir(os.path.join(self.data, "images"))),
                         ["docker.io+jp-test+saved%3Av1", "docker.io+jp-test+stdin%3Agz"])

    @unittest.skipIf(os.uname().machine != "x86_64", "the layout's image is linux/amd64")
    def test_oci_layout_picks_this_machines_image(self):
        path = os.path.join(self.tmp, "oci.tar")
        digest = oci_layout(self.rootfs, path, "1.0")
        self.imp(self.data, "jp-test/oci:1.0", path)
        with open(os.path.join(self.data, "images", "docker.io+jp-test+oci%3A1.0", "config.json")) as f:
            cfg = json.load(f)
        self.assertEqual((cfg["digest"], cfg["cmd"], cfg["source"]),
                         (digest, ["/bin/sh", "-c", "echo oci"], "oci-archive"))
        root = os.path.join(self.data, "images", "docker.io+jp-test+oci%3A1.0", "rootfs")
        with open(os.path.join(root, "etc", "image-marker")) as f:
            self.assertEqual(f.read(), MARKER + "\n")
        self.assertFalse(os.path.exists(os.path.join(root, "blobs")))

    def test_bad_input_says_why(self):
        cases = [  # (args, stdin, exit code, stderr pattern)
            (["import", "Bad/Name", self.rootfs], None, 1, r"repository name must be lowercase"),
            (["import", "x", os.path.join(self.tmp, "missing")], None, 1, r"No such file or directory"),
            (["import", "x", "-"], b"this is not a tar", 1, r"standard input: Unrecognized archive format"),
            (["import", "x", "-"], tar_bytes(lambda t: add_bytes(t, "../escape", b"x")), 1,
             r'entry "\.\./escape" would land outside the image'),
            (["import", "x", "-"], tar_bytes(lambda t: add_bytes(t, "manifest.json", b"[]")), 1,
             r"manifest\.json: not a list of images"),
            (["import", "gcr.io/kuar-demo/kuard-amd64:blue", self.rootfs], None, 1, r"built-in kuard"),
            (["import", "x"], None, 2, r"Usage"),
            (["import", "--cmd", "[1", "x", self.rootfs], None, 2, r"JSON array"),
            (["rm", "nothere"], None, 1, r'image "docker\.io/library/nothere:latest" is not in the image store'),
            (["frob"], None, 2, r'unknown verb "frob"'),
        ]
        for args, stdin, code, pattern in cases:
            rc, out, err = image_cli(self.data, *args, stdin=stdin)
            self.assertEqual(rc, code, "%s: %s" % (args, err))
            self.assertRegex(err, pattern, args)
        # nothing half-made stays behind
        images = os.path.join(self.data, "images")
        self.assertEqual(os.listdir(images) if os.path.isdir(images) else [], [])


@unittest.skipIf(KV is None, "no kubectl found")
@unittest.skipIf(os.geteuid() != 0, ROOT_ONLY)
class Pods(Fixture, NodeCase):
    def setUp(self):
        super().setUp()
        self.make_fixture()
        self.imp(self.s.data_dir, "jp-test/shell:1", self.rootfs)
        self.imp(self.s.data_dir, "jp-test/saved:v1", self.saved)

    def run_pod(self, name, image, command=None, args=None, env=None, volumes=None, mounts=None):
        c = {"name": "main", "image": image}
        for k, v in (("command", command), ("args", args), ("env", env), ("volumeMounts", mounts)):
            if v is not None:
                c[k] = v
        spec = {"containers": [c], "restartPolicy": "Never", "terminationGracePeriodSeconds": 1}
        if volumes:
            spec["volumes"] = volumes
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
        path = "/api/v1/namespaces/default/pods/" + name
        wait_until(lambda: self.s.json("GET", path, expect=200)[1]["status"].get("phase") in ("Succeeded", "Failed"),
                   60, "pod %s to finish (log: %s)" % (name, self.s.log(5)))
        pod = self.s.json("GET", path, expect=200)[1]
        return pod["status"], self.k("logs", name).out

    def test_runs_in_the_images_files_and_never_changes_them(self):
        script = ("read l < /etc/image-marker; echo $l; test -e %s && echo host || echo not-host; "
                  "echo changed > /etc/image-marker; read l < /etc/image-marker; echo $l; "
                  "test -e /proc/self/status && echo proc; echo > /dev/null && echo devnull; "
                  "echo x > /new && echo created" % HOST_ONLY)
        st, out = self.run_pod("a", "jp-test/shell:1", ["/bin/sh", "-c", script])
        self.assertEqual(st["phase"], "Succeeded", out)
        self.assertEqual(out.splitlines(), [MARKER, "not-host", "changed", "proc", "devnull", "created"])
        cs = st["containerStatuses"][0]
        stored = os.path.join(self.s.data_dir, "images", "docker.io+jp-test+shell%3A1", "rootfs")
        with open(os.path.join(stored, "etc", "image-marker")) as f:
            self.assertEqual(f.read(), MARKER + "\n")  # the write went to the pod's own layer
        self.assertFalse(os.path.exists(os.path.join(stored, "new")))
        with open(os.path.join(os.path.dirname(stored), "config.json")) as f:
            self.assertEqual(cs["imageID"], json.load(f)["digest"])
        # the next container starts from the image as it was
        st, out = self.run_pod("b", "jp-test/shell:1", ["/bin/sh", "-c", "read l < /etc/image-marker; echo $l"])
        self.assertEqual(out, MARKER + "\n")
        events = self.s.json("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Da")[1]
        reasons = [e["reason"] for e in events["items"]]
        self.assertIn("Pulled", reasons)
        self.assertNotIn("HostImageFallback", reasons)
        # a host-fallback pod next to them: looked up in the store quietly, run on the host
        st, out = self.run_pod("host", "busybox", ["sh", "-c", "test -e %s && echo host" % HOST_ONLY])
        self.assertEqual(out, "host\n")
        self.assertNotRegex(self.s.log(400), r"agent\] image ")

    def test_entrypoint_cmd_env_and_workdir_of_the_image(self):
        st, out = self.run_pod("cmd", "jp-test/saved:v1")  # Entrypoint + Cmd
        self.assertEqual(out, "cmd:hello\n/work\n")
        self.assertEqual(st["containerStatuses"][0]["imageID"], self.saved_id)
        st, out = self.run_pod("args", "jp-test/saved:v1", args=["echo args:$GREETING $PATH"],
                               env=[{"name": "GREETING", "value": "from-the-pod"}])
        self.assertEqual(out, "args:from-the-pod /bin\n")  # the container's env wins
        st, out = self.run_pod("command", "jp-test/saved:v1", command=["/bin/sh", "-c", "pwd; read l < /etc/layer2; echo $l"])
        self.assertEqual(out, "/work\nsecond layer\n")  # command drops both Entrypoint and Cmd

    def test_exec_joins_the_images_root(self):
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "long"},
                     "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                         {"name": "main", "image": "jp-test/shell:1",
                          "command": ["/bin/sh", "-c", "read l < /etc/wait"]}]}})
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/long")[1]
                   .get("status", {}).get("phase") == "Running", 30, "the pod to run")
        r = self.k("exec", "long", "--", "/bin/sh", "-c", "read l < /etc/image-marker; echo $l; pwd")
        self.expect_out(r, MARKER + "\n/")
        self.expect_rc(self.k("delete", "pod", "long", "--wait=true"))

    def test_volumes_mount_inside_the_image(self):
        script = "echo hi > /data/f; read l < /data/f; echo $l; read l < /cfg/k; echo $l"
        self.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}})
        st, out = self.run_pod("vol", "jp-test/shell:1", ["/bin/sh", "-c", script],
                               volumes=[{"name": "d", "emptyDir": {}}, {"name": "c", "configMap": {"name": "cfg"}}],
                               mounts=[{"name": "d", "mountPath": "/data"}, {"name": "c", "mountPath": "/cfg"}])
        self.assertEqual((st["phase"], out), ("Succeeded", "hi\nv\n"))
        self.assertFalse(os.path.exists("/cfg"))
        stored = os.path.join(self.s.data_dir, "images", "docker.io+jp-test+shell%3A1", "rootfs")
        self.assertFalse(os.path.exists(os.path.join(stored, "data")))


@unittest.skipIf(KV is None, "no kubectl found")
@unittest.skipIf(os.geteuid() != 0, ROOT_ONLY)
class NoFallback(Fixture, NodeCase):
    server_args = ("--backoff-scale", "0.02", "--no-host-fallback")

    def test_unknown_image_fails_to_pull_while_a_stored_one_runs(self):
        self.make_fixture()
        self.imp(self.s.data_dir, "jp-test/shell:1", self.rootfs)
        for name, image in (("unknown", "jp-test/absent:1"), ("stored", "jp-test/shell:1")):
            self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                         "spec": {"restartPolicy": "Never", "containers": [
                             {"name": "main", "image": image, "command": ["/bin/sh", "-c", "echo ran"]}]}})

        def status(name):
            r = self.k("get", "pod", name, "--no-headers")
            return r.out.split()[2] if r.out.split() else ""
        seen = set()
        wait_until(lambda: seen.add(status("unknown")) or "ErrImagePull" in seen or "ImagePullBackOff" in seen,
                   30, "ErrImagePull")
        wait_until(lambda: status("unknown") == "ImagePullBackOff", 30, "ImagePullBackOff")
        wait_until(lambda: status("stored") == "Completed", 30, "the stored image's pod to complete")
        self.assertEqual(self.k("logs", "stored").out, "ran\n")


if __name__ == "__main__":
    unittest.main()
