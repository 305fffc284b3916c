#!/usr/bin/python3
"""Writes src/api/schema_gen.c and src/api/schema_types_gen.h, the compact type schema of
src/api/schema.h, from the models of @kubernetes/client-node (as dumped by dump-models.mjs),
the patch strategies in patch-strategies.tsv and the protobuf field numbers and Go field shapes
in proto-fields.tsv. run.sh is the driver; crosscheck.py checks the tables below against the
Kubernetes Go types and derives both TSV files from them.

Only names, JSON types and strategies are taken from the package; nothing else of it lands in
the repository."""

import argparse
import json
import re
import sys

PACKAGE = "@kubernetes/client-node 2.0.1"
K8S_BRANCH = "release-1.36"  # the Kubernetes branch PACKAGE was generated from

# The kinds jobplane serves, plus the bodies it reads or writes: the walk starts here and takes
# in every model these reference, transitively.
ROOTS = [
    "V1Pod",
    "V1PodTemplateSpec",
    "V1Binding",
    "V1Service",
    "V1Endpoints",
    "V1EndpointSlice",
    "CoreV1Event",
    "V1ConfigMap",
    "V1Secret",
    "V1ServiceAccount",
    "V1Namespace",
    "V1Node",
    "V1Job",
    "V1CronJob",
    "V1ReplicaSet",
    "V1Deployment",
    "V1Scale",
    "V1Role",
    "V1RoleBinding",
    "V1ClusterRole",
    "V1ClusterRoleBinding",
    "AuthenticationV1TokenRequest",
    "V1SelfSubjectAccessReview",
    "V1DeleteOptions",
    "V1Status",
]

# resource.Quantity is a plain "string" in the models; these (model, JSON field) pairs are
# Quantities in the Go types (a map listed here is a ResourceList: its values are Quantities).
# crosscheck.py verifies this set against k8s.io/api.
QUANTITY_FIELDS = {
    ("V1ContainerStatus", "allocatedResources"),
    ("V1EmptyDirVolumeSource", "sizeLimit"),
    ("V1NodeAllocatableResourceClaimStatus", "resources"),
    ("V1NodeStatus", "allocatable"),
    ("V1NodeStatus", "capacity"),
    ("V1PodSpec", "overhead"),
    ("V1PodStatus", "allocatedResources"),
    ("V1ResourceFieldSelector", "divisor"),
    ("V1ResourceRequirements", "limits"),
    ("V1ResourceRequirements", "requests"),
    ("V1VolumeResourceRequirements", "limits"),
    ("V1VolumeResourceRequirements", "requests"),
}

# Go struct names that are not the model name minus its version/group prefix.
GO_NAME_OVERRIDES = {}

# Model type strings (besides model names) and what they map to; format refines "number".
SCALARS = {
    ("string", ""): "JP_F_STRING",
    ("string", "byte"): "JP_F_BYTES",
    ("boolean", ""): "JP_F_BOOL",
    ("number", "int32"): "JP_F_INT32",
    ("number", "int64"): "JP_F_INT64",
    ("number", "double"): "JP_F_NUMBER",
    ("number", "float"): "JP_F_NUMBER",
    ("number", ""): "JP_F_NUMBER",
    ("Date", "date-time"): "JP_F_TIME",
    ("V1MicroTime", "date-time-micro"): "JP_F_MICROTIME",
    ("IntOrString", "int-or-string"): "JP_F_INT_OR_STRING",
    ("any", ""): "JP_F_ANY",
    ("object", ""): "JP_F_ANY",
}

STRATEGIES = {
    "merge": "JP_PATCH_MERGE",
    "retainKeys": "JP_PATCH_RETAIN_KEYS",
    "merge,retainKeys": "JP_PATCH_MERGE_RETAIN_KEYS",
}

GO_FLAGS = {"pointer": "JP_GO_POINTER", "omitempty": "JP_GO_OMITEMPTY"}

PROTO_TSV_HEADER = (
    "# model type\tJSON field\tprotobuf field\tGo field flags (- for none)\n"
    "# protobuf field: N, or E.N for field N of the inline-embedded struct that is field E on\n"
    "# the wire (Volume's VolumeSource), or - for a field with no protobuf tag (not on the wire).\n"
    "# Go field flags: pointer (*T), omitempty (json tag). From the struct tags of k8s.io/api and\n"
    "# k8s.io/apimachinery ({branch}), derived by crosscheck.py --write-tsv.\n"
)
PROTO_RE = re.compile(r"(?:([1-9][0-9]{0,2})\.)?([1-9][0-9]{0,4})|-")

