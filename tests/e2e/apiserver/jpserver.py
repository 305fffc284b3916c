"""Harness for the API-server end-to-end tests: the real `jobplane server` and the real kubectl.

* `Server()` starts `jobplane server --data-dir <fresh temp dir> --listen 127.0.0.1:0`, reads the
  port back from its `serving the Kubernetes API on https://127.0.0.1:PORT` log line, and waits
  (with a deadline, polling, never a fixed sleep) until the kubeconfig names that port and
  `/healthz` answers. `stop()` sends SIGTERM and SIGKILLs after a deadline; `close()` also removes
  the temp directories. `Server(user=UID)` (root only; see `unprivileged_unavailable`) runs it as
  that user through setpriv - groups cleared, no capabilities inherited - with a directory of its
  own (`user_dir`: the data dir and HOME) in the temp dir; `wrapper` is a command that runs it.
* `Server.kubectl(version, *args, stdin=None)` runs `kubectl.<version>` with `--kubeconfig`, a
  private `HOME` and a private `--cache-dir` (discovery caches never leak between tests) and
  returns a `Result` (rc, out, err) that also remembers the command for failure messages.
* `Server.http(...)` talks raw HTTPS to the server with the admin client certificate, the bearer
  token from DATA/token, or no credentials.
* `Case` is a unittest.TestCase whose assertion helpers always print the command, what was
  expected and what was printed.

Only 127.0.0.1 is ever used. Environment: JOBPLANE (the binary; ctest sets it), KUBECTL_DIR (where
kubectl.1.27 … kubectl.1.33 live; default: next to the real `kubectl`).
"""
import collections
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHAPTER = os.path.join(HERE, "..", "..", "..", "examples", "chapter")  # the KUAR Jobs chapter manifests, verbatim
JOBPLANE = os.environ.get("JOBPLANE", os.path.join(HERE, "../../../build/jobplane"))
SETPRIV = shutil.which("setpriv")
SERVING = re.compile(r"serving the Kubernetes API on https://127\.0\.0\.1:(\d+)")
VERSIONS = ("1.27", "1.33")


def kubectl_dir():
    d = os.environ.get("KUBECTL_DIR")
    if d:
        return d
    k = shutil.which("kubectl")
    return os.path.dirname(os.path.realpath(k)) if k else "/usr/local/bin"


def kubectl_path(version):
    return os.path.join(kubectl_dir(), "kubectl." + version)


def have_kubectl(version):
    return os.access(kubectl_path(version), os.X_OK)


def chapter(name):
    return os.path.join(CHAPTER, name)


