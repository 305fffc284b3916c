"""Authentication of `jobplane server` (kubectl-protocol.md §11): anonymous requests get 401 with a
Status body except /healthz, /livez, /readyz and /version; the client certificate and the bearer
token in DATA/token both work; kubectl with a wrong token prints the Unauthorized message.
"""
import base64
import http.client
import json
import re
import os
import shutil
import ssl
import subprocess
import unittest

import yaml

from jpserver import Case, per_version, wait_until

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized",
                "reason": "Unauthorized", "code": 401}


class RawAuth(Case):
    def test_anonymous_gets_401_status(self):
        for path in ("/api", "/apis", "/api/v1/namespaces/default/pods", "/apis/batch/v1/namespaces/default/jobs/x",
                     "/openapi/v2", "/metrics"):
            st, hd, body = self.s.http("GET", path, auth=None)
            self.assertEqual(st, 401, "anonymous GET %s: expected 401, got %s %r" % (path, st, body[:300]))
            self.assertEqual(hd.get("content-type"), "application/json", "anonymous GET %s Content-Type" % path)
            self.assertEqual(json.loads(body), UNAUTHORIZED, "anonymous GET %s body" % path)
        st, _, body = self.s.http("POST", "/api/v1/namespaces/default/pods", {"kind": "Pod"}, auth=None)
        self.assertEqual(st, 401, "anonymous POST: %s %r" % (st, body[:300]))

    def test_public_endpoints(self):
        for path in ("/healthz", "/livez", "/readyz"):
            st, _, body = self.s.http("GET", path, auth=None)
            self.assertEqual((st, body), (200, b"ok"), "anonymous GET %s" % path)
        st, hd, body = self.s.http("GET", "/version", auth=None)
        self.assertEqual(st, 200, "anonymous GET /version: %r" % body[:300])
        v = json.loads(body)
        self.assertEqual((v.get("major"), v.get("minor"), v.get("gitVersion")), ("1", "33", "v1.33.0-jobplane"))

    def test_token_and_client_cert(self):
        for auth in ("cert", "token"):
            st, _, body = self.s.http("GET", "/api", auth=auth)
            self.assertEqual(st, 200, "GET /api with %s: %s %r" % (auth, st, body[:300]))
            self.assertEqual(json.loads(body).get("kind"), "APIVersions")
        for token in ("wrong", self.s.token() + "x", self.s.token()[:-1], ""):
            st, _, body = self.s.http("GET", "/api", headers={"Authorization": "Bearer " + token}, auth=None)
            self.assertEqual(st, 401, "GET /api with token %r: %s %r" % (token[:8], st, body[:300]))
            self.assertEqual(json.loads(body), UNAUTHORIZED)
        st, _, body = self.s.http("GET", "/api", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}, auth=None)
        self.assertEqual(st, 401, "Basic auth must not be accepted: %s" % st)
        # the scheme in any case (the Python client's in-cluster configuration says "bearer")
        for scheme in ("bearer", "BEARER"):
            st, _, body = self.s.http("GET", "/api", headers={"Authorization": scheme + " " + self.s.token()},
                                      auth=None)
            self.assertEqual(st, 200, "GET /api with %s: %s %r" % (scheme, st, body[:300]))

    def test_foreign_client_cert_rejected(self):
        """A client certificate signed by another CA must not authenticate (TLS error or 401)."""
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        d = os.path.join(self.s.tmp, "foreign")
        os.makedirs(d)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", d + "/k.pem", "-out", d + "/c.pem", "-days", "1",
                        "-subj", "/O=system:masters/CN=admin", "-addext", "extendedKeyUsage=clientAuth"],
                       check=True, capture_output=True)
        ctx = self.s.ssl_context(auth=None)
        ctx.load_cert_chain(d + "/c.pem", d + "/k.pem")
        c = http.client.HTTPSConnection("127.0.0.1", self.s.port, context=ctx, timeout=10)
        try:
            c.request("GET", "/api")
            r = c.getresponse()
            st = r.status
            r.read()
        except (ssl.SSLError, ConnectionError, OSError):
            st = "TLS-rejected"
        finally:
            c.close()
        self.assertIn(st, (401, "TLS-rejected"), "a self-signed O=system:masters client cert was accepted")

    def test_curl_k(self):
        if not shutil.which("curl"):
            self.skipTest("curl not installed")
        r = subprocess.run(["curl", "-sk", "-o", "-", "-w", "\n%{http_code}", "--noproxy", "*",
                            "%s/api" % self.s.base], capture_output=True, text=True, timeout=20)
        body, _, code = r.stdout.rpartition("\n")
        self.assertEqual(code, "401", "curl -k %s/api: %r" % (self.s.base, r.stdout))
        self.assertEqual(json.loads(body), UNAUTHORIZED)
        r = subprocess.run(["curl", "-sk", "--noproxy", "*", "%s/healthz" % self.s.base], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.stdout, "ok")