ARRAY_RE = re.compile(r"Array<(.+)>")
MAP_RE = re.compile(r"\{ \[key: string\]: (.+); \}")
PREFIX_RE = re.compile(r"(?:[A-Z][a-z]+)*V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")


class SchemaError(Exception):
    pass


def go_name(model):
    if model in GO_NAME_OVERRIDES:
        return GO_NAME_OVERRIDES[model]
    m = PREFIX_RE.match(model)
    if not m:
        raise SchemaError(f"{model}: no version prefix to strip; add it to GO_NAME_OVERRIDES")
    return model[m.end():]


def leaf(models, owner, field, ty, fmt):
    """(ftype, ref model or None) of a non-container model type string."""
    if ty in models:
        return "JP_F_OBJECT", ty
    if (ty, fmt) not in SCALARS:
        raise SchemaError(f"{owner}.{field}: unknown model type {ty!r} format {fmt!r}")
    ftype = SCALARS[(ty, fmt)]
    if (owner, field) in QUANTITY_FIELDS:
        if ftype != "JP_F_STRING":
            raise SchemaError(f"{owner}.{field}: listed as Quantity but is {ty!r}")
        ftype = "JP_F_QUANTITY"
    return ftype, None


def classify(models, owner, attr):
    """{type, elem, ref} of one model attribute."""
    ty, fmt, name = attr["type"], attr["format"], attr["baseName"]
    for container, rx in (("JP_F_ARRAY", ARRAY_RE), ("JP_F_MAP", MAP_RE)):
        m = rx.fullmatch(ty)
        if m:
            inner = m.group(1)
            if ARRAY_RE.fullmatch(inner) or MAP_RE.fullmatch(inner):
                raise SchemaError(f"{owner}.{name}: nested container {ty!r} is not representable")
            elem, ref = leaf(models, owner, name, inner, fmt)
            return {"type": container, "elem": elem, "ref": ref}
    ftype, ref = leaf(models, owner, name, ty, fmt)
    return {"type": ftype, "elem": None, "ref": ref}


def reachable(models, roots):
    seen, stack = set(), list(roots)
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        if t not in models:
            raise SchemaError(f"root or referenced model {t!r} not in the package")
        seen.add(t)
        for attr in models[t]:
            ref = classify(models, t, attr)["ref"]
            if ref:
                stack.append(ref)
    return seen


