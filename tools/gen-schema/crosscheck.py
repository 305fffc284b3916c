#!/usr/bin/python3
"""Checks the schema gen.py builds against the Kubernetes Go types, and derives
patch-strategies.tsv and proto-fields.tsv from their struct tags. Maintenance tool, not part of
the build: run it when moving to a new client-node release, with checkouts of k8s.io/api and
k8s.io/apimachinery at the matching release branch (e.g. release-1.36):

    tools/gen-schema/run.sh --dump-models /tmp/models.json
    tools/gen-schema/crosscheck.py --models /tmp/models.json \\
        --api ~/src/api --apimachinery ~/src/apimachinery [--write-tsv]

It walks the models and the Go structs side by side from gen.ROOTS, matching fields by JSON
name, and reports: fields only one side has, JSON types that disagree (this is what checks
gen.QUANTITY_FIELDS and the IntOrString/Time/MicroTime/bytes mapping), Go struct names that
gen.go_name() gets wrong, and patch strategies, protobuf field numbers or Go field shapes
(pointer, omitempty) that differ from the two TSV files. --write-tsv rewrites both instead."""

import argparse
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

# Go packages the served types live in: import path -> (dir relative to a checkout, checkout).
PACKAGES = {
    "k8s.io/api/core/v1": ("core/v1", "api"),
    "k8s.io/api/batch/v1": ("batch/v1", "api"),
    "k8s.io/api/apps/v1": ("apps/v1", "api"),
    "k8s.io/api/autoscaling/v1": ("autoscaling/v1", "api"),
    "k8s.io/api/discovery/v1": ("discovery/v1", "api"),
    "k8s.io/api/rbac/v1": ("rbac/v1", "api"),
    "k8s.io/api/authentication/v1": ("authentication/v1", "api"),
    "k8s.io/api/authorization/v1": ("authorization/v1", "api"),
    "k8s.io/apimachinery/pkg/apis/meta/v1": ("pkg/apis/meta/v1", "apimachinery"),
}
META = "k8s.io/apimachinery/pkg/apis/meta/v1"

# Go types with their own JSON form, by (import path, name).
SPECIAL = {
    ("k8s.io/apimachinery/pkg/api/resource", "Quantity"): "JP_F_QUANTITY",
    ("k8s.io/apimachinery/pkg/util/intstr", "IntOrString"): "JP_F_INT_OR_STRING",
    ("k8s.io/apimachinery/pkg/runtime", "RawExtension"): "JP_F_ANY",
    ("k8s.io/apimachinery/pkg/types", "UID"): "JP_F_STRING",
    ("k8s.io/apimachinery/pkg/types", "NodeName"): "JP_F_STRING",
    (META, "Time"): "JP_F_TIME",
    (META, "MicroTime"): "JP_F_MICROTIME",
    (META, "FieldsV1"): "JP_F_ANY",
    (META, "Duration"): "JP_F_STRING",
}
BUILTIN = {
    "string": "JP_F_STRING",
    "bool": "JP_F_BOOL",
    "int32": "JP_F_INT32",
    "int64": "JP_F_INT64",
    "int": "JP_F_INT64",
    "uint32": "JP_F_INT64",
    "uint64": "JP_F_INT64",
    "float64": "JP_F_NUMBER",
    "float32": "JP_F_NUMBER",
}

SKIP_FILE = re.compile(r"_test\.go$|^generated\.pb\.go$|^zz_generated|_swagger_doc_generated\.go$")
IMPORT_RE = re.compile(r'^\s*(?:(\w+)\s+)?"([^"]+)"\s*$')
TYPE_RE = re.compile(r"^type\s+(\w+)\s+(.+?)\s*$")
TAG_RE = re.compile(r'(\w+):"([^"]*)"')


class Pkg:
    def __init__(self, path):
        self.path = path
        self.structs = {}  # name -> [(field name or None, type expr, tags, imports)]
        self.named = {}  # name -> (underlying type expr, imports)


def strip_comments(line):
    if line.lstrip().startswith("//"):
        return ""
    if "`" in line:  # a struct field: keep it up to the end of its tag
        return line[: line.rindex("`") + 1]
    return re.sub(r"//.*$", "", line)


