"""The real kubectl (1.27 and 1.33) against `jobplane server`: version, discovery, apply/create,
get (tables, wide, yaml/json/name, selectors, -A, all), describe job, patch, and error texts.

Expected outputs come from /work/shared/reference/kubectl-protocol.md, job-semantics.md §1-3 and
the KUAR Jobs chapter README (manifests copied verbatim into ./chapter). Each test gets a fresh
server; each class runs one kubectl version.
"""
import json
import re
import time
import unittest

import yaml  # python3-yaml, a dependency of python3-kubernetes

from jpserver import AGE, chapter, job, normalize_columns, per_version, pod, read_file, rfc3339

GEN_LABELS = ("batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name", "controller-uid", "job-name")
VERBS = "create,delete,deletecollection,get,list,patch,update,watch"
SKEW = ("WARNING: version difference between client (1.27) and server (1.33) exceeds the supported "
        "minor version skew of +/-1")
DNS1123 = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
           "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def add_backoff(manifest_text):
    """The one-shot manifest with `backoffLimit: 3` added to its spec (an allowed change)."""
    return manifest_text.replace("spec:\n  template:", "spec:\n  backoffLimit: 3\n  template:")


def gen_labels(name, uid):
    return {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
            "controller-uid": uid, "job-name": name}


class VersionAndDiscovery:
    def test_01_version(self):
        r = self.k("version")
        if self.V == "1.27":
            # 1.27 prints version.Info structs by default, a deprecation warning, and the skew warning.
            self.expect_lines(r, [r'Client Version: version\.Info\{Major:"1", Minor:"27", .*',
                                  r'Server Version: version\.Info\{Major:"1", Minor:"33", '
                                  r'GitVersion:"v1\.33\.0-jobplane", .*\}'])
            self.expect_lines(r, [re.escape(SKEW)], stream="err")
            r = self.k("version", "--short")
            self.expect_lines(r, [r"Client Version: v1\.27\.\d+", r"Kustomize Version: .*",
                                  r"Server Version: v1\.33\.0-jobplane"])
            self.expect_lines(r, [re.escape(SKEW)], stream="err")
        else:
            self.expect_out(r, re.compile(r"Client Version: v1\.33\.\d+\nKustomize Version: \S+\n"
                                          r"Server Version: v1\.33\.0-jobplane"))
            if r.err:
                self.fail_with(r, "expected empty stderr (no skew warning for 1.33)")
        r = self.k("version", "-o", "json")
        self.expect_rc(r, 0)
        sv = json.loads(r.out)["serverVersion"]
        for k, v in {"major": "1", "minor": "33", "gitVersion": "v1.33.0-jobplane", "gitTreeState": "clean",
                     "platform": "linux/amd64", "compiler": "gc"}.items():
            if sv.get(k) != v:
                self.fail_with(r, "expected serverVersion.%s = %r, got %r" % (k, v, sv.get(k)))

    def test_02_api_resources(self):
        r = self.k("api-resources")
        self.expect_lines(r, [r"NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND"])
        self.expect_lines(r, [
            r"events\s+ev\s+v1\s+true\s+Event",
            r"namespaces\s+ns\s+v1\s+false\s+Namespace",
            r"nodes\s+no\s+v1\s+false\s+Node",
            r"pods\s+po\s+v1\s+true\s+Pod",
            r"services\s+svc\s+v1\s+true\s+Service",
            r"replicasets\s+rs\s+apps/v1\s+true\s+ReplicaSet",
            r"jobs\s+batch/v1\s+true\s+Job",
        ], ordered=False)
        if r.err:
            self.fail_with(r, "expected nothing on stderr")
        r = self.k("api-resources", "-o", "wide")
        self.expect_lines(r, [r"NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\s+VERBS\s+CATEGORIES"])
        self.expect_lines(r, [
            r"jobs\s+batch/v1\s+true\s+Job\s+%s\s+all" % VERBS,
            r"pods\s+po\s+v1\s+true\s+Pod\s+%s\s+all" % VERBS,
            r"services\s+svc\s+v1\s+true\s+Service\s+%s\s+all" % VERBS,
            r"replicasets\s+rs\s+apps/v1\s+true\s+ReplicaSet\s+%s\s+all" % VERBS,
            r"events\s+ev\s+v1\s+true\s+Event\s+%s" % VERBS,
            r"namespaces\s+ns\s+v1\s+false\s+Namespace\s+create,delete,get,list,patch,update,watch",
            r"nodes\s+no\s+v1\s+false\s+Node\s+%s" % VERBS,
        ], ordered=False)
        r = self.k("api-resources", "--api-group=batch", "-o", "name")
        self.expect_lines(r, [r"jobs\.batch"])
        r = self.k("api-resources", "--namespaced=false", "-o", "name")
        self.expect_lines(r, [r"namespaces", r"nodes"], ordered=False)

    def test_03_unserved_kinds_are_not_advertised(self):
        """The issue: CronJob and Deployment must not be advertised until they work (they are in
        kubectl-protocol.md §1.3, but a client that finds them would fail on every call)."""
        r = self.k("api-resources", "-o", "name")
        self.expect_rc(r, 0)
        self.assertNotIn("cronjobs", r.out)
        self.assertNotIn("deployments", r.out)


