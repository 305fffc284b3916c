/* Deletion as the Kubernetes registry does it: preconditions, then either removal or, when
 * something must happen first, a deletionTimestamp. An object stays (Terminating) while it has
 * finalizers, while a node must stop its pod (graceful deletion), or while the garbage collector
 * must act first: the Foreground policy adds the "foregroundDeletion" finalizer, Orphan adds
 * "orphan", and a namespace waits for its contents. Background deletes remove the owner at once
 * and leave the dependents to the garbage collector (controllers/gc.c). */
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
    if (!c->dry_run) jp_store_delete(c->store, jp_obj_ref(o));
    out->obj = o;
    return 0;
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

static bool has_finalizer(const json_t *meta, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(meta, "finalizers"), i,
                       f) if (json_is_string(f) &&
                              strcmp(json_string_value(f), name) == 0) return true;
    return false;
}

static void add_finalizer(json_t *meta, const char *name)
{
    if (has_finalizer(meta, name)) return;
    json_t *list = json_object_get(meta, "finalizers");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(meta, "finalizers", list);
    }
    json_array_append_new(list, json_string(name));
}

bool jp_api_must_wait(const struct jp_kind *k, const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    if (json_array_size(json_object_get(meta, "finalizers")) > 0) return true;
    /* a namespace also waits for its spec.finalizers ("kubernetes": its contents) */
    return strcmp(k->plural, "namespaces") == 0 &&
           json_array_size(jp_json_path(obj, "spec", "finalizers", NULL)) > 0;
}

/* Namespaces Kubernetes never lets go of (the NamespaceLifecycle admission plugin). */
static bool immortal(const struct jp_kind *k, const char *name)
{
    return strcmp(k->plural, "namespaces") == 0 &&
           (strcmp(name, "default") == 0 || strcmp(name, "kube-system") == 0 ||
            strcmp(name, "kube-public") == 0);
}

static int check_preconditions(const struct jp_kind *k, const struct jp_obj *cur,
                               const json_t *options, struct jp_status **st)
{
    const char *puid = jp_json_str(options, "preconditions", "uid", NULL);
    const char *prv = jp_json_str(options, "preconditions", "resourceVersion", NULL);
    const struct jp_proj *p = jp_proj_of(cur);
    if (puid && strcmp(puid, p->uid) != 0) {
        *st = jp_status_new(JP_CONFLICT,
                            "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID "
                            "in precondition: %s, UID in object meta: %s",
                            k->resource, cur->name, puid, p->uid);
        jp_status_details(*st, cur->name, k->group, k->plural);
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
                                k->resource, cur->name, prv, want);
            jp_status_details(*st, cur->name, k->group, k->plural);
            return -1;
        }
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
    if (immortal(k, name)) {
        *st =
            jp_status_new(JP_FORBIDDEN, "%s \"%s\" is forbidden: this namespace may not be deleted",
                          k->resource, name);
        jp_status_details(*st, name, k->group, k->plural);
        return -1;
    }
    if (check_preconditions(k, cur, options, st) < 0) return -1;
    enum policy pol;
    if (parse_policy(k, options, &pol, st) < 0) return -1;
    struct jp_obj *held = jp_obj_ref(cur);
    json_t *obj = jp_api_parse(held);
    json_t *meta = json_object_get(obj, "metadata");
    bool terminating = json_object_get(meta, "deletionTimestamp") != NULL;
    json_int_t grace = jp_json_int(options, -1, "gracePeriodSeconds", NULL);
    bool pod = strcmp(k->plural, "pods") == 0;
    /* a pod bound to a node stops there first; grace 0 (force) removes it at once */
    bool graceful = pod && jp_json_str(obj, "spec", "nodeName", NULL) && grace != 0 && !terminating;
    if (!terminating) {
        if (pol == FOREGROUND) add_finalizer(meta, "foregroundDeletion");
        if (pol == ORPHAN) add_finalizer(meta, "orphan");
    }
    int rc = 0;
    if (graceful || jp_api_must_wait(k, obj)) {
        if (!terminating) {
            if (grace < 0)
                grace = graceful
                            ? jp_json_int(obj, 30, "spec", "terminationGracePeriodSeconds", NULL)
                            : 0;
            char ts[JP_TIME_BUFLEN];
            jp_time_format(ts, jp_now_ns() + grace * JP_NS_PER_SEC, JP_TIME_SECONDS);
            json_object_set_new(meta, "deletionTimestamp", json_string(ts));
            json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(grace));
            if (strcmp(k->plural, "namespaces") == 0)
                json_object_set_new(jp_json_ensure(obj, "status", NULL), "phase",
                                    json_string("Terminating"));
        } else if (grace == 0) {
            /* a forced delete of a terminating object that finalizers still hold: it goes as
             * soon as they are removed */
            json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
        }
        json_t *old = jp_api_parse(held);
        out->code = 200;
        if (json_equal(old, obj) || c->dry_run) {
            out->obj = jp_obj_ref(held);
        } else {
            /* deletionTimestamp is system metadata: written directly, not as a client update */
            out->obj = jp_api_store_put(c->store, k, obj);
            out->changed = true;
        }
        json_decref(old);
    } else {
        rc = jp_api__remove(c, held, obj, out, st);
    }
    json_decref(obj);
    jp_obj_unref(held);
    return rc;
}