def parse_imports(text):
    imports = {}
    m = re.search(r"^import\s*\((.*?)^\)", text, flags=re.S | re.M)
    lines = m.group(1).splitlines() if m else re.findall(r"^import\s+(.*)$", text, flags=re.M)
    for ln in lines:
        im = IMPORT_RE.match(ln)
        if im:
            path = im.group(2)
            imports[im.group(1) or path.rsplit("/", 1)[-1]] = path
    return imports


def parse_file(pkg, text):
    lines = [strip_comments(ln) for ln in text.splitlines()]
    imports = parse_imports("\n".join(lines))
    i = 0
    while i < len(lines):
        m = TYPE_RE.match(lines[i])
        i += 1
        if not m:
            continue
        name, rest = m.groups()
        if rest == "struct {":
            fields = []
            while not lines[i].startswith("}"):
                ln = lines[i].strip()
                i += 1
                if not ln or "`" not in ln:
                    continue
                decl, tag = ln.split("`", 1)
                tags = dict(TAG_RE.findall(tag))
                parts = decl.split()
                if len(parts) == 1:  # embedded
                    fname, texpr = None, parts[0]
                else:
                    fname, texpr = parts[0], "".join(parts[1:])
                fields.append((fname, texpr, tags, imports))
            pkg.structs[name] = fields
        elif not rest.endswith("{") and not rest.startswith(("interface", "func")):
            pkg.named[name] = (rest.lstrip("= ").strip(), imports)


def load_packages(roots):
    pkgs = {}
    for path, (rel, checkout) in PACKAGES.items():
        d = os.path.join(roots[checkout], rel)
        pkg = Pkg(path)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".go") and not SKIP_FILE.search(fn):
                with open(os.path.join(d, fn), encoding="utf-8") as f:
                    parse_file(pkg, f.read())
        pkgs[path] = pkg
    return pkgs


# One JSON field of a Go struct. proto: its protobuf field number, None when it has no protobuf
# tag (then it is not on the wire at all: the inline TypeMeta). proto_in: the number of the
# inline-embedded struct it comes from when that struct has a tag (Volume's VolumeSource is
# field 2 on the wire, flattened in JSON), else 0.
GoField = collections.namedtuple(
    "GoField", "ftype elem ref tags proto proto_in pointer omitempty")


def proto_number(where, tags):
    """The field number of a protobuf:"bytes,N,opt,name=x" tag, or None without one."""
    tag = tags.get("protobuf")
    if tag is None:
        return None
    parts = tag.split(",")
    if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) == 0:
        raise SystemExit(f"crosscheck: {where}: cannot read protobuf tag {tag!r}")
    return int(parts[1])


class Go:
    def __init__(self, pkgs):
        self.pkgs = pkgs

    def qualify(self, pkgpath, imports, expr):
        if "." in expr:
            alias, name = expr.split(".", 1)
            return imports[alias], name
        return pkgpath, expr

    def resolve(self, pkgpath, imports, expr):
        """(ftype, elem, (pkg, struct) or None) for a Go type expression."""
        expr = expr.lstrip("*")
        if expr == "[]byte":
            return "JP_F_BYTES", None, None
        if expr.startswith("[]"):
            t, _, ref = self.resolve(pkgpath, imports, expr[2:])
            return "JP_F_ARRAY", t, ref
        m = re.fullmatch(r"map\[([\w.]+)\](.+)", expr)
        if m:
            kt, _, _ = self.resolve(pkgpath, imports, m.group(1))
            assert kt == "JP_F_STRING", expr
            t, _, ref = self.resolve(pkgpath, imports, m.group(2))
            if t == "JP_F_BYTES":  # map[string][]byte: Secret.data
                return "JP_F_MAP", "JP_F_BYTES", None
            return "JP_F_MAP", t, ref
        if expr in BUILTIN:
            return BUILTIN[expr], None, None
        key = self.qualify(pkgpath, imports, expr)
        if key in SPECIAL:
            return SPECIAL[key], None, None
        pkg = self.pkgs.get(key[0])
        if pkg is None:
            raise SystemExit(f"crosscheck: no Go package for {expr} ({key[0]})")
        if key[1] in pkg.structs:
            return "JP_F_OBJECT", None, key
        if key[1] in pkg.named:
            under, imps = pkg.named[key[1]]
            return self.resolve(key[0], imps, under)
        raise SystemExit(f"crosscheck: Go type {key[0]}.{key[1]} not found")

    def fields(self, key):
        """{json name: GoField} of a struct, inline embeddings expanded."""
        out = {}
        for fname, texpr, tags, imports in self.pkgs[key[0]].structs[key[1]]:
            json_name, *opts = tags.get("json", "").split(",")
            if json_name == "-":
                continue
            where = f"{key[1]}.{fname or texpr}"
            num = proto_number(where, tags)
            if not json_name and (fname is None or "inline" in opts):
                _, _, ref = self.resolve(key[0], imports, texpr)
                for name, f in self.fields(ref).items():
                    if num is None:
                        f = f._replace(proto=None, proto_in=0)
                    elif f.proto_in:
                        raise SystemExit(f"crosscheck: {where}: inline struct within an inline "
                                         "struct on the wire; schema.h has one level")
                    else:
                        f = f._replace(proto_in=num)
                    out[name] = f
                continue
            ftype, elem, ref = self.resolve(key[0], imports, texpr)
            out[json_name] = GoField(ftype, elem, ref, tags, num, 0, texpr.startswith("*"),
                                     "omitempty" in opts)
        return out