class ApplyCreate:
    def test_apply_created_unchanged_immutable_configured(self):
        m = chapter("job-oneshot.yaml")
        self.expect_out(self.k("apply", "-f", m), "job.batch/oneshot created")
        self.expect_out(self.k("apply", "-f", m), "job.batch/oneshot unchanged")
        text = read_file(m)
        changed = self.write("job-oneshot.yaml", text.replace("--keygen-num-to-gen=10", "--keygen-num-to-gen=20"))
        r = self.k("apply", "-f", changed)
        self.expect_rc(r, 1)
        pre = 'The Job "oneshot" is invalid: spec.template: Invalid value: '
        if not (r.err.startswith(pre) and r.err.rstrip("\n").endswith(": field is immutable")):
            self.fail_with(r, "expected stderr to start with %r and end with ': field is immutable'" % pre)
        rv_args = self.ok("get", "job", "oneshot", "-o", "jsonpath={.spec.template.spec.containers[0].args}")
        if "--keygen-num-to-gen=10" not in rv_args:
            self.fail("the rejected apply changed the stored template: args are now %s" % rv_args)
        with_backoff = self.write("job-oneshot.yaml", add_backoff(text))
        self.assertIn("backoffLimit: 3", read_file(with_backoff))
        self.expect_out(self.k("apply", "-f", with_backoff), "job.batch/oneshot configured")
        self.expect_out(self.k("get", "job", "oneshot", "-o", "jsonpath={.spec.backoffLimit}"), "3")
        self.expect_out(self.k("apply", "-f", with_backoff), "job.batch/oneshot unchanged")
        # Back to the original manifest: backoffLimit is removed (patch null) and re-defaulted to 6.
        self.expect_out(self.k("apply", "-f", m), "job.batch/oneshot configured")
        self.expect_out(self.k("get", "job", "oneshot", "-o", "jsonpath={.spec.backoffLimit}"), "6")
        ann = self.ok("get", "job", "oneshot", "-o",
                      "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}")
        try:
            last = json.loads(ann)
        except ValueError:
            self.fail("last-applied-configuration is not JSON: %r" % ann)
        self.assertEqual(last["metadata"], {"annotations": {}, "name": "oneshot", "namespace": "default"},
                         "last-applied-configuration metadata")

    def test_apply_all_chapter_manifests(self):
        for f, line in (("job-oneshot.yaml", "job.batch/oneshot created"),
                        ("job-parallel.yaml", "job.batch/parallel created"),
                        ("rs-queue.yaml", "replicaset.apps/queue created"),
                        ("service-queue.yaml", "service/queue created"),
                        ("job-consumers.yaml", "job.batch/consumers created")):
            self.expect_out(self.k("apply", "-f", chapter(f)), line)
        for f, line in (("rs-queue.yaml", "replicaset.apps/queue unchanged"),
                        ("service-queue.yaml", "service/queue unchanged"),
                        ("job-consumers.yaml", "job.batch/consumers unchanged"),
                        ("job-parallel.yaml", "job.batch/parallel unchanged")):
            self.expect_out(self.k("apply", "-f", chapter(f)), line)

    def test_apply_directory_and_dry_run(self):
        r = self.k("apply", "-f", chapter(""), "--dry-run=server")
        self.expect_lines(r, [re.escape(x) + r" created \(server dry run\)" for x in (
            "job.batch/consumers", "job.batch/oneshot", "job.batch/parallel", "replicaset.apps/queue", "service/queue")])
        # nothing created: what every cluster has, the API's own Service, is all there is
        self.expect_out(self.k("get", "all", "-o", "name"), "service/kubernetes")
        r = self.k("apply", "-f", chapter(""))
        self.expect_out(r, "job.batch/consumers created\njob.batch/oneshot created\njob.batch/parallel created\n"
                           "replicaset.apps/queue created\nservice/queue created")
        r = self.k("apply", "-f", chapter(""))
        self.expect_out(r, "job.batch/consumers unchanged\njob.batch/oneshot unchanged\njob.batch/parallel unchanged\n"
                           "replicaset.apps/queue unchanged\nservice/queue unchanged")

    def test_generate_name(self):
        p = job("ignored")
        p["metadata"] = {"generateName": "gen-"}
        r = self.k("create", "-f", "-", stdin=json.dumps(p))
        self.expect_out(r, re.compile(r"job\.batch/gen-[bcdfghjklmnpqrstvwxz2456789]{5} created"))
        name = r.out.split()[0].split("/")[1]
        self.expect_out(self.k("get", "job", name, "-o", "jsonpath={.spec.template.metadata.labels.job-name}"), name)

    def test_create_and_already_exists(self):
        p = self.write("job-x.json", job("x"))
        self.expect_out(self.k("create", "-f", p), "job.batch/x created")
        r = self.k("create", "-f", p)
        self.expect_err(r, 'Error from server (AlreadyExists): error when creating "%s": jobs.batch "x" already exists' % p)
        # apply over an object made by create: warning about the missing annotation, then configured.
        r = self.k("apply", "-f", p)
        self.expect_out(r, "job.batch/x configured")
        if not r.err.startswith("Warning: resource jobs/x is missing the kubectl.kubernetes.io/last-applied-configuration "
                                "annotation which is required by kubectl apply."):
            self.fail_with(r, "expected the missing last-applied-configuration warning on stderr")

    def test_create_generators(self):
        """`kubectl create namespace|job` use typed clients: JSON on <=1.31, protobuf on >=1.32 (§10)."""
        self.expect_out(self.k("create", "namespace", "other"), "namespace/other created")
        self.expect_out(self.k("create", "job", "hello", "--image=busybox", "--", "echo", "hi"), "job.batch/hello created")
        self.expect_out(self.k("get", "job", "hello", "-o", "jsonpath={.spec.template.spec.containers[0].command}"),
                        '["echo","hi"]')

    def test_apply_server_side(self):
        m = chapter("job-oneshot.yaml")
        self.expect_out(self.k("apply", "--server-side", "-f", m), "job.batch/oneshot serverside-applied")
        self.expect_out(self.k("apply", "--server-side", "-f", m), "job.batch/oneshot serverside-applied")
        text = read_file(m)
        b = self.write("job-oneshot.yaml", add_backoff(text))
        self.expect_out(self.k("apply", "--server-side", "-f", b), "job.batch/oneshot serverside-applied")
        self.expect_out(self.k("get", "job", "oneshot", "-o", "jsonpath={.spec.backoffLimit}"), "3")
        uid = self.uid("job", "oneshot")
        self.expect_out(self.k("get", "job", "oneshot", "-o", "jsonpath={.spec.selector.matchLabels}"),
                        '{"batch.kubernetes.io/controller-uid":"%s"}' % uid)

    def test_diff(self):
        m = chapter("job-oneshot.yaml")
        self.expect_out(self.k("apply", "-f", m), "job.batch/oneshot created")
        self.expect_out(self.k("diff", "-f", m), "")
        b = self.write("job-oneshot.yaml", add_backoff(read_file(m)))
        r = self.k("diff", "-f", b)
        self.expect_lines(r, [r"-\s+backoffLimit: 6", r"\+\s+backoffLimit: 3"], rc=1)
        self.expect_no_line(r, r"^[-+]\s+(resourceVersion|uid|creationTimestamp):")
        self.expect_out(self.k("get", "job", "oneshot", "-o", "jsonpath={.spec.backoffLimit}"), "6")  # dry run only

    def test_generators_run_expose(self):
        """`kubectl run` and `expose` go through the generic JSON helper on every version (§10)."""
        self.expect_out(self.k("run", "p", "--image=busybox", "--restart=Never", "--labels=app=run", "--", "sleep", "1"),
                        "pod/p created")
        self.expect_out(self.k("get", "pod", "p", "-o", "jsonpath={.spec.containers[0].args}"), '["sleep","1"]')
        self.expect_out(self.k("apply", "-f", chapter("rs-queue.yaml")), "replicaset.apps/queue created")
        self.expect_out(self.k("expose", "rs", "queue", "--port=9090", "--target-port=8080", "--name=q2"), "service/q2 exposed")
        r = self.k("get", "svc", "q2", "-o", "wide")
        self.expect_lines(r, [r"q2\s+ClusterIP\s+\d+\.\d+\.\d+\.\d+\s+<none>\s+9090/TCP\s+%s\s+"
                              r"app=work-queue,chapter=jobs,component=queue" % AGE])

    def test_edit_label_annotate_replace(self):
        self.create(job("x"), "job.batch/x created")
        ed = self.write("edit.sh", "#!/bin/sh\nsed -i -e 's/backoffLimit: 6/backoffLimit: 2/' \"$1\"\n")
        r = self.k("edit", "job", "x", env={"KUBE_EDITOR": "sh " + ed})
        self.expect_out(r, "job.batch/x edited")
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.spec.backoffLimit}"), "2")
        self.expect_out(self.k("edit", "job", "x", env={"KUBE_EDITOR": "true"}), "Edit cancelled, no changes made.",
                        stream="err")
        self.expect_out(self.k("label", "job", "x", "team=a"), "job.batch/x labeled")
        self.expect_out(self.k("label", "job", "x", "team=a"), "job.batch/x not labeled")
        self.expect_err(self.k("label", "job", "x", "team=b"),
                        "error: 'team' already has a value (a), and --overwrite is false")
        self.expect_out(self.k("label", "job", "x", "team=b", "--overwrite"), "job.batch/x labeled")
        self.expect_out(self.k("label", "job", "x", "team-"), "job.batch/x unlabeled")
        # (kubectl 1.27's own wording is "annotate")
        self.expect_out(self.k("annotate", "job", "x", "note=hello world"),
                        "job.batch/x annotate" if self.V == "1.27" else "job.batch/x annotated")
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.metadata.annotations.note}"), "hello world")
        # replace: PUT with the resourceVersion from a GET; a second PUT with the same (stale) RV conflicts
        obj = self.get_json("job", "x")
        obj["spec"]["backoffLimit"] = 5
        self.expect_out(self.k("replace", "-f", "-", stdin=json.dumps(obj)), "job.batch/x replaced")
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.spec.backoffLimit}"), "5")
        obj["spec"]["backoffLimit"] = 4
        self.expect_err(self.k("replace", "-f", "-", stdin=json.dumps(obj)),
                        'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on '
                        'jobs.batch "x": the object has been modified; please apply your changes to the latest version '
                        'and try again')

    def test_create_dry_run_server(self):
        p = self.write("job-dry.json", job("dry"))
        self.expect_out(self.k("create", "-f", p, "--dry-run=server"), "job.batch/dry created (server dry run)")
        self.expect_err(self.k("get", "job", "dry"), 'Error from server (NotFound): jobs.batch "dry" not found')