def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_until(fn, timeout, what, interval=0.02):
    """Polls fn() until it returns a true value; raises AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except Exception as e:  # noqa: BLE001 - polled condition may raise until ready
            last = e
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(interval)


class Result(collections.namedtuple("Result", "rc out err")):
    """rc is an int, or "TIMEOUT" when the command had to be killed."""
    cmd = ""

    def __str__(self):
        return "$ %s\n  exit code: %s\n  stdout:\n%s  stderr:\n%s" % (
            self.cmd, self.rc, indent(self.out), indent(self.err))


def indent(s):
    if not s:
        return "    <empty>\n"
    return "".join("    | " + line + "\n" for line in s.rstrip("\n").split("\n"))


def as_user(uid):
    """The argv prefix that runs a command as uid: its own group, no others, no capabilities."""
    return [SETPRIV, "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", "--inh-caps=-all"]


NOBODY = 65534


def unprivileged_unavailable(uid):
    """Why a server cannot run as uid here (None when it can): switching users takes root and
    setpriv, the user must reach the binaries (not under a 0700 home) and make user namespaces."""
    if os.geteuid() != 0:
        return "switching to uid %d takes root" % uid
    if SETPRIV is None:
        return "setpriv (util-linux) not found"
    for exe in (JOBPLANE, os.path.join(os.path.dirname(JOBPLANE), "jobplane-shim")):
        if os.path.exists(exe) and subprocess.run(as_user(uid) + ["test", "-x", exe]).returncode:
            return "uid %d cannot run %s (a directory above it is not searchable by all)" % (uid, exe)
    p = subprocess.run(as_user(uid) + ["unshare", "-Urm", "true"],
                       capture_output=True, text=True, cwd="/")
    if p.returncode:
        return "uid %d cannot make a user namespace: %s" % (uid, p.stderr.strip())
    return None


class NobodyServer:
    """Mixed into a Case: its server runs as nobody, where this machine can run one (skipped
    where it cannot, with unprivileged_unavailable's reason)."""
    server_user = NOBODY

    @classmethod
    def setUpClass(cls):
        why = unprivileged_unavailable(NOBODY)
        if why:
            raise unittest.SkipTest(why)
        super().setUpClass()


class Server:
    def __init__(self, data_dir=None, extra_args=(), start=True, user=None, wrapper=()):
        self.tmp = tempfile.mkdtemp(prefix="jp-e2e-")
        self.user = user
        self.wrapper = list(wrapper)
        self.user_dir = None
        if user is not None:
            os.chmod(self.tmp, 0o711)  # the user passes through to its own directory, nothing more
            self.user_dir = os.path.join(self.tmp, "user")
            os.makedirs(os.path.join(self.user_dir, "home"))
            for d in (self.user_dir, os.path.join(self.user_dir, "home")):
                os.chown(d, user, user)
        self.data_dir = data_dir or os.path.join(self.user_dir or self.tmp, "data")
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.lines_out, self.lines_err = [], []
        self.all_logs = []  # logs of every run on this data dir, for failure messages
        self.exit_codes = []
        if start:
            self.start()

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def kubeconfig(self):
        return os.path.join(self.data_dir, "kubeconfig")

    @property
    def base(self):
        return "https://127.0.0.1:%d" % self.port

    def start(self, timeout=20):
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self.lines_out, self.lines_err = [], []
        self.port = None
        argv = [JOBPLANE, "server", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0", *self.extra_args]
        env, cwd = None, None
        if self.user is not None:
            home = os.path.join(self.user_dir, "home")
            argv = as_user(self.user) + argv
            env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, ".local", "share"))
            cwd = self.user_dir
        self.proc = subprocess.Popen(self.wrapper + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.all_logs.append(self.lines_err)
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines_out), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.lines_err), daemon=True)]
        for t in self._readers:
            t.start()

        def port_known():
            if self.proc.poll() is not None:
                raise AssertionError("jobplane server exited with %s while starting:\n%s"
                                     % (self.proc.returncode, self.log()))
            for line in list(self.lines_err):
                m = SERVING.search(line)
                if m:
                    self.port = int(m.group(1))
                    return True
            return False

        try:
            wait_until(port_known, timeout, "the 'serving the Kubernetes API' log line")
            wait_until(lambda: ("127.0.0.1:%d" % self.port) in read_file(self.kubeconfig),
                       timeout, "DATA/kubeconfig naming port %d" % self.port)
            wait_until(lambda: self.http("GET", "/healthz", auth=None, timeout=2)[0] == 200,
                       timeout, "/healthz to answer 200")
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _read(stream, sink):
        for raw in stream:
            sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the server; returns its exit code (negative: killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._readers:
            t.join(5)
        self.exit_codes.append(self.proc.returncode)
        return self.proc.returncode

    def kill9(self):
        return self.stop(sig=signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM):
        code = self.stop(sig)
        self.start()
        return code

    def close(self):
        self.stop()
        self.kill_leftovers()
        # the runtime records of what was still running, and the path mirroring the data dir
        run = os.path.dirname(self.pods_dirs()[1])
        shutil.rmtree(run, ignore_errors=True)
        base = "/dev/shm/jobplane-%d" % (os.geteuid() if self.user is None else self.user)
        while os.path.dirname(run) != base and run.startswith(base + "/"):
            run = os.path.dirname(run)
            try:
                os.rmdir(run)
            except OSError:
                break
        shutil.rmtree(self.tmp, ignore_errors=True)

    def kill_leftovers(self):
        """Containers outlive the server by design (the next one re-adopts them): a test's end
        kills what its data dir still runs - shims and network-namespace holders (their command
        lines name the data dir), then containers (by their state.json). Shims first: one whose
        container died first would be on its way out, and a sanitizer's exit-time leak check,
        killed halfway, complains in shims.log."""
        killed = 0
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        for root, _dirs, files in [w for pods in self.pods_dirs() for w in os.walk(pods)]:
            if "state.json" in files and "exit.json" not in files:
                try:
                    with open(os.path.join(root, "state.json")) as f:
                        pid = json.load(f)["pid"]
                    os.killpg(pid, signal.SIGKILL)
                    killed += 1
                except (OSError, ValueError, KeyError):
                    pass
        return killed

    def pods_dirs(self):
        """Where pods' records are: DATA/pods, and the runtime records on /dev/shm's tmpfs
        (the agent's choose_run_dir)."""
        real = os.path.realpath(self.data_dir)
        return [os.path.join(self.data_dir, "pods"),
                "/dev/shm/jobplane-%d%s/pods" % (os.geteuid() if self.user is None else self.user, real)]

    def records_dir(self, uid):
        """A pod's runtime records (shim state, exit records): on /dev/shm when it is there."""
        for pods in reversed(self.pods_dirs()):
            if os.path.isdir(os.path.join(pods, uid)):
                return os.path.join(pods, uid)
        return os.path.join(self.pods_dirs()[0], uid)

    def processes(self):
        """Pids whose command line names this server's data dir (shims, namespace holders)."""
        out = []
        needle = self.data_dir.encode()
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if needle in f.read():
                        out.append(int(d))
            except OSError:
                pass
        return out

    def log(self, last=60):
        lines = [l for run in self.all_logs for l in run]
        return "\n".join(lines[-last:])

    # ---- kubectl -----------------------------------------------------------------------------
    def kubectl(self, version, *args, stdin=None, timeout=60, kubeconfig=None, env=None):
        """Runs kubectl.<version> against this server; returns Result(rc, out, err)."""
        r, _ = self._run_kubectl(version, args, stdin, timeout, kubeconfig, env)
        return r

    def kubectl_argv(self, version, args, kubeconfig=None):
        return [kubectl_path(version), "--kubeconfig", kubeconfig or self.kubeconfig,
                "--cache-dir", os.path.join(self.tmp, "cache-" + version), *args]

    def kubectl_env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")}
        env["HOME"] = self.home
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
        return env

    def _run_kubectl(self, version, args, stdin, timeout, kubeconfig, env=None):
        argv = self.kubectl_argv(version, args, kubeconfig)
        t0 = time.monotonic()
        e = self.kubectl_env()
        e.update(env or {})
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                             cwd=self.tmp)
        try:
            out, err = p.communicate(stdin.encode() if isinstance(stdin, str) else stdin, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            rc = "TIMEOUT"
        r = Result(rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
        r.cmd = "kubectl.%s %s" % (version, " ".join(shlex.quote(a) for a in args))
        if env:
            r.cmd = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in env.items()) + " " + r.cmd
        if stdin is not None:
            r.cmd += "   <<< " + (stdin if isinstance(stdin, str) else stdin.decode())[:300]
        return r, time.monotonic() - t0

    def kubectl_bg(self, version, *args):
        """Starts kubectl in the background; returns a Background collecting its output."""
        return Background(self.kubectl_argv(version, args), self.kubectl_env(), self.tmp,
                          "kubectl.%s %s" % (version, " ".join(shlex.quote(a) for a in args)))

    # ---- raw HTTPS ---------------------------------------------------------------------------
    def ssl_context(self, auth="cert"):
        ctx = ssl.create_default_context(cafile=os.path.join(self.data_dir, "ca.crt"))
        if auth == "cert":
            ctx.load_cert_chain(os.path.join(self.data_dir, "admin.crt"), os.path.join(self.data_dir, "admin.key"))
        return ctx

    def token(self):
        with open(os.path.join(self.data_dir, "token")) as f:
            return f.read().strip()

    def connection(self, auth="cert", timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_context(auth), timeout=timeout)

    def http(self, method, path, body=None, headers=None, auth="cert", timeout=30, conn=None):
        """One request. auth: "cert" (admin client certificate), "token" (DATA/token), None.
        body may be bytes, str or a JSON-able object. Returns (status, headers, body bytes)."""
        h = dict(headers or {})
        if auth == "token":
            h["Authorization"] = "Bearer " + self.token()
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        own = conn is None
        c = conn or self.connection(auth, timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if own:
                c.close()

    def json(self, method, path, body=None, headers=None, expect=None):
        st, hd, data = self.http(method, path, body, headers)
        if expect is not None and st != expect:
            raise AssertionError("%s %s: expected HTTP %s, got %s: %s" % (method, path, expect, st, data[:2000]))
        try:
            return st, json.loads(data)
        except ValueError:
            raise AssertionError("%s %s: HTTP %s, body is not JSON: %r" % (method, path, st, data[:2000]))


class Background:
    """A background process whose stdout/stderr lines are collected by threads."""

    def __init__(self, argv, env, cwd, cmd):
        self.cmd = cmd
        self.out, self.err = [], []
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=cwd)
        self._t = [threading.Thread(target=Server._read, args=(self.proc.stdout, self.out), daemon=True),
                   threading.Thread(target=Server._read, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self._t:
            t.start()

    def wait_for(self, pattern, timeout, stream="out", count=1):
        """True once `count` lines of the stream match the regex (search), False at the deadline."""
        rx = re.compile(pattern)
        lines = self.out if stream == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for l in list(lines) if rx.search(l)) >= count:
                return True
            if self.proc.poll() is not None:
                for t in self._t:
                    t.join(2)
                return sum(1 for l in list(lines) if rx.search(l)) >= count
            time.sleep(0.02)
        return False

    def finish(self, timeout):
        """Waits for exit up to timeout (then kills); returns a Result."""
        try:
            self.proc.wait(timeout)
            rc = self.proc.returncode
        except subprocess.TimeoutExpired:
            rc = "TIMEOUT"
            self.proc.kill()
            self.proc.wait()
        for t in self._t:
            t.join(5)
        r = Result(rc, "".join(l + "\n" for l in self.out), "".join(l + "\n" for l in self.err))
        r.cmd = self.cmd
        return r

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        return self.finish(5)


# ---- assertions -------------------------------------------------------------------------------
class Case(unittest.TestCase):
    """Base class: a fresh server per test (self.s), assertion helpers with full context."""
    maxDiff = None
    # API tests: no node (pods stay Pending), no job or replicaset controller (objects stay as
    # written); node and controller tests override this
    server_args = ("--no-node", "--controllers=*,-job,-replicaset")
    server_user = None  # a uid: the server runs as that user (Server(user=...))
    server_wrapper = ()  # a command that runs the server (Server(wrapper=...))

    def setUp(self):
        self.s = Server(extra_args=self.server_args, user=self.server_user, wrapper=self.server_wrapper)
        self.addCleanup(self._close_server)

    def _close_server(self):
        alive = self.s.alive()
        log = self.s.log()
        self.s.close()
        if not alive:
            raise AssertionError("the jobplane server died during the test (exit %s); its log:\n%s"
                                 % (self.s.exit_codes[-1:] or "?", log))

    def fail_with(self, r, what):
        self.fail("%s\n%s\n  server log tail:\n%s" % (what, r, indent(self.s.log(15))))

    def expect_rc(self, r, rc=0):
        if r.rc != rc:
            self.fail_with(r, "expected exit code %s, got %s" % (rc, r.rc))

    def expect_out(self, r, expected, rc=0, stream="out"):
        """Exact text (trailing newlines ignored) or a compiled regex (fullmatch)."""
        self.expect_rc(r, rc)
        actual = (r.out if stream == "out" else r.err).rstrip("\n")
        if isinstance(expected, re.Pattern):
            ok = expected.fullmatch(actual) is not None
            shown = "regex " + expected.pattern
        else:
            ok = actual == expected.rstrip("\n")
            shown = expected
        if not ok:
            self.fail_with(r, "expected std%s:\n%s" % (stream, indent(shown)))

    def expect_err(self, r, expected, rc=1):
        self.expect_out(r, expected, rc=rc, stream="err")

    def expect_lines(self, r, patterns, rc=0, stream="out", ordered=True):
        """Every regex must fullmatch some line (in order if `ordered`)."""
        self.expect_rc(r, rc)
        lines = [l.rstrip() for l in (r.out if stream == "out" else r.err).rstrip("\n").split("\n")]
        pos = 0
        for p in patterns:
            rx = re.compile(p)
            rng = range(pos, len(lines)) if ordered else range(len(lines))
            hit = next((i for i in rng if rx.fullmatch(lines[i])), None)
            if hit is None:
                self.fail_with(r, "expected a line of std%s matching (after line %d):\n    %s\nall expected lines:\n%s"
                               % (stream, pos, p, indent("\n".join(patterns))))
            if ordered:
                pos = hit + 1

    def expect_no_line(self, r, pattern, stream="out"):
        lines = (r.out if stream == "out" else r.err).rstrip("\n").split("\n")
        rx = re.compile(pattern)
        bad = [l for l in lines if rx.search(l)]
        if bad:
            self.fail_with(r, "expected no line of std%s matching %s, found %r" % (stream, pattern, bad))


class KubectlCase(Case):
    """A Case that runs kubectl.<V>; see per_version()."""
    V = None

    def k(self, *args, stdin=None, timeout=60, env=None):
        return self.s.kubectl(self.V, *args, stdin=stdin, timeout=timeout, env=env)

    def ok(self, *args, stdin=None, timeout=60):
        """Runs kubectl and asserts exit code 0; returns stdout."""
        r = self.k(*args, stdin=stdin, timeout=timeout)
        self.expect_rc(r, 0)
        return r.out

    def create(self, obj, expect=None):
        """kubectl create -f - with a JSON object; asserts `<kind>/<name> created`."""
        r = self.k("create", "-f", "-", stdin=json.dumps(obj))
        if expect is not None:
            self.expect_out(r, expect)
        else:
            self.expect_rc(r, 0)
        return r

    def uid(self, resource, name, ns=None):
        args = ["get", resource, name, "-o", "jsonpath={.metadata.uid}"] + (["-n", ns] if ns else [])
        r = self.k(*args)
        self.expect_rc(r, 0)
        if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r.out):
            self.fail_with(r, "expected a UUID")
        return r.out

    def get_json(self, *args):
        r = self.k("get", *args, "-o", "json")
        self.expect_rc(r, 0)
        try:
            return json.loads(r.out)
        except ValueError as e:
            self.fail_with(r, "expected JSON output (%s)" % e)

    def write(self, name, text):
        """Writes a manifest into the test's temp dir; returns its absolute path."""
        d = os.path.join(self.s.tmp, "manifests")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text if isinstance(text, str) else json.dumps(text, indent=1))
        return p


