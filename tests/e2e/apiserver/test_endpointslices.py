"""discovery.k8s.io/v1 EndpointSlices with the real kubectl (1.27 and 1.33): discovery, create from
YAML, the `kubectl get endpointslices` columns (printEndpointSlice: up to three ports and addresses,
then " + N more...", "<unset>" for none), label selection by service name, the endpoints
`kubectl describe service` (1.33) reads from them, and validation errors as kubectl shows them.

Each test gets a fresh server. An endpoint-slice controller may create slices of its own for
Services, so these tests only assert rows of the slices they create.
"""
import json
import re
import unittest

from jpserver import AGE, per_version

SVC_LABEL = "kubernetes.io/service-name"

WEB = """apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
- name: http
  port: 8080
endpoints:
- addresses: ["10.1.0.5"]
  conditions: {ready: true}
- addresses: ["10.1.0.6"]
"""

# five ports and five addresses: both cells are cut after three
BIG = """apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-xyz89
  labels:
    kubernetes.io/service-name: db
addressType: IPv4
ports:
- {name: a, port: 5432}
- {name: b, port: 5433}
- {name: c, port: 5434, protocol: UDP}
- {name: d, port: 5435}
- {name: e, port: 5436}
endpoints:
- addresses: ["10.2.0.1", "10.2.0.2"]
- addresses: ["10.2.0.3"]
- addresses: ["10.2.0.4"]
- addresses: ["10.2.0.5"]
"""

EMPTY = """apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: idle
  labels:
    kubernetes.io/service-name: idle
addressType: FQDN
"""

HEADER = r"NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE"
ROW_WEB = r"web-abc12\s+IPv4\s+8080\s+10\.1\.0\.5,10\.1\.0\.6\s+%s" % AGE
ROW_BIG = (r"db-xyz89\s+IPv4\s+5432,5433,5434 \+ 2 more\.\.\.\s+10\.2\.0\.1,10\.2\.0\.2,10\.2\.0\.3 \+ 2 more\.\.\."
           r"\s+%s" % AGE)
ROW_EMPTY = r"idle\s+FQDN\s+<unset>\s+<unset>\s+%s" % AGE