class ApplyStrategicMerge:
    """Client-side apply computes strategic merge patches (§3.1-3.2); the server must apply them."""

    def rs(self, **container_extra):
        m = yaml.safe_load(read_file(chapter("rs-queue.yaml")))
        c = m["spec"]["template"]["spec"]["containers"][0]
        vols = container_extra.pop("volumes", None)
        c.update(container_extra)
        if vols is not None:
            m["spec"]["template"]["spec"]["volumes"] = vols
        return m

    def apply_obj(self, obj, expect):
        p = self.write("%s.json" % obj["metadata"]["name"], obj)
        self.expect_out(self.k("apply", "-f", p), expect)

    def container(self):
        return self.get_json("rs", "queue")["spec"]["template"]["spec"]

    def test_apply_rs_env_volumes_replicas(self):
        self.expect_out(self.k("apply", "-f", chapter("rs-queue.yaml")), "replicaset.apps/queue created")
        mount = [{"name": "data", "mountPath": "/data"}]
        self.apply_obj(self.rs(env=[{"name": "A", "value": "1"}, {"name": "DEBUG", "value": "1"}], volumeMounts=mount,
                               volumes=[{"name": "data", "emptyDir": {}}]), "replicaset.apps/queue configured")
        spec = self.container()
        self.assertEqual(spec["containers"][0].get("env"), [{"name": "A", "value": "1"}, {"name": "DEBUG", "value": "1"}])
        self.assertEqual(spec.get("volumes"), [{"name": "data", "emptyDir": {}}])
        # remove one env entry ($patch: delete); emptyDir -> hostPath ($retainKeys)
        self.apply_obj(self.rs(env=[{"name": "A", "value": "1"}], volumeMounts=mount,
                               volumes=[{"name": "data", "hostPath": {"path": "/tmp/data"}}]),
                       "replicaset.apps/queue configured")
        spec = self.container()
        self.assertEqual(spec["containers"][0].get("env"), [{"name": "A", "value": "1"}], "env after removing DEBUG")
        self.assertEqual(len(spec.get("volumes", [])), 1)
        v = spec["volumes"][0]
        self.assertEqual((v.get("name"), v.get("hostPath", {}).get("path"), "emptyDir" in v), ("data", "/tmp/data", False),
                         "volume after emptyDir -> hostPath: %r" % v)
        # reorder ($setElementOrder) and change a value
        self.apply_obj(self.rs(env=[{"name": "B", "value": "2"}, {"name": "A", "value": "9"}], volumeMounts=mount,
                               volumes=[{"name": "data", "hostPath": {"path": "/tmp/data"}}]),
                       "replicaset.apps/queue configured")
        self.assertEqual(self.container()["containers"][0].get("env"),
                         [{"name": "B", "value": "2"}, {"name": "A", "value": "9"}])
        # drop env, mounts and volumes entirely; scale through the manifest
        m = self.rs()
        m["spec"]["replicas"] = 2
        self.apply_obj(m, "replicaset.apps/queue configured")
        spec = self.container()
        self.assertEqual(("env" in spec["containers"][0], "volumeMounts" in spec["containers"][0], "volumes" in spec),
                         (False, False, False), "after removing env/volumeMounts/volumes: %r" % spec)
        self.expect_out(self.k("get", "rs", "queue", "-o", "jsonpath={.spec.replicas}"), "2")
        self.apply_obj(m, "replicaset.apps/queue unchanged")

    def test_apply_service_ports_and_labels(self):
        self.expect_out(self.k("apply", "-f", chapter("service-queue.yaml")), "service/queue created")
        ip = self.ok("get", "svc", "queue", "-o", "jsonpath={.spec.clusterIP}")
        svc = yaml.safe_load(read_file(chapter("service-queue.yaml")))
        svc["spec"]["ports"] = [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 8080},
                                {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090}]
        del svc["metadata"]["labels"]["chapter"]
        self.apply_obj(svc, "service/queue configured")
        got = self.get_json("svc", "queue")
        self.assertEqual([(p.get("name"), p["port"], p.get("targetPort")) for p in got["spec"]["ports"]],
                         [("http", 8080, 8080), ("metrics", 9090, 9090)])
        self.assertEqual(got["metadata"]["labels"], {"app": "work-queue", "component": "queue"})
        self.assertEqual(got["spec"]["clusterIP"], ip, "clusterIP must survive apply")
        r = self.k("get", "svc", "queue")
        self.expect_lines(r, [r"queue\s+ClusterIP\s+%s\s+<none>\s+8080/TCP,9090/TCP\s+%s" % (re.escape(ip), AGE)])
        svc["spec"]["ports"] = svc["spec"]["ports"][1:]
        self.apply_obj(svc, "service/queue configured")
        self.assertEqual([p["port"] for p in self.get_json("svc", "queue")["spec"]["ports"]], [9090])


