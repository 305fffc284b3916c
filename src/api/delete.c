/* Deletion: preconditions, finalizers and deletionTimestamp, graceful pod deletion, and the
 * cascade to dependents by propagation policy. Until the garbage collector controller exists,
 * cascades run here, synchronously and in the same batch as the owner's deletion: orphan strips
 * the owner reference, background deletes dependents after the owner, foreground before it. */
#include "api/write-internal.h"
#include "base/alloc.h"
#include "base/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum policy { ORPHAN, BACKGROUND, FOREGROUND };

int jp_api__remove(struct jp_write_ctx *c, const struct jp_obj *cur, json_t *final,
                   struct jp_write_result *out, struct jp_status **st)
{
    (void)st;
    char rv[32];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)jp_store_next_revision(c->store));
    json_t *copy = json_deep_copy(final);
    json_object_set_new(jp_json_ensure(copy, "metadata", NULL), "resourceVersion", json_string(rv));
    char *json;
    size_t len;
    struct jp_proj *p = jp_object_serialize(c->kind, copy, &json, &len);
    json_decref(copy);
    struct jp_obj *o = jp_obj_new(cur->kind, cur->ns, cur->name, json, len, p, jp_proj_free);
    memset(out, 0, sizeof(*out));
    out->code = 200;
    out->deleted = true;
    out->changed = !c->dry_run;
    if (c->dry_run) {
        out->obj = o;
        return 0;
    }
    jp_store_delete(c->store, jp_obj_ref(o));
    out->obj = o;
    return 0;
}

struct dependents {
    const char *uid;
    struct jp_obj **items;
    size_t n;
};

static bool collect_dependent(const struct jp_obj *o, void *arg)
{
    struct dependents *d = arg;
    const struct jp_proj *p = jp_proj_of(o);
    for (size_t i = 0; i < p->nowners; i++) {
        if (strcmp(p->owners[i].uid, d->uid) == 0) {
            d->items = jp_xrealloc(d->items, (d->n + 1) * sizeof(*d->items));
            d->items[d->n++] = jp_obj_ref(o);
            break;
        }
    }
    return true;
}

static void find_dependents(struct jp_store *s, const char *uid, struct dependents *d)
{
    d->uid = uid;
    for (unsigned k = 0; k < jp_nkinds; k++)
        jp_store_scan(s, (uint16_t)k, NULL, NULL, NULL, collect_dependent, d);
}

static int delete_one(struct jp_write_ctx *parent, const struct jp_obj *o, enum policy pol,
                      int depth);

static void orphan(struct jp_write_ctx *c, const struct jp_obj *dep, const char *owner_uid)
{
    json_t *obj = jp_api_parse(dep);
    json_t *owners = jp_json_path(obj, "metadata", "ownerReferences", NULL);
    for (size_t i = json_array_size(owners); i-- > 0;)
        if (strcmp(jp_json_str(json_array_get(owners, i), "uid", NULL) ?: "", owner_uid) == 0)
            json_array_remove(owners, i);
    if (json_array_size(owners) == 0)
        json_object_del(json_object_get(obj, "metadata"), "ownerReferences");
    struct jp_write_ctx dc = {
        .store = c->store, .kind = &jp_kinds[dep->kind], .ns = dep->ns, .fv = JP_FV_IGNORE};
    struct jp_write_result r;
    struct jp_status *st = NULL;
    if (jp_api__update_object(&dc, dep, obj, &r, &st) == 0) jp_write_result_free(&r);
    jp_status_free(st);
    jp_write_ctx_free(&dc);
}

static void cascade(struct jp_write_ctx *c, const struct jp_obj *owner, enum policy pol, int depth)
{
    struct dependents d = {0};
    find_dependents(c->store, jp_proj_of(owner)->uid, &d);
    for (size_t i = 0; i < d.n; i++) {
        if (pol == ORPHAN)
            orphan(c, d.items[i], jp_proj_of(owner)->uid);
        else
            delete_one(c, d.items[i], pol, depth + 1);
        jp_obj_unref(d.items[i]);
    }
    free(d.items);
}

