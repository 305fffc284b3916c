/* OpenAPI: /openapi/v2 is an empty protobuf document (kubectl then relies on our strict
 * decoding), /openapi/v3 serves one document per group-version generated from the type schema,
 * so kubectl >= 1.29 sees server-side field validation and `kubectl explain` works. Patch
 * operations carry no requestBody, so kubectl computes apply patches from its built-in types
 * (kubectl-protocol.md §2). Descriptions are ours: none are copied from Kubernetes. */
#include "api/schema.h"
#include "apiserver/internal.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

#define DOC_HASH "jobplane-schema-1"

/* Schema names end in the Go type name, which kubectl explain shows ("<JobSpec>"); the model
 * name before it keeps them unique. */
static void schema_name(struct jp_buf *b, uint16_t t)
{
    jp_buf_printf(b, "io.jobplane.%s.%s", jp_schema_types[t].name, jp_schema_types[t].go_name);
}

static void type_schema(struct jp_buf *b, uint8_t t, uint8_t elem, uint16_t ref)
{
    switch (t) {
    case JP_F_STRING:
        jp_buf_printf(b, "{\"type\":\"string\"}");
        return;
    case JP_F_INT32:
        jp_buf_printf(b, "{\"type\":\"integer\",\"format\":\"int32\"}");
        return;
    case JP_F_INT64:
        jp_buf_printf(b, "{\"type\":\"integer\",\"format\":\"int64\"}");
        return;
    case JP_F_NUMBER:
        jp_buf_printf(b, "{\"type\":\"number\",\"format\":\"double\"}");
        return;
    case JP_F_BOOL:
        jp_buf_printf(b, "{\"type\":\"boolean\"}");
        return;
    case JP_F_QUANTITY:
        jp_buf_printf(b, "{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}");
        return;
    case JP_F_INT_OR_STRING:
        jp_buf_printf(b, "{\"x-kubernetes-int-or-string\":true}");
        return;
    case JP_F_TIME:
    case JP_F_MICROTIME:
        jp_buf_printf(b, "{\"type\":\"string\",\"format\":\"date-time\"}");
        return;
    case JP_F_BYTES:
        jp_buf_printf(b, "{\"type\":\"string\",\"format\":\"byte\"}");
        return;
    case JP_F_ANY:
        jp_buf_printf(b, "{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}");
        return;
    case JP_F_OBJECT:
        jp_buf_printf(b, "{\"allOf\":[{\"$ref\":\"#/components/schemas/");
        schema_name(b, ref);
        jp_buf_printf(b, "\"}]}");
        return;
    case JP_F_ARRAY:
        jp_buf_printf(b, "{\"type\":\"array\",\"items\":");
        type_schema(b, elem, 0, ref);
        jp_buf_appendc(b, '}');
        return;
    case JP_F_MAP:
        jp_buf_printf(b, "{\"type\":\"object\",\"additionalProperties\":");
        type_schema(b, elem, 0, ref);
        jp_buf_appendc(b, '}');
        return;
    }
}

static void field_schema(struct jp_buf *b, const struct jp_field *f)
{
    if (f->type != JP_F_ARRAY || f->patch == JP_PATCH_REPLACE) {
        type_schema(b, f->type, f->elem, f->ref);
        return;
    }
    /* lists merged by key carry the strategy kubectl and server-side apply read */
    jp_buf_printf(b, "{\"type\":\"array\",\"items\":");
    type_schema(b, f->elem, 0, f->ref);
    const char *strategy = f->patch == JP_PATCH_MERGE_RETAIN_KEYS ? "merge,retainKeys"
                           : f->patch == JP_PATCH_RETAIN_KEYS     ? "retainKeys"
                                                                  : "merge";
    jp_buf_printf(b, ",\"x-kubernetes-patch-strategy\":\"%s\"", strategy);
    if (f->merge_key)
        jp_buf_printf(b,
                      ",\"x-kubernetes-patch-merge-key\":\"%s\",\"x-kubernetes-list-type\":\"map\","
                      "\"x-kubernetes-list-map-keys\":[\"%s\"]",
                      f->merge_key, f->merge_key);
    else
        jp_buf_printf(b, ",\"x-kubernetes-list-type\":\"set\"");
    jp_buf_appendc(b, '}');
}

/* Marks every type reachable from t. */
static void reach(uint16_t t, bool *seen)
{
    if (seen[t]) return;
    seen[t] = true;
    const struct jp_type *ty = &jp_schema_types[t];
    for (unsigned i = 0; i < ty->count; i++) {
        const struct jp_field *f = &jp_schema_fields[ty->first + i];
        if (f->type == JP_F_OBJECT || f->elem == JP_F_OBJECT) reach(f->ref, seen);
    }
}