class Get:
    def setup_chapter(self):
        for f in ("job-oneshot.yaml", "job-parallel.yaml", "job-consumers.yaml", "rs-queue.yaml", "service-queue.yaml"):
            self.expect_rc(self.k("apply", "-f", chapter(f)), 0)
        return {n: self.uid("job", n) for n in ("oneshot", "parallel", "consumers")}

    def test_get_jobs_table(self):
        uids = self.setup_chapter()
        r = self.k("get", "jobs")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
                              r"consumers\s+Running\s+0/1 of 5\s+%s" % AGE,
                              r"oneshot\s+Running\s+0/1\s+%s" % AGE,
                              r"parallel\s+Running\s+0/10\s+%s" % AGE])
        if len(r.out.rstrip("\n").split("\n")) != 4:
            self.fail_with(r, "expected exactly a header and 3 rows")
        r = self.k("get", "jobs", "-o", "wide")
        img = re.escape("gcr.io/kuar-demo/kuard-amd64:blue")
        sel = r"batch\.kubernetes\.io/controller-uid="
        self.expect_lines(r, [
            r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR",
            r"consumers\s+Running\s+0/1 of 5\s+%s\s+worker\s+%s\s+%s%s" % (AGE, img, sel, uids["consumers"]),
            r"oneshot\s+Running\s+0/1\s+%s\s+kuard\s+%s\s+%s%s" % (AGE, img, sel, uids["oneshot"]),
            r"parallel\s+Running\s+0/10\s+%s\s+kuard\s+%s\s+%s%s" % (AGE, img, sel, uids["parallel"]),
        ])
        r = self.k("get", "job", "oneshot")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE", r"oneshot\s+Running\s+0/1\s+%s" % AGE])
        r = self.k("get", "jobs", "--show-labels")
        u = uids["oneshot"]
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+LABELS",
                              r"consumers\s+.*\s+app=message-queue,chapter=jobs,component=consumer",
                              r"oneshot\s+Running\s+0/1\s+%s\s+%s" % (AGE, re.escape(
                                  "batch.kubernetes.io/controller-uid=%s,batch.kubernetes.io/job-name=oneshot,"
                                  "controller-uid=%s,job-name=oneshot" % (u, u)))])
        r = self.k("get", "jobs", "-L", "chapter")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+CHAPTER",
                              r"consumers\s+Running\s+0/1 of 5\s+%s\s+jobs" % AGE,
                              r"oneshot\s+Running\s+0/1\s+%s" % AGE,
                              r"parallel\s+Running\s+0/10\s+%s\s+jobs" % AGE])
        r2 = self.k("get", "jobs", "--chunk-size=1")
        if normalize_columns(re.sub(AGE + "$", "AGE", r2.out, flags=re.M)) != normalize_columns(
                re.sub(AGE + "$", "AGE", self.k("get", "jobs").out, flags=re.M)):
            self.fail_with(r2, "expected the same table as without --chunk-size (one header, all rows)")
        r = self.k("get", "jobs", "--sort-by=.spec.parallelism")
        self.expect_lines(r, [r"NAME\s+STATUS.*", r"oneshot\s+.*", r"(consumers|parallel)\s+.*", r"(consumers|parallel)\s+.*"])

    def test_get_job_json_yaml_labels_and_defaults(self):
        uids = self.setup_chapter()
        u = uids["oneshot"]
        obj = self.get_json("job", "oneshot")
        problems = []

        def want(path, actual, expected):
            if actual != expected:
                problems.append("%s: expected %r, got %r" % (path, expected, actual))
        want("metadata.labels", obj["metadata"].get("labels"), gen_labels("oneshot", u))
        want("spec.template.metadata.labels", obj["spec"]["template"].get("metadata", {}).get("labels"),
             gen_labels("oneshot", u))
        want("spec.selector", obj["spec"].get("selector"), {"matchLabels": {"batch.kubernetes.io/controller-uid": u}})
        for k, v in {"parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
                     "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"}.items():
            want("spec." + k, obj["spec"].get(k), v)
        want("metadata.generation", obj["metadata"].get("generation"), 1)
        want("kind/apiVersion", (obj.get("kind"), obj.get("apiVersion")), ("Job", "batch/v1"))
        for k in ("uid", "resourceVersion", "creationTimestamp"):
            if not obj["metadata"].get(k):
                problems.append("metadata.%s missing" % k)
        c = obj["spec"]["template"]["spec"]["containers"][0]
        want("containers[0].terminationMessagePath", c.get("terminationMessagePath"), "/dev/termination-log")
        want("containers[0].terminationMessagePolicy", c.get("terminationMessagePolicy"), "File")
        want("containers[0].imagePullPolicy", c.get("imagePullPolicy"), "Always")
        ps = obj["spec"]["template"]["spec"]
        want("template.spec.dnsPolicy", ps.get("dnsPolicy"), "ClusterFirst")
        want("template.spec.schedulerName", ps.get("schedulerName"), "default-scheduler")
        want("template.spec.terminationGracePeriodSeconds", ps.get("terminationGracePeriodSeconds"), 30)
        # A Job created with its own labels keeps exactly those; its template gets the 4 generated ones.
        cons = self.get_json("job", "consumers")
        user = {"app": "message-queue", "component": "consumer", "chapter": "jobs"}
        want("consumers metadata.labels", cons["metadata"].get("labels"), user)
        want("consumers template labels", cons["spec"]["template"]["metadata"].get("labels"),
             dict(user, **gen_labels("consumers", uids["consumers"])))
        want("consumers spec.parallelism", cons["spec"].get("parallelism"), 5)
        want("consumers spec.completions (unset when only parallelism is given)", cons["spec"].get("completions"), None)
        if problems:
            self.fail("get job -o json:\n  " + "\n  ".join(problems))
        r = self.k("get", "job", "oneshot", "-o", "yaml")
        self.expect_rc(r, 0)
        try:
            y = yaml.safe_load(r.out)
        except yaml.YAMLError as e:
            self.fail_with(r, "expected YAML (%s)" % e)
        if y != obj:
            self.fail_with(r, "expected -o yaml to equal -o json:\n%s" % json.dumps(obj, indent=1))
        lst = self.get_json("jobs")
        self.assertEqual(lst.get("kind"), "List", "get jobs -o json kind")
        self.assertEqual(sorted(i["metadata"]["name"] for i in lst["items"]), ["consumers", "oneshot", "parallel"])

    def test_get_many_pages(self):
        """600 jobs: kubectl lists with limit=500 and follows `continue`, printing one header."""
        conn = self.s.connection()
        for i in range(600):
            st, _, data = self.s.http("POST", "/apis/batch/v1/namespaces/default/jobs", job("j%03d" % i), conn=conn)
            self.assertEqual(st, 201, data[:200])
        conn.close()
        r = self.k("get", "jobs")
        lines = r.out.rstrip("\n").split("\n")
        if len(lines) != 601 or r.out.count("NAME") != 1 or sorted(l.split()[0] for l in lines[1:]) != \
                ["j%03d" % i for i in range(600)]:
            self.fail_with(r, "expected one header and the 600 jobs j000..j599, got %d lines" % len(lines))
        self.expect_out(self.k("get", "jobs", "-o", "name", "--chunk-size=100"),  # (client-go rate-limits at 5 QPS)
                        "\n".join("job.batch/j%03d" % i for i in range(600)))

    def test_get_name_selectors_jsonpath(self):
        self.setup_chapter()
        self.expect_out(self.k("get", "job", "oneshot", "-o", "name"), "job.batch/oneshot")
        self.expect_out(self.k("get", "jobs", "-o", "name"), "job.batch/consumers\njob.batch/oneshot\njob.batch/parallel")
        self.expect_out(self.k("get", "jobs", "-l", "chapter=jobs", "-o", "name"), "job.batch/consumers\njob.batch/parallel")
        r = self.k("get", "jobs", "-l", "chapter=jobs")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE", r"consumers\s+.*", r"parallel\s+.*"])
        self.expect_no_line(r, r"^oneshot")
        self.expect_out(self.k("get", "jobs", "-l", "!chapter", "-o", "name"), "job.batch/oneshot")
        self.expect_out(self.k("get", "jobs", "-l", "app in (message-queue,x),chapter", "-o", "name"), "job.batch/consumers")
        self.expect_out(self.k("get", "jobs", "-l", "job-name=oneshot", "-o", "name"), "job.batch/oneshot")
        self.expect_out(self.k("get", "jobs", "--field-selector", "metadata.name=parallel", "-o", "name"), "job.batch/parallel")
        r = self.k("get", "jobs", "-l", "chapter=nothing")
        self.expect_out(r, "")
        self.expect_out(r, "No resources found in default namespace.", stream="err")
        self.expect_out(self.k("get", "job", "oneshot", "-o", "jsonpath={.spec.backoffLimit}"), "6")
        self.expect_out(self.k("get", "job", "consumers", "-o", "jsonpath={.spec.parallelism}"), "5")
        self.expect_out(self.k("get", "jobs", "-o", "custom-columns=N:.metadata.name,P:.spec.parallelism",
                               "--no-headers"), re.compile(r"consumers\s+5\noneshot\s+1\nparallel\s+5"))

    def test_get_all_namespaces_and_get_all(self):
        self.setup_chapter()
        self.expect_out(self.k("create", "-f", "-", stdin='{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}}'),
                        "namespace/other created")
        self.expect_out(self.k("apply", "-n", "other", "-f", chapter("job-oneshot.yaml")), "job.batch/oneshot created")
        r = self.k("get", "jobs", "-A")
        self.expect_lines(r, [r"NAMESPACE\s+NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
                              r"default\s+consumers\s+Running\s+0/1 of 5\s+%s" % AGE,
                              r"default\s+oneshot\s+Running\s+0/1\s+%s" % AGE,
                              r"default\s+parallel\s+Running\s+0/10\s+%s" % AGE,
                              r"other\s+oneshot\s+Running\s+0/1\s+%s" % AGE])
        self.expect_out(self.k("get", "jobs", "-n", "other", "-o", "name"), "job.batch/oneshot")
        r = self.k("get", "ns")
        self.expect_lines(r, [r"NAME\s+STATUS\s+AGE", r"default\s+Active\s+%s" % AGE, r"other\s+Active\s+%s" % AGE],
                          ordered=False)
        r = self.k("get", "all")
        self.expect_lines(r, [r"NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE",
                              r"service/queue\s+ClusterIP\s+\d+\.\d+\.\d+\.\d+\s+<none>\s+8080/TCP\s+%s" % AGE,
                              r"NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE",
                              r"replicaset\.apps/queue\s+1\s+0\s+0\s+%s" % AGE,
                              r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
                              r"job\.batch/consumers\s+Running\s+0/1 of 5\s+%s" % AGE,
                              r"job\.batch/oneshot\s+Running\s+0/1\s+%s" % AGE,
                              r"job\.batch/parallel\s+Running\s+0/10\s+%s" % AGE])
        if r.err:
            self.fail_with(r, "expected nothing on stderr")
        r = self.k("get", "pods")
        self.expect_out(r, "")
        self.expect_out(r, "No resources found in default namespace.", stream="err")
        r = self.k("get", "svc", "queue", "-o", "wide")
        self.expect_lines(r, [r"NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR",
                              r"queue\s+ClusterIP\s+\d+\.\d+\.\d+\.\d+\s+<none>\s+8080/TCP\s+%s\s+"
                              r"app=work-queue,component=queue" % AGE])
        r = self.k("get", "rs", "queue", "-o", "wide")
        self.expect_lines(r, [r"NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR",
                              r"queue\s+1\s+0\s+0\s+%s\s+queue\s+gcr\.io/kuar-demo/kuard-amd64:blue\s+"
                              r"app=work-queue,chapter=jobs,component=queue" % AGE])