/* Namespaces take their contents with them. */
static bool collect_all(const struct jp_obj *o, void *arg)
{
    struct dependents *d = arg;
    d->items = jp_xrealloc(d->items, (d->n + 1) * sizeof(*d->items));
    d->items[d->n++] = jp_obj_ref(o);
    return true;
}

static void delete_namespace_contents(struct jp_write_ctx *c, const char *ns, int depth)
{
    for (unsigned k = 0; k < jp_nkinds; k++) {
        if (!jp_kinds[k].namespaced) continue;
        struct dependents d = {0};
        jp_store_scan(c->store, (uint16_t)k, ns, NULL, NULL, collect_all, &d);
        for (size_t i = 0; i < d.n; i++) {
            if (jp_store_get(c->store, d.items[i]->kind, d.items[i]->ns, d.items[i]->name))
                delete_one(c, d.items[i], BACKGROUND, depth + 1);
            jp_obj_unref(d.items[i]);
        }
        free(d.items);
    }
}

/* Removes one object (no finalizers left) with its cascade. Used for dependents. */
static int delete_one(struct jp_write_ctx *parent, const struct jp_obj *o, enum policy pol,
                      int depth)
{
    if (depth > 16) return 0; /* ownership cycles are not followed forever */
    struct jp_write_ctx c = {.store = parent->store,
                             .kind = &jp_kinds[o->kind],
                             .ns = o->ns,
                             .fv = JP_FV_IGNORE,
                             .dry_run = parent->dry_run};
    const struct jp_obj *cur = jp_store_get(c.store, o->kind, o->ns, o->name);
    if (cur == NULL) return 0;
    struct jp_obj *held = jp_obj_ref(cur);
    if (pol == FOREGROUND) cascade(&c, held, pol, depth);
    json_t *final = jp_api_parse(held);
    struct jp_write_result r;
    struct jp_status *st = NULL;
    int rc = jp_api__remove(&c, held, final, &r, &st);
    if (rc == 0) jp_write_result_free(&r);
    jp_status_free(st);
    json_decref(final);
    if (pol == BACKGROUND) cascade(&c, held, pol, depth);
    if (strcmp(c.kind->plural, "namespaces") == 0) delete_namespace_contents(&c, held->name, depth);
    jp_obj_unref(held);
    jp_write_ctx_free(&c);
    return rc;
}