static void gv_document(struct jp_buf *b, const char *gv)
{
    bool *seen = jp_xcalloc(jp_schema_type_count, sizeof(bool));
    jp_buf_printf(b, "{\"openapi\":\"3.0.0\",\"info\":{\"title\":\"Kubernetes\",\"version\":"
                     "\"v1.33.0\"},\"paths\":{");
    bool first = true;
    for (unsigned i = 0; i < jp_nkinds; i++) {
        const struct jp_kind *k = &jp_kinds[i];
        char kgv[64];
        jp_kind_api_version(k, kgv, sizeof(kgv));
        if (strcmp(kgv, gv) != 0) continue;
        reach((uint16_t)k->schema_type, seen);
        const char *prefix = *k->group ? "/apis/" : "/api/";
        const char *ns = k->namespaced ? "/namespaces/{namespace}" : "";
        struct jp_buf name_buf;
        jp_buf_init(&name_buf, 1024);
        schema_name(&name_buf, (uint16_t)k->schema_type);
        const char *name = name_buf.data;
        jp_buf_printf(b,
                      "%s\"%s%s%s/%s/{name}\":{\"get\":{\"x-kubernetes-group-version-kind\":"
                      "{\"group\":\"%s\",\"version\":\"%s\",\"kind\":\"%s\"},"
                      "\"x-kubernetes-action\":\"get\",\"responses\":{\"200\":{\"description\":"
                      "\"OK\",\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
                      "\"#/components/schemas/%s\"}}}}}},",
                      first ? "" : ",", prefix, gv, ns, k->plural, k->group, k->version, k->kind,
                      name);
        jp_buf_printf(
            b,
            "\"patch\":{\"x-kubernetes-group-version-kind\":{\"group\":\"%s\",\"version\":"
            "\"%s\",\"kind\":\"%s\"},\"x-kubernetes-action\":\"patch\",\"parameters\":"
            "[{\"name\":\"fieldValidation\",\"in\":\"query\",\"schema\":{\"type\":"
            "\"string\"}}],\"responses\":{\"200\":{\"description\":\"OK\",\"content\":"
            "{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/%s\"}}}}}}}",
            k->group, k->version, k->kind, name);
        jp_buf_free(&name_buf);
        first = false;
    }
    jp_buf_printf(b, "},\"components\":{\"schemas\":{");
    first = true;
    for (unsigned t = 0; t < jp_schema_type_count; t++) {
        if (!seen[t]) continue;
        const struct jp_type *ty = &jp_schema_types[t];
        jp_buf_printf(b, "%s\"", first ? "" : ",");
        schema_name(b, (uint16_t)t);
        jp_buf_printf(b, "\":{\"type\":\"object\",\"properties\":{");
        first = false;
        for (unsigned i = 0; i < ty->count; i++) {
            const struct jp_field *f = &jp_schema_fields[ty->first + i];
            jp_buf_printf(b, "%s\"%s\":", i ? "," : "", f->name);
            field_schema(b, f);
        }
        jp_buf_appendc(b, '}');
        for (unsigned i = 0; i < jp_nkinds; i++) {
            const struct jp_kind *k = &jp_kinds[i];
            char kgv[64];
            if (k->schema_type == (int)t &&
                strcmp(jp_kind_api_version(k, kgv, sizeof(kgv)), gv) == 0)
                jp_buf_printf(b,
                              ",\"x-kubernetes-group-version-kind\":[{\"group\":\"%s\",\"kind\":"
                              "\"%s\",\"version\":\"%s\"}]",
                              k->group, k->kind, k->version);
        }
        jp_buf_appendc(b, '}');
    }
    jp_buf_printf(b, "}}}");
    free(seen);
}

void serve_openapi(struct apireq *q, const struct route *r)
{
    if (r->type == R_OPENAPI_V2) {
        reply(q, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", NULL, 0);
        return;
    }
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    if (r->gv[0] == '\0') {
        jp_buf_printf(&b, "{\"paths\":{");
        const char *seen[16];
        size_t n = 0;
        for (unsigned i = 0; i < jp_nkinds; i++) {
            const char *g = jp_kinds[i].group;
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                dup |= strcmp(seen[j], g) == 0;
            if (dup || n == 16) continue;
            seen[n] = g;
            if (*g)
                jp_buf_printf(&b,
                              "%s\"apis/%s/v1\":{\"serverRelativeURL\":\"/openapi/v3/apis/%s/"
                              "v1?hash=" DOC_HASH "\"}",
                              n ? "," : "", g, g);
            else
                jp_buf_printf(
                    &b,
                    "%s\"api/v1\":{\"serverRelativeURL\":\"/openapi/v3/api/v1?hash=" DOC_HASH "\"}",
                    n ? "," : "");
            n++;
        }
        jp_buf_printf(&b, "}}");
        reply_json(q, 200, &b);
        return;
    }
    bool known = false;
    for (unsigned i = 0; i < jp_nkinds; i++) {
        char kgv[64];
        known |= strcmp(jp_kind_api_version(&jp_kinds[i], kgv, sizeof(kgv)), r->gv) == 0;
    }
    if (!known) {
        jp_buf_free(&b);
        reply_status(
            q, jp_status_new(JP_NOT_FOUND, "the server could not find the requested resource"));
        return;
    }
    gv_document(&b, r->gv);
    reply_json(q, 200, &b);
}