class Tables:
    """Server-side printing (kubectl-protocol.md §5.3): the test writes statuses through the status
    subresource, as the node agent / controllers will, and checks the rows kubectl prints."""

    def set_status(self, resource, name, status):
        r = self.k("patch", resource, name, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))
        self.expect_rc(r, 0)

    def test_pod_status_column(self):
        now = time.time()
        term = lambda reason=None, code=0, sig=None, ago=60: dict(
            {"exitCode": code, "startedAt": rfc3339(now - ago - 10), "finishedAt": rfc3339(now - ago)},
            **({"reason": reason} if reason else {}), **({"signal": sig} if sig else {}))

        def cs(state, ready=False, restarts=0, last=None, name="c"):
            d = {"name": name, "image": "busybox", "imageID": "", "ready": ready, "restartCount": restarts,
                 "state": state}
            if last:
                d["lastState"] = last
            return d
        running = {"running": {"startedAt": rfc3339(now - 100)}}
        cases = [
            ("crashy", {"phase": "Running", "containerStatuses": [cs({"waiting": {"reason": "CrashLoopBackOff"}}, restarts=4,
                                                                      last={"terminated": term("Error", 1, ago=75)})]},
             r"0/1\s+CrashLoopBackOff\s+4 \(7\ds ago\)"),
            ("done", {"phase": "Succeeded", "containerStatuses": [cs({"terminated": term("Completed")})]},
             r"0/1\s+Completed\s+0"),
            ("oom", {"phase": "Failed", "containerStatuses": [cs({"terminated": term("OOMKilled", 137)})]},
             r"0/1\s+OOMKilled\s+0"),
            ("up", {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [cs(running, ready=True)]}, r"1/1\s+Running\s+0"),
            ("exit3", {"phase": "Failed", "containerStatuses": [cs({"terminated": term(None, 3)})]},
             r"0/1\s+ExitCode:3\s+0"),
            ("sig9", {"phase": "Failed", "containerStatuses": [cs({"terminated": term(None, 0, sig=9)})]},
             r"0/1\s+Signal:9\s+0"),
            ("creating", {"phase": "Pending", "containerStatuses": [cs({"waiting": {"reason": "ContainerCreating"}})]},
             r"0/1\s+ContainerCreating\s+0"),
            ("evicted", {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."},
             r"0/1\s+Evicted\s+0"),
            ("initwait", {"phase": "Pending", "initContainerStatuses": [cs({"waiting": {"reason": "PodInitializing"}},
                                                                           name="init")],
                          "containerStatuses": [cs({"waiting": {"reason": "PodInitializing"}})]},
             r"0/1\s+Init:0/1\s+0"),
            ("initfail", {"phase": "Pending", "initContainerStatuses": [cs({"terminated": term("Error", 1)}, name="init")],
                          "containerStatuses": [cs({"waiting": {"reason": "PodInitializing"}})]},
             r"0/1\s+Init:Error\s+0"),
            ("initcrash", {"phase": "Pending", "initContainerStatuses": [cs({"waiting": {"reason": "CrashLoopBackOff"}},
                                                                            name="init", restarts=2)],
                           "containerStatuses": [cs({"waiting": {"reason": "PodInitializing"}})]},
             r"0/1\s+Init:CrashLoopBackOff\s+2"),
        ]
        for name, status, _ in cases:
            p = pod(name)
            if name.startswith("init"):
                p["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
            self.create(p, "pod/%s created" % name)
            self.set_status("pod", name, status)
        r = self.k("get", "pods")
        self.expect_lines(r, [r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE"] +
                          [r"%s\s+%s\s+%s" % (n, row, AGE) for n, _, row in sorted(cases)])
        # wide: IP, node, nominated node, readiness gates
        self.set_status("pod", "up", {"podIP": "10.1.0.5", "podIPs": [{"ip": "10.1.0.5"}], "hostIP": "127.0.0.1"})
        self.expect_rc(self.k("patch", "pod", "up", "--type=merge", "-p", "{}"), 0)
        r = self.k("get", "pod", "up", "-o", "wide")
        self.expect_lines(r, [r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES",
                              r"up\s+1/1\s+Running\s+0\s+%s\s+10\.1\.0\.5\s+<none>\s+<none>\s+<none>" % AGE])
        self.expect_out(self.k("get", "pods", "--field-selector", "status.phase=Failed", "-o", "name"),
                        "pod/evicted\npod/exit3\npod/oom\npod/sig9")

    def test_job_status_column(self):
        ts = rfc3339
        now = time.time()
        self.create(job("failed"), "job.batch/failed created")
        self.create(job("target"), "job.batch/target created")
        self.create(job("susp", spec={"suspend": True}), "job.batch/susp created")
        self.create(job("par", spec={"parallelism": 5, "completions": 10}), "job.batch/par created")
        cond = lambda t: {"type": t, "status": "True", "reason": "BackoffLimitExceeded",
                          "message": "Job has reached the specified backoff limit",
                          "lastProbeTime": ts(now), "lastTransitionTime": ts(now)}
        self.set_status("job", "failed", {"startTime": ts(now - 50), "failed": 7, "active": 0, "ready": 0, "terminating": 0,
                                          "uncountedTerminatedPods": {},
                                          "conditions": [cond("FailureTarget"), cond("Failed")]})
        self.set_status("job", "target", {"startTime": ts(now - 50), "failed": 7, "active": 1,
                                          "conditions": [cond("FailureTarget")]})
        self.set_status("job", "susp", {"conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended",
                                                        "message": "Job suspended", "lastProbeTime": ts(now),
                                                        "lastTransitionTime": ts(now)}]})
        self.set_status("job", "par", {"startTime": ts(now - 90), "active": 5, "ready": 5, "succeeded": 3})
        r = self.k("get", "jobs")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
                              r"failed\s+Failed\s+0/1\s+5\ds\s+%s" % AGE,
                              r"par\s+Running\s+3/10\s+9\ds\s+%s" % AGE,
                              r"susp\s+Suspended\s+0/1\s+%s" % AGE,
                              r"target\s+FailureTarget\s+0/1\s+5\ds\s+%s" % AGE])

    def test_rs_and_service_columns(self):
        self.expect_out(self.k("apply", "-f", chapter("rs-queue.yaml")), "replicaset.apps/queue created")
        self.expect_out(self.k("scale", "rs", "queue", "--replicas=3"), "replicaset.apps/queue scaled")
        self.set_status("rs", "queue", {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1, "fullyLabeledReplicas": 2})
        self.expect_lines(self.k("get", "rs"), [r"NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE", r"queue\s+3\s+2\s+1\s+%s" % AGE])
        sel = {"app": "work-queue"}
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
                     "spec": {"type": "NodePort", "selector": sel, "ports": [{"port": 8080}]}}, "service/np created")
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
                     "spec": {"type": "LoadBalancer", "selector": sel, "ports": [{"port": 80, "protocol": "TCP"}]}},
                    "service/lb created")
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
                     "spec": {"selector": sel, "externalIPs": ["192.0.2.1", "192.0.2.2"],
                              "ports": [{"port": 53, "protocol": "UDP", "name": "dns"},
                                        {"port": 53, "protocol": "TCP", "name": "dns-tcp"}]}},
                    "service/ext created")
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless"},
                     "spec": {"clusterIP": "None", "selector": sel, "ports": [{"port": 80}]}}, "service/headless created")
        r = self.k("get", "svc", "-o", "wide")
        ip = r"\d+\.\d+\.\d+\.\d+"
        self.expect_lines(r, [r"NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR",
                              r"ext\s+ClusterIP\s+%s\s+192\.0\.2\.1,192\.0\.2\.2\s+53/UDP,53/TCP\s+%s\s+"
                              r"app=work-queue" % (ip, AGE),
                              r"headless\s+ClusterIP\s+None\s+<none>\s+80/TCP\s+%s\s+app=work-queue" % AGE,
                              r"lb\s+LoadBalancer\s+%s\s+<pending>\s+80:3\d{4}/TCP\s+%s\s+app=work-queue" % (ip, AGE),
                              r"np\s+NodePort\s+%s\s+<none>\s+8080:3\d{4}/TCP\s+%s\s+app=work-queue" % (ip, AGE)])
        ips = self.ok("get", "svc", "-o", "jsonpath={range .items[*]}{.spec.clusterIP}{\"\\n\"}{end}").split()
        real = [i for i in ips if i != "None"]
        self.assertEqual(len(real), len(set(real)), "cluster IPs must be unique: %s" % ips)