class KubectlAuth:
    def kubeconfig_with_user(self, user):
        with open(self.s.kubeconfig) as f:
            kc = yaml.safe_load(f)
        for u in kc["users"]:
            u["user"] = user
        p = os.path.join(self.s.tmp, "kubeconfig-%s" % len(os.listdir(self.s.tmp)))
        with open(p, "w") as f:
            yaml.safe_dump(kc, f)
        return p

    def test_wrong_token_unauthorized(self):
        # (a user with no credentials at all makes kubectl prompt for a username; not a server matter)
        for user in ({"token": "wrong-token"}, {"token": self.s.token()[:-1] + ("0" if self.s.token()[-1] != "0" else "1")}):
            kc = self.kubeconfig_with_user(user)
            # No discovery first: client-go decodes the 401 Status body, so its message shows.
            r = self.s.kubectl(self.V, "get", "--raw", "/api/v1/namespaces/default/pods", kubeconfig=kc)
            self.expect_err(r, "error: You must be logged in to the server (Unauthorized)")
            # Discovery first: aggregated discovery reads the raw body (Result.Raw), so kubectl logs
            # memcache E-lines and reports client-go's generic 401 text, as against a real cluster.
            r = self.s.kubectl(self.V, "get", "jobs", kubeconfig=kc)
            self.expect_rc(r, 1)
            last = r.err.rstrip("\n").split("\n")[-1]
            if last not in ("error: You must be logged in to the server (Unauthorized)",
                            "error: You must be logged in to the server (the server has asked for the client to "
                            "provide credentials)"):
                self.fail_with(r, "expected the last stderr line: error: You must be logged in to the server "
                                  "(Unauthorized) [or, after discovery, (the server has asked for the client to "
                                  "provide credentials)]")

    def test_good_token(self):
        kc = self.kubeconfig_with_user({"token": self.s.token()})
        r = self.s.kubectl(self.V, "get", "jobs", kubeconfig=kc)
        self.expect_out(r, "")
        self.expect_out(r, "No resources found in default namespace.", stream="err")
        # CA given as a file path instead of inline data, and the cert/key as file paths
        with open(self.s.kubeconfig) as f:
            kc = yaml.safe_load(f)
        kc["clusters"][0]["cluster"].pop("certificate-authority-data")
        kc["clusters"][0]["cluster"]["certificate-authority"] = os.path.join(self.s.data_dir, "ca.crt")
        kc["users"][0]["user"] = {"client-certificate": os.path.join(self.s.data_dir, "admin.crt"),
                                  "client-key": os.path.join(self.s.data_dir, "admin.key")}
        p = os.path.join(self.s.tmp, "kubeconfig-files")
        with open(p, "w") as f:
            yaml.safe_dump(kc, f)
        r = self.s.kubectl(self.V, "get", "ns", "default", "-o", "name", kubeconfig=p)
        self.expect_out(r, "namespace/default")


per_version(KubectlAuth, globals())


