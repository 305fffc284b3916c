"""The node: the scheduler and agent of `jobplane server` run pods as processes, and the real
kubectl shows what Kubernetes shows - STATUS transitions, logs (tail, previous, follow), exit
codes, restarts with back-off, graceful deletion, deadlines, environment - and a kill -9 of the
server neither stops nor forgets a container.

Servers here run with --backoff-scale 0.02 (the kubelet's 10 s first back-off becomes 0.2 s).
Non-kuard images run their command on the host filesystem (the documented fallback), so
`sh`, `sleep` and `cat` come from this machine.
"""
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import time
import unittest

from jpserver import VERSIONS, KubectlCase, have_kubectl, wait_until

KV = next((v for v in reversed(VERSIONS) if have_kubectl(v)), None)
KUARD = "gcr.io/kuar-demo/kuard-amd64:blue"


def pod(name, command, restart="Never", image="busybox", env=None, **spec):
    c = {"name": "main", "image": image, "command": list(command)}
    if env:
        c["env"] = env
    s = {"containers": [c], "restartPolicy": restart}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": s}


class NodeCase(KubectlCase):
    V = KV
    server_args = ("--backoff-scale", "0.02")

    def setUp(self):
        super().setUp()
        self.addCleanup(self.check_shim_logs)  # runs before the server is closed

    def check_shim_logs(self):
        """Shims say what went wrong (or what a sanitizer found) in DATA/shims.log: none may."""
        path = os.path.join(self.s.data_dir, "shims.log")
        if os.path.exists(path):
            with open(path) as f:
                self.assertEqual(f.read(), "", path)


