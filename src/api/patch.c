/* Patch application. Strategic merge walks the patch alongside the schema so it knows, for
 * every list, whether to replace it or merge it element by element (and by which key). */
#include "api/patch.h"
#include "api/schema.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

/* ---- RFC 7386 ---- */

json_t *jp_merge_patch(const json_t *target, const json_t *patch)
{
    if (!json_is_object(patch)) return json_deep_copy(patch);
    json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        if (json_is_null(v)) {
            json_object_del(out, k);
        } else {
            json_t *merged = jp_merge_patch(json_object_get(out, k), v);
            json_object_set_new(out, k, merged);
        }
    }
    return out;
}

/* ---- RFC 6902 ---- */

/* Resolves a JSON pointer to (parent, key or index). *parent is NULL if the path is "". */
static int pointer(json_t *doc, const char *path, json_t **parent, char **last, json_t **target)
{
    *parent = NULL;
    *last = NULL;
    *target = doc;
    if (*path == '\0') return 0;
    if (*path != '/') return -1;
    json_t *cur = doc;
    const char *p = path;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        struct jp_buf tok;
        jp_buf_init(&tok, 1 << 16);
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                jp_buf_appendc(&tok, p[i + 1] == '0' ? '~' : '/');
                i++;
            } else {
                jp_buf_appendc(&tok, p[i]);
            }
        }
        char *key = jp_buf_steal(&tok, NULL);
        p += n;
        free(*last);
        *last = key;
        *parent = cur;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, key);
        } else if (json_is_array(cur)) {
            char *e;
            long idx = strtol(key, &e, 10);
            if (strcmp(key, "-") == 0 || *key == '\0' || *e || idx < 0)
                cur = NULL;
            else
                cur = json_array_get(cur, (size_t)idx);
        } else {
            cur = NULL;
            if (*p) return -1;
        }
        if (cur == NULL && *p) return -1;
    }
    *target = cur;
    return 0;
}

static int array_index(const json_t *arr, const char *key, bool for_add, size_t *out)
{
    if (for_add && strcmp(key, "-") == 0) {
        *out = json_array_size(arr);
        return 0;
    }
    char *e;
    long idx = strtol(key, &e, 10);
    if (*key == '\0' || *e || idx < 0) return -1;
    size_t max = json_array_size(arr) + (for_add ? 1 : 0);
    if ((size_t)idx >= max) return -1;
    *out = (size_t)idx;
    return 0;
}

static int op_add(json_t **doc, const char *path, json_t *value)
{
    json_t *parent, *target;
    char *last;
    if (pointer(*doc, path, &parent, &last, &target) < 0) {
        free(last);
        return -1;
    }
    int rc = 0;
    if (parent == NULL) {
        json_decref(*doc);
        *doc = json_incref(value);
    } else if (json_is_object(parent)) {
        json_object_set(parent, last, value);
    } else if (json_is_array(parent)) {
        size_t idx;
        rc = array_index(parent, last, true, &idx);
        if (rc == 0) rc = json_array_insert(parent, idx, value) == 0 ? 0 : -1;
    } else {
        rc = -1;
    }
    free(last);
    return rc;
}

static int op_remove(json_t **doc, const char *path, json_t **removed)
{
    json_t *parent, *target;
    char *last;
    if (pointer(*doc, path, &parent, &last, &target) < 0 || target == NULL || parent == NULL) {
        free(last);
        return -1;
    }
    if (removed) *removed = json_incref(target);
    int rc = 0;
    if (json_is_object(parent)) {
        json_object_del(parent, last);
    } else {
        size_t idx;
        rc = array_index(parent, last, false, &idx);
        if (rc == 0) json_array_remove(parent, idx);
    }
    free(last);
    return rc;
}

static json_t *get(json_t *doc, const char *path)
{
    json_t *parent, *target;
    char *last;
    int rc = pointer(doc, path, &parent, &last, &target);
    free(last);
    return rc < 0 ? NULL : target;
}

