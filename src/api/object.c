/* Serialization in Kubernetes' top-level order, projections, Table cells and JSON path helpers.
 * The projection is built from the same DOM that is serialized, once per write. */
#include "api/object.h"
#include "api/emit.h"
#include "api/kinds.h"
#include "base/alloc.h"
#include "base/jsonstr.h"
#include "base/timefmt.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

json_t *jp_json_path(const json_t *root, ...)
{
    va_list ap;
    va_start(ap, root);
    const json_t *cur = root;
    const char *key;
    while (cur && (key = va_arg(ap, const char *)) != NULL)
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
    va_end(ap);
    return (json_t *)cur;
}

static json_t *walk(const json_t *root, va_list ap)
{
    const json_t *cur = root;
    const char *key;
    while (cur && (key = va_arg(ap, const char *)) != NULL)
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
    return (json_t *)cur;
}

const char *jp_json_str(const json_t *root, ...)
{
    va_list ap;
    va_start(ap, root);
    json_t *v = walk(root, ap);
    va_end(ap);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t jp_json_int(const json_t *root, int64_t def, ...)
{
    va_list ap;
    va_start(ap, def);
    json_t *v = walk(root, ap);
    va_end(ap);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

int64_t jp_json_time(const json_t *root, ...)
{
    va_list ap;
    va_start(ap, root);
    json_t *v = walk(root, ap);
    va_end(ap);
    int64_t t = 0;
    if (json_is_string(v) && jp_time_parse(json_string_value(v), &t, NULL) < 0) t = 0;
    return t;
}

json_t *jp_json_ensure(json_t *root, ...)
{
    va_list ap;
    va_start(ap, root);
    json_t *cur = root;
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        json_t *next = json_object_get(cur, key);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(cur, key, next);
        }
        cur = next;
    }
    va_end(ap);
    return cur;
}

/* ---- cells ---- */

static struct jp_cell *cell_add(struct jp_cells *c)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->items = jp_xrealloc(c->items, c->cap * sizeof(*c->items));
    }
    struct jp_cell *cell = &c->items[c->n++];
    memset(cell, 0, sizeof(*cell));
    return cell;
}

void jp_cells_str(struct jp_cells *c, const char *fmt, ...)
{
    struct jp_cell *cell = cell_add(c);
    cell->type = JP_CELL_STRING;
    va_list ap;
    va_start(ap, fmt);
    if (strcmp(fmt, "%s") == 0) { /* most cells: every stored version builds its row */
        const char *v = va_arg(ap, const char *);
        cell->text = jp_xstrdup(v ? v : "(null)"); /* as printf has it */
    } else {
        cell->text = jp_xvasprintf(fmt, ap);
    }
    va_end(ap);
}

void jp_cells_int(struct jp_cells *c, int64_t v)
{
    struct jp_cell *cell = cell_add(c);
    cell->type = JP_CELL_INT;
    cell->num = v;
}

void jp_cells_time(struct jp_cells *c, enum jp_cell_type type, int64_t t, int64_t end,
                   const char *text)
{
    struct jp_cell *cell = cell_add(c);
    cell->type = type;
    cell->t = t;
    cell->end = end;
    cell->text = text ? jp_xstrdup(text) : NULL;
}

void jp_cell_render(const struct jp_cell *cell, int64_t now_ns, struct jp_buf *out)
{
    char d[32];
    switch (cell->type) {
    case JP_CELL_STRING:
        jp_buf_printf(out, "%s", cell->text);
        return;
    case JP_CELL_INT:
        jp_buf_printf(out, "%lld", (long long)cell->num);
        return;
    case JP_CELL_AGE:
        if (cell->t == 0) {
            jp_buf_printf(out, "<unknown>");
            return;
        }
        jp_human_duration(d, sizeof(d), now_ns - cell->t);
        jp_buf_printf(out, "%s", d);
        return;
    case JP_CELL_DURATION:
        if (cell->t == 0) return;
        jp_human_duration(d, sizeof(d), (cell->end ? cell->end : now_ns) - cell->t);
        jp_buf_printf(out, "%s", d);
        return;
    case JP_CELL_AGO:
        if (cell->t == 0) {
            jp_buf_printf(out, "%s", cell->text);
            return;
        }
        jp_human_duration(d, sizeof(d), now_ns - cell->t);
        jp_buf_printf(out, "%s (%s ago)", cell->text, d);
        return;
    }
}