@unittest.skipIf(KV is None, "no kubectl found")
class Node(NodeCase):

    def get(self, name):
        st, obj = self.s.json("GET", "/api/v1/namespaces/default/pods/" + name, expect=200)
        return obj

    def phase(self, name):
        return self.get(name).get("status", {}).get("phase")

    def wait_phase(self, name, phases, timeout=60):
        return wait_until(lambda: self.phase(name) in phases, timeout,
                          "pod %s to reach %s (server log: %s)" % (name, phases, self.s.log(5)))

    def main_status(self, name):
        return self.get(name)["status"]["containerStatuses"][0]

    # ---- the issue's "must hold" list -----------------------------------------------------
    def test_kuard_pod_runs_then_completes_and_logs_its_keys(self):
        watch = self.s.kubectl_bg(self.V, "get", "pods", "-w", "-v=6")
        self.addCleanup(watch.proc.kill)
        # -v=6 logs the watch request: from then on no transition can be missed
        self.assertTrue(watch.wait_for(r"watch=true", 10, stream="err"), watch.err)
        manifest = pod("kuard", ["/kuard", "--keygen-enable", "--keygen-exit-on-complete",
                                 "--keygen-num-to-gen=2"], image=KUARD)
        self.expect_out(self.k("apply", "-f", "-", stdin=json.dumps(manifest)), "pod/kuard created\n")
        self.assertTrue(watch.wait_for(r"^kuard\s+1/1\s+Running\s+0\s", 30), "\n".join(watch.out))
        self.assertTrue(watch.wait_for(r"^kuard\s+0/1\s+Completed\s+0\s", 120), "\n".join(watch.out))
        r = self.k("logs", "kuard")
        self.expect_rc(r)
        done = [l for l in r.out.splitlines() if "Item done: SHA256:" in l]
        self.assertEqual(len(done), 2, r.out)
        self.assertRegex(done[0], r"\(ID 0 1/2\) Item done: SHA256:[A-Za-z0-9+/]{43}$")
        st = self.main_status("kuard")
        self.assertEqual(st["state"]["terminated"]["exitCode"], 0)
        self.assertEqual(st["state"]["terminated"]["reason"], "Completed")
        self.assertEqual(self.phase("kuard"), "Succeeded")
        # every transition reached the watcher, in order
        statuses = [l.split()[2] for l in watch.out[1:] if l.startswith("kuard")]
        self.assertIn("Running", statuses)
        self.assertLess(statuses.index("Running"), statuses.index("Completed"), statuses)
        r = self.k("describe", "pod", "kuard")
        self.expect_lines(r, [r".*Successfully assigned default/kuard to .*",
                              r".*Container image \"%s\" already present on machine" % KUARD,
                              r".*Created container: main", r".*Started container main"])

    def test_exit_3_with_restart_never_is_error(self):
        self.create(pod("three", ["sh", "-c", "echo to stderr >&2; exit 3"]))
        self.wait_phase("three", ("Failed",))
        r = self.k("get", "pod", "three")
        self.expect_lines(r, [r"NAME.*", r"three\s+0/1\s+Error\s+0\s+\S+"])
        r = self.k("describe", "pod", "three")
        self.expect_lines(r, [r"\s+State:\s+Terminated", r"\s+Reason:\s+Error", r"\s+Exit Code:\s+3"])
        self.expect_out(self.k("logs", "three"), "to stderr\n")

    def test_on_failure_restarts_with_crash_loop_back_off_and_previous_logs(self):
        self.create(pod("crash", ["sh", "-c", "echo attempt; exit 1"], restart="OnFailure"))
        wait_until(lambda: self.main_status("crash")["restartCount"] >= 3, 60, "three restarts")
        seen = set()

        def crash_loop():
            r = self.k("get", "pod", "crash", "--no-headers")
            seen.add(r.out.split()[2] if r.out.split() else "")
            return "CrashLoopBackOff" in seen
        wait_until(crash_loop, 60, "STATUS CrashLoopBackOff")
        st = self.main_status("crash")
        self.assertEqual(st["lastState"]["terminated"]["exitCode"], 1)
        self.assertEqual(self.phase("crash"), "Running")  # OnFailure: the pod keeps running
        self.expect_out(self.k("logs", "crash", "--previous"), "attempt\n")
        w = st["state"].get("waiting")
        if w:
            self.assertRegex(w["message"], r"^back-off \d+[ms0-9]* restarting failed container=main "
                                           r"pod=crash_default\([0-9a-f-]{36}\)$")
        r = self.k("get", "events", "--field-selector", "involvedObject.name=crash,reason=BackOff")
        self.expect_lines(r, [r"LAST SEEN.*", r".*Back-off restarting failed container main in pod "
                                                r"crash_default\([0-9a-f-]{36}\)"])

    def test_previous_logs_without_a_previous_instance(self):
        self.create(pod("once", ["sh", "-c", "echo only"]))
        self.wait_phase("once", ("Succeeded",))
        r = self.k("logs", "once", "--previous")
        self.expect_rc(r, 1)
        self.assertIn('previous terminated container "main" in pod "once" not found', r.err)

    def test_delete_returns_within_the_grace_period(self):
        self.create(pod("sleeper", ["sleep", "1000"]))
        self.wait_phase("sleeper", ("Running",))
        t0 = time.monotonic()
        self.expect_out(self.k("delete", "pod", "sleeper"), 'pod "sleeper" deleted\n')
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(self.s.http("GET", "/api/v1/namespaces/default/pods/sleeper")[0], 404)

    def test_sigterm_ignored_means_sigkill_after_the_grace_period(self):
        self.create(pod("stubborn", ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
                        terminationGracePeriodSeconds=2))
        wait_until(lambda: "ready" in self.k("logs", "stubborn").out, 30, "the trap to be set")
        watch = self.s.kubectl_bg(self.V, "get", "pods", "-w")
        self.addCleanup(watch.proc.kill)
        self.assertTrue(watch.wait_for(r"^stubborn\s", 10))
        t0 = time.monotonic()
        self.expect_rc(self.k("delete", "pod", "stubborn"))
        took = time.monotonic() - t0
        self.assertGreater(took, 1.5)
        self.assertLess(took, 10)
        self.assertTrue(watch.wait_for(r"^stubborn\s+\S+\s+Terminating\s", 10), "\n".join(watch.out))

    def test_logs_follow_streams_and_ends_with_the_container(self):
        self.create(pod("ticker", ["sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done"]))
        wait_until(lambda: self.main_status("ticker").get("state", {}).get("running"), 30, "running")
        t0 = time.monotonic()
        r = self.k("logs", "-f", "ticker", timeout=30)
        self.expect_out(r, "".join("tick %d\n" % i for i in range(1, 6)))
        self.assertGreater(time.monotonic() - t0, 0.5)  # it waited for the later lines
        r = self.k("logs", "ticker", "--tail=2", "--timestamps")
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 2, r.out)
        self.assertRegex(lines[1], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z tick 5$")
        self.expect_out(self.k("logs", "ticker", "--limit-bytes=9"), "tick 1\nti")

    def test_a_command_is_the_first_executable_of_its_name_in_the_containers_path(self):
        # a file of that name that cannot be executed is passed over, as execvp does
        for d, mode, text in (("a", 0o644, "echo wrong\n"), ("b", 0o755, "#!/bin/sh\necho right\n")):
            os.makedirs(os.path.join(self.s.tmp, d), exist_ok=True)
            f = os.path.join(self.s.tmp, d, "jp-hello")
            with open(f, "w") as out:
                out.write(text)
            os.chmod(f, mode)
        path = "%s/a:%s/b:/usr/bin:/bin" % (self.s.tmp, self.s.tmp)
        self.create(pod("lookup", ["jp-hello"], env=[{"name": "PATH", "value": path}]))
        self.wait_phase("lookup", ("Succeeded",))
        self.assertEqual(self.k("logs", "lookup").out, "right\n")
        self.create(pod("nowhere", ["jp-no-such-command"], env=[{"name": "PATH", "value": path}]))
        self.wait_phase("nowhere", ("Failed",))
        term = self.main_status("nowhere")["state"]["terminated"]
        self.assertEqual((term["exitCode"], term["reason"]), (127, "StartError"), term)

    def test_command_not_found_ends_the_container_instead_of_pending(self):
        self.create(pod("nocmd", ["/no/such/program"]))
        self.wait_phase("nocmd", ("Failed",))
        term = self.main_status("nocmd")["state"]["terminated"]
        self.assertEqual(term["exitCode"], 127)
        self.assertEqual(term["reason"], "StartError")
        self.assertIn("no such file or directory", term["message"])
        plain = os.path.join(self.s.tmp, "not-executable")
        with open(plain, "w") as f:
            f.write("echo hi\n")
        os.chmod(plain, 0o644)
        self.create(pod("notexec", [plain]))
        self.wait_phase("notexec", ("Failed",))
        term = self.main_status("notexec")["state"]["terminated"]
        self.assertEqual(term["exitCode"], 126)
        self.assertEqual(term["message"], 'exec: "%s": permission denied' % plain)

    def test_environment_downward_api_config_maps_secrets_services(self):
        self.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                     "data": {"greeting": "hello", "COLOR": "blue"}})
        self.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec"},
                     "stringData": {"token": "s3cr3t"}})
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "queue"},
                     "spec": {"selector": {"app": "work-queue"},
                              "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}})
        env = [{"name": "MY_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
               {"name": "MY_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
               {"name": "MY_LABEL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
               {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "greeting"}}},
               {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "token"}}},
               {"name": "COMPOSED", "value": "$(GREETING)-$(MY_NAME)-$$(MY_NS)"}]
        p = pod("envy", ["sh", "-c", "env | sort"], env=env)
        p["metadata"]["labels"] = {"tier": "batch"}
        p["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": "cfg"}, "prefix": "CM_"}]
        p["spec"]["containers"][0]["workingDir"] = "/tmp"
        p["spec"]["containers"][0]["command"] = ["sh", "-c", "env | sort; echo PWD=$(pwd)"]
        self.create(p)
        self.wait_phase("envy", ("Succeeded",))
        out = self.k("logs", "envy").out
        for want in ("MY_NAME=envy", "MY_NS=default", "MY_LABEL=batch", "GREETING=hello", "TOKEN=s3cr3t",
                     "COMPOSED=hello-envy-$(MY_NS)", "CM_COLOR=blue", "CM_greeting=hello",
                     "HOSTNAME=envy", "QUEUE_SERVICE_PORT=8080", "QUEUE_SERVICE_PORT_HTTP=8080",
                     "QUEUE_PORT_8080_TCP_PROTO=tcp", "PWD=/tmp",
                     # the API's own Service, in every pod as on any cluster
                     "KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT=443",
                     "KUBERNETES_SERVICE_PORT_HTTPS=443", "KUBERNETES_PORT=tcp://10.96.0.1:443",
                     "KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1"):
            self.assertIn(want + "\n", out)
        self.assertRegex(out, r"QUEUE_SERVICE_HOST=10\.\d+\.\d+\.\d+\n")
        # nothing of the server's or the launcher's own environment (its LD_BIND_NOW)
        self.assertNotIn("LD_BIND_NOW", out)

    def test_a_container_gets_a_nodes_limits_no_new_privileges_and_no_inherited_fds(self):
        # the server's own descriptors and limits must not leak into a container
        self.create(pod("limits", ["sh", "-c", "ulimit -Sn; ulimit -Hn; grep NoNewPrivs /proc/self/status;"
                                               " exec ls /proc/self/fd"]))
        self.wait_phase("limits", ("Succeeded",))
        lines = self.k("logs", "limits").out.splitlines()
        # without CAP_SYS_RESOURCE (not root, or a sandbox without it) the hard limit caps it
        cap_eff = int(re.search(r"CapEff:\s+(\w+)", open("/proc/self/status").read()).group(1), 16)
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        want = str(1048576 if cap_eff & (1 << 24) else min(1048576, hard))
        self.assertEqual(lines[0], want, lines)
        self.assertEqual(lines[1], want, lines)
        self.assertRegex(lines[2], r"NoNewPrivs:\s+1")
        # what the container was given, as ls (exec'd, no pipeline: sh keeps a pipeline's pipes
        # open while its members start) sees it: stdio, and ls's own handle on the directory
        self.assertEqual(sorted(lines[3:], key=int), ["0", "1", "2", "3"], lines)
        # nor any signal the server, the launcher or the shim ignores (grep exec'd by the shim
        # itself: a shell would add its own)
        self.create(pod("signals", ["grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"]))
        self.wait_phase("signals", ("Succeeded",))
        self.assertEqual(self.k("logs", "signals").out.split(),
                         ["SigBlk:", "0" * 16, "SigIgn:", "0" * 16])

    def test_a_container_has_its_own_process_group_in_the_pods_shared_session(self):
        # the agent signals the container's group; the session (the launcher's) has no terminal,
        # which the container, no session leader, cannot take either; and all pods share one
        # scheduling group instead of weighing each as much as the server
        # ($$$$: Kubernetes' escape of $$, as "$$" alone is one "$")
        self.create(pod("group", ["sh", "-c", "cat /proc/$$$$/stat /proc/$PPID/stat;"
                                              " cat /proc/$$$$/autogroup /proc/$PPID/autogroup || true"]))
        self.wait_phase("group", ("Succeeded",))
        lines = self.k("logs", "group").out.splitlines()

        def stat(line):  # pid, ppid, pgrp, session, tty_nr: after the command name's ")"
            rest = line.rsplit(")", 1)[1].split()
            return int(line.split()[0]), int(rest[1]), int(rest[2]), int(rest[3]), int(rest[4])
        pid, ppid, pgrp, session, tty = stat(lines[0])
        shim, _, shim_pgrp, shim_session, _ = stat(lines[1])
        self.assertEqual(ppid, shim, lines)
        self.assertEqual(pgrp, pid, lines)
        self.assertEqual(shim_pgrp, shim, lines)
        self.assertNotEqual(session, pid, lines)
        self.assertEqual(session, shim_session, lines)
        self.assertEqual(tty, 0, lines)
        groups = [g.split()[0] for g in lines[2:]]  # "/autogroup-N nice 0", where the kernel has them
        if len(groups) == 2:
            self.assertEqual(groups[0], groups[1], lines)
            # the test's own may be the root group, which the kernel prints as nothing
            self.assertNotEqual(groups[:1], open("/proc/self/autogroup").read().split()[:1])

    def test_processes_left_behind_die_with_the_container(self):
        # a daemon in a session of its own, orphaned twice over: on Kubernetes the end of the
        # container's PID namespace kills it; here the shim does
        secs = "%d.%04d" % (random.randint(5000, 9999), random.randint(0, 9999))
        self.create(pod("daemon", ["sh", "-c", "(setsid sleep %s &); sleep 0.3; exit 0" % secs]))
        self.wait_phase("daemon", ("Succeeded",))

        def left():
            found = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        if f.read().split(b"\0")[:2] == [b"sleep", secs.encode()]:
                            found.append(pid)
                except OSError:
                    pass
            return found
        wait_until(lambda: not left(), 10, "the daemon to be killed: %s" % left())

    @unittest.skipIf(os.geteuid() != 0, "capabilities are a root container's")
    def test_root_containers_get_containerds_capabilities_and_a_read_only_proc_sys(self):
        show = ["sh", "-c", "grep -E '^Cap(Bnd|Eff|Inh):' /proc/self/status;"
                            " (echo 1 > /proc/sys/net/ipv4/ip_forward) 2>/dev/null && echo wrote || echo refused"]
        self.create(pod("plain", show))
        add = pod("added", show)
        add["spec"]["containers"][0]["securityContext"] = {
            "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN", "CAP_KILL", "NO_SUCH_CAP"]}}
        self.create(add)
        priv = pod("privileged", show)
        priv["spec"]["containers"][0]["securityContext"] = {"privileged": True}
        self.create(priv)
        for name in ("plain", "added", "privileged"):
            self.wait_phase(name, ("Succeeded",))

        def caps(name):
            out = self.k("logs", name).out
            got = dict(re.findall(r"^(Cap\w+):\s+(\w+)$", out, re.M))
            return {k: int(v, 16) for k, v in got.items()}, out.splitlines()[-1]
        c, sysctl = caps("plain")
        self.assertEqual(c["CapBnd"], 0xa80425fb, c)  # Docker's and containerd's default set
        self.assertEqual(c["CapEff"], 0xa80425fb, c)
        self.assertEqual(c["CapInh"], 0, c)
        self.assertEqual(sysctl, "refused")
        c, _ = caps("added")  # drop ALL first, then add: only those two (an unknown name is ignored)
        self.assertEqual(c["CapBnd"], (1 << 12) | (1 << 5), c)
        c, sysctl = caps("privileged")
        all_caps = int(re.search(r"CapBnd:\s+(\w+)", open("/proc/self/status").read()).group(1), 16)
        self.assertEqual(c["CapBnd"], all_caps, c)
        self.assertEqual(sysctl, "wrote")
        # kubectl exec holds what the container may: no more
        self.create(pod("held", ["sleep", "300"], terminationGracePeriodSeconds=1))
        self.wait_phase("held", ("Running",))
        r = self.k("exec", "held", "--", "grep", "CapEff", "/proc/self/status")
        self.expect_rc(r)
        self.assertEqual(int(r.out.split()[1], 16), 0xa80425fb, r.out)

    @unittest.skipIf(os.geteuid() != 0 or not shutil.which("nsenter") or not shutil.which("ip"),
                     "the pod network is root's (read with nsenter and ip)")
    def test_the_pod_bridge_has_its_own_address_and_no_multicast_snooping(self):
        # both keep a port's coming and going from walking every other port: with hundreds of
        # sandboxes at once, each new one was slower than the last
        self.create(pod("net", ["true"]))
        self.wait_phase("net", ("Succeeded",))
        records = [os.path.join(os.path.dirname(d), "node", "netns.json") for d in self.s.pods_dirs()]
        record = next(r for r in records if os.path.exists(r))
        with open(record) as f:
            holder = json.load(f)["pid"]
        out = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % holder, "ip", "-d", "link", "show", "jp0"],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn("link/ether 02:6a:70:00:00:01 ", out)
        self.assertRegex(out, r"mcast_snooping 0\b")

    @unittest.skipIf(os.geteuid() != 0, "sandboxes are root's")
    def test_a_finished_pods_sandbox_serves_the_next_pod_only_when_nothing_of_it_is_left(self):
        def run(name, command, **container):
            m = pod(name, ["sh", "-c", command])
            m["spec"]["containers"][0].update(container)
            # no token: its mount would give the container a mount namespace of its own
            m["spec"]["automountServiceAccountToken"] = False
            self.create(m)
            self.wait_phase(name, ("Succeeded", "Failed"))
            return self.get(name)["status"].get("podIP"), self.k("logs", name).out

        def holder_of(name, ns):
            """The pid and command line of the process holding pod name's namespace: the
            command line names the directory of the pod it was made for."""
            for pid in self.s.processes():
                try:
                    line = open("/proc/%d/cmdline" % pid, "rb").read().decode()
                    if "--hold" in line and os.readlink("/proc/%d/ns/net" % pid) == ns:
                        return pid, line
                except OSError:
                    pass
            self.fail("no holder of %s's sandbox %s" % (name, ns))

        def holder(name, ns):
            return holder_of(name, ns)[1]

        def uid(name):
            return self.get(name)["metadata"]["uid"]

        ns = "readlink /proc/self/ns/net; "
        run("first", ns + "hostname")
        out = run("second", ns + "hostname; cat /proc/sys/kernel/hostname; readlink /proc/self/ns/mnt;"
                  " grep -c -w second /etc/hosts; grep -c -w first /etc/hosts;"
                  " (echo x > /proc/sys/kernel/hostname) 2>/dev/null || echo read-only")[1].split()
        pid, line = holder_of("second", out[0])
        self.assertIn(uid("first"), line, "the second pod got the first one's sandbox")
        self.assertEqual(out[1:3], ["second", "second"])  # under a hostname of its own
        # in the sandbox's mount namespace, made once: /etc/hosts now names this pod, not the
        # first, and /proc/sys is read-only
        self.assertEqual(out[3], os.readlink("/proc/%d/ns/mnt" % pid))
        self.assertNotEqual(out[3], os.readlink("/proc/self/ns/mnt"))
        self.assertEqual(out[4:], ["1", "0", "read-only"], out)
        # a container with mounts of its own makes its namespace (with the same /etc/hosts)
        m = pod("mounter", ["sh", "-c", ns + "readlink /proc/self/ns/mnt; grep -c -w mounter /etc/hosts;"
                                            " grep -c -w second /etc/hosts || true"])
        m["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        m["spec"]["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
        self.create(m)
        self.wait_phase("mounter", ("Succeeded",))
        out = self.k("logs", "mounter").out.split()
        self.assertNotEqual(out[1], os.readlink("/proc/%d/ns/mnt" % holder_of("mounter", out[0])[0]))
        self.assertEqual(out[2:], ["1", "0"], out)
        # a pod that could change its namespace (NET_ADMIN) leaves it to no one
        out = run("changer", ns + "ip addr add 10.99.0.1/32 dev lo && echo changed",
                  securityContext={"capabilities": {"add": ["NET_ADMIN"]}})[1].split()
        self.assertEqual(out[1], "changed")
        out = run("after", ns + "ip -4 addr show dev lo")[1]
        self.assertNotIn(uid("changer"), holder("after", out.split()[0]))
        self.assertNotIn("10.99.0.1", out)
        # nor does one whose connection lingers in TIME_WAIT: the next pod binds that port
        run("server", "/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 7071));"
                      " s.listen(); c = socket.create_connection((\"127.0.0.1\", 7071));"
                      " a, _ = s.accept(); a.close(); c.close()'")
        _, out = run("binder", "/usr/bin/python3 -c 'import socket; socket.socket().bind((\"127.0.0.1\", 7071));"
                               " print(\"bound\")'")
        self.assertEqual(out, "bound\n")
        # nor does one something was exec'd into: what that started is no shim's to kill
        self.create(pod("execd", ["sleep", "2"]))
        self.wait_phase("execd", ("Running",))
        r = self.k("exec", "execd", "--", "readlink", "/proc/self/ns/net")
        self.expect_rc(r)
        pid_e, _ = holder_of("execd", r.out.strip())
        self.wait_phase("execd", ("Succeeded",))
        out = run("next", ns + "true")[1]
        self.assertNotEqual(holder_of("next", out.split()[0])[0], pid_e)

    def test_runtime_records_are_on_tmpfs_and_go_once_the_pod_has_settled(self):
        shm = "/dev/shm/jobplane-%d" % os.geteuid()
        if not os.path.isdir("/dev/shm") or not os.path.isdir(shm):
            self.skipTest("no tmpfs at /dev/shm: records stay in the data dir")
        self.create(pod("runs", ["sh", "-c", "echo hi; exec sleep 300"], terminationGracePeriodSeconds=1))
        self.wait_phase("runs", ("Running",))
        uid = self.get("runs")["metadata"]["uid"]
        records = os.path.join(shm + os.path.realpath(self.s.data_dir), "pods", uid)
        self.assertEqual(self.s.records_dir(uid), records)
        wait_until(lambda: os.path.exists(os.path.join(records, "main", "0", "state.json")), 10, "state.json")
        # the log is on disk, under the data dir
        log = os.path.join(self.s.data_dir, "pods", uid, "main", "0", "log")
        wait_until(lambda: os.path.exists(log), 10, "the log on disk")
        self.create(pod("quick", ["echo", "done"]))
        self.wait_phase("quick", ("Succeeded",))
        quick = self.get("quick")["metadata"]["uid"]
        # once its final status is stored, a settled pod's records are not needed
        wait_until(lambda: not os.path.exists(os.path.join(shm + os.path.realpath(self.s.data_dir), "pods", quick)),
                   10, "the settled pod's records to go")
        self.expect_out(self.k("logs", "quick"), "done\n")
        self.assertTrue(os.path.isdir(records))  # the running one keeps its own

    def test_running_pods_started_together_all_show_running(self):
        # many pods changing at once have their Running status coalesced for a moment: it
        # still arrives, for every one of them
        n = 24
        items = [pod("r%02d" % i, ["sleep", "3"]) for i in range(n)]
        self.expect_rc(self.k("create", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                      "items": items})))

        def running():
            _, lst = self.s.json("GET", "/api/v1/namespaces/default/pods", expect=200)
            return sum(1 for p in lst["items"] if p["metadata"]["name"].startswith("r")
                       and p.get("status", {}).get("phase") == "Running"
                       and "running" in p["status"]["containerStatuses"][0]["state"])
        wait_until(lambda: running() == n, 10, "all %d pods to show Running" % n, interval=0.05)

    @unittest.skipIf(os.geteuid() != 0, "the pod network is root's")
    def test_a_settled_pod_keeps_its_address_and_pods_waiting_for_a_sandbox_can_go(self):
        # its sandbox serves the next pod (or is gone): the status keeps the address, as the
        # kubelet keeps a terminated pod's podIPs
        self.create(pod("done", ["true"]))
        self.wait_phase("done", ("Succeeded",))
        self.assertRegex(self.get("done")["status"].get("podIP", ""), r"^10\.244\.")
        # a burst waits in line for sandboxes (a few are made at once); deleted meanwhile,
        # every pod goes, made or waiting
        n = 30
        items = [pod("w%02d" % i, ["sleep", "300"], terminationGracePeriodSeconds=1) for i in range(n)]
        self.expect_rc(self.k("create", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                      "items": items})))
        self.expect_rc(self.k("delete", "pods", "--all", "--wait=false"))

        def left():
            _, lst = self.s.json("GET", "/api/v1/namespaces/default/pods", expect=200)
            return [p["metadata"]["name"] for p in lst["items"] if p["metadata"]["name"].startswith("w")]
        wait_until(lambda: not left(), 30, "the waiting pods to go: %s" % left())

    def test_new_image_restarts_the_container_whatever_the_restart_policy(self):
        self.create(pod("s", ["sh", "-c", "echo started; exec sleep 300"], terminationGracePeriodSeconds=2))
        self.wait_phase("s", ("Running",))
        wait_until(lambda: self.main_status("s")["state"].get("running"), 20, "running")
        self.expect_out(self.k("set", "image", "pod/s", "main=busybox:1.36"), "pod/s image updated\n")
        wait_until(lambda: self.main_status("s").get("restartCount") == 1 and
                   self.main_status("s")["state"].get("running"), 20, "the container to run again")
        st = self.main_status("s")
        self.assertEqual(st["image"], "busybox:1.36")
        self.assertEqual(st["lastState"]["terminated"]["exitCode"], 143)  # SIGTERM, within the grace
        self.assertEqual(self.phase("s"), "Running")
        self.expect_lines(self.k("describe", "pod", "s"),
                          [r".*Normal\s+Killing\s+.*Container main definition changed, will be restarted"],
                          ordered=False)
        self.assertEqual(self.k("logs", "s", "--previous").out, "started\n")

    def test_active_deadline_fails_the_pod(self):
        self.create(pod("late", ["sleep", "1000"], activeDeadlineSeconds=1))
        self.wait_phase("late", ("Failed",), timeout=30)
        st = self.get("late")["status"]
        self.assertEqual(st["reason"], "DeadlineExceeded")
        self.assertEqual(st["message"], "Pod was active on the node longer than the specified deadline")
        self.assertEqual(st["containerStatuses"][0]["state"]["terminated"]["exitCode"], 143)

    def test_init_containers_run_first_in_order(self):
        p = pod("inits", ["cat", "/tmp/jp-e2e-init-%d" % os.getpid()])
        marker = "/tmp/jp-e2e-init-%d" % os.getpid()
        self.addCleanup(lambda: os.path.exists(marker) and os.unlink(marker))
        p["spec"]["initContainers"] = [
            {"name": "one", "image": "busybox", "command": ["sh", "-c", "echo one > " + marker]},
            {"name": "two", "image": "busybox", "command": ["sh", "-c", "echo two >> " + marker]}]
        self.create(p)
        self.wait_phase("inits", ("Succeeded",))
        self.expect_out(self.k("logs", "inits"), "one\ntwo\n")
        inits = self.get("inits")["status"]["initContainerStatuses"]
        self.assertEqual([s["state"]["terminated"]["reason"] for s in inits], ["Completed", "Completed"])

    def test_failed_init_container_with_never_fails_the_pod(self):
        p = pod("badinit", ["echo", "never runs"])
        p["spec"]["initContainers"] = [{"name": "init", "image": "busybox", "command": ["false"]}]
        self.create(p)
        self.wait_phase("badinit", ("Failed",))
        self.expect_lines(self.k("get", "pod", "badinit"), [r"NAME.*", r"badinit\s+0/1\s+Init:Error\s+0\s+\S+"])
        self.assertIn("waiting", self.main_status("badinit")["state"])

    def test_a_killed_launcher_is_replaced(self):
        # shims and holders come from one launcher process; killed, the next start makes another
        def launchers():
            out = []
            for d in os.listdir("/proc"):
                try:
                    if d.isdigit() and open_stat_ppid(d) == self.s.proc.pid and \
                            b"\0--launcher\0" in open("/proc/%s/cmdline" % d, "rb").read():
                        out.append(int(d))
                except OSError:
                    pass
            return out
        self.create(pod("before", ["true"]))
        self.wait_phase("before", ("Succeeded",))
        first = launchers()
        self.assertEqual(len(first), 1, first)
        os.kill(first[0], signal.SIGKILL)
        wait_until(lambda: first[0] not in launchers(), 10, "the launcher to die")
        self.create(pod("after", ["sh", "-c", "echo made by a new launcher"]))
        self.wait_phase("after", ("Succeeded",))
        self.expect_out(self.k("logs", "after"), "made by a new launcher\n")
        self.assertEqual(len(launchers()), 1)


