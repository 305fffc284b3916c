"""RBAC objects (rbac.authorization.k8s.io/v1) through the real kubectl 1.27 and 1.33: manifests
that bundle a Role and RoleBinding with their Job apply unchanged, kubectl's generators work, the
Tables, -o wide and describe print what a cluster prints, defaults are filled in, and bad objects
get kube-apiserver's own messages. Nothing enforces the rules: every authenticated client may do
everything (docs/server.md).
"""
import json
import re
import unittest

from jpserver import AGE, Case, per_version, wait_until

BUNDLE = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
subjects:
- kind: ServiceAccount
  name: runner
  namespace: default
- kind: User
  name: jane
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: job-watcher
rules:
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch"]
- nonResourceURLs: ["/healthz"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: watch-jobs
subjects:
- kind: Group
  name: devs
roleRef:
  kind: ClusterRole
  name: job-watcher
"""

CREATED_AT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


class Rbac:
    """Mixed into a KubectlCase per kubectl version (V)."""

    def test_a_bundle_applies_and_prints_as_on_a_cluster(self):
        path = self.write("rbac.yaml", BUNDLE)
        self.expect_out(self.k("apply", "-f", path),
                        "serviceaccount/runner created\n"
                        "role.rbac.authorization.k8s.io/pod-reader created\n"
                        "rolebinding.rbac.authorization.k8s.io/read-pods created\n"
                        "clusterrole.rbac.authorization.k8s.io/job-watcher created\n"
                        "clusterrolebinding.rbac.authorization.k8s.io/watch-jobs created")
        # as on a cluster: subjects is an atomic list, and the server gave the User and the Group
        # their apiGroup, so every apply sends the list again (and nothing changes)
        rv = self.get_json("rolebinding", "read-pods")["metadata"]["resourceVersion"]
        self.expect_out(self.k("apply", "-f", path),
                        "serviceaccount/runner unchanged\n"
                        "role.rbac.authorization.k8s.io/pod-reader unchanged\n"
                        "rolebinding.rbac.authorization.k8s.io/read-pods configured\n"
                        "clusterrole.rbac.authorization.k8s.io/job-watcher unchanged\n"
                        "clusterrolebinding.rbac.authorization.k8s.io/watch-jobs configured")
        self.assertEqual(self.get_json("rolebinding", "read-pods")["metadata"]["resourceVersion"], rv)
        self.expect_out(self.k("get", "roles"), re.compile(
            r"NAME +CREATED AT\npod-reader +%s" % CREATED_AT))
        self.expect_out(self.k("get", "rolebindings", "-o", "wide"), re.compile(
            r"NAME +ROLE +AGE +USERS +GROUPS +SERVICEACCOUNTS\n"
            r"read-pods +Role/pod-reader +%s +jane +default/runner" % AGE))
        self.expect_out(self.k("get", "clusterrole", "job-watcher"), re.compile(
            r"NAME +CREATED AT\njob-watcher +%s" % CREATED_AT))
        self.expect_out(self.k("get", "clusterrolebindings", "-o", "wide"), re.compile(
            r"NAME +ROLE +AGE +USERS +GROUPS +SERVICEACCOUNTS\n"
            r"watch-jobs +ClusterRole/job-watcher +%s +devs *" % AGE))
        # the v1 defaults: the roleRef's group, a User's or Group's group; none for an account
        crb = self.get_json("clusterrolebinding", "watch-jobs")
        self.assertEqual(crb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io")
        self.assertEqual(crb["subjects"], [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                            "name": "devs"}])
        rb = self.get_json("rolebinding", "read-pods")
        self.assertNotIn("apiGroup", rb["subjects"][0])
        self.expect_lines(self.k("describe", "rolebinding", "read-pods"), [
            r"Name: +read-pods", r"Role:", r"  Kind: +Role", r"  Name: +pod-reader", r"Subjects:",
            r"  Kind +Name +Namespace", r"  ServiceAccount +runner +default", r"  User +jane"])
        self.expect_lines(self.k("describe", "clusterrole", "job-watcher"), [
            r"Name: +job-watcher", r"PolicyRule:",
            r"  Resources +Non-Resource URLs +Resource Names +Verbs",
            r" +\[/healthz\] +\[\] +\[get\]",
            r"  jobs.batch +\[\] +\[\] +\[get list watch\]"], ordered=False)
        # cluster-scoped: no namespace; the namespaced ones go with their namespace
        self.assertNotIn("namespace", self.get_json("clusterrole", "job-watcher")["metadata"])
        self.ok("create", "namespace", "team")
        self.ok("create", "role", "r", "-n", "team", "--verb=get", "--resource=pods")
        self.ok("delete", "namespace", "team")
        path = "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles/r"
        wait_until(lambda: self.s.http("GET", path)[0] == 404, 20, "role r gone with its namespace")
        self.assertEqual(self.s.json("GET", path, expect=404)[1]["message"],
                         'roles.rbac.authorization.k8s.io "r" not found')

    def test_kubectls_generators(self):
        self.expect_out(self.k("create", "clusterrole", "reader", "--verb=get,list",
                               "--resource=pods,jobs.batch"),
                        "clusterrole.rbac.authorization.k8s.io/reader created")
        self.assertEqual(self.get_json("clusterrole", "reader")["rules"], [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
            {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list"]}])
        self.expect_out(self.k("create", "role", "one", "--verb=get", "--resource=configmaps",
                               "--resource-name=settings"),
                        "role.rbac.authorization.k8s.io/one created")
        self.expect_out(self.k("create", "rolebinding", "b", "--clusterrole=reader", "--user=u1",
                               "--group=g1", "--serviceaccount=default:runner"),
                        "rolebinding.rbac.authorization.k8s.io/b created")
        self.expect_out(self.k("get", "rolebinding", "b", "-o", "wide"), re.compile(
            r"NAME +ROLE +AGE +USERS +GROUPS +SERVICEACCOUNTS\n"
            r"b +ClusterRole/reader +%s +u1 +g1 +default/runner" % AGE))
        self.expect_out(self.k("create", "clusterrolebinding", "cb", "--clusterrole=reader",
                               "--serviceaccount=default:runner"),
                        "clusterrolebinding.rbac.authorization.k8s.io/cb created")
        # what a binding grants is fixed
        r = self.k("patch", "rolebinding", "b", "--type=merge", "-p", '{"roleRef":{"name":"other"}}')
        self.expect_err(r, 'The RoleBinding "b" is invalid: roleRef: Invalid value: '
                           'rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", '
                           'Name:"other"}: cannot change roleRef')
        self.ok("patch", "rolebinding", "b", "--type=merge", "-p", '{"subjects":[{"kind":"User","name":"u2"}]}')
        self.assertEqual(self.get_json("rolebinding", "b")["subjects"],
                         [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "u2"}])

    def test_invalid_objects_get_the_apiservers_messages(self):
        bad = self.write("bad.yaml", """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: bad
rules:
- resources: ["pods"]
- nonResourceURLs: ["/x"]
  apiGroups: [""]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: bad
subjects:
- kind: ServiceAccount
  name: Bad_Name
  apiGroup: x
- kind: Robot
  name: r2
- kind: User
roleRef:
  kind: Thing
  name: a/b
  apiGroup: other
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: bad
subjects:
- kind: ServiceAccount
  name: sa
roleRef:
  kind: Role
  name: x
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: bad
aggregationRule: {}
""")
        when = 'Error from server (Invalid): error when creating "%s": ' % bad
        self.expect_err(self.k("apply", "-f", bad), "\n".join([
            when + 'Role.rbac.authorization.k8s.io "bad" is invalid: ['
            'rules[0].verbs: Required value: verbs must contain at least one value, '
            'rules[0].apiGroups: Required value: resource rules must supply at least one api group, '
            'rules[1].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to '
            'non-resource URLs, '
            'rules[1].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both regular '
            'resources and non-resource URLs]',
            when + 'RoleBinding.rbac.authorization.k8s.io "bad" is invalid: ['
            'roleRef.apiGroup: Unsupported value: "other": supported values: "rbac.authorization.k8s.io", '
            'roleRef.kind: Unsupported value: "Thing": supported values: "Role", "ClusterRole", '
            "roleRef.name: Invalid value: \"a/b\": may not contain '/', "
            'subjects[0].name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of '
            "lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), "
            'subjects[0].apiGroup: Unsupported value: "x": supported values: "", '
            'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", '
            '"Group", '
            'subjects[2].name: Required value]',
            when + 'ClusterRoleBinding.rbac.authorization.k8s.io "bad" is invalid: ['
            'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", '
            'subjects[0].namespace: Required value]',
            when + 'ClusterRole.rbac.authorization.k8s.io "bad" is invalid: '
            'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector '
            'required if aggregationRule is non-nil']))
        for kind in ("roles", "rolebindings", "clusterrolebindings", "clusterroles"):
            self.expect_out(self.k("get", kind), "", stream="out")


per_version(Rbac, globals())


class PythonClient(Case):
    """The Python client's RbacAuthorizationV1Api, decoding into its own models."""

    def test_roles_round_trip(self):
        try:
            from kubernetes import client, config
        except ImportError:
            self.skipTest("the kubernetes Python module is not installed (python3-kubernetes)")
        cfg = client.Configuration()
        config.load_kube_config(config_file=self.s.kubeconfig, client_configuration=cfg)
        api_client = client.ApiClient(cfg)
        self.addCleanup(api_client.close)
        api = client.RbacAuthorizationV1Api(api_client)
        subject = getattr(client, "RbacV1Subject", None) or client.V1Subject  # renamed in v23
        api.create_namespaced_role("default", client.V1Role(
            metadata=client.V1ObjectMeta(name="r"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get"])]))
        api.create_namespaced_role_binding("default", client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="b"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="r"),
            subjects=[subject(kind="ServiceAccount", name="default", namespace="default")]))
        roles = api.list_namespaced_role("default").items
        self.assertEqual([(r.metadata.name, r.rules[0].verbs) for r in roles], [("r", ["get"])])
        b = api.read_namespaced_role_binding("b", "default")
        self.assertEqual((b.role_ref.kind, b.subjects[0].name), ("Role", "default"))
        self.assertEqual(api.list_cluster_role().items, [])
        with self.assertRaises(client.ApiException) as e:
            api.create_cluster_role_binding(client.V1ClusterRoleBinding(
                metadata=client.V1ObjectMeta(name="x"),
                role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="r")))
        self.assertEqual(e.exception.status, 422)
        self.assertEqual(json.loads(e.exception.body)["details"]["causes"][0]["field"], "roleRef.kind")


if __name__ == "__main__":
    unittest.main()
