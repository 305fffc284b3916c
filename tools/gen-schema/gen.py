#!/usr/bin/python3
"""Writes src/api/schema_gen.c and src/api/schema_types_gen.h, the compact type schema of
src/api/schema.h, from the models of @kubernetes/client-node (as dumped by dump-models.mjs)
and the patch strategies in patch-strategies.tsv. run.sh is the driver; crosscheck.py checks
the tables below against the Kubernetes Go types.

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


def build(models, patch):
    """{model: {json name: field}} for every model reachable from ROOTS."""
    types = {}
    for t in reachable(models, ROOTS):
        fields = {}
        for attr in models[t]:
            if attr["baseName"] in fields:
                raise SchemaError(f"{t}: duplicate field {attr['baseName']!r}")
            f = classify(models, t, attr)
            f.update(patch="JP_PATCH_REPLACE", merge_key=None)
            fields[attr["baseName"]] = f
        types[t] = fields
    missing = {k for k in QUANTITY_FIELDS if k[1] not in types.get(k[0], {})}
    if missing:
        raise SchemaError(f"QUANTITY_FIELDS names fields that are not generated: {sorted(missing)}")
    apply_patch(types, patch)
    return types


def bytesort(names):
    # strcmp order, which the C binary searches rely on.
    return sorted(names, key=lambda s: s.encode("utf-8"))


def c_string(s):
    if not re.fullmatch(r"[A-Za-z0-9_.$/-]*", s):
        raise SchemaError(f"name {s!r} needs escaping; not expected in the schema")
    return f'"{s}"'


HEADER_COMMENT = (
    "/* Generated by tools/gen-schema/run.sh from {pkg} and\n"
    " * tools/gen-schema/patch-strategies.tsv. Do not edit: rerun the generator instead. */\n"
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
    return f"    {{{c_string(name)}, {f['type']}, {elem}, {ref}, {f['patch']}, {key}}},\n"


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
    ap.add_argument("--out-c", required=True)
    ap.add_argument("--out-h", required=True)
    args = ap.parse_args()
    try:
        types = build(load_models(args.models), read_patch_tsv(args.patch))
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
