"""The machine's raw process-start rate, the baseline the pod and Job benchmarks compare with."""
import os
import threading
import time


def spawn_rate(n, threads):
    """posix_spawn + waitpid of /bin/true, n in all, from `threads` threads; returns spawns/s."""
    per = n // threads

    def work():
        for _ in range(per):
            pid = os.posix_spawn("/bin/true", ["true"], {})
            os.waitpid(pid, 0)
    ts = [threading.Thread(target=work) for _ in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return per * threads / (time.monotonic() - t0)
