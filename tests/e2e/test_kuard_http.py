"""build/kuard over real HTTP: kuard's headers and shapes, bad input, scale and concurrency.

Run by ctest (KUARD points at the binary). Standard library only.
"""
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest

from kuardproc import KUARD, Kuard

MQ = "/memq/server"


class Conn:
    """One keep-alive connection, like a curl loop or a consumer."""

    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def req(self, method, path, body=None, headers=None):
        self.c.request(method, path, body=body, headers=headers or {})
        r = self.c.getresponse()
        return r.status, r.read(), r

    def close(self):
        self.c.close()


class KuardHTTP(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuard()
        cls.c = Conn(cls.k.port)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.k.stop()

    def test_headers_match_go(self):
        st, body, r = self.c.req("PUT", MQ + "/queues/hdr")
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(r.getheader("Content-Length"), "0")
        st, body, r = self.c.req("POST", MQ + "/queues/hdr/enqueue", b"x")
        self.assertEqual(st, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(r.getheader("Cache-Control"), "no-cache, private, max-age=0")
        self.assertEqual(r.getheader("Pragma"), "no-cache")
        self.assertEqual(r.getheader("Expires"), "Thu, 01 Jan 1970 00:00:00 UTC")
        self.assertTrue(body.endswith(b"}\n"))  # json.Encoder appends a newline
        st, body, r = self.c.req("PUT", MQ + "/queues/hdr")
        self.assertEqual((st, body), (400, b"already exists\n"))
        self.assertEqual(r.getheader("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        self.c.req("POST", MQ + "/queues/hdr/dequeue")
        st, body, r = self.c.req("POST", MQ + "/queues/hdr/dequeue")
        self.assertEqual((st, body), (204, b""))
        self.assertIsNone(r.getheader("Content-Type"))
        self.c.req("DELETE", MQ + "/queues/hdr")

    def test_routes_404_405(self):
        for method, path, want in [
            ("GET", "/nope", 404), ("GET", MQ + "/nope", 404), ("GET", MQ, 404),
            ("POST", MQ + "/queues/q/explode", 404), ("PUT", MQ + "/queues/a/b/c", 404),
            ("GET", MQ + "/queues/q/dequeue", 405), ("PATCH", MQ + "/queues/q", 405),
            ("POST", MQ + "/stats", 405), ("DELETE", "/keygen", 405), ("POST", "/healthy", 405),
        ]:
            st, body, r = self.c.req(method, path)
            self.assertEqual(st, want, (method, path, body))
            self.assertEqual(body, b"404 page not found\n" if want == 404 else b"Method Not Allowed\n")
            if want == 405:
                self.assertTrue(r.getheader("Allow"), (method, path))

    def test_queue_names(self):
        # empty name: kuard's "empty name"
        self.assertEqual(self.c.req("PUT", MQ + "/queues/")[:2], (400, b"empty name\n"))
        self.assertEqual(self.c.req("POST", MQ + "/queues//enqueue", b"x")[:2], (400, b"empty name\n"))
        # an encoded slash decodes to two segments, as in Go: no such route
        self.assertEqual(self.c.req("PUT", MQ + "/queues/a%2Fb")[0], 404)
        # dot segments sent raw (curl would normalise them away)
        self.assertEqual(self.c.req("PUT", MQ + "/queues/..")[0], 404)
        self.assertEqual(self.c.req("PUT", MQ + "/queues/%2e%2e")[0], 404)
        self.assertEqual(self.c.req("PUT", MQ + "/queues/.")[0], 404)
        self.assertEqual(self.c.req("PUT", MQ + "/queues/%00")[0], 400)
        self.assertEqual(self.c.req("PUT", MQ + "/queues/%zz")[0], 400)
        # unusual but valid names work and are reported exactly
        for name, path in [("a b", "a%20b"), ("..x", "..x"), ("名前", "%E5%90%8D%E5%89%8D"),
                           ("<&>", "%3C%26%3E")]:
            self.assertEqual(self.c.req("PUT", MQ + "/queues/" + path)[0], 200, name)
            stats = json.loads(self.c.req("GET", MQ + "/stats")[1])
            self.assertIn(name, [q["name"] for q in stats["queues"]])
            self.assertEqual(self.c.req("DELETE", MQ + "/queues/" + path)[0], 200, name)

    def test_body_cap(self):
        self.c.req("PUT", MQ + "/queues/big")
        one_mib = b"a" * (1 << 20)
        st, body, _ = self.c.req("POST", MQ + "/queues/big/enqueue", one_mib)
        self.assertEqual(st, 200)
        self.assertEqual(len(json.loads(body)["body"]), 1 << 20)
        st, body, _ = self.c.req("POST", MQ + "/queues/big/enqueue", one_mib + b"a")
        self.assertEqual((st, body), (413, b"http: request body too large\n"))
        # the same without a Content-Length: chunked upload, cut off at the cap
        c = Conn(self.k.port)

        def chunks():
            for _ in range(17):
                yield b"b" * 65536
        c.c.request("POST", MQ + "/queues/big/enqueue", body=chunks(),
                    headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
        r = c.c.getresponse()
        self.assertEqual((r.status, r.read()), (413, b"http: request body too large\n"))
        c.close()
        # announced sizes: refused before the body is sent when the client waits for
        # "100 Continue", or when the body is beyond what we are willing to read and discard
        for headers in (b"Content-Length: 2097152\r\nExpect: 100-continue\r\n",
                        b"Content-Length: 104857600\r\n"):
            s = socket.create_connection(("127.0.0.1", self.k.port), timeout=10)
            s.sendall(b"POST " + MQ.encode() + b"/queues/big/enqueue HTTP/1.1\r\nHost: x\r\n" +
                      headers + b"\r\n")
            reply = s.recv(4096)
            s.close()
            self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:80])
            self.assertTrue(reply.endswith(b"http: request body too large\n"), reply)
        self.c.close()
        self.c = Conn(self.k.port)
        stats = json.loads(self.c.req("GET", MQ + "/stats")[1])
        self.assertEqual([q["depth"] for q in stats["queues"] if q["name"] == "big"], [1])
        self.c.req("DELETE", MQ + "/queues/big")

    def test_bodies_byte_exact_and_go_escaped(self):
        self.c.req("PUT", MQ + "/queues/bytes")
        cases = [
            (b"plain", "plain"),
            (b"", ""),
            (b"nul\x00inside", "nul\x00inside"),
            ("emoji \U0001F600 \u2028 é".encode(), "emoji \U0001F600 \u2028 é"),
            (b"<html>&amp;", "<html>&amp;"),
            (b"\xff\xfe bad \xc3", "\ufffd\ufffd bad \ufffd"),  # Go: one U+FFFD per invalid byte
        ]
        for raw, _ in cases:
            self.assertEqual(self.c.req("POST", MQ + "/queues/bytes/enqueue", raw)[0], 200)
        for raw, want in cases:
            st, body, _ = self.c.req("POST", MQ + "/queues/bytes/dequeue")
            self.assertEqual(st, 200)
            self.assertEqual(json.loads(body)["body"], want, raw)
            if b"<" in raw:  # Go's HTML-safe escaping is on the wire
                self.assertIn(b"\\u003chtml\\u003e\\u0026amp;", body)
            if b"\xe2\x80\xa8" in raw:
                self.assertIn(b"\\u2028", body)
        self.c.req("DELETE", MQ + "/queues/bytes")

    def test_ten_thousand_queues(self):
        for i in range(10000):
            self.assertEqual(self.c.req("PUT", MQ + "/queues/q%d" % i)[0], 200)
        self.c.req("POST", MQ + "/queues/q9999/enqueue", b"last")
        stats = json.loads(self.c.req("GET", MQ + "/stats")[1])
        names = [q["name"] for q in stats["queues"] if re.fullmatch(r"q\d+", q["name"])]
        self.assertEqual(names, ["q%d" % i for i in range(10000)])  # creation order
        self.assertEqual(json.loads(self.c.req("POST", MQ + "/queues/q9999/dequeue")[1])["body"], "last")
        for i in range(10000):
            self.assertEqual(self.c.req("DELETE", MQ + "/queues/q%d" % i)[0], 200)
        stats = json.loads(self.c.req("GET", MQ + "/stats")[1])
        self.assertFalse([q for q in stats["queues"] if re.fullmatch(r"q\d+", q["name"])])

    def test_64_connections_lose_nothing(self):
        self.c.req("PUT", MQ + "/queues/conc")
        producers, consumers, per = 32, 32, 300
        total = producers * per
        got, ids, errors = [], [], []
        lock = threading.Lock()
        produced = threading.Event()
        done_producing = [0]

        def produce(p):
            c = Conn(self.k.port)
            try:
                for i in range(per):
                    st, body, _ = c.req("POST", MQ + "/queues/conc/enqueue", b"p%d-%d" % (p, i))
                    if st != 200:
                        errors.append(("enqueue", st, body))
            finally:
                c.close()
                with lock:
                    done_producing[0] += 1
                    if done_producing[0] == producers:
                        produced.set()

        def consume():
            c = Conn(self.k.port)
            try:
                while True:
                    st, body, _ = c.req("POST", MQ + "/queues/conc/dequeue")
                    if st == 200:
                        m = json.loads(body)
                        with lock:
                            got.append(m["body"])
                            ids.append(m["id"])
                    elif st == 204:
                        if produced.is_set():
                            # one more look: items enqueued just before the flag was set
                            st, body, _ = c.req("POST", MQ + "/queues/conc/dequeue")
                            if st == 204:
                                return
                            m = json.loads(body)
                            with lock:
                                got.append(m["body"])
                                ids.append(m["id"])
                    else:
                        errors.append(("dequeue", st, body))
                        return
            finally:
                c.close()

        threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
        threads += [threading.Thread(target=consume) for _ in range(consumers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(errors)
        want = sorted("p%d-%d" % (p, i) for p in range(producers) for i in range(per))
        self.assertEqual(len(got), total)
        self.assertEqual(sorted(got), want)  # nothing lost, nothing twice
        self.assertEqual(len(set(ids)), total)
        stats = json.loads(self.c.req("GET", MQ + "/stats")[1])
        q = [q for q in stats["queues"] if q["name"] == "conc"][0]
        self.assertEqual((q["depth"], q["enqueued"], q["dequeued"]), (0, total, total))
        # per producer, FIFO order is preserved across consumers' interleaving
        self.c.req("DELETE", MQ + "/queues/conc")

    def test_probes_keygen_and_page(self):
        self.assertEqual(self.c.req("GET", "/healthy")[:2], (200, b"ok"))
        self.assertEqual(self.c.req("GET", "/ready")[:2], (200, b"ok"))
        self.assertEqual(self.c.req("GET", "/a/healthy")[:2], (200, b"ok"))
        st, body, _ = self.c.req("GET", "/keygen")
        doc = json.loads(body)
        self.assertEqual(list(doc["config"]), ["enable", "numToGen", "timeToRun", "memQServer",
                                               "memQQueue", "exitOnComplete", "exitCode"])
        self.assertEqual(doc["history"], [])
        st, body, r = self.c.req("GET", "/")
        self.assertEqual(st, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        self.assertIn(b"MemQ Server", body)

    def test_http_level_garbage(self):
        s = socket.create_connection(("127.0.0.1", self.k.port), timeout=10)
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        reply = s.recv(4096)
        s.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply[:60])
        # still serving afterwards
        self.assertEqual(Conn(self.k.port).req("GET", "/healthy")[0], 200)


class KuardProcess(unittest.TestCase):
    def test_bad_flags_exit_2_with_usage(self):
        for args in (["--bogus"], ["--keygen-num-to-gen=ten"], ["--address"], ["-x"]):
            p = subprocess.run([KUARD, *args], capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(b"Usage of kuard:", p.stderr)
        p = subprocess.run([KUARD, "--help"], capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"--keygen-memq-server string", p.stderr)

    def test_port_in_use_exits_1_unless_keygen_has_work(self):
        with Kuard() as first:
            p = subprocess.run([KUARD, "--address", "127.0.0.1:%d" % first.port],
                               capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"cannot start HTTP server", p.stderr)
            self.assertIn(b"in use", p.stderr)  # the reason, as Go's "bind: address already in use"
            # pods sharing one network (jobplane without root) all want :8080: a keygen
            # workload does its work without the server, as the chapter's parallel Job needs
            p = subprocess.run([KUARD, "--address", "127.0.0.1:%d" % first.port, "--keygen-enable",
                                "--keygen-exit-on-complete", "--keygen-num-to-gen=2"],
                               capture_output=True, timeout=30, env=dict(os.environ, KUARD_RSA_BITS="1024"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"cannot start HTTP server", p.stderr)
            self.assertEqual(len(re.findall(rb"\(ID 0 \d/2\) Item done: SHA256:", p.stderr)), 2)

    def test_exit_code_and_put_keygen(self):
        k = Kuard("--keygen-enable", "--keygen-exit-on-complete", "--keygen-num-to-gen=2",
                  "--keygen-exit-code=7", env={"KUARD_RSA_BITS": "1024"}, wait_serving=False)
        self.assertEqual(k.wait(30), 7)
        self.assertEqual(len(re.findall(r"\(ID 0 \d/2\) Item done: SHA256:", k.log())), 2)
        # PUT /keygen restarts the workload with the new config (kuard numbers it ID 1)
        with Kuard(env={"KUARD_RSA_BITS": "1024"}) as k:
            c = Conn(k.port)
            st, body, _ = c.req("PUT", "/keygen", json.dumps(
                {"enable": True, "numToGen": 3, "exitOnComplete": False}))
            self.assertEqual(st, 200)
            self.assertTrue(json.loads(body)["config"]["enable"])
            self.assertTrue(k.wait_for_log(r"\(ID 0\) Workload exiting", 30))
            hist = json.loads(c.req("GET", "/keygen")[1])["history"]
            self.assertEqual([h["id"] for h in hist], list(range(len(hist))))
            self.assertEqual(hist[-1]["data"], "(ID 0) Workload exiting")
            self.assertEqual(c.req("PUT", "/keygen", b"{")[0], 400)
            c.close()

    def test_server_answers_while_generating_4096_bit_keys(self):
        # A key takes around a second on this hardware; if generation blocked the loop, no
        # request could complete between two "Item done" lines.
        with Kuard("--keygen-enable") as k:
            self.assertTrue(k.wait_for_log(r"Item done", 60))
            c = Conn(k.port)
            answered = 0
            start_items = sum(1 for l in k.lines if b"Item done" in l)
            while sum(1 for l in k.lines if b"Item done" in l) == start_items:
                self.assertEqual(c.req("GET", MQ + "/stats")[0], 200)
                answered += 1
            c.close()
            self.assertGreater(answered, 50)


if __name__ == "__main__":
    unittest.main(verbosity=2)
