/* Schema-driven checking of decoded JSON. One walk collects unknown-field paths, the first type
 * error, and removes nulls and (outside Strict) unknown fields. */
#include "api/decode.h"
#include "api/kinds.h"
#include "api/schema.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/timefmt.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void jp_warnings_add(struct jp_warnings *w, const char *fmt, ...)
{
    if (w == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    w->items = jp_xrealloc(w->items, (w->n + 1) * sizeof(char *));
    w->items[w->n++] = jp_xvasprintf(fmt, ap);
    va_end(ap);
}

void jp_warnings_free(struct jp_warnings *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->items[i]);
    free(w->items);
    w->items = NULL;
    w->n = 0;
}

struct walk {
    struct jp_buf unknown; /* "unknown field \"a\", unknown field \"b\"" */
    size_t nunknown;
    char *type_error; /* the first one */
    bool prune_unknown;
};

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

static const char *go_type(uint8_t t, uint8_t elem, uint16_t ref, char *buf, size_t n)
{
    static const char *const scalar[] = {
        [JP_F_STRING] = "string",        [JP_F_INT32] = "int32",      [JP_F_INT64] = "int64",
        [JP_F_NUMBER] = "float64",       [JP_F_BOOL] = "bool",        [JP_F_QUANTITY] = "string",
        [JP_F_INT_OR_STRING] = "string", [JP_F_TIME] = "string",      [JP_F_MICROTIME] = "string",
        [JP_F_BYTES] = "string",         [JP_F_ANY] = "interface {}",
    };
    if (t == JP_F_OBJECT) {
        snprintf(buf, n, "v1.%s", jp_schema_types[ref].go_name);
    } else if (t == JP_F_ARRAY || t == JP_F_MAP) {
        char inner[96];
        go_type(elem, 0, ref, inner, sizeof(inner));
        snprintf(buf, n, t == JP_F_ARRAY ? "[]%s" : "map[string]%s", inner);
    } else {
        snprintf(buf, n, "%s", scalar[t]);
    }
    return buf;
}

/* path is the dotted JSON path without indexes, as Go's decoder names fields. */
static void type_error(struct walk *w, const json_t *v, const char *owner, const char *path,
                       uint8_t t, uint8_t elem, uint16_t ref)
{
    if (w->type_error) return;
    char gt[128];
    go_type(t, elem, ref, gt, sizeof(gt));
    w->type_error = jp_xasprintf("json: cannot unmarshal %s into Go struct field %s.%s of type %s",
                                 json_kind(v), owner, path, gt);
}

static bool is_quantity(const char *s)
{
    /* ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$ */
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    const char *num = p;
    while (isdigit((unsigned char)*p) || *p == '.')
        p++;
    if (p == num) return false;
    while (*p && strchr("eEinumkKMGTP", *p))
        p++;
    if (*p == '+' || *p == '-') p++;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0';
}

static void walk_value(struct walk *w, json_t *v, const char *owner, const char *path, uint8_t t,
                       uint8_t elem, uint16_t ref, struct jp_buf *full);

/* Go drops an empty slice or map tagged omitempty when it encodes: so is it stored. */
static bool empty_omitted(const struct jp_field *f, const json_t *v)
{
    if ((f->go & (JP_GO_POINTER | JP_GO_OMITEMPTY)) != JP_GO_OMITEMPTY) return false;
    return (f->type == JP_F_ARRAY && json_is_array(v) && json_array_size(v) == 0) ||
           (f->type == JP_F_MAP && json_is_object(v) && json_object_size(v) == 0);
}

static void walk_object(struct walk *w, json_t *obj, uint16_t type, const char *path,
                        struct jp_buf *full)
{
    const struct jp_type *ty = &jp_schema_types[type];
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        size_t mark = full->len;
        jp_buf_printf(full, "%s%s", full->len ? "." : "", k);
        const struct jp_field *f = jp_schema_field(ty, k);
        if (f == NULL) {
            if (w->nunknown++) jp_buf_printf(&w->unknown, ", ");
            jp_buf_printf(&w->unknown, "unknown field \"%s\"", full->data);
            if (w->prune_unknown) json_object_del(obj, k);
        } else if (json_is_null(v) || empty_omitted(f, v)) {
            json_object_del(obj, k);
        } else {
            char *sub = jp_xasprintf("%s%s%s", path, *path ? "." : "", k);
            walk_value(w, v, ty->go_name, sub, f->type, f->elem, f->ref, full);
            free(sub);
        }
        full->len = mark;
        full->data[mark] = '\0';
    }
}

