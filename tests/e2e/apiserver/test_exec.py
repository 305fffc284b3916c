"""kubectl exec end to end: pods/exec upgraded to SPDY/3.1 by the real kubectl 1.27 and 1.33 (which
first asks for a WebSocket tunnel and falls back), the command run by the agent's shim inside the
container's namespaces. Stdout and stderr on their own streams and the exit code kubectl exits
with; megabytes through stdin; a terminal driven from here through a pty, its size following
kubectl's; -c in a two-container pod; the command seeing the pod's hostname, /etc/hosts and
environment; the error texts kubectl prints; nothing left in the server after kubectl is killed.

Non-kuard images run their command on the host filesystem (the documented fallback), so `sh`,
`cat` and `sleep` come from this machine; only 127.0.0.1 is used.
"""
import collections
import fcntl
import hashlib
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import time
import unittest

from jpserver import VERSIONS, Case, have_kubectl, wait_until
from test_node import NodeCase

BIG = 3 * 1024 * 1024


def children(pid):
    """The direct children of a process."""
    out = set()
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out.update(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


def fds(pid):
    """The process's descriptors, by what they point to (the node may open files at its own pace,
    so sockets, pipes and terminals are what a session would leave)."""
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith(("socket:", "pipe:", "/dev/pts", "/dev/ptmx")):
            out.append(target)
    return sorted(out)


class ExecTests:
    """Mixed into a NodeCase per kubectl version (V)."""

    def running(self, name, timeout=60):
        path = "/api/v1/namespaces/default/pods/" + name
        wait_until(lambda: self.s.json("GET", path, expect=200)[1].get("status", {}).get("phase") == "Running",
                   timeout, "pod %s to run (log: %s)" % (name, self.s.log(5)))

    def pod(self, name="sleeper", containers=None):
        containers = containers or [{"name": "main", "image": "busybox", "command": ["sleep", "3600"],
                                     "env": [{"name": "GREETING", "value": "hello from the spec"}]}]
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                     "spec": {"terminationGracePeriodSeconds": 1, "containers": containers}})
        self.running(name)

    def test_streams_and_exit_code(self):
        self.pod()
        r = self.k("exec", "sleeper", "--", "sh", "-c", "echo hi; echo err >&2; exit 3")
        self.assertEqual((r.rc, r.out, r.err), (3, "hi\n", "err\ncommand terminated with exit code 3\n"), r)
        r = self.k("exec", "sleeper", "--", "sh", "-c", "printf '%s|' \"$@\"", "x", "a b", "c;&d", "é")
        self.expect_out(r, "a b|c;&d|é|")
        r = self.k("exec", "sleeper", "--", "true")
        self.assertEqual((r.rc, r.out, r.err), (0, "", ""), r)
        r = self.k("exec", "sleeper", "--", "sh", "-c", "kill -9 $$")
        self.assertEqual((r.rc, r.err), (137, "command terminated with exit code 137\n"), r)

    def test_stdin(self):
        self.pod()
        blob = os.urandom(BIG)
        argv = self.s.kubectl_argv(self.V, ["exec", "-i", "sleeper", "--", "cat"])
        p = subprocess.run(argv, input=blob, capture_output=True, env=self.s.kubectl_env(), timeout=60)
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        self.assertEqual(len(p.stdout), len(blob))
        self.assertEqual(hashlib.sha256(p.stdout).hexdigest(), hashlib.sha256(blob).hexdigest())
        r = self.k("exec", "-i", "sleeper", "--", "sh", "-c", "wc -l; exit 4", stdin="a\nb\n")
        self.assertEqual((r.rc, r.out.strip()), (4, "2"), r)

    def test_inside_the_pod(self):
        self.pod()
        self.expect_out(self.k("exec", "sleeper", "--", "sh", "-c", "echo $GREETING"), "hello from the spec\n")
        if os.geteuid() == 0:  # pods get their own UTS namespace and hosts file as root only
            self.expect_out(self.k("exec", "sleeper", "--", "hostname"), "sleeper\n")
            r = self.k("exec", "sleeper", "--", "cat", "/etc/hosts")
            self.expect_rc(r)
            self.assertRegex(r.out, r"(?m)^\S+\s+sleeper$")

    def test_runs_as_the_containers_user(self):
        """As runc does: the container's user and groups, not the node's root."""
        if os.geteuid() != 0:
            self.skipTest("only root can start a container as another user")
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "user"},
                     "spec": {"terminationGracePeriodSeconds": 1,
                              "securityContext": {"fsGroup": 3000, "supplementalGroups": [4000, 3000, 5000]},
                              "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "3600"],
                                              "securityContext": {"runAsUser": 1234, "runAsGroup": 2345}}]}})
        self.running("user")
        # the groups are the container's (fsGroup and supplementalGroups), which exec takes too
        self.expect_out(self.k("exec", "user", "--", "sh", "-c", "id -u; id -g; id -G"),
                        "1234\n2345\n2345 3000 4000 5000\n")
        # nothing of root's is left: a file only root may write stays closed
        r = self.k("exec", "user", "--", "test", "-w", "/etc/hostname")
        self.assertEqual(r.rc, 1, r)

    def test_container_selection(self):
        self.pod("two", [{"name": "first", "image": "busybox", "command": ["sleep", "3600"],
                          "env": [{"name": "WHO", "value": "first"}]},
                         {"name": "second", "image": "busybox", "command": ["sleep", "3600"],
                          "env": [{"name": "WHO", "value": "second"}]}])
        self.expect_out(self.k("exec", "two", "-c", "second", "--", "sh", "-c", "echo $WHO"), "second\n")
        self.expect_out(self.k("exec", "two", "-c", "first", "--", "sh", "-c", "echo $WHO"), "first\n")
        r = self.k("exec", "two", "--", "sh", "-c", "echo $WHO")  # kubectl picks the first, and says so
        self.expect_out(r, "first\n")
        r = self.k("exec", "two", "-c", "nosuch", "--", "true")
        self.expect_err(r, "Error from server (BadRequest): container nosuch is not valid for pod two\n")

    def test_errors(self):
        r = self.k("exec", "nosuch", "--", "true")
        self.expect_err(r, 'Error from server (NotFound): pods "nosuch" not found\n')
        self.pod()
        r = self.k("exec", "sleeper", "--", "nosuch-command")
        self.assertEqual(r.rc, 127, r)
        self.assertEqual(r.err, 'exec failed: unable to start container process: exec: "nosuch-command": '
                                'executable file not found in $PATH\ncommand terminated with exit code 127\n', r)
        r = self.k("exec", "sleeper", "--", "/nosuch/bin")
        self.assertEqual(r.rc, 127, r)
        self.assertIn('exec: "/nosuch/bin": stat /nosuch/bin: no such file or directory', r.err)
        r = self.k("exec", "sleeper", "--", "/etc")
        self.assertEqual(r.rc, 126, r)
        self.assertIn("exec /etc: permission denied", r.err)
        # a completed pod: kubectl refuses by itself; the API says why too
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "done"},
                     "spec": {"restartPolicy": "Never",
                              "containers": [{"name": "main", "image": "busybox", "command": ["true"]}]}})
        path = "/api/v1/namespaces/default/pods/done"
        wait_until(lambda: self.s.json("GET", path, expect=200)[1].get("status", {}).get("phase") == "Succeeded",
                   60, "pod done to complete")
        r = self.k("exec", "done", "--", "true")
        self.expect_err(r, "error: cannot exec into a container in a completed pod; current phase is Succeeded\n")
        st, _h, body = self.s.http("POST", path + "/exec?command=true&stdout=true")
        self.assertEqual(st, 400, body)
        self.assertEqual(json.loads(body)["message"], "container main is not running in pod done")

    def test_tty(self):
        self.pod()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 97, 0, 0))

        def ctty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        argv = self.s.kubectl_argv(self.V, ["exec", "-it", "sleeper", "--", "sh"])
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=self.s.kubectl_env(),
                             preexec_fn=ctty)
        os.close(slave)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        seen = bytearray()

        def tail(b):
            return "%d bytes, ending %r" % (len(b), bytes(b[-200:]))

        def read_until(pattern, timeout=20):
            rx = re.compile(pattern)
            deadline = time.monotonic() + timeout
            while not rx.search(seen):
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail("no %r in the terminal's output: %s" % (pattern, tail(seen)))
                if select.select([master], [], [], left)[0]:
                    try:
                        seen.extend(os.read(master, 4096))
                    except OSError:
                        try:
                            rc = p.wait(5)
                        except subprocess.TimeoutExpired:
                            rc = "still running"
                        sessions = [l for l in self.s.log(400).splitlines() if "exec default/" in l]
                        self.fail("terminal closed before %r: %s\n  kubectl exit code: %s\n  %s"
                                  % (pattern, tail(seen), rc, "\n  ".join(sessions[-6:])))
            m = rx.search(bytes(seen))
            del seen[:m.end()]
            return m

        os.write(master, b"stty size; tty\n")
        m = read_until(rb"(\d+) (\d+)\r\n(/dev/\S+)\r\n")
        self.assertEqual(m.group(1, 2), (b"31", b"97"))
        self.assertTrue(m.group(3).startswith(b"/dev/pts/"), m.group(3))
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))  # kubectl gets SIGWINCH
        deadline = time.monotonic() + 10
        while True:
            os.write(master, b"stty size\n")
            m = read_until(rb"(\d+) (\d+)\r\n")
            if m.group(1, 2) == (b"50", b"120") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(m.group(1, 2), (b"50", b"120"))
        # the last output, written just before the shell exits, arrives whole: the terminal's
        # other side is hung up by then and the kernel may still hold most of it
        os.write(master, b"head -c 100000 /dev/zero | tr '\\0' a; echo $((6*7)); exit\n")
        m = read_until(rb"42\r\n")
        before = m.string[:m.start()]
        self.assertEqual(len(before) - len(before.rstrip(b"a")), 100000)
        self.assertEqual(p.wait(20), 0)
        os.close(master)

    def test_killed_kubectl_leaves_nothing_behind(self):
        self.pod()
        pid = self.s.proc.pid
        self.k("exec", "sleeper", "--", "true")  # the server's own lazily opened files
        before_fds, before_children = fds(pid), children(pid)
        bg = self.s.kubectl_bg(self.V, "exec", "sleeper", "--", "sh", "-c", "echo started; sleep 1234")
        self.addCleanup(bg.kill)
        self.assertTrue(bg.wait_for("^started$", 20), bg.err)
        # stdin held open: cat waits on it, with 1 MB of output queued that nobody reads
        argv = self.s.kubectl_argv(self.V, ["exec", "-i", "sleeper", "--", "sh", "-c",
                                            "echo started; head -c 1000000 /dev/zero; cat"])
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.s.kubectl_env())
        self.addCleanup(lambda: p.poll() is None and p.kill())
        self.assertEqual(p.stdout.readline(), b"started\n")
        p.stdin.write(b"some input\n")
        p.stdin.flush()
        # the two commands (the agent may start children of its own meanwhile: not counted)
        started = {c: cmdline(c) for c in children(pid) - before_children}
        ours = {c for c, line in started.items() if "1234" in line or "started" in line or line.startswith("cat")}
        self.assertEqual(len(ours), 2, started)
        bg.proc.send_signal(signal.SIGKILL)
        bg.finish(10)
        p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()

        def clean():
            now = collections.Counter(fds(pid))
            return not (ours & children(pid)) and not (now - collections.Counter(before_fds))

        wait_until(clean, 10, "the server to end the sessions (children %s of %s; fds %s, before %s)"
                   % (children(pid), ours, fds(pid), before_fds))
        self.expect_out(self.k("exec", "sleeper", "--", "echo", "still works"), "still works\n")