def jwt_claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class ServiceAccountTokens:
    """kubectl create token (TokenRequest), and the API taking such a token while its account (and
    the pod it is bound to) lives, as kube-apiserver's service account authenticator does."""
    kubeconfig_with_user = KubectlAuth.kubeconfig_with_user

    def token(self, *args):
        r = self.k("create", "token", *args)
        self.expect_rc(r, 0)
        return r.out.strip()

    def status(self, token, path="/api"):
        return self.s.http("GET", path, headers={"Authorization": "Bearer " + token}, auth=None)[0]

    def test_create_token_and_use_it(self):
        self.assertEqual(os.stat(os.path.join(self.s.data_dir, "sa.key")).st_mode & 0o777, 0o600)
        self.ok("create", "serviceaccount", "robot")
        token = self.token("robot")
        c = jwt_claims(token)
        self.assertEqual((c["iss"], c["aud"], c["sub"]), (
            "https://kubernetes.default.svc.cluster.local", ["https://kubernetes.default.svc.cluster.local"],
            "system:serviceaccount:default:robot"))
        self.assertEqual(c["exp"] - c["iat"], 3600)
        self.assertEqual(c["kubernetes.io"]["serviceaccount"]["uid"], self.uid("sa", "robot"))
        self.assertEqual(self.status(token), 200)
        kc = self.kubeconfig_with_user({"token": token})
        self.expect_out(self.s.kubectl(self.V, "get", "--raw", "/version", kubeconfig=kc), re.compile(r"(?s)\{.*\}"))
        # one changed character, or a token for another audience, is nobody's
        tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
        self.assertEqual(self.status(tampered), 401)
        self.assertEqual(self.status(self.token("robot", "--audience=vault")), 401)
        # the account gone - or gone and made again, with another uid - takes its tokens along
        self.ok("delete", "serviceaccount", "robot")
        self.assertEqual(self.status(token), 401)
        self.ok("create", "serviceaccount", "robot")
        self.assertEqual(self.status(token), 401)
        c = jwt_claims(self.token("robot", "--duration=2h"))
        self.assertEqual(c["exp"] - c["iat"], 7200)

    def test_a_pod_bound_token_lives_with_its_pod(self):
        self.ok("create", "serviceaccount", "robot")
        # bound to a node (no agent here): its deletion waits for the grace period
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"serviceAccountName": "robot", "nodeName": "elsewhere",
                              "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}})
        token = self.token("robot", "--bound-object-kind=Pod", "--bound-object-name=p")
        pod = jwt_claims(token)["kubernetes.io"]["pod"]
        self.assertEqual(pod, {"name": "p", "uid": self.uid("pod", "p")})
        self.assertEqual(self.status(token), 200)
        # while it terminates (nothing ends it here), its token still works, as on a cluster
        self.ok("delete", "pod", "p", "--wait=false")
        self.assertIn("deletionTimestamp", self.s.json("GET", "/api/v1/namespaces/default/pods/p")[1]["metadata"])
        self.assertEqual(self.status(token), 200)
        self.ok("delete", "pod", "p", "--grace-period=0", "--force")
        wait_until(lambda: self.status(token) == 401, 20, "the pod's token to stop working")

    def test_rbac_decides_what_an_account_may_do(self):
        """As on a cluster: nothing but discovery until a binding grants more; the grant is what
        the rules say (verbs, resources, names), in the binding's namespace or everywhere."""
        self.ok("create", "serviceaccount", "robot")
        self.ok("create", "secret", "generic", "s1", "--from-literal=k=v")
        kc = self.kubeconfig_with_user({"token": self.token("robot")})

        def as_robot(*args):
            return self.s.kubectl(self.V, *args, kubeconfig=kc)

        def forbidden(what, verb, resource, ns="default", group=""):
            where = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
            return ('Error from server (Forbidden): %s is forbidden: User "system:serviceaccount:default:robot" '
                    'cannot %s resource "%s" in API group "%s" %s' % (what, verb, resource, group, where))

        self.expect_err(as_robot("get", "pods"), forbidden("pods", "list", "pods"))
        self.expect_err(as_robot("get", "jobs"), forbidden("jobs.batch", "list", "jobs", group="batch"))
        self.ok("create", "rolebinding", "robot-view", "--clusterrole=view", "--serviceaccount=default:robot")
        self.expect_err(as_robot("get", "pods"), "No resources found in default namespace.", rc=0)
        self.expect_err(as_robot("get", "secret", "s1"), forbidden('secrets "s1"', "get", "secrets"))
        self.expect_err(as_robot("delete", "sa", "robot"), forbidden('serviceaccounts "robot"', "delete",
                                                                     "serviceaccounts"))
        self.expect_err(as_robot("get", "pods", "-n", "kube-system"), forbidden("pods", "list", "pods",
                                                                                ns="kube-system"))
        # a Role naming the one secret it may read
        self.ok("create", "role", "s1-reader", "--verb=get", "--resource=secrets", "--resource-name=s1")
        self.ok("create", "rolebinding", "s1", "--role=s1-reader", "--serviceaccount=default:robot")
        self.expect_out(as_robot("get", "secret", "s1", "-o", "name"), "secret/s1")
        self.expect_err(as_robot("get", "secrets"), forbidden("secrets", "list", "secrets"))
        # cluster-wide, through a group
        self.expect_err(as_robot("get", "nodes"), forbidden("nodes", "list", "nodes", ns=None))
        self.ok("create", "clusterrolebinding", "all-accounts", "--clusterrole=cluster-admin",
                "--group=system:serviceaccounts")
        self.expect_rc(as_robot("get", "nodes"))
        self.expect_rc(as_robot("delete", "secret", "s1"))

    def test_can_i_and_impersonation(self):
        """kubectl auth can-i (SelfSubjectAccessReview), and --as / --as-group, which only the
        admin (or an account RBAC lets impersonate) may use."""
        self.ok("create", "serviceaccount", "robot")
        robot = "--as=system:serviceaccount:default:robot"

        def can(*args, kubeconfig=None):
            r = self.s.kubectl(self.V, "auth", "can-i", *args, kubeconfig=kubeconfig)
            return r.out.strip() if r.rc in (0, 1) else r

        self.assertEqual(can("list", "pods"), "yes")
        self.assertEqual(can("list", "pods", robot), "no")
        self.expect_err(self.k("get", "pods", robot),
                        'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:robot" '
                        'cannot list resource "pods" in API group "" in the namespace "default"')
        self.ok("create", "rolebinding", "v", "--clusterrole=view", "--serviceaccount=default:robot")
        self.assertEqual([can("list", "pods", robot), can("get", "secrets", robot),
                          can("list", "pods", "-n", "kube-system", robot), can("get", "/metrics", robot)],
                         ["yes", "no", "no", "no"])
        self.expect_err(self.k("get", "pods", robot), "No resources found in default namespace.", rc=0)
        # groups: a user of a bound group, and system:masters being the admin again
        self.ok("create", "rolebinding", "devs", "--clusterrole=edit", "--group=devs")
        self.assertEqual([can("create", "jobs", "--as=jane"), can("create", "jobs", "--as=jane", "--as-group=devs")],
                         ["no", "yes"])
        self.assertEqual(can("delete", "nodes", "--as=x", "--as-group=system:masters"), "yes")
        # the account asks for itself with its token; it may not impersonate anyone
        kc = self.kubeconfig_with_user({"token": self.token("robot")})
        self.assertEqual([can("list", "pods", kubeconfig=kc), can("delete", "pods", kubeconfig=kc)], ["yes", "no"])
        r = self.s.kubectl(self.V, "get", "pods", "--as=jane", kubeconfig=kc)
        self.expect_err(r, 'Error from server (Forbidden): users "jane" is forbidden: User '
                           '"system:serviceaccount:default:robot" cannot impersonate resource "users" in API '
                           'group "" at the cluster scope')

    def test_an_account_cannot_grant_what_it_lacks(self):
        self.ok("create", "serviceaccount", "robot")
        self.ok("create", "role", "binder", "--verb=create", "--resource=rolebindings")
        self.ok("create", "rolebinding", "binder", "--role=binder", "--serviceaccount=default:robot")
        kc = self.kubeconfig_with_user({"token": self.token("robot")})
        r = self.s.kubectl(self.V, "create", "rolebinding", "mine", "--clusterrole=cluster-admin",
                           "--serviceaccount=default:robot", kubeconfig=kc)
        self.expect_err(r, 'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io is '
                           'forbidden: user "system:serviceaccount:default:robot" is attempting to grant RBAC '
                           'permissions not currently held (no bind on the role)')
        # allowed to bind view (and only view): that binding goes through
        self.ok("create", "role", "bind-view", "--verb=bind", "--resource=clusterroles", "--resource-name=view")
        self.ok("create", "rolebinding", "bind-view", "--role=bind-view", "--serviceaccount=default:robot")
        r = self.s.kubectl(self.V, "create", "rolebinding", "mine", "--clusterrole=view",
                           "--serviceaccount=default:robot", kubeconfig=kc)
        self.expect_out(r, "rolebinding.rbac.authorization.k8s.io/mine created")
        # no way around through the paths: /metrics however spelled, a single object's ?watch
        token = self.token("robot")
        for path in ("/metrics", "/metrics/", "//metrics"):
            self.assertEqual(self.status(token, path), 403, path)
        self.ok("create", "role", "watch-only", "--verb=watch", "--resource=secrets")
        self.ok("create", "rolebinding", "watch-only", "--role=watch-only", "--serviceaccount=default:robot")
        self.assertEqual(self.status(token, "/api/v1/namespaces/default/secrets/s?watch=1"), 403)
        self.assertEqual(self.status(token, "/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1"), 200)

    def test_refusals(self):
        self.ok("create", "serviceaccount", "robot")
        self.expect_err(self.k("create", "token", "robot", "--duration=10s"),
                        'error: failed to create token: TokenRequest.authentication.k8s.io "robot" is invalid: '
                        'spec.expirationSeconds: Invalid value: 10: may not specify a duration less than 10 minutes')
        self.expect_err(self.k("create", "token", "nobody"),
                        'error: failed to create token: serviceaccounts "nobody" not found')
        self.expect_err(self.k("create", "token", "robot", "--bound-object-kind=Pod", "--bound-object-name=p"),
                        'error: failed to create token: pods "p" not found')
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}})
        self.expect_err(self.k("create", "token", "robot", "--bound-object-kind=Pod", "--bound-object-name=p"),
                        'error: failed to create token: cannot bind token for serviceaccount "robot" to pod '
                        'running with different serviceaccount name.')
        # a pod's own token projection: TokenRequest's bounds, and a path
        bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t"},
               "spec": {"containers": [{"name": "c", "image": "busybox"}],
                        "volumes": [{"name": "t", "projected": {"sources": [
                            {"serviceAccountToken": {"expirationSeconds": 5}}]}}]}}
        self.expect_err(self.k("create", "-f", "-", stdin=json.dumps(bad)),
                        'The Pod "t" is invalid: \n'
                        '* spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid '
                        'value: 5: may not specify a duration less than 10 minutes\n'
                        '* spec.volumes[0].projected.sources[0].serviceAccountToken.path: Required value')
        st, body = self.s.json("GET", "/api/v1")
        token_sub = [r for r in body["resources"] if r["name"] == "serviceaccounts/token"]
        self.assertEqual(token_sub, [{"name": "serviceaccounts/token", "singularName": "", "namespaced": True,
                                      "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest",
                                      "verbs": ["create"]}])


per_version(ServiceAccountTokens, globals())

if __name__ == "__main__":
    unittest.main()