class Describe:
    EXPECTED_133 = """\
Name: oneshot
Namespace: default
Selector: batch.kubernetes.io/controller-uid=UID
Labels: batch.kubernetes.io/controller-uid=UID
                  batch.kubernetes.io/job-name=oneshot
                  controller-uid=UID
                  job-name=oneshot
Annotations: <none>
Parallelism: 1
Completions: 1
Completion Mode: NonIndexed
Suspend: false
Backoff Limit: 6
Pods Statuses: 0 Active / 0 Succeeded / 0 Failed
Pod Template:
  Labels: batch.kubernetes.io/controller-uid=UID
           batch.kubernetes.io/job-name=oneshot
           controller-uid=UID
           job-name=oneshot
  Containers:
   kuard:
    Image: gcr.io/kuar-demo/kuard-amd64:blue
    Port: <none>
    Host Port: <none>
    Command:
      /kuard
    Args:
      --keygen-enable
      --keygen-exit-on-complete
      --keygen-num-to-gen=10
    Environment: <none>
    Mounts: <none>
  Volumes: <none>
  Node-Selectors: <none>
  Tolerations: <none>
Events: <none>"""

    def expected(self):
        e = self.EXPECTED_133
        if self.V == "1.27":  # 1.27's describer has no Suspend/Backoff Limit/Node-Selectors/Tolerations lines
            e = "\n".join(l for l in e.split("\n")
                          if not l.startswith(("Suspend:", "Backoff Limit:", "  Node-Selectors:", "  Tolerations:")))
        return e

    def test_describe_job_oneshot(self):
        self.expect_rc(self.k("apply", "-f", chapter("job-oneshot.yaml")), 0)
        uid = self.uid("job", "oneshot")
        r = self.k("describe", "jobs", "oneshot")
        self.expect_rc(r, 0)
        got = normalize_columns(r.out.replace(uid, "UID"))
        want = normalize_columns(self.expected())
        if got != want:
            self.fail_with(r, "describe differs (columns normalized, uid replaced by UID); expected:\n%s" % want)
        # With status.ready set (as the job controller always writes it) the "(R Ready)" part appears,
        # and Start Time once status.startTime is set.
        r = self.k("patch", "job", "oneshot", "--subresource=status", "--type=merge", "-p",
                   json.dumps({"status": {"startTime": "2026-01-02T03:04:05Z", "active": 1, "ready": 0}}))
        self.expect_out(r, "job.batch/oneshot patched")
        r = self.k("describe", "job", "oneshot")
        self.expect_lines(r, [r"Start Time:\s+Fri, 02 Jan 2026 03:04:05 \+0000",
                              r"Pods Statuses:\s+1 Active \(0 Ready\) / 0 Succeeded / 0 Failed"])
        r = self.k("get", "job", "oneshot")
        self.expect_lines(r, [r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
                              r"oneshot\s+Running\s+0/1\s+%s\s+%s" % (AGE, AGE)])

    def test_describe_all_jobs_and_not_found(self):
        self.expect_rc(self.k("apply", "-f", chapter("job-oneshot.yaml")), 0)
        self.expect_rc(self.k("apply", "-f", chapter("job-consumers.yaml")), 0)
        r = self.k("describe", "jobs")
        self.expect_lines(r, [r"Name:\s+consumers", r"Parallelism:\s+5", r"Completions:\s+<unset>",
                              r"Name:\s+oneshot", r"Parallelism:\s+1", r"Completions:\s+1"])
        r = self.k("describe", "job", "nope")
        self.expect_err(r, 'Error from server (NotFound): jobs.batch "nope" not found')