def per_version():
    for v in VERSIONS:
        name = "Exec_%s" % v.replace(".", "_")
        # -v 1: each session's end (exit code, bytes passed on) is in the log a failure shows
        cls = type(name, (ExecTests, NodeCase),
                   {"V": v, "__module__": __name__, "server_args": NodeCase.server_args + ("-v", "1")})
        if not have_kubectl(v):
            cls = unittest.skip("kubectl.%s not found" % v)(cls)
        globals()[name] = cls


per_version()


class Protocol(NodeCase):
    """The upgrade itself, from a raw client: the protocol version picked, and refusals."""

    def upgrade(self, versions, query="command=true&stdout=true", upgrade="SPDY/3.1"):
        sock = self.s.ssl_context("cert").wrap_socket(
            socket.create_connection(("127.0.0.1", self.s.port), timeout=10), server_hostname="127.0.0.1")
        with sock:
            sock.sendall(("POST /api/v1/namespaces/default/pods/sleeper/exec?%s HTTP/1.1\r\nHost: x\r\n"
                          "Connection: Upgrade\r\nUpgrade: %s\r\n%sContent-Length: 0\r\n\r\n"
                          % (query, upgrade, "".join("X-Stream-Protocol-Version: %s\r\n" % v for v in versions))
                          ).encode())
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(4096)
            head, body = data.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
            while len(body) < int(headers.get("content-length", 0)):
                body += sock.recv(4096)
        return int(lines[0].split()[1]), headers, body

    def test_negotiation(self):
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper"},
                     "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["sleep", "3600"]}]}})
        path = "/api/v1/namespaces/default/pods/sleeper"
        wait_until(lambda: self.s.json("GET", path, expect=200)[1].get("status", {}).get("phase") == "Running",
                   60, "pod sleeper to run")
        every = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]
        st, h, _ = self.upgrade(every)
        self.assertEqual((st, h.get("x-stream-protocol-version"), h.get("upgrade")),
                         (101, "v4.channel.k8s.io", "SPDY/3.1"))
        st, h, _ = self.upgrade(["v2.channel.k8s.io", "v3.channel.k8s.io"])  # the client's order
        self.assertEqual((st, h.get("x-stream-protocol-version")), (101, "v2.channel.k8s.io"))
        st, h, body = self.upgrade(["channel.k8s.io"])
        self.assertEqual(st, 403, body)
        self.assertIn(b"unable to negotiate protocol: client supports [channel.k8s.io], server accepts "
                      b"[v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io]", body)
        st, h, body = self.upgrade(every, upgrade="websocket")
        self.assertEqual(st, 400, body)
        st, h, body = self.upgrade(every, query="command=true&stdout=true&container=nosuch")
        self.assertEqual(st, 400, body)
        self.assertEqual(json.loads(body)["message"], "container nosuch is not valid for pod sleeper")
        st, h, body = self.upgrade(every, query="command=ls")
        self.assertEqual((st, json.loads(body)["message"]),
                         (400, "you must specify at least 1 of stdin, stdout, stderr"))
        st, h, body = self.upgrade(every, query="stdout=1")
        self.assertEqual((st, json.loads(body)["message"]),
                         (400, "you must specify at least one command for the container"))
        self.expect_out(self.k("exec", "sleeper", "--", "echo", "ok"), "ok\n")