def per_version(mixin, namespace):
    """Defines <Mixin>_1_27 and <Mixin>_1_33 TestCase classes in `namespace` (a module's globals)."""
    for v in VERSIONS:
        name = "%s_%s" % (mixin.__name__, v.replace(".", "_"))
        cls = type(name, (mixin, KubectlCase), {"V": v, "__module__": namespace["__name__"]})
        if not have_kubectl(v):
            cls = unittest.skip("kubectl.%s not found in %s" % (v, kubectl_dir()))(cls)
        namespace[name] = cls


AGE = r"(?:<invalid>|[0-9]+[smhdy](?:[0-9]+[smhd])?)"
UIDRX = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def job(name, args=("--keygen-enable", "--keygen-exit-on-complete", "--keygen-num-to-gen=10"),
        labels=None, spec=None, restart="OnFailure", ns=None):
    """A Job like the chapter's one-shot, as a dict (kubectl reads JSON manifests)."""
    meta = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    if ns:
        meta["namespace"] = ns
    s = {"template": {"spec": {"containers": [{"name": "kuard", "image": "gcr.io/kuar-demo/kuard-amd64:blue",
                                              "command": ["/kuard"], "args": list(args)}],
                              "restartPolicy": restart}}}
    s.update(spec or {})
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": s}