static void walk_value(struct walk *w, json_t *v, const char *owner, const char *path, uint8_t t,
                       uint8_t elem, uint16_t ref, struct jp_buf *full)
{
    switch (t) {
    case JP_F_STRING:
    case JP_F_BYTES:
        if (!json_is_string(v)) type_error(w, v, owner, path, t, elem, ref);
        return;
    case JP_F_INT32:
    case JP_F_INT64:
        if (!json_is_integer(v)) {
            type_error(w, v, owner, path, t, elem, ref);
        } else if (t == JP_F_INT32) {
            json_int_t n = json_integer_value(v);
            if (n < INT32_MIN || n > INT32_MAX) type_error(w, v, owner, path, t, elem, ref);
        }
        return;
    case JP_F_NUMBER:
        if (!json_is_number(v)) type_error(w, v, owner, path, t, elem, ref);
        return;
    case JP_F_BOOL:
        if (!json_is_boolean(v)) type_error(w, v, owner, path, t, elem, ref);
        return;
    case JP_F_QUANTITY:
        if (json_is_number(v)) return;
        if (!json_is_string(v)) {
            type_error(w, v, owner, path, t, elem, ref);
        } else if (!is_quantity(json_string_value(v)) && !w->type_error) {
            w->type_error = jp_xstrdup("quantities must match the regular expression "
                                       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        }
        return;
    case JP_F_INT_OR_STRING:
        if (!json_is_integer(v) && !json_is_string(v)) type_error(w, v, owner, path, t, elem, ref);
        return;
    case JP_F_TIME:
    case JP_F_MICROTIME:
        if (!json_is_string(v)) {
            type_error(w, v, owner, path, t, elem, ref);
        } else {
            int64_t ns;
            if (jp_time_parse(json_string_value(v), &ns, NULL) < 0 && !w->type_error)
                w->type_error =
                    jp_xasprintf("parsing time \"%s\" as \"2006-01-02T15:04:05Z07:00\": "
                                 "cannot parse as RFC 3339",
                                 json_string_value(v));
        }
        return;
    case JP_F_ANY:
        return;
    case JP_F_OBJECT:
        if (!json_is_object(v))
            type_error(w, v, owner, path, t, elem, ref);
        else
            walk_object(w, v, ref, path, full);
        return;
    case JP_F_ARRAY:
        if (!json_is_array(v)) {
            type_error(w, v, owner, path, t, elem, ref);
            return;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *item = json_array_get(v, i);
            size_t mark = full->len;
            jp_buf_printf(full, "[%zu]", i);
            if (json_is_null(item) && elem != JP_F_ANY) {
                /* Go decodes a null element to the zero value: keep an empty slot of the type */
                if (elem == JP_F_OBJECT) json_array_set_new(v, i, json_object());
            } else {
                walk_value(w, item, owner, path, elem, 0, ref, full);
            }
            full->len = mark;
            full->data[mark] = '\0';
        }
        return;
    case JP_F_MAP: {
        if (!json_is_object(v)) {
            type_error(w, v, owner, path, t, elem, ref);
            return;
        }
        const char *k;
        json_t *item;
        json_object_foreach(v, k, item)
        {
            size_t mark = full->len;
            jp_buf_printf(full, "[%s]", k);
            if (!json_is_null(item)) walk_value(w, item, owner, path, elem, 0, ref, full);
            full->len = mark;
            full->data[mark] = '\0';
        }
        return;
    }
    }
}

int jp_decode_check_type(int type, const char *what, json_t *obj, enum jp_field_validation fv,
                         struct jp_warnings *warnings, struct jp_status **st)
{
    struct walk w = {.prune_unknown = fv != JP_FV_STRICT};
    jp_buf_init(&w.unknown, 1 << 20);
    struct jp_buf full;
    jp_buf_init(&full, 1 << 20);
    jp_buf_appendc(&full, '\0');
    full.len = 0;
    walk_object(&w, obj, (uint16_t)type, "", &full);
    jp_buf_free(&full);
    int rc = 0;
    const char *kind = jp_schema_types[type].go_name;
    if (w.type_error) {
        *st = jp_status_new(JP_BAD_REQUEST, "%s in version \"v1\" cannot be handled as a %s: %s",
                            what ? what : kind, what ? what : kind, w.type_error);
        rc = -1;
    } else if (w.nunknown && fv == JP_FV_STRICT) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "%s in version \"v1\" cannot be handled as a %s: strict decoding "
                            "error: %s",
                            what ? what : kind, what ? what : kind, w.unknown.data);
        rc = -1;
    } else if (w.nunknown && fv == JP_FV_WARN) {
        jp_warnings_add(warnings, "%s", w.unknown.data);
    }
    free(w.type_error);
    jp_buf_free(&w.unknown);
    return rc;
}

int jp_decode_check(const struct jp_kind *kind, json_t *obj, enum jp_field_validation fv,
                    struct jp_warnings *warnings, struct jp_status **st)
{
    return jp_decode_check_type(kind->schema_type, kind->kind, obj, fv, warnings, st);
}

int jp_decode_object(const struct jp_kind *kind, const char *body, size_t len,
                     enum jp_field_validation fv, json_t **out, struct jp_warnings *warnings,
                     struct jp_status **st)
{
    json_error_t jerr;
    size_t flags = fv == JP_FV_STRICT ? JSON_REJECT_DUPLICATES : 0;
    json_t *obj = json_loadb(body, len, flags, &jerr);
    if (obj == NULL) {
        if (strstr(jerr.text, "duplicate object key"))
            *st = jp_status_new(JP_BAD_REQUEST,
                                "%s in version \"v1\" cannot be handled as a %s: strict decoding "
                                "error: %s",
                                kind->kind, kind->kind, jerr.text);
        else
            *st = jp_status_new(JP_BAD_REQUEST,
                                "couldn't get version/kind; json parse error: %s (line %d, "
                                "column %d)",
                                jerr.text, jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(obj)) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "couldn't get version/kind; json parse error: json: cannot unmarshal "
                            "%s into Go value of type struct { APIVersion string "
                            "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
                            "\"json:\\\"kind,omitempty\\\"\" }",
                            json_kind(obj));
        json_decref(obj);
        return -1;
    }
    if (jp_decode_check(kind, obj, fv, warnings, st) < 0) {
        json_decref(obj);
        return -1;
    }
    *out = obj;
    return 0;
}