/* ---- projection ---- */

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct jp_kv *)a)->key, ((const struct jp_kv *)b)->key);
}

const char *jp_proj_label(const struct jp_proj *p, const char *key)
{
    struct jp_kv probe = {(char *)key, NULL};
    const struct jp_kv *kv =
        p->nlabels ? bsearch(&probe, p->labels, p->nlabels, sizeof(*p->labels), kv_cmp) : NULL;
    return kv ? kv->value : NULL;
}

bool jp_proj_has_finalizer(const struct jp_proj *p, const char *name)
{
    for (size_t i = 0; i < p->nfinalizers; i++)
        if (!strcmp(p->finalizers[i], name)) return true;
    return false;
}

const struct jp_owner *jp_proj_controller(const struct jp_proj *p)
{
    for (size_t i = 0; i < p->nowners; i++)
        if (p->owners[i].controller) return &p->owners[i];
    return NULL;
}

const json_t *jp_json_condition(const json_t *status, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, type) == 0) return c;
    }
    return NULL;
}

bool jp_json_condition_true(const json_t *status, const char *type)
{
    const char *s = json_string_value(json_object_get(jp_json_condition(status, type), "status"));
    return s && strcmp(s, "True") == 0;
}

static struct jp_proj *project(const struct jp_kind *kind, const json_t *obj)
{
    struct jp_proj *p = jp_xcalloc(1, sizeof(*p));
    const json_t *meta = json_object_get(obj, "metadata");
    const char *uid = jp_json_str(meta, "uid", NULL);
    p->uid = jp_xstrdup(uid ? uid : "");
    p->created_ns = jp_json_time(meta, "creationTimestamp", NULL);
    p->deleted_ns = jp_json_time(meta, "deletionTimestamp", NULL);
    const json_t *labels = json_object_get(meta, "labels");
    if (json_is_object(labels) && json_object_size(labels) > 0) {
        p->labels = jp_xcalloc(json_object_size(labels), sizeof(*p->labels));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)labels, k, v)
        {
            if (!json_is_string(v)) continue;
            p->labels[p->nlabels].key = jp_xstrdup(k);
            p->labels[p->nlabels].value = jp_xstrdup(json_string_value(v));
            p->nlabels++;
        }
        qsort(p->labels, p->nlabels, sizeof(*p->labels), kv_cmp);
    }
    const json_t *owners = json_object_get(meta, "ownerReferences");
    if (json_is_array(owners) && json_array_size(owners) > 0) {
        p->owners = jp_xcalloc(json_array_size(owners), sizeof(*p->owners));
        size_t i;
        json_t *o;
        json_array_foreach(owners, i, o)
        {
            struct jp_owner *w = &p->owners[p->nowners++];
            const char *s;
            w->uid = jp_xstrdup((s = jp_json_str(o, "uid", NULL)) ? s : "");
            w->kind = jp_xstrdup((s = jp_json_str(o, "kind", NULL)) ? s : "");
            w->name = jp_xstrdup((s = jp_json_str(o, "name", NULL)) ? s : "");
            w->api_version = jp_xstrdup((s = jp_json_str(o, "apiVersion", NULL)) ? s : "");
            w->controller = json_is_true(json_object_get(o, "controller"));
            w->block = json_is_true(json_object_get(o, "blockOwnerDeletion"));
        }
    }
    const json_t *fin = json_object_get(meta, "finalizers");
    p->nfinalizers = json_is_array(fin) ? json_array_size(fin) : 0;
    if (p->nfinalizers) {
        p->finalizers = jp_xcalloc(p->nfinalizers, sizeof(*p->finalizers));
        for (size_t i = 0; i < p->nfinalizers; i++) {
            const char *f = json_string_value(json_array_get(fin, i));
            p->finalizers[i] = jp_xstrdup(f ? f : "");
        }
    }
    const struct jp_kind_ops *ops = kind->ops;
    if (ops->field_labels) {
        size_t n = 0;
        while (ops->field_labels[n])
            n++;
        p->fields = jp_xcalloc(n + 1, sizeof(*p->fields));
        for (size_t i = 0; i < n; i++) {
            char buf[64];
            const char *v = ops->field_value(obj, ops->field_labels[i], buf, sizeof(buf));
            p->fields[i] = jp_xstrdup(v ? v : "");
        }
    }
    if (ops->facts) ops->facts(obj, p->facts);
    struct jp_cells cells = {0};
    ops->row(obj, &cells);
    p->cells = cells.items;
    p->ncells = cells.n;
    return p;
}