def pod(name, labels=None, owner=None, ns=None):
    meta = {"name": name, "labels": dict(labels or {"app": "demo"})}
    if ns:
        meta["namespace"] = ns
    if owner:  # (kind, name, uid[, apiVersion])
        meta["ownerReferences"] = [{"apiVersion": owner[3] if len(owner) > 3 else "batch/v1", "kind": owner[0],
                                    "name": owner[1], "uid": owner[2], "controller": True,
                                    "blockOwnerDeletion": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}],
                     "restartPolicy": "Never"}}


def rfc3339(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def event(name, kind, obj_name, uid, reason, message, component, etype="Normal", ns="default",
          api_version="batch/v1", t=None):
    ts = rfc3339(t)
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
            "involvedObject": {"apiVersion": api_version, "kind": kind, "name": obj_name, "namespace": ns,
                               "uid": uid},
            "reason": reason, "message": message, "source": {"component": component}, "type": etype,
            "firstTimestamp": ts, "lastTimestamp": ts, "count": 1}


def normalize_columns(text):
    """Collapses runs of 2+ spaces after a non-space (tabwriter padding) to one space; strips ends."""
    return "\n".join(re.sub(r"(?<=\S) {2,}", " ", l).rstrip() for l in text.rstrip("\n").split("\n"))