class EndpointSlices:
    def create_all(self):
        for name, text in (("web.yaml", WEB), ("db.yaml", BIG), ("idle.yaml", EMPTY)):
            obj = re.search(r"name: (\S+)", text).group(1)
            self.expect_out(self.k("create", "-f", self.write(name, text)),
                            "endpointslice.discovery.k8s.io/%s created" % obj)

    def test_discovery(self):
        _, groups = self.s.json("GET", "/apis", expect=200)
        g = {x["name"]: x for x in groups["groups"]}.get("discovery.k8s.io")
        self.assertEqual((g or {}).get("preferredVersion"), {"groupVersion": "discovery.k8s.io/v1", "version": "v1"})
        _, g = self.s.json("GET", "/apis/discovery.k8s.io", expect=200)
        self.assertEqual((g["kind"], g["name"]), ("APIGroup", "discovery.k8s.io"))
        _, rl = self.s.json("GET", "/apis/discovery.k8s.io/v1", expect=200)
        by = {r["name"]: r for r in rl["resources"]}
        self.assertEqual(sorted(by), ["endpointslices"])
        es = by["endpointslices"]
        self.assertEqual((es["kind"], es["singularName"], es["namespaced"]), ("EndpointSlice", "endpointslice", True))
        self.assertNotIn("shortNames", es)
        self.assertEqual(es["verbs"], ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"])
        # what kubectl 1.33's describe service asks for, before any slice exists
        _, lst = self.s.json("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector="
                             "kubernetes.io%2Fservice-name%3Dweb", expect=200)
        self.assertEqual((lst["kind"], lst["apiVersion"], lst["items"]),
                         ("EndpointSliceList", "discovery.k8s.io/v1", []))
        self.expect_lines(self.k("api-resources", "--api-group=discovery.k8s.io"), [
            r"NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND",
            r"endpointslices\s+discovery\.k8s\.io/v1\s+true\s+EndpointSlice"])
        _, doc = self.s.json("GET", "/openapi/v3/apis/discovery.k8s.io/v1", expect=200)
        self.assertIn("/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices/{name}", doc["paths"])

    def test_create_get_and_select_by_service(self):
        self.create_all()
        self.expect_lines(self.k("get", "endpointslices"), [HEADER, ROW_BIG, ROW_EMPTY, ROW_WEB])
        r = self.k("get", "endpointslices", "-l", SVC_LABEL + "=web")
        self.expect_lines(r, [HEADER, ROW_WEB])
        self.assertEqual(len(r.out.rstrip("\n").split("\n")), 2, r.out)
        r = self.k("get", "endpointslices", "-l", SVC_LABEL + " in (db,idle)", "-o", "name")
        self.expect_out(r, "endpointslice.discovery.k8s.io/db-xyz89\nendpointslice.discovery.k8s.io/idle")
        self.expect_err(self.k("get", "endpointslices", "-l", SVC_LABEL + "=nothing"),
                        "No resources found in default namespace.", rc=0)
        self.expect_lines(self.k("get", "endpointslice", "web-abc12"), [HEADER, ROW_WEB])
        # defaults: each port gets a protocol and a name; the generation starts at 1
        obj = self.get_json("endpointslice", "db-xyz89")
        self.assertEqual([(p["name"], p["protocol"]) for p in obj["ports"]],
                         [("a", "TCP"), ("b", "TCP"), ("c", "UDP"), ("d", "TCP"), ("e", "TCP")])
        self.assertEqual(obj["metadata"]["generation"], 1)
        self.expect_out(self.k("delete", "endpointslice", "idle"),
                        'endpointslice.discovery.k8s.io "idle" deleted')

    def test_describe_service_lists_slice_endpoints(self):
        self.expect_out(self.k("create", "-f", self.write("web.yaml", WEB)),
                        "endpointslice.discovery.k8s.io/web-abc12 created")
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
        self.create(svc, "service/web created")
        r = self.k("describe", "service", "web")
        if self.V == "1.27":
            self.expect_rc(r, 0)  # 1.27 still reads the core/v1 Endpoints
        else:
            self.expect_lines(r, [r"Name:\s+web", r"Port:\s+http\s+80/TCP", r"TargetPort:\s+8080/TCP",
                                  r"Endpoints:\s+10\.1\.0\.5:8080,10\.1\.0\.6:8080"])
        self.expect_lines(self.k("describe", "endpointslice", "web-abc12"), [
            r"Name:\s+web-abc12", r"Labels:\s+kubernetes\.io/service-name=web", r"AddressType:\s+IPv4"])

    def test_validation_errors(self):
        cases = [
            ("bad-type", WEB.replace("addressType: IPv4", "addressType: IP").replace("web-abc12", "bad-type"),
             'The EndpointSlice "bad-type" is invalid: addressType: Unsupported value: "IP": supported values: '
             '"FQDN", "IPv4", "IPv6"'),
            ("no-type", WEB.replace("addressType: IPv4\n", "").replace("web-abc12", "no-type"),
             'The EndpointSlice "no-type" is invalid: addressType: Required value'),
            ("no-addresses", WEB.replace('addresses: ["10.1.0.6"]', "addresses: []").replace("web-abc12", "no-addr"),
             'The EndpointSlice "no-addr" is invalid: endpoints[1].addresses: Required value: must contain at '
             'least 1 address'),
            ("link-local", WEB.replace("10.1.0.5", "169.254.169.254").replace("web-abc12", "ll"),
             'The EndpointSlice "ll" is invalid: endpoints[0].addresses[0]: Invalid value: "169.254.169.254": '
             'may not be in the link-local range (169.254.0.0/16, fe80::/10)'),
            ("not-ipv4", WEB.replace("10.1.0.5", "fd00::5").replace("web-abc12", "v6"),
             'The EndpointSlice "v6" is invalid: endpoints[0].addresses[0]: Invalid value: "fd00::5": must be a '
             'valid IPv4 address'),
        ]
        for fname, text, want in cases:
            self.expect_err(self.k("create", "-f", self.write(fname + ".yaml", text)), want)
        self.expect_out(self.k("create", "-f", self.write("web.yaml", WEB)),
                        "endpointslice.discovery.k8s.io/web-abc12 created")
        r = self.k("patch", "endpointslice", "web-abc12", "--type=merge", "-p",
                   json.dumps({"addressType": "FQDN", "endpoints": [{"addresses": ["web.example.com"]}]}))
        self.expect_err(r, 'The EndpointSlice "web-abc12" is invalid: addressType: Invalid value: "FQDN": '
                           'field is immutable')
        # a change outside metadata counts as a new generation
        self.expect_out(self.k("patch", "endpointslice", "web-abc12", "--type=merge", "-p",
                               json.dumps({"endpoints": [{"addresses": ["10.1.0.9"]}]})),
                        "endpointslice.discovery.k8s.io/web-abc12 patched")
        obj = self.get_json("endpointslice", "web-abc12")
        self.assertEqual((obj["metadata"]["generation"], obj["endpoints"]), (2, [{"addresses": ["10.1.0.9"]}]))
        # beside the API's own (default/kubernetes), only the valid one was made
        self.expect_out(self.k("get", "endpointslices", "-l", SVC_LABEL, "-o", "name"),
                        "endpointslice.discovery.k8s.io/kubernetes\nendpointslice.discovery.k8s.io/web-abc12")


per_version(EndpointSlices, globals())

if __name__ == "__main__":
    unittest.main()
