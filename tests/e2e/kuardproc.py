"""Starts build/kuard on a free loopback port for end-to-end tests and stops it again.

The port is read back from kuard's own "Serving on HTTP on HOST:PORT" log line, with a deadline,
so tests never guess ports or sleep for a fixed time.
"""
import os
import re
import subprocess
import threading
import time

KUARD = os.environ.get("KUARD", os.path.join(os.path.dirname(__file__), "../../build/kuard"))
SERVING = re.compile(rb"Serving on HTTP on [^:]*:(\d+)")


class Kuard:
    def __init__(self, *args, env=None, wait_serving=True):
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([KUARD, "--address", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=e)
        self.lines = []
        self.port = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_serving and not self._ready.wait(10):
            self.stop()
            raise RuntimeError("kuard did not start serving: " + self.log())

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            m = SERVING.search(line)
            if m:
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def log(self):
        return b"".join(self.lines).decode("utf-8", "replace")

    def wait(self, timeout):
        code = self.proc.wait(timeout)
        self._reader.join(5)
        self.proc.stdout.close()
        return code

    def wait_for_log(self, pattern, timeout=30, count=1):
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for line in list(self.lines) if rx.search(line)) >= count:
                return True
            time.sleep(0.01)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