int jp_json_patch(json_t **doc, const json_t *ops, struct jp_status **st)
{
    if (!json_is_array(ops)) {
        *st = jp_status_new(JP_BAD_REQUEST, "json patch must be an array of operations");
        return -1;
    }
    json_t *work = json_deep_copy(*doc);
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        const char *name = json_string_value(json_object_get(op, "op"));
        const char *path = json_string_value(json_object_get(op, "path"));
        const char *from = json_string_value(json_object_get(op, "from"));
        json_t *value = json_object_get(op, "value");
        int rc = -1;
        const char *why = "unknown operation";
        if (name == NULL || path == NULL) {
            why = "missing op or path";
        } else if (strcmp(name, "add") == 0 && value) {
            rc = op_add(&work, path, value);
            why = "add operation does not apply: doc is missing path";
        } else if (strcmp(name, "remove") == 0) {
            rc = op_remove(&work, path, NULL);
            why = "remove operation does not apply: doc is missing path";
        } else if (strcmp(name, "replace") == 0 && value) {
            why = "replace operation does not apply: doc is missing key";
            if (*path == '\0') {
                rc = op_add(&work, path, value);
            } else if (get(work, path)) {
                rc = op_remove(&work, path, NULL);
                if (rc == 0) rc = op_add(&work, path, value);
            }
        } else if (strcmp(name, "move") == 0 && from) {
            json_t *moved = NULL;
            rc = op_remove(&work, from, &moved);
            if (rc == 0) rc = op_add(&work, path, moved);
            json_decref(moved);
            why = "move operation does not apply: doc is missing from path";
        } else if (strcmp(name, "copy") == 0 && from) {
            json_t *src = get(work, from);
            json_t *copy = src ? json_deep_copy(src) : NULL;
            rc = copy ? op_add(&work, path, copy) : -1;
            json_decref(copy);
            why = "copy operation does not apply: doc is missing from path";
        } else if (strcmp(name, "test") == 0 && value) {
            json_t *cur = get(work, path);
            rc = cur && json_equal(cur, value) ? 0 : -1;
            why = "testing value failed";
        }
        if (rc < 0) {
            *st = jp_status_new(JP_INVALID,
                                "the server rejected our request due to an error in our "
                                "request: %s: %s",
                                why, path ? path : "");
            json_decref(work);
            return -1;
        }
    }
    json_decref(*doc);
    *doc = work;
    return 0;
}

/* ---- strategic merge patch ---- */

static int merge_value(json_t *parent, const char *key, const json_t *pv, uint8_t type,
                       uint8_t elem, uint16_t ref, const struct jp_field *f, struct jp_status **st);

/* A patch value with its directives removed, for when it lands where nothing was. */
static json_t *strip_directives(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (k[0] == '$') continue;
            if (json_is_null(x)) continue;
            json_object_set_new(out, k, strip_directives(x));
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (json_is_object(x) && json_object_get(x, "$patch")) continue;
            json_array_append_new(out, strip_directives(x));
        }
        return out;
    }
    return json_deep_copy(v);
}

static bool same_key(const json_t *a, const json_t *b, const char *key)
{
    json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    return x && y && json_equal(x, y);
}

static void order_by(json_t *list, const json_t *order, const char *key)
{
    json_t *out = json_array();
    bool *used = jp_xcalloc(json_array_size(list) + 1, sizeof(bool));
    size_t i, j;
    json_t *o, *item;
    json_array_foreach(order, i, o)
    {
        json_array_foreach(list, j, item)
        {
            bool match = key ? same_key(item, o, key) : json_equal(item, o);
            if (!used[j] && match) {
                used[j] = true;
                json_array_append(out, item);
                break;
            }
        }
    }
    json_array_foreach(list, j, item) if (!used[j]) json_array_append(out, item);
    json_array_clear(list);
    json_array_extend(list, out);
    json_decref(out);
    free(used);
}

static int merge_list(json_t *target, const json_t *patch, const struct jp_field *f,
                      struct jp_status **st)
{
    const char *key = f->merge_key;
    size_t i, j;
    json_t *pe, *te;
    json_array_foreach(patch, i, pe)
    {
        if (json_is_object(pe) && json_is_string(json_object_get(pe, "$patch"))) {
            const char *d = json_string_value(json_object_get(pe, "$patch"));
            if (strcmp(d, "replace") == 0) { /* the list becomes the patch's other elements */
                json_array_clear(target);
                json_t *rest = strip_directives(patch);
                json_array_extend(target, rest);
                json_decref(rest);
                return 0;
            }
            if (strcmp(d, "delete") == 0 && key) {
                for (j = json_array_size(target); j-- > 0;)
                    if (same_key(json_array_get(target, j), pe, key)) json_array_remove(target, j);
                continue;
            }
            *st = jp_status_new(JP_BAD_REQUEST, "unknown patch type: %s in list %s", d, f->name);
            return -1;
        }
        if (key == NULL || !json_is_object(pe)) { /* a set of primitives */
            bool present = false;
            json_array_foreach(target, j, te) present |= json_equal(te, pe);
            if (!present) json_array_append_new(target, json_deep_copy(pe));
            continue;
        }
        if (!json_object_get(pe, key)) {
            char *dump = json_dumps(pe, JSON_COMPACT);
            *st = jp_status_new(JP_BAD_REQUEST, "map: %s does not contain declared merge key: %s",
                                dump ? dump : "{}", key);
            free(dump);
            return -1;
        }
        bool merged = false;
        json_array_foreach(target, j, te)
        {
            if (json_is_object(te) && same_key(te, pe, key)) {
                if (jp_strategic_merge(te, pe, f->ref, st) < 0) return -1;
                merged = true;
                break;
            }
        }
        if (!merged) json_array_append_new(target, strip_directives(pe));
    }
    return 0;
}