def read_patch_tsv(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 4 or cols[2] not in STRATEGIES:
                raise SchemaError(f"{path}:{lineno}: want TYPE FIELD STRATEGY KEY|-: {line!r}")
            key = (cols[0], cols[1])
            if key in rows:
                raise SchemaError(f"{path}:{lineno}: duplicate {cols[0]}.{cols[1]}")
            rows[key] = (cols[2], None if cols[3] == "-" else cols[3])
    return rows


def parse_proto_row(path, lineno, cols):
    """(proto, proto_in, flags) of a proto-fields.tsv row split into columns."""
    m = PROTO_RE.fullmatch(cols[2]) if len(cols) == 4 else None
    flags = [] if len(cols) != 4 or cols[3] == "-" else cols[3].split(",")
    if not m or any(f not in GO_FLAGS for f in flags):
        raise SchemaError(f"{path}:{lineno}: want TYPE FIELD N|E.N|- FLAGS|-: {cols!r}")
    proto = int(m.group(2)) if m.group(2) else 0
    proto_in = int(m.group(1)) if m.group(1) else 0
    if proto > 0xFFFF or proto_in > 0xFF:
        raise SchemaError(f"{path}:{lineno}: field number too large for struct jp_field")
    return (proto, proto_in, tuple(flags))


def read_proto_tsv(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            key = (cols[0], cols[1] if len(cols) > 1 else "")
            if key in rows:
                raise SchemaError(f"{path}:{lineno}: duplicate {key[0]}.{key[1]}")
            rows[key] = parse_proto_row(path, lineno, cols)
    return rows


def apply_proto(types, protos):
    """Sets proto, proto_in and go of every field; a generated field without a row fails, since
    the protobuf decoder would silently drop it. Returns the fields that are not on the wire."""
    missing = sorted(f"{t}.{n}" for t in types for n in types[t] if (t, n) not in protos)
    if missing:
        raise SchemaError(f"proto-fields.tsv has no row for {len(missing)} generated fields "
                          f"(rerun crosscheck.py --write-tsv): {', '.join(missing)}")
    unwired = []
    for (tname, fname), (proto, proto_in, flags) in protos.items():
        field = types.get(tname, {}).get(fname)
        if field is None:
            raise SchemaError(f"proto-fields.tsv: {tname}.{fname} is not a generated field")
        field.update(proto=proto, proto_in=proto_in, go=flags)
        if not proto:
            if tname not in ROOTS or fname not in ("apiVersion", "kind"):
                raise SchemaError(f"{tname}.{fname} has no protobuf field number; only the "
                                  "roots' apiVersion and kind may lack one")
            unwired.append(f"{tname}.{fname}")
    for tname, fields in types.items():
        seen = {}
        for fname, f in sorted(fields.items()):
            slot = (f["proto_in"], f["proto"])
            if f["proto"] and slot in seen:
                raise SchemaError(f"{tname}: {fname} and {seen[slot]} share protobuf field {slot}")
            seen[slot] = fname
        embeds = {f["proto_in"] for f in fields.values() if f["proto_in"]}
        direct = {f["proto"] for f in fields.values() if not f["proto_in"] and f["proto"]}
        if embeds & direct:
            raise SchemaError(f"{tname}: protobuf field {sorted(embeds & direct)} is both an "
                              "inline struct and a field")
    return sorted(unwired)


def report_unwired(unwired):
    """Lists the fields without a protobuf tag, grouped: expected are only the inline TypeMeta's
    apiVersion and kind of the roots, which travel in the envelope instead."""
    groups = {}
    for tf in unwired:
        t, f = tf.split(".", 1)
        groups.setdefault(t, []).append(f)
    by_fields = {}
    for t, fs in sorted(groups.items()):
        by_fields.setdefault(", ".join(fs), []).append(t)
    for fs, ts in sorted(by_fields.items()):
        print(f"gen-schema: no protobuf tag (not on the wire): {fs} of {len(ts)} types: "
              f"{', '.join(ts)}", file=sys.stderr)


def apply_patch(types, patch):
    for (tname, fname), (strategy, key) in patch.items():
        field = types.get(tname, {}).get(fname)
        if field is None:
            raise SchemaError(f"patch-strategies.tsv: {tname}.{fname} is not a generated field")
        kind = field["type"]
        if strategy == "retainKeys" and kind != "JP_F_OBJECT":
            raise SchemaError(f"{tname}.{fname}: retainKeys on a non-object")
        if "merge" in strategy.split(","):
            if kind != "JP_F_ARRAY":
                raise SchemaError(f"{tname}.{fname}: merge strategy on a non-list")
            if (key is None) != (field["elem"] != "JP_F_OBJECT"):
                raise SchemaError(f"{tname}.{fname}: want a merge key iff elements are objects")
            if key is not None and key not in types[field["ref"]]:
                raise SchemaError(f"{tname}.{fname}: merge key {key!r} not in {field['ref']}")
        field["patch"] = STRATEGIES[strategy]
        field["merge_key"] = key


def build(models, patch, protos=None):
    """{model: {json name: field}} for every model reachable from ROOTS. protos (from
    read_proto_tsv) is left out only by crosscheck.py, which derives it."""
    types = {}
    for t in reachable(models, ROOTS):
        fields = {}
        for attr in models[t]:
            if attr["baseName"] in fields:
                raise SchemaError(f"{t}: duplicate field {attr['baseName']!r}")
            f = classify(models, t, attr)
            f.update(patch="JP_PATCH_REPLACE", merge_key=None, proto=0, proto_in=0, go=())
            fields[attr["baseName"]] = f
        types[t] = fields
    missing = {k for k in QUANTITY_FIELDS if k[1] not in types.get(k[0], {})}
    if missing:
        raise SchemaError(f"QUANTITY_FIELDS names fields that are not generated: {sorted(missing)}")
    apply_patch(types, patch)
    if protos is not None:
        report_unwired(apply_proto(types, protos))
    return types


def bytesort(names):
    # strcmp order, which the C binary searches rely on.
    return sorted(names, key=lambda s: s.encode("utf-8"))


def c_string(s):
    if not re.fullmatch(r"[A-Za-z0-9_.$/-]*", s):
        raise SchemaError(f"name {s!r} needs escaping; not expected in the schema")
    return f'"{s}"'


HEADER_COMMENT = (
    "/* Generated by tools/gen-schema/run.sh from {pkg},\n"
    " * tools/gen-schema/patch-strategies.tsv and tools/gen-schema/proto-fields.tsv.\n"
    " * Do not edit: rerun the generator instead. */\n"
)


def render_h(order):
    out = [HEADER_COMMENT.format(pkg=PACKAGE)]
    out.append("/* The index of each type in jp_schema_types (src/api/schema.h), e.g. to start\n"
               " * decoding a request body at its kind's root type. */\n")
    out.append("#ifndef JP_API_SCHEMA_TYPES_GEN_H\n#define JP_API_SCHEMA_TYPES_GEN_H\n\n")
    for i, t in enumerate(order):
        out.append(f"#define JP_T_{t} {i}\n")
    out.append(f"\n#define JP_T_COUNT {len(order)}\n\n#endif\n")
    return "".join(out)


def render_field(name, f):
    elem = f["elem"] or "0"
    ref = f"JP_T_{f['ref']}" if f["ref"] else "0"
    key = c_string(f["merge_key"]) if f["merge_key"] else "NULL"
    go = " | ".join(GO_FLAGS[g] for g in f["go"]) or "0"
    return (f"    {{{c_string(name)}, {f['type']}, {elem}, {ref}, {f['patch']}, {key}, "
            f"{f['proto']}, {f['proto_in']}, {go}}},\n")


def render_c(types, order):
    out = [HEADER_COMMENT.format(pkg=PACKAGE)]
    out.append("#include <stddef.h>\n\n")
    out.append('#include "api/schema.h"\n#include "api/schema_types_gen.h"\n\n')
    type_rows, field_rows, first = [], [], 0
    for t in order:
        names = bytesort(types[t])
        row = f"{c_string(t)}, {c_string(go_name(t))}, {first}, {len(names)}"
        type_rows.append(f"    [JP_T_{t}] = {{{row}}},\n")
        field_rows.append(f"    /* {t} */\n")
        field_rows.extend(render_field(n, types[t][n]) for n in names)
        first += len(names)
    if first > 0xFFFF or len(order) > 0xFFFF:
        raise SchemaError("schema outgrew the uint16_t indexes of struct jp_type/jp_field")
    out.append("const struct jp_type jp_schema_types[] = {\n")
    out.extend(type_rows)
    out.append("};\n\nconst unsigned jp_schema_type_count = JP_T_COUNT;\n\n")
    out.append("const struct jp_field jp_schema_fields[] = {\n")
    out.extend(field_rows)
    out.append(f"}};\n\nconst unsigned jp_schema_field_count = {first};\n\n")
    out.append("_Static_assert(sizeof jp_schema_types / sizeof jp_schema_types[0] == JP_T_COUNT,\n"
               '               "one row per type");\n')
    out.append(f"_Static_assert(sizeof jp_schema_fields / sizeof jp_schema_fields[0] == {first},\n"
               '               "one row per field");\n')
    return "".join(out)


def load_models(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True, help="JSON written by dump-models.mjs")
    ap.add_argument("--patch", required=True, help="patch-strategies.tsv")
    ap.add_argument("--proto", required=True, help="proto-fields.tsv")
    ap.add_argument("--out-c", required=True)
    ap.add_argument("--out-h", required=True)
    args = ap.parse_args()
    try:
        types = build(load_models(args.models), read_patch_tsv(args.patch),
                      read_proto_tsv(args.proto))
        order = bytesort(types)
        c_text, h_text = render_c(types, order), render_h(order)
    except SchemaError as e:
        print(f"gen-schema: {e}", file=sys.stderr)
        return 1
    with open(args.out_c, "w", encoding="utf-8") as f:
        f.write(c_text)
    with open(args.out_h, "w", encoding="utf-8") as f:
        f.write(h_text)
    nfields = sum(len(v) for v in types.values())
    print(f"gen-schema: {len(order)} types, {nfields} fields", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