void jp_proj_free(void *arg)
{
    struct jp_proj *p = arg;
    if (p == NULL) return;
    free(p->uid);
    for (size_t i = 0; i < p->nlabels; i++) {
        free(p->labels[i].key);
        free(p->labels[i].value);
    }
    free(p->labels);
    for (size_t i = 0; i < p->nowners; i++) {
        free(p->owners[i].uid);
        free(p->owners[i].kind);
        free(p->owners[i].name);
        free(p->owners[i].api_version);
    }
    free(p->owners);
    for (size_t i = 0; i < p->nfinalizers; i++)
        free(p->finalizers[i]);
    free(p->finalizers);
    for (size_t i = 0; p->fields && p->fields[i]; i++)
        free(p->fields[i]);
    free(p->fields);
    for (size_t i = 0; i < p->ncells; i++)
        free(p->cells[i].text);
    free(p->cells);
    free(p);
}

static void member(struct jp_buf *b, bool *first, const char *key, const json_t *value,
                   size_t *value_off, size_t *value_len)
{
    if (!*first) jp_buf_appendc(b, ',');
    *first = false;
    jp_json_quote(b, key, strlen(key), 0);
    jp_buf_appendc(b, ':');
    size_t at = b->len;
    jp_json_emit(b, value); /* cannot fail: no cap, and parsed trees are never too deep */
    if (value_off) *value_off = at;
    if (value_len) *value_len = b->len - at;
}

struct jp_proj *jp_object_serialize(const struct jp_kind *kind, json_t *obj, char **json,
                                    size_t *len)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_buf_appendc(&b, '{');
    bool first = true;
    size_t meta_off = 0, meta_len = 0;
    static const char *const order[] = {"kind", "apiVersion", "metadata"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(obj, order[i]);
        if (v)
            member(&b, &first, order[i], v, i == 2 ? &meta_off : NULL, i == 2 ? &meta_len : NULL);
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcmp(k, "kind") && strcmp(k, "apiVersion") && strcmp(k, "metadata"))
            member(&b, &first, k, v, NULL, NULL);
    }
    jp_buf_appendc(&b, '}');
    struct jp_proj *p = project(kind, obj);
    p->meta_off = meta_off;
    p->meta_len = meta_len;
    *json = jp_buf_steal(&b, len);
    return p;
}

/* Skips one JSON value starting at p (already valid JSON: it was written by us or jansson
 * parsed it); returns the position after it. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;
    bool in_string = false;
    for (; p < end; p++) {
        char c = *p;
        if (in_string) {
            if (c == '\\')
                p++;
            else if (c == '"')
                in_string = false;
            if (!in_string && depth == 0) return p + 1;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) return p + 1;
            if (depth < 0) return p; /* end of the enclosing object */
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\n')) {
            return p; /* end of a number or literal */
        }
    }
    return end;
}

/* Finds the value of a top-level member in compact JSON text (no whitespace between tokens). */
static bool find_member(const char *json, size_t len, const char *key, size_t *off, size_t *vlen)
{
    const char *p = json, *end = json + len;
    if (p == end || *p != '{') return false;
    p++;
    size_t klen = strlen(key);
    while (p < end && *p == '"') {
        const char *kstart = p + 1;
        const char *kend = skip_value(p, end) - 1; /* the closing quote */
        p = kend + 1;
        if (p >= end || *p != ':') return false;
        p++;
        const char *v = p;
        p = skip_value(p, end);
        if ((size_t)(kend - kstart) == klen && memcmp(kstart, key, klen) == 0) {
            *off = (size_t)(v - json);
            *vlen = (size_t)(p - v);
            return true;
        }
        if (p < end && *p == ',') p++;
    }
    return false;
}

struct jp_obj *jp_object_load(const struct jp_kind *kind, uint16_t kind_index, const char *ns,
                              const char *name, const char *json, size_t len)
{
    json_t *obj = json_loadb(json, len, 0, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    /* the stored bytes are what we serialized: keep them, only the projection is rebuilt */
    struct jp_proj *p = project(kind, obj);
    json_decref(obj);
    if (!find_member(json, len, "metadata", &p->meta_off, &p->meta_len)) {
        jp_proj_free(p);
        return NULL;
    }
    return jp_obj_new(kind_index, ns, name, jp_xstrndup(json, len), len, p, jp_proj_free);
}