@unittest.skipIf(KV is None, "no kubectl found")
class NoFallback(NodeCase):
    server_args = ("--backoff-scale", "0.02", "--no-host-fallback")

    def test_unknown_image_fails_to_pull(self):
        self.create(pod("nginx", ["nginx"], image="nginx:1.25"))

        def status():
            r = self.k("get", "pod", "nginx", "--no-headers")
            return r.out.split()[2] if r.out.split() else ""
        wait_until(lambda: status() in ("ErrImagePull", "ImagePullBackOff"), 30, "a pull failure")
        wait_until(lambda: status() == "ImagePullBackOff", 30, "ImagePullBackOff")
        st, obj = self.s.json("GET", "/api/v1/namespaces/default/pods/nginx", expect=200)
        self.assertEqual(obj["status"]["phase"], "Pending")
        self.assertEqual(obj["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
                         'Back-off pulling image "nginx:1.25"')

    def test_kuard_still_runs(self):
        self.create(pod("k", ["/kuard", "--keygen-enable", "--keygen-exit-on-complete",
                              "--keygen-num-to-gen=1"], image=KUARD,
                        env=[{"name": "KUARD_RSA_BITS", "value": "1024"}]))
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/k")[1]
                   .get("status", {}).get("phase") == "Succeeded", 60, "kuard to succeed")


