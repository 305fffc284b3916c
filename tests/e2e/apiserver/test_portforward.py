"""kubectl port-forward end to end: pods/portforward upgraded to SPDY/3.1 by the real kubectl 1.27
and 1.33 (which first asks for a WebSocket tunnel and falls back), then plain HTTP from this
machine to the pod's port through the forward - the chapter's step 3 verbatim (`kubectl
port-forward rs/queue`, then curl PUT/POST to kuard's memq server), concurrent connections, 5 MB
each way intact, a port nothing listens on, and no session or descriptor left behind when
kubectl is killed or the server stops.

Pods run in their own network namespaces (root only), and port-forward connects to 127.0.0.1 in
there, as the kubelet does; only 127.0.0.1 on this machine is used.
"""
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest
import zlib

from jpserver import VERSIONS, Case, chapter, have_kubectl, kubectl_dir, wait_until
from test_node import NodeCase

KUARD = "gcr.io/kuar-demo/kuard-amd64:blue"
PYTHON = "/usr/bin/python3"
FORWARDING = r"^Forwarding from 127\.0\.0\.1:(\d+) -> %d$"
BIG = 5 * 1024 * 1024

# A pod that serves GET /blob (BIG bytes) and echoes POST bodies, on 127.0.0.1 in its namespace.
ECHO_SERVER = r'''
import http.server, sys
BLOB = open(sys.argv[1], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.reply(BLOB if self.path == "/blob" else b"ok\n")
    def do_POST(self):
        self.reply(self.rfile.read(int(self.headers["Content-Length"])))
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8000), H).serve_forever()
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sockets(pid):
    """The process's socket descriptors: a session holds nothing else (the node may open other
    files at its own pace)."""
    out = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return out


# ---- a SPDY/3 client of our own, for what kubectl never sends ----------------------------------
def _dictionary():
    """The SPDY/3 header dictionary (length-prefixed names, then common value fragments)."""
    words = ("options head post put delete trace accept accept-charset accept-encoding accept-language "
             "accept-ranges age allow authorization cache-control connection content-base content-encoding "
             "content-language content-length content-location content-md5 content-range content-type date "
             "etag expect expires from host if-match if-modified-since if-none-match if-range "
             "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate "
             "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
             "user-agent vary via warning www-authenticate method get status").split() + [
        "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
    tail = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
            "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
            "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
            "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
            "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
            "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
            "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
    return b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + tail.encode()


DICT = _dictionary()
SYN_STREAM, SYN_REPLY, RST_STREAM, PING, GOAWAY = 1, 2, 3, 6, 7
FIN = 1


class Spdy:
    """One upgraded connection: frames out through one zlib stream, frames in through another."""

    def __init__(self, server, pod, ns="default"):
        self.sock = server.ssl_context("cert").wrap_socket(
            socket.create_connection(("127.0.0.1", server.port), timeout=10), server_hostname="127.0.0.1")
        self.sock.sendall(("POST /api/v1/namespaces/%s/pods/%s/portforward HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: "
                           "portforward.k8s.io\r\nContent-Length: 0\r\n\r\n" % (ns, pod)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        self.out = zlib.compressobj(zdict=DICT)
        self.inz = zlib.decompressobj(zdict=DICT)

    def recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        return data

    def send(self, frame):
        self.sock.sendall(frame)

    @staticmethod
    def ctrl(ftype, payload, flags=0):
        return struct.pack(">HHI", 0x8003, ftype, flags << 24 | len(payload)) + payload

    @staticmethod
    def data(sid, payload=b"", flags=0):
        return struct.pack(">II", sid, flags << 24 | len(payload)) + payload

    def block(self, headers):
        raw = struct.pack(">I", len(headers)) + b"".join(
            struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode() for k, v in headers)
        return self.out.compress(raw) + self.out.flush(zlib.Z_SYNC_FLUSH)

    def syn(self, sid, headers, flags=0):
        return self.ctrl(SYN_STREAM, struct.pack(">IIBB", sid, 0, 0, 0) + self.block(headers), flags)

    def frame(self):
        """The next frame: ("data", stream, flags, bytes) or (type, stream, flags, payload)."""
        while len(self.buf) < 8 or len(self.buf) < 8 + (struct.unpack(">I", self.buf[4:8])[0] & 0xffffff):
            self.buf += self.recv()
        w0, w1 = struct.unpack(">II", self.buf[:8])
        n = w1 & 0xffffff
        payload, self.buf = self.buf[8:8 + n], self.buf[8 + n:]
        if not w0 & 0x80000000:
            return ("data", w0, w1 >> 24, payload)
        ftype = w0 & 0xffff
        if ftype in (SYN_STREAM, SYN_REPLY):
            self.inz.decompress(payload[4:])  # keeps the inflater in step
        return (ftype, struct.unpack(">I", payload[:4])[0] & 0x7fffffff, w1 >> 24, payload)

    def close(self):
        self.sock.close()


class PortForwardTests:
    """Mixed into a NodeCase per kubectl version (V)."""

    def running(self, name, timeout=60):
        path = "/api/v1/namespaces/default/pods/" + name
        wait_until(lambda: self.s.json("GET", path, expect=200)[1].get("status", {}).get("phase") == "Running",
                   timeout, "pod %s to run (log: %s)" % (name, self.s.log(5)))
        return self.s.json("GET", path, expect=200)[1]

    def ready(self, name, timeout=60):
        """Running is not listening: a refused forward makes kubectl exit, so wait for Ready."""
        path = "/api/v1/namespaces/default/pods/" + name
        def is_ready():
            conds = self.s.json("GET", path, expect=200)[1].get("status", {}).get("conditions", [])
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)
        wait_until(is_ready, timeout, "pod %s to be ready (log: %s)" % (name, self.s.log(5)))
        return self.s.json("GET", path, expect=200)[1]

    def kuard_pod(self, name="kuard"):
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                     "spec": {"terminationGracePeriodSeconds": 1,
                              "containers": [{"name": "kuard", "image": KUARD,
                                              "readinessProbe": {"tcpSocket": {"port": 8080},
                                                                 "periodSeconds": 1}}]}})
        return self.ready(name)

    def echo_pod(self):
        blob = os.urandom(BIG)
        path = os.path.join(self.s.tmp, "blob")
        with open(path, "wb") as f:
            f.write(blob)
        script = self.write("echo_server.py", ECHO_SERVER)
        # not a built-in image: the command runs from this machine's filesystem (documented fallback)
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo"},
                     "spec": {"terminationGracePeriodSeconds": 1,
                              "containers": [{"name": "echo", "image": "busybox",
                                              "command": [PYTHON, script, path],
                                              "readinessProbe": {"tcpSocket": {"port": 8000},
                                                                 "periodSeconds": 1}}]}})
        self.ready("echo")
        return blob

    def forward(self, target, remote, local=0):
        """Starts `kubectl port-forward target local:remote`; returns (Background, local port)."""
        bg = self.s.kubectl_bg(self.V, "port-forward", target, "%d:%d" % (local, remote))
        self.addCleanup(bg.kill)
        if not bg.wait_for(FORWARDING % remote, 30):
            r = bg.kill()
            self.fail_with(r, "kubectl port-forward did not start forwarding")
        port = int(next(m.group(1) for m in (re.match(FORWARDING % remote, l) for l in bg.out) if m))
        if local:
            self.assertEqual(port, local)
        return bg, port

    def curl(self, *args):
        r = subprocess.run(["curl", "-sS", "--max-time", "20", *args], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "curl %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def request(self, port, method, path, body=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request(method, path, body=body)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    # ---- the chapter -------------------------------------------------------------------------
    def test_chapter_queue_through_the_replicaset(self):
        self.expect_out(self.k("apply", "-f", chapter("rs-queue.yaml")), "replicaset.apps/queue created\n")
        _, lst = self.s.json("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dwork-queue", expect=200)
        self.assertEqual(len(lst["items"]), 1)
        name = lst["items"][0]["metadata"]["name"]
        self.running(name)
        wait_until(lambda: "Serving on HTTP" in self.k("logs", name).out, 30, "kuard to listen")
        port = free_port()
        bg, _ = self.forward("rs/queue", 8080, port)  # kubectl resolves rs/ to the queue's pod
        base = "localhost:%d/memq/server" % port
        self.curl("-X", "PUT", base + "/queues/keygen")
        for i in range(10):
            item = json.loads(self.curl("-X", "POST", base + "/queues/keygen/enqueue", "-d", "work-item-%d" % i))
            self.assertEqual(item["body"], "work-item-%d" % i)
        stats = json.loads(self.curl(base + "/stats"))
        self.assertEqual([(q["name"], q["depth"], q["enqueued"]) for q in stats["queues"]], [("keygen", 10, 10)])
        # kubectl prints a line per connection as it takes it; the thread reading its output
        # may not have the last one yet when curl returns
        bg.wait_for(r"^Handling connection for %d$" % port, 10, count=12)
        self.assertGreaterEqual(sum(1 for l in bg.out if l == "Handling connection for %d" % port), 12)
        self.assertTrue(bg.proc.poll() is None, "kubectl exited: %s" % bg.err)

    def test_concurrent_connections(self):
        self.kuard_pod()
        bg, port = self.forward("pod/kuard", 8080)
        self.curl("-X", "PUT", "localhost:%d/memq/server/queues/q" % port)
        # open every connection first, so all of them are forwarded at the same time
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(12)]
        for c in conns:
            c.connect()
        results, errors = {}, []

        def run(i, c):
            try:
                for j in range(3):  # keep-alive: several requests on one forwarded connection
                    c.request("POST", "/memq/server/queues/q/enqueue", body="item-%d-%d" % (i, j))
                    r = c.getresponse()
                    results[(i, j)] = (r.status, json.loads(r.read())["body"])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            finally:
                c.close()

        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(results, {(i, j): (200, "item-%d-%d" % (i, j)) for i in range(12) for j in range(3)})
        stats = json.loads(self.curl("localhost:%d/memq/server/stats" % port))
        self.assertEqual(stats["queues"][0]["depth"], 36)
        self.assertTrue(bg.proc.poll() is None, "kubectl exited: %s" % bg.err)

    def test_five_megabytes_each_way(self):
        blob = self.echo_pod()
        bg, port = self.forward("pod/echo", 8000)
        t0 = time.monotonic()
        st, got = self.request(port, "GET", "/blob")
        self.assertEqual((st, len(got), hashlib.sha256(got).hexdigest()),
                         (200, len(blob), hashlib.sha256(blob).hexdigest()))
        st, got = self.request(port, "POST", "/", body=blob)
        self.assertEqual((st, len(got), hashlib.sha256(got).hexdigest()),
                         (200, len(blob), hashlib.sha256(blob).hexdigest()))
        # about 0.1 s here; MHD's own relay of upgraded TLS connections would take minutes
        self.assertLess(time.monotonic() - t0, 20)
        self.assertTrue(bg.proc.poll() is None, "kubectl exited: %s" % bg.err)

    def test_port_nothing_listens_on(self):
        pod = self.kuard_pod()
        uid = pod["metadata"]["uid"]
        bg, port = self.forward("pod/kuard", 9)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.settimeout(10)
            self.assertEqual(c.recv(100), b"")  # closed without a byte
        r = bg.finish(20)
        # kubectl prints the error the server wrote on the error stream, then closes its connection
        # and exits: 1.27 and 1.33 do so after any error, a kubelet's included
        self.expect_lines(r, [r"E\d{4} .*an error occurred forwarding %d -> 9: error forwarding port 9 to pod "
                              r"kuard, uid %s: dial tcp4 127\.0\.0\.1:9: connect: connection refused\"?"
                              % (port, uid), r"error: lost connection to pod"], rc=1, stream="err")
        # the server goes on serving: the next forward works
        bg2, port2 = self.forward("pod/kuard", 8080)
        self.assertEqual(self.request(port2, "GET", "/healthy")[0], 200)

    def test_killed_kubectl_leaves_nothing_behind(self):
        blob = self.echo_pod()
        pid = self.s.proc.pid
        before = sockets(pid)
        bg, port = self.forward("pod/echo", 8000)
        # three downloads in flight, read slowly so the server holds queued data when kubectl dies
        socks = []
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            c.sendall(b"GET /blob HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(c.recv(4096).startswith(b"HTTP/1.1 200 OK"))
            socks.append(c)
        wait_until(lambda: sockets(pid) >= before + 5, 10, "the session and its pod connections")
        bg.proc.send_signal(signal.SIGKILL)
        bg.finish(10)
        for c in socks:
            c.close()
        wait_until(lambda: sockets(pid) <= before, 10, "the server to close everything of the session "
                   "(%d sockets now, %d before)" % (sockets(pid), before))
        # and it still forwards
        bg2, port2 = self.forward("pod/echo", 8000)
        st, got = self.request(port2, "GET", "/blob")
        self.assertEqual((st, got == blob), (200, True))

    def test_server_stops_with_a_session_open(self):
        self.kuard_pod()
        bg, port = self.forward("pod/kuard", 8080)
        self.assertEqual(self.request(port, "GET", "/healthy")[0], 200)
        t0 = time.monotonic()
        code = self.s.stop()
        self.assertEqual(code, 0, self.s.log(20))
        self.assertLess(time.monotonic() - t0, 5)
        r = bg.finish(10)
        self.expect_lines(r, [r"error: lost connection to pod"], rc=1, stream="err")
        self.s.start()  # for the harness's own checks at cleanup


def per_version():
    for v in VERSIONS:
        name = "PortForward_%s" % v.replace(".", "_")
        cls = type(name, (PortForwardTests, NodeCase), {"V": v, "__module__": __name__})
        if not have_kubectl(v):
            cls = unittest.skip("kubectl.%s not found in %s" % (v, kubectl_dir()))(cls)
        elif os.geteuid() != 0:
            cls = unittest.skip("pods get network namespaces only as root")(cls)
        globals()[name] = cls


per_version()


@unittest.skipIf(not have_kubectl(VERSIONS[-1]), "no kubectl found")
class Api(Case):
    """Without a node (--no-node): discovery and the answers that need no pod."""

    def upgrade(self, path, **headers):
        h = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "portforward.k8s.io"}
        h.update({k.replace("_", "-"): v for k, v in headers.items()})
        st, hd, body = self.s.http("POST", path, headers={k: v for k, v in h.items() if v is not None})
        return st, json.loads(body)

    def test_discovery(self):
        _, doc = self.s.json("GET", "/api/v1", expect=200)
        pf = [r for r in doc["resources"] if r["name"] == "pods/portforward"]
        self.assertEqual(pf, [{"name": "pods/portforward", "singularName": "", "namespaced": True,
                               "kind": "PodPortForwardOptions", "verbs": ["create", "get"]}])
        st, hd, body = self.s.http("GET", "/api", headers={
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"})
        self.assertEqual(st, 200)
        pods = [r for g in json.loads(body)["items"] for v in g["versions"] for r in v["resources"]
                if r["resource"] == "pods"]
        self.assertIn({"subresource": "portforward", "verbs": ["create", "get"],
                       "responseKind": {"group": "", "version": "v1", "kind": "PodPortForwardOptions"}},
                      pods[0]["subresources"])

    def test_answers_without_a_node(self):
        r = self.s.kubectl(VERSIONS[-1], "run", "web", "--image", KUARD)
        self.expect_rc(r)
        path = "/api/v1/namespaces/default/pods/web/portforward"
        st, body = self.upgrade(path)
        self.assertEqual((st, body["reason"], body["message"]),
                         (400, "BadRequest", "pod web does not have a host assigned"))
        st, body = self.upgrade("/api/v1/namespaces/default/pods/nope/portforward")
        self.assertEqual((st, body["reason"], body["message"]), (404, "NotFound", 'pods "nope" not found'))
        st, _, body = self.s.http("DELETE", path)
        self.assertEqual(st, 405)
        r = self.s.kubectl(VERSIONS[-1], "port-forward", "pod/web", "18080:8080", timeout=30)
        self.expect_err(r, "error: unable to forward port because pod is not running. Current status=Pending\n")


@unittest.skipIf(not have_kubectl(VERSIONS[-1]), "no kubectl found")
class Refusals(NodeCase):
    """The upgrade's own refusals, on a server with a node (no pod needs to run)."""
    V = VERSIONS[-1]

    def test_upgrade_refusals(self):
        self.expect_rc(self.k("run", "web", "--image", KUARD))
        path = "/api/v1/namespaces/default/pods/web/portforward"
        wait_until(lambda: self.s.json("GET", path[:-len("/portforward")], expect=200)[1]["spec"].get("nodeName"),
                   30, "the pod to be scheduled")

        def post(**headers):
            h = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "portforward.k8s.io"}
            h.update({k.replace("_", "-"): v for k, v in headers.items()})
            st, _, body = self.s.http("POST", path, headers={k: v for k, v in h.items() if v is not None})
            return st, json.loads(body)["message"]

        self.assertEqual(post(Connection=None, Upgrade=None), (400, "Upgrade request required"))
        # kubectl 1.31+ asks for a WebSocket tunnel first: any answer but 101 makes it use SPDY
        self.assertEqual(post(Upgrade="websocket"),
                         (400, "unable to upgrade: only SPDY/3.1 is served, not websocket"))
        self.assertEqual(post(X_Stream_Protocol_Version=None),
                         (400, "unable to upgrade: X-Stream-Protocol-Version is required"))
        self.assertEqual(post(X_Stream_Protocol_Version="v4.channel.k8s.io"),
                         (403, "unable to upgrade: unable to negotiate protocol: client supports "
                               "[v4.channel.k8s.io], server accepts [portforward.k8s.io]"))


@unittest.skipIf(not have_kubectl(VERSIONS[-1]), "no kubectl found")
@unittest.skipIf(os.geteuid() != 0, "pods get network namespaces only as root")
class RawSpdy(NodeCase):
    """The session against frames kubectl never sends: it answers or refuses, and the server
    goes on serving."""
    V = VERSIONS[-1]

    def setUp(self):
        super().setUp()
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kuard"},
                     "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "kuard", "image": KUARD}]}})
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/kuard", expect=200)[1]
                   .get("status", {}).get("phase") == "Running", 60, "the kuard pod to run")

    def conn(self):
        c = Spdy(self.s, "kuard")
        self.addCleanup(c.close)
        self.assertRegex(c.head, r"^HTTP/1\.1 101 Switching Protocols\r\n")
        self.assertIn("\r\nUpgrade: SPDY/3.1", c.head)
        self.assertIn("\r\nX-Stream-Protocol-Version: portforward.k8s.io", c.head)
        return c

    def healthy(self):
        self.assertEqual(self.s.http("GET", "/healthz")[0], 200)

    def test_forward_without_request_ids(self):
        c = self.conn()
        c.send(c.ctrl(PING, struct.pack(">I", 1)))
        self.assertEqual(c.frame()[:2], (PING, 1))
        # a client older than the requestid header: the streams pair by id (error n, data n+2)
        c.send(c.syn(1, [("port", "8080"), ("streamtype", "error")]) + c.data(1, flags=FIN))
        c.send(c.syn(3, [("port", "8080"), ("streamtype", "data")]))
        self.assertEqual([c.frame()[:2] for _ in range(2)], [(SYN_REPLY, 1), (SYN_REPLY, 3)])
        c.send(c.data(3, b"GET /healthy HTTP/1.0\r\n\r\n", FIN))
        body, fins = b"", set()
        while fins != {1, 3}:
            kind, sid, flags, payload = c.frame()
            self.assertEqual(kind, "data")
            if sid == 3:
                body += payload
            else:
                self.assertEqual(payload, b"")  # no error
            if flags & FIN:
                fins.add(sid)
        self.assertRegex(body, rb"^HTTP/1\.[01] 200 OK\r\n")

    def test_refused_streams(self):
        c = self.conn()
        c.send(c.syn(1, [("port", "0"), ("streamtype", "data")]))
        c.send(c.syn(3, [("port", "8080"), ("streamtype", "stdin")]))
        c.send(c.syn(5, [("port", "8080")]))
        c.send(c.syn(8, [("port", "8080"), ("streamtype", "data")]))  # even: the server's kind
        c.send(c.syn(7, [("port", "8080"), ("streamtype", "data"), ("requestid", "x")]))
        c.send(c.syn(9, [("port", "8080"), ("streamtype", "data"), ("requestid", "x")]))  # second data
        got = [c.frame() for _ in range(6)]
        rst = lambda f: (f[0], f[1], struct.unpack(">I", f[3][4:8])[0])  # noqa: E731
        self.assertEqual([rst(f) if f[0] == RST_STREAM else f[:2] for f in got],
                         [(RST_STREAM, 1, 5), (RST_STREAM, 3, 5), (RST_STREAM, 5, 5), (RST_STREAM, 8, 1),
                          (SYN_REPLY, 7), (RST_STREAM, 9, 5)])
        # data for streams that are not there (0 included) is dropped; the session goes on
        c.send(c.data(0, b"x") + c.data(101, b"y") + c.ctrl(PING, struct.pack(">I", 3)))
        self.assertEqual(c.frame()[:2], (PING, 3))

    def test_stream_cap(self):
        c = self.conn()
        frames = b"".join(c.syn(2 * i + 1, [("port", "8080"), ("streamtype", "error"), ("requestid", str(i))])
                          for i in range(1025))
        c.send(frames)
        got = [c.frame()[:2] for _ in range(1025)]
        self.assertEqual(got[:1024], [(SYN_REPLY, 2 * i + 1) for i in range(1024)])
        self.assertEqual(got[1024], (RST_STREAM, 2049))
        self.healthy()

    def test_bad_frames_end_the_session_only(self):
        for bad in (Spdy.ctrl(SYN_STREAM, struct.pack(">IIBB", 1, 0, 0, 0) + b"\x12\x34\x56\x78"),
                    Spdy.ctrl(SYN_STREAM, struct.pack(">IIBB", 1, 0, 0, 0)),
                    struct.pack(">HHI", 0x8003, 1, 0xffffff),
                    Spdy.ctrl(RST_STREAM, b"\0\0\0\1"),
                    struct.pack(">HHI", 0x8002, PING, 4) + b"\0\0\0\1"):
            c = self.conn()
            c.send(bad)
            kind, _, _, payload = c.frame()
            self.assertEqual((kind, struct.unpack(">I", payload[4:8])[0]), (GOAWAY, 1), bad)
            with self.assertRaises((EOFError, ConnectionError, OSError)):
                while True:
                    c.frame()
        self.healthy()


if __name__ == "__main__":
    unittest.main()