GO_ROOTS = {
    "V1Pod": ("k8s.io/api/core/v1", "Pod"),
    "V1PodTemplateSpec": ("k8s.io/api/core/v1", "PodTemplateSpec"),
    "V1Binding": ("k8s.io/api/core/v1", "Binding"),
    "V1Service": ("k8s.io/api/core/v1", "Service"),
    "V1Endpoints": ("k8s.io/api/core/v1", "Endpoints"),
    "V1EndpointSlice": ("k8s.io/api/discovery/v1", "EndpointSlice"),
    "CoreV1Event": ("k8s.io/api/core/v1", "Event"),
    "V1ConfigMap": ("k8s.io/api/core/v1", "ConfigMap"),
    "V1Secret": ("k8s.io/api/core/v1", "Secret"),
    "V1ServiceAccount": ("k8s.io/api/core/v1", "ServiceAccount"),
    "V1Namespace": ("k8s.io/api/core/v1", "Namespace"),
    "V1Node": ("k8s.io/api/core/v1", "Node"),
    "V1Job": ("k8s.io/api/batch/v1", "Job"),
    "V1CronJob": ("k8s.io/api/batch/v1", "CronJob"),
    "V1ReplicaSet": ("k8s.io/api/apps/v1", "ReplicaSet"),
    "V1Deployment": ("k8s.io/api/apps/v1", "Deployment"),
    "V1Scale": ("k8s.io/api/autoscaling/v1", "Scale"),
    "V1Role": ("k8s.io/api/rbac/v1", "Role"),
    "V1RoleBinding": ("k8s.io/api/rbac/v1", "RoleBinding"),
    "V1ClusterRole": ("k8s.io/api/rbac/v1", "ClusterRole"),
    "V1ClusterRoleBinding": ("k8s.io/api/rbac/v1", "ClusterRoleBinding"),
    "AuthenticationV1TokenRequest": ("k8s.io/api/authentication/v1", "TokenRequest"),
    "V1SelfSubjectAccessReview": ("k8s.io/api/authorization/v1", "SelfSubjectAccessReview"),
    "V1DeleteOptions": (META, "DeleteOptions"),
    "V1Status": (META, "Status"),
}


def proto_row(model, name, f):
    """A proto-fields.tsv row (see gen.read_proto_tsv) for a Go field."""
    if f.proto is None:
        wire = "-"
    elif f.proto_in:
        wire = f"{f.proto_in}.{f.proto}"
    else:
        wire = str(f.proto)
    flags = [n for n, on in (("pointer", f.pointer), ("omitempty", f.omitempty)) if on]
    return (model, name, wire, ",".join(flags) or "-")