static int parse_policy(const struct jp_kind *k, const json_t *options, enum policy *pol,
                        struct jp_status **st)
{
    const char *p = jp_json_str(options, "propagationPolicy", NULL);
    json_t *orphan_flag = json_object_get(options, "orphanDependents");
    if (p == NULL) {
        if (json_is_boolean(orphan_flag)) {
            *pol = json_is_true(orphan_flag) ? ORPHAN : BACKGROUND;
            return 0;
        }
        /* batch/v1 Jobs keep the historical orphan default (job-semantics.md §2) */
        *pol = strcmp(k->plural, "jobs") == 0 ? ORPHAN : BACKGROUND;
        return 0;
    }
    if (strcmp(p, "Orphan") == 0)
        *pol = ORPHAN;
    else if (strcmp(p, "Background") == 0)
        *pol = BACKGROUND;
    else if (strcmp(p, "Foreground") == 0)
        *pol = FOREGROUND;
    else {
        struct jp_ferrs fe = {0};
        char *q = jp_go_quote(p);
        jp_ferrs_add(&fe, JP_FERR_NOT_SUPPORTED, "propagationPolicy", q,
                     "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
        free(q);
        *st = jp_status_invalid("DeleteOptions", "", "", &fe);
        return -1;
    }
    return 0;
}

int jp_api_delete(struct jp_write_ctx *c, const char *name, const json_t *options,
                  struct jp_write_result *out, struct jp_status **st)
{
    const struct jp_kind *k = c->kind;
    memset(out, 0, sizeof(*out));
    const struct jp_obj *cur = jp_store_get(c->store, (uint16_t)jp_kind_index(k), c->ns, name);
    if (cur == NULL) {
        *st = jp_api__not_found(k, name);
        return -1;
    }
    const char *puid = jp_json_str(options, "preconditions", "uid", NULL);
    const char *prv = jp_json_str(options, "preconditions", "resourceVersion", NULL);
    const struct jp_proj *p = jp_proj_of(cur);
    if (puid && strcmp(puid, p->uid) != 0) {
        *st = jp_status_new(JP_CONFLICT,
                            "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID "
                            "in precondition: %s, UID in object meta: %s",
                            k->resource, name, puid, p->uid);
        jp_status_details(*st, name, k->group, k->plural);
        return -1;
    }
    if (prv) {
        char want[32];
        snprintf(want, sizeof(want), "%llu", (unsigned long long)cur->rv);
        if (strcmp(prv, want) != 0) {
            *st = jp_status_new(JP_CONFLICT,
                                "Operation cannot be fulfilled on %s \"%s\": Precondition failed: "
                                "ResourceVersion in precondition: %s, ResourceVersion in object "
                                "meta: %s",
                                k->resource, name, prv, want);
            jp_status_details(*st, name, k->group, k->plural);
            return -1;
        }
    }
    enum policy pol;
    if (parse_policy(k, options, &pol, st) < 0) return -1;
    struct jp_obj *held = jp_obj_ref(cur);
    json_t *obj = jp_api_parse(held);
    json_t *meta = json_object_get(obj, "metadata");
    int rc;
    bool has_finalizers = json_array_size(json_object_get(meta, "finalizers")) > 0;
    json_int_t grace = jp_json_int(options, -1, "gracePeriodSeconds", NULL);
    bool graceful_pod = strcmp(k->plural, "pods") == 0 &&
                        jp_json_str(obj, "spec", "nodeName", NULL) && grace != 0 &&
                        !json_object_get(meta, "deletionTimestamp");
    if (has_finalizers || graceful_pod) {
        /* the object stays, terminating, until its finalizers or its node let go */
        if (!json_object_get(meta, "deletionTimestamp")) {
            if (grace < 0)
                grace = graceful_pod
                            ? jp_json_int(obj, 30, "spec", "terminationGracePeriodSeconds", NULL)
                            : 0;
            char ts[JP_TIME_BUFLEN];
            jp_time_format(ts, jp_now_ns() + grace * JP_NS_PER_SEC, JP_TIME_SECONDS);
            json_object_set_new(meta, "deletionTimestamp", json_string(ts));
            json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(grace));
        }
        /* deletionTimestamp is system metadata: written directly, not as a client update */
        json_t *old = jp_api_parse(held);
        if (json_equal(old, obj)) {
            out->obj = jp_obj_ref(held);
            out->code = 200;
            rc = 0;
        } else {
            out->obj = c->dry_run ? NULL : jp_api_store_put(c->store, k, obj);
            if (out->obj == NULL) out->obj = jp_obj_ref(held);
            out->code = 200;
            out->changed = !c->dry_run;
            rc = 0;
        }
        json_decref(old);
        if (pol != ORPHAN && !c->dry_run && !graceful_pod) cascade(c, held, pol, 0);
    } else {
        if (pol == FOREGROUND && !c->dry_run) cascade(c, held, pol, 0);
        if (pol == ORPHAN && !c->dry_run) cascade(c, held, ORPHAN, 0);
        rc = jp_api__remove(c, held, obj, out, st);
        if (rc == 0 && pol == BACKGROUND && !c->dry_run) cascade(c, held, pol, 0);
        if (rc == 0 && strcmp(k->plural, "namespaces") == 0 && !c->dry_run)
            delete_namespace_contents(c, name, 0);
    }
    json_decref(obj);
    jp_obj_unref(held);
    return rc;
}