@unittest.skipIf(KV is None, "no kubectl found")
class Survival(NodeCase):
    """kill -9 of the server while pods run: nothing stops, nothing is lost, nothing runs twice."""

    def test_records_lost_with_the_machine_end_the_container_as_unknown(self):
        # a reboot takes the containers and the tmpfs records; the disk keeps the log
        self.create(pod("lost", ["sh", "-c", "echo started; exec sleep 300"]))
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/lost")[1]
                   .get("status", {}).get("phase") == "Running", 30, "lost to run")
        uid = self.s.json("GET", "/api/v1/namespaces/default/pods/lost")[1]["metadata"]["uid"]
        log = os.path.join(self.s.data_dir, "pods", uid, "main", "0", "log")
        wait_until(lambda: os.path.exists(log), 10, "the log on disk")
        records = self.s.records_dir(uid)
        if records.startswith(os.path.join(self.s.data_dir, "pods")):
            self.skipTest("records stay in the data dir here: nothing is lost with the machine")
        self.s.kill9()
        self.s.kill_leftovers()  # what the machine's end takes: every process...
        import shutil
        shutil.rmtree(records)  # ...and the tmpfs
        self.s.start()
        wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/lost")[1]
                   .get("status", {}).get("phase") == "Failed", 30, "lost to fail")
        st = self.s.json("GET", "/api/v1/namespaces/default/pods/lost")[1]["status"]["containerStatuses"][0]
        self.assertEqual(st["state"]["terminated"]["reason"], "ContainerStatusUnknown")
        self.assertEqual(st["state"]["terminated"]["exitCode"], 137)
        self.assertEqual(self.k("logs", "lost").out, "started\n")  # not started again
        self.assertEqual(os.listdir(os.path.join(self.s.data_dir, "pods", uid, "main")), ["0"])

    def test_kill9_loop_keeps_running_pods_and_true_exit_codes(self):
        n = 12
        expected = {}
        for i in range(n):
            code = i % 4  # 0 succeeds, others fail with their own code
            expected["p%d" % i] = code
            self.create(pod("p%d" % i, ["sh", "-c", "echo start; sleep %.1f; exit %d" % (0.5 + 0.4 * i, code)]))
        rnd = random.Random(4)
        for _ in range(5):
            time.sleep(rnd.uniform(0.2, 0.9))
            self.s.kill9()
            time.sleep(rnd.uniform(0, 0.5))  # containers finish while nobody watches
            self.s.start()
        for name, code in expected.items():
            want = "Succeeded" if code == 0 else "Failed"
            wait_until(lambda: self.s.json("GET", "/api/v1/namespaces/default/pods/" + name)[1]
                       .get("status", {}).get("phase") == want, 60, "%s to be %s" % (name, want))
            st = self.s.json("GET", "/api/v1/namespaces/default/pods/" + name)[1]["status"]["containerStatuses"][0]
            self.assertEqual(st["state"]["terminated"]["exitCode"], code, name)
            self.assertEqual(st["restartCount"], 0, name)
            r = self.k("logs", name)
            self.assertEqual(r.out, "start\n", "%s ran more than once? %r" % (name, r.out))
        # one attempt directory per container: nothing was started twice
        pods = os.path.join(self.s.data_dir, "pods")
        for uid in os.listdir(pods):
            self.assertEqual(os.listdir(os.path.join(pods, uid, "main")), ["0"])

    def test_many_pods_complete_and_leave_nothing_behind(self):
        n = 200
        items = [pod("m%03d" % i, ["sh", "-c", "echo %d" % i]) for i in range(n)]
        self.expect_rc(self.k("create", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                      "items": items})))
        def all_done():
            st, lst = self.s.json("GET", "/api/v1/namespaces/default/pods", expect=200)
            return sum(1 for p in lst["items"] if p.get("status", {}).get("phase") == "Succeeded") == n
        wait_until(all_done, 180, "all %d pods to succeed" % n, interval=0.2)
        st, lst = self.s.json("GET", "/api/v1/namespaces/default/pods", expect=200)
        for p in lst["items"]:
            cs = p["status"]["containerStatuses"][0]
            self.assertEqual(cs["state"]["terminated"]["exitCode"], 0, p["metadata"]["name"])
        self.assertEqual(self.k("logs", "m123").out, "123\n")
        pid = self.s.proc.pid
        fds_before = len(os.listdir("/proc/%d/fd" % pid))
        self.expect_rc(self.k("delete", "pods", "--all", "--wait=true", timeout=120))
        pods_dir = os.path.join(self.s.data_dir, "pods")
        wait_until(lambda: os.listdir(pods_dir) == [], 30, "the pod directories to go")
        # no zombies and no leftover children of the server; descriptors did not grow
        def children():
            out = []
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        with open("/proc/%s/stat" % d) as f:
                            fields = f.read().rsplit(")", 1)[1].split()
                        if int(fields[1]) == pid:
                            out.append((d, fields[0]))
                    except (OSError, IndexError):
                        pass
            return out
        # the pod network's holder stays: it is the node's, not a pod's; so does the launcher
        # that forks shims and holders (it has no zombie either)
        def cmdline(d):
            try:
                return open("/proc/%s/cmdline" % d, "rb").read()
            except OSError:
                return b""
        node = [p for p in self.s.processes()
                if os.path.join(self.s.data_dir, "node").encode() in cmdline(p)]
        self.assertLessEqual(len(node), 1)
        launcher = [int(d) for d, _ in children() if b"\0--launcher\0" in cmdline(d)]
        self.assertEqual(len(launcher), 1, children())

        def launcher_children():
            return [d for d in os.listdir("/proc") if d.isdigit() and int(d) not in node and
                    open_stat_ppid(d) == launcher[0]]
        wait_until(lambda: [c for c in children() if int(c[0]) not in launcher] == [] and
                   launcher_children() == [], 10,
                   "no children of the server or its launcher (zombies: %r)" % children())
        self.assertLessEqual(len(os.listdir("/proc/%d/fd" % pid)), fds_before)
        self.assertEqual(sorted(self.s.processes()), sorted([pid] + node))  # no shim or pod holder left


def open_stat_ppid(d):
    try:
        with open("/proc/%s/stat" % d) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


if __name__ == "__main__":
    unittest.main()