def walk(types, go):
    """Compares every generated type with its Go struct; returns (problems, patch rows, proto
    rows)."""
    problems, rows, protos, compared = [], [], [], 0
    if set(GO_ROOTS) != set(gen.ROOTS):
        problems.append("GO_ROOTS and gen.ROOTS name different roots")
    pairs, stack = {}, list(GO_ROOTS.items())
    while stack:
        model, key = stack.pop()
        if model in pairs:
            if pairs[model] != key:
                problems.append(f"{model}: is both Go {pairs[model]} and {key}")
            continue
        pairs[model] = key
        if gen.go_name(model) != key[1]:
            problems.append(f"{model}: go_name {gen.go_name(model)!r}, Go struct is {key[1]!r}")
        gofields, fields = go.fields(key), types[model]
        for name in sorted(set(gofields) | set(fields)):
            if name not in fields or name not in gofields:
                side = "Go" if name in gofields else "the model"
                problems.append(f"{model}.{name}: only in {side}")
                continue
            gf = gofields[name]
            ftype, elem, ref, tags = gf.ftype, gf.elem, gf.ref, gf.tags
            protos.append(proto_row(model, name, gf))
            compared += 1
            f = fields[name]
            if (ftype, elem) != (f["type"], f["elem"]):
                problems.append(f"{model}.{name}: model gives {f['type']}/{f['elem']}, "
                                f"Go {ftype}/{elem}")
            if ref and f["ref"]:
                stack.append((f["ref"], ref))
            if "patchStrategy" in tags:
                rows.append((model, name, tags["patchStrategy"], tags.get("patchMergeKey", "-")))
            elif "patchMergeKey" in tags:
                problems.append(f"{model}.{name}: patchMergeKey without patchStrategy")
    missing = set(types) - set(pairs)
    if missing:
        problems.append(f"models without a Go struct: {sorted(missing)}")
    print(f"crosscheck: compared {compared} fields of {len(pairs)} types", file=sys.stderr)
    return problems, sorted(rows), sorted(protos)


def write_tsvs(args, rows, protos):
    with open(args.tsv, "w", encoding="utf-8") as f:
        f.write("# model type\tJSON field\tpatchStrategy\tpatchMergeKey (- for none)\n")
        f.write("# From the patchStrategy/patchMergeKey struct tags of k8s.io/api and\n")
        f.write(f"# k8s.io/apimachinery ({gen.K8S_BRANCH}), derived by crosscheck.py.\n")
        f.writelines(f"{t}\t{n}\t{s}\t{k}\n" for t, n, s, k in rows)
    with open(args.proto_tsv, "w", encoding="utf-8") as f:
        f.write(gen.PROTO_TSV_HEADER.format(branch=gen.K8S_BRANCH))
        f.writelines("\t".join(r) + "\n" for r in protos)


def compare_tsvs(args, rows, protos, problems):
    try:
        current = set(gen.read_patch_tsv(args.tsv).items())
    except (OSError, gen.SchemaError) as e:
        current = set()
        problems.append(f"{args.tsv}: {e}")
    derived = {((t, f), (s, None if k == "-" else k)) for t, f, s, k in rows}
    for (t, f), v in sorted(current - derived):
        problems.append(f"{args.tsv}: {t}.{f} {v} is not what the Go tags say")
    for (t, f), v in sorted(derived - current):
        problems.append(f"{args.tsv}: missing {t}.{f} {v}")
    try:
        current = set(gen.read_proto_tsv(args.proto_tsv).items())
    except (OSError, gen.SchemaError) as e:
        current = set()
        problems.append(f"{args.proto_tsv}: {e}")
    derived = {((t, f), gen.parse_proto_row(args.proto_tsv, 0, [t, f, w, g]))
               for t, f, w, g in protos}
    for (t, f), v in sorted(current - derived):
        problems.append(f"{args.proto_tsv}: {t}.{f} {v} is not what the Go struct says")
    for (t, f), v in sorted(derived - current):
        problems.append(f"{args.proto_tsv}: missing or different {t}.{f} {v}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True, help="JSON written by dump-models.mjs")
    ap.add_argument("--api", required=True, help="checkout of k8s.io/api")
    ap.add_argument("--apimachinery", required=True, help="checkout of k8s.io/apimachinery")
    ap.add_argument("--tsv", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "patch-strategies.tsv"))
    ap.add_argument("--proto-tsv", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "proto-fields.tsv"))
    ap.add_argument("--write-tsv", action="store_true",
                    help="rewrite --tsv and --proto-tsv from the Go tags")
    args = ap.parse_args()

    models = gen.load_models(args.models)
    types = gen.build(models, {})  # without strategies: they are what is being derived
    go = Go(load_packages({"api": args.api, "apimachinery": args.apimachinery}))
    problems, rows, protos = walk(types, go)
    if args.write_tsv:
        write_tsvs(args, rows, protos)
    else:
        compare_tsvs(args, rows, protos, problems)
    for p in problems:
        print(f"crosscheck: {p}", file=sys.stderr)
    untagged = sum(1 for r in protos if r[2] == "-")
    print(f"crosscheck: {len(types)} types, {len(rows)} patch strategies, {len(protos)} protobuf "
          f"fields ({untagged} without a tag), {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