static int merge_value(json_t *parent, const char *key, const json_t *pv, uint8_t type,
                       uint8_t elem, uint16_t ref, const struct jp_field *f, struct jp_status **st)
{
    json_t *cur = json_object_get(parent, key);
    if (type == JP_F_OBJECT && json_is_object(pv) && json_is_object(cur))
        return jp_strategic_merge(cur, pv, ref, st);
    if (type == JP_F_MAP && json_is_object(pv) && json_is_object(cur)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)pv, k, v)
        {
            if (json_is_null(v))
                json_object_del(cur, k);
            else if (elem == JP_F_OBJECT && json_is_object(json_object_get(cur, k)))
                jp_strategic_merge(json_object_get(cur, k), v, ref, st);
            else
                json_object_set_new(cur, k, strip_directives(v));
        }
        return 0;
    }
    if (type == JP_F_ARRAY && f &&
        (f->patch == JP_PATCH_MERGE || f->patch == JP_PATCH_MERGE_RETAIN_KEYS) &&
        json_is_array(pv) && json_is_array(cur))
        return merge_list(cur, pv, f, st);
    if (type == JP_F_ANY && json_is_object(pv) && json_is_object(cur)) {
        json_t *m = jp_merge_patch(cur, pv);
        json_object_set_new(parent, key, m);
        return 0;
    }
    json_object_set_new(parent, key, strip_directives(pv));
    return 0;
}

int jp_strategic_merge(json_t *target, const json_t *patch, int type, struct jp_status **st)
{
    if (!json_is_object(patch) || !json_is_object(target)) {
        *st = jp_status_new(JP_BAD_REQUEST, "strategic merge patch must be a JSON object");
        return -1;
    }
    const struct jp_type *ty = type >= 0 ? &jp_schema_types[type] : NULL;
    const char *directive = json_string_value(json_object_get(patch, "$patch"));
    if (directive && strcmp(directive, "replace") == 0) {
        json_object_clear(target);
        json_t *rest = strip_directives(patch);
        json_object_update(target, rest);
        json_decref(rest);
        return 0;
    }
    if (directive && strcmp(directive, "delete") == 0) {
        json_object_clear(target);
        return 0;
    }
    if (directive) {
        *st = jp_status_new(JP_BAD_REQUEST, "unknown patch type: %s", directive);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        if (k[0] == '$') continue; /* directives are applied after the fields */
        if (json_is_null(v)) {
            json_object_del(target, k);
            continue;
        }
        const struct jp_field *f = ty ? jp_schema_field(ty, k) : NULL;
        uint8_t ft = f ? f->type : JP_F_ANY;
        if (merge_value(target, k, v, ft, f ? f->elem : 0, f ? f->ref : 0, f, st) < 0) return -1;
    }
    json_object_foreach((json_t *)patch, k, v)
    {
        if (strncmp(k, "$setElementOrder/", 17) == 0) {
            const char *field = k + 17;
            const struct jp_field *f = ty ? jp_schema_field(ty, field) : NULL;
            json_t *list = json_object_get(target, field);
            if (json_is_array(list) && json_is_array(v))
                order_by(list, v, f && f->merge_key ? f->merge_key : NULL);
        } else if (strncmp(k, "$deleteFromPrimitiveList/", 25) == 0) {
            json_t *list = json_object_get(target, k + 25);
            size_t i, j;
            json_t *del;
            json_array_foreach(v, i, del)
            {
                for (j = json_array_size(list); j-- > 0;)
                    if (json_equal(json_array_get(list, j), del)) json_array_remove(list, j);
            }
        } else if (strcmp(k, "$retainKeys") == 0 && json_is_array(v)) {
            const char *tk;
            json_t *tv;
            void *tmp;
            json_object_foreach_safe(target, tmp, tk, tv)
            {
                bool keep = false;
                size_t i;
                json_t *rk;
                json_array_foreach(v, i, rk) keep |=
                    json_is_string(rk) && strcmp(json_string_value(rk), tk) == 0;
                if (!keep) json_object_del(target, tk);
            }
        }
    }
    return 0;
}