class Patch:
    def test_patch_three_types_and_no_change(self):
        self.create(job("x"), "job.batch/x created")
        cases = [
            ([], {"spec": {"backoffLimit": 4}}, ".spec.backoffLimit", "4"),
            (["--type=merge"], {"metadata": {"labels": {"team": "a"}}}, ".metadata.labels.team", "a"),
            (["--type=json"], [{"op": "replace", "path": "/spec/parallelism", "value": 2}], ".spec.parallelism", "2"),
            (["--type=json"], [{"op": "add", "path": "/metadata/annotations", "value": {"note": "n1"}}],
             ".metadata.annotations.note", "n1"),
            (["--type=strategic"], {"spec": {"activeDeadlineSeconds": 600}}, ".spec.activeDeadlineSeconds", "600"),
        ]
        for flags, body, path, value in cases:
            rv0 = self.ok("get", "job", "x", "-o", "jsonpath={.metadata.resourceVersion}")
            self.expect_out(self.k("patch", "job", "x", *flags, "-p", json.dumps(body)), "job.batch/x patched")
            self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={%s}" % path), value)
            rv1 = self.ok("get", "job", "x", "-o", "jsonpath={.metadata.resourceVersion}")
            if not int(rv1) > int(rv0):
                self.fail("patch %s %s: resourceVersion did not grow (%s -> %s)" % (flags, body, rv0, rv1))
            self.expect_out(self.k("patch", "job", "x", *flags, "-p", json.dumps(body)),
                            "job.batch/x patched (no change)")
            rv2 = self.ok("get", "job", "x", "-o", "jsonpath={.metadata.resourceVersion}")
            if rv2 != rv1:
                self.fail("a no-op patch %s %s changed resourceVersion %s -> %s" % (flags, body, rv1, rv2))
        # merge-patch null deletes a label; strategic null deletes a field (re-defaulted)
        self.expect_out(self.k("patch", "job", "x", "--type=merge", "-p", '{"metadata":{"labels":{"team":null}}}'),
                        "job.batch/x patched")
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.metadata.labels.team}"), "")
        self.expect_out(self.k("patch", "job", "x", "-p", '{"spec":{"backoffLimit":null}}'), "job.batch/x patched")
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.spec.backoffLimit}"), "6")

    def test_patch_errors(self):
        self.create(job("x"), "job.batch/x created")
        rv = self.ok("get", "job", "x", "-o", "jsonpath={.metadata.resourceVersion}")
        r = self.k("patch", "job", "x", "--type=json", "-p",
                   json.dumps([{"op": "replace", "path": "/spec/nope/deeper", "value": 1}]))
        self.expect_rc(r, 1)
        if not r.err.strip():
            self.fail_with(r, "expected an error message on stderr")
        r = self.k("patch", "job", "x", "--type=json", "-p",
                   json.dumps([{"op": "test", "path": "/spec/parallelism", "value": 99}]))
        self.expect_rc(r, 1)
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.metadata.resourceVersion}"), rv)
        r = self.k("patch", "job", "nope", "-p", '{"spec":{"backoffLimit":1}}')
        self.expect_err(r, 'Error from server (NotFound): jobs.batch "nope" not found')
        # U1: the template is immutable, through patch too
        r = self.k("patch", "job", "x", "-p",
                   json.dumps({"spec": {"template": {"spec": {"containers": [{"name": "kuard", "image": "other"}]}}}}))
        self.expect_rc(r, 1)
        pre = 'The Job "x" is invalid: spec.template: Invalid value: '
        if not (r.err.startswith(pre) and r.err.rstrip("\n").endswith(": field is immutable")):
            self.fail_with(r, "expected stderr to start with %r and end with ': field is immutable'" % pre)
        # U2: completions of a NonIndexed job
        r = self.k("patch", "job", "x", "--type=merge", "-p", '{"spec":{"completions":3}}')
        self.expect_err(r, 'The Job "x" is invalid: spec.completions: Invalid value: 3: field is immutable')
        # U4: selector
        r = self.k("patch", "job", "x", "--type=merge", "-p", '{"spec":{"completionMode":"Indexed"}}')
        self.expect_rc(r, 1)
        if "spec.completionMode: Invalid value: \"Indexed\": field is immutable" not in r.err:
            self.fail_with(r, 'expected stderr to contain spec.completionMode: Invalid value: "Indexed": field is immutable')
        self.expect_out(self.k("get", "job", "x", "-o", "jsonpath={.metadata.resourceVersion}"), rv)


