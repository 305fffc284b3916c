#!/usr/bin/env python3
"""Cold start of `jobplane server` for bench/api/run.sh: milliseconds from just before the exec
until GET /healthz over TLS answers 200, for RUNS starts in a row.

    coldstart.py JOBPLANE RUNS fresh PARENT   each start gets a new empty data dir under PARENT
    coldstart.py JOBPLANE RUNS reuse DIR      every start reuses DIR (e.g. one holding 10k Pods)

Prints "result ms=<t1>,<t2>,..." on stdout. The server's stderr goes to <data dir>.log. The port
is picked free beforehand so the poll can start at once; it connects in a tight loop (200 us
apart while the port is closed), so the timing error is well under a millisecond. Each server is
stopped (SIGTERM, then SIGKILL) before the next start, and on any exit of this script.
"""
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

TIMEOUT_S = 30
server = None


def stop(p):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port, ctx):
    """True once GET /healthz answers 200; False while the server is not there yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            # Like curl and Go clients: without it, Nagle holds the request behind the
            # handshake's last flight until the server's delayed ACK, 40 ms later.
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                head = b""
                while b"\r\n" not in head:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    except (ConnectionRefusedError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
        return False


def one_start(binary, data_dir, ctx):
    global server
    port = free_port()
    log = open(data_dir + ".log", "ab")
    t0 = time.perf_counter_ns()
    server = subprocess.Popen(
        [binary, "server", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    try:
        while not healthz(port, ctx):
            if server.poll() is not None:
                sys.exit(f"coldstart: jobplane exited with {server.returncode}, see {data_dir}.log")
            if time.perf_counter_ns() - t0 > TIMEOUT_S * 1e9:
                sys.exit(f"coldstart: no 200 from /healthz within {TIMEOUT_S} s, see {data_dir}.log")
            time.sleep(0.0002)
        return (time.perf_counter_ns() - t0) / 1e6
    finally:
        stop(server)
        server = None
        log.close()


def main():
    if len(sys.argv) != 5 or sys.argv[3] not in ("fresh", "reuse"):
        sys.exit(__doc__)
    binary, runs, how, where = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    # SIGTERM from run.sh's cleanup must still stop the server this script started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # a fresh data dir makes its CA during the very start timed
    times = []
    try:
        for i in range(runs):
            d = os.path.join(where, f"start-{i}") if how == "fresh" else where
            times.append(one_start(binary, d, ctx))
    finally:
        stop(server)
    print("result ms=" + ",".join(f"{t:.2f}" for t in times))


if __name__ == "__main__":
    main()