class Api(Case):
    """What needs no node: discovery, and refusals before any upgrade."""

    def test_discovery(self):
        st, doc = self.s.json("GET", "/api/v1", expect=200)
        sub = [r for r in doc["resources"] if r["name"] == "pods/exec"]
        self.assertEqual(sub, [{"name": "pods/exec", "singularName": "", "namespaced": True,
                                "kind": "PodExecOptions", "verbs": ["create", "get"]}])
        st, doc = self.s.json("GET", "/api", headers={
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}, expect=200)
        pods = [r for g in doc["items"] for v in g["versions"] for r in v["resources"] if r["resource"] == "pods"]
        subs = [s for s in pods[0]["subresources"] if s["subresource"] == "exec"]
        self.assertEqual(subs, [{"subresource": "exec", "verbs": ["create", "get"],
                                 "responseKind": {"group": "", "version": "v1", "kind": "PodExecOptions"}}])

    def test_refusals(self):
        self.s.json("POST", "/api/v1/namespaces/default/pods",
                    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}}, expect=201)
        base = "/api/v1/namespaces/default/pods/"
        st, _h, body = self.s.http("POST", base + "nosuch/exec?command=ls&stdout=true")
        self.assertEqual((st, json.loads(body)["reason"]), (404, "NotFound"))
        st, _h, body = self.s.http("POST", base + "p/exec?command=ls&stdout=true")
        self.assertEqual((st, json.loads(body)["message"]), (400, "pod p does not have a host assigned"))
        st, _h, body = self.s.http("PUT", base + "p/exec?command=ls&stdout=true")
        self.assertEqual(st, 405, body)


if __name__ == "__main__":
    unittest.main()