class Errors:
    def test_unknown_resource_and_not_found(self):
        r = self.k("get", "foos")
        self.expect_err(r, 'error: the server doesn\'t have a resource type "foos"')
        self.expect_err(self.k("get", "job", "nope"), 'Error from server (NotFound): jobs.batch "nope" not found')
        self.expect_err(self.k("get", "pod", "nope"), 'Error from server (NotFound): pods "nope" not found')
        self.expect_err(self.k("delete", "job", "nope"), 'Error from server (NotFound): jobs.batch "nope" not found')
        # kubectl itself (1.33 at least) follows a 404 with a GET of the namespace and reports
        # that one when it is missing; the server answers both requests with plain NotFounds
        r = self.k("get", "job", "nope", "-n", "ghost")
        self.expect_rc(r, 1)
        if r.err.strip() not in ('Error from server (NotFound): jobs.batch "nope" not found',
                                 'Error from server (NotFound): namespaces "ghost" not found'):
            self.fail_with(r, "expected a NotFound for the job or the namespace")

    def test_strict_decoding_unknown_field(self):
        j = job("bogus")
        j["spec"]["bogusField"] = 1
        p = self.write("job-bogus.json", j)
        want = ('Error from server (BadRequest): error when creating "%s": Job in version "v1" cannot be handled as '
                'a Job: strict decoding error: unknown field "spec.bogusField"' % p)
        self.expect_err(self.k("create", "-f", p), want)
        self.expect_err(self.k("apply", "-f", p), want)
        j = job("bogus2")
        j["spec"]["template"]["spec"]["containers"][0]["foo"] = "x"
        j["spec"]["bogusField"] = 1
        p = self.write("job-bogus2.json", j)
        r = self.k("create", "-f", p)
        self.expect_err(r, 'Error from server (BadRequest): error when creating "%s": Job in version "v1" cannot be '
                           'handled as a Job: strict decoding error: unknown field "spec.bogusField", unknown field '
                           '"spec.template.spec.containers[0].foo"' % p)
        # --validate=false: unknown fields are dropped silently
        p = self.write("job-bogus3.json", dict(job("bogus3"), spec=dict(job("bogus3")["spec"], bogusField=1)))
        self.expect_out(self.k("create", "--validate=false", "-f", p), "job.batch/bogus3 created")

    def test_validation_messages(self):
        cases = [
            ("restart-always", job("ra", restart="Always"),
             'The Job "ra" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'),
            ("bad-name", job("Bad_Name"),
             'The Job "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ' + DNS1123),
            ("neg-parallelism", job("negp", spec={"parallelism": -1}),
             'The Job "negp" is invalid: spec.parallelism: Invalid value: -1: must be greater than or equal to 0'),
            ("neg-backoff", job("negb", spec={"backoffLimit": -1}),
             'The Job "negb" is invalid: spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0'),
            ("mode-foo", job("modefoo", spec={"completionMode": "Foo"}),
             'The Job "modefoo" is invalid: spec.completionMode: Unsupported value: "Foo": supported values: '
             '"NonIndexed", "Indexed"'),
            ("indexed-no-completions", job("idx", spec={"completionMode": "Indexed", "parallelism": 2}),
             'The Job "idx" is invalid: spec.completions: Required value: when completion mode is Indexed'),
        ]
        nores = job("noresp")
        del nores["spec"]["template"]["spec"]["restartPolicy"]
        cases.append(("restart-omitted", nores, 'The Job "noresp" is invalid: spec.template.spec.restartPolicy: '
                                                'Required value: valid values: "OnFailure", "Never"'))
        noimg = job("noimg")
        del noimg["spec"]["template"]["spec"]["containers"][0]["image"]
        cases.append(("no-image", noimg,
                      'The Job "noimg" is invalid: spec.template.spec.containers[0].image: Required value'))
        for fname, obj, want in cases:
            p = self.write(fname + ".json", obj)
            self.expect_err(self.k("create", "-f", p), want)
        self.expect_out(self.k("get", "jobs", "-o", "name"), "")


for _m in (VersionAndDiscovery, ApplyCreate, ApplyStrategicMerge, Get, Tables, Describe, Patch, Errors):
    per_version(_m, globals())
del _m

if __name__ == "__main__":
    unittest.main()
