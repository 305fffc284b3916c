/* Create, update and patch: the strategy steps of the Kubernetes registry in order, shared by
 * every kind. Delete and its cascades live in delete.c. */
#include "api/write.h"
#include "api/patch.h"
#include "api/schema_types_gen.h"
#include "api/selector.h"
#include "api/write-internal.h"
#include "base/alloc.h"
#include "base/rand.h"
#include "base/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *jp_api_parse(const struct jp_obj *o)
{
    return json_loadb(o->json, o->len, 0, NULL);
}

/* The controllers and the agent read the same few hundred live objects over and over (a Job's
 * sync reads every pod it has not counted yet, a status write reads the pod it replaces):
 * parsing them once per version instead of once per read was a quarter of the server's CPU.
 * The most recent VIEW_CACHE parsed versions keep their tree; older ones drop it, so finished
 * objects cost no memory for it. */
#define VIEW_CACHE 1024

static struct jp_obj *view_ring[VIEW_CACHE];
static size_t view_next;

static void view_free(void *tree)
{
    json_decref(tree);
}

/* tree (taken) becomes o's view, in the ring's next place */
static void view_keep(const struct jp_obj *o, json_t *tree)
{
    struct jp_obj *m = (struct jp_obj *)o; /* the cache is not part of the stored version */
    struct jp_obj *old = view_ring[view_next];
    if (old) {
        json_decref(old->view);
        old->view = NULL;
        jp_obj_unref(old);
    }
    m->view = tree;
    m->view_free = view_free;
    view_ring[view_next] = jp_obj_ref(o);
    view_next = (view_next + 1) % VIEW_CACHE;
}

json_t *jp_api_view(const struct jp_obj *o)
{
    if (o->view == NULL) {
        json_t *tree = json_loadb(o->json, o->len, 0, NULL);
        if (tree == NULL) return NULL;
        view_keep(o, tree);
    }
    return json_incref(o->view);
}

void jp_write_ctx_free(struct jp_write_ctx *c)
{
    jp_warnings_free(&c->warnings);
}

void jp_write_result_free(struct jp_write_result *r)
{
    jp_obj_unref(r->obj);
    r->obj = NULL;
}

char *jp_api__now_rfc3339(void)
{
    char ts[JP_TIME_BUFLEN];
    jp_time_format(ts, jp_now_ns(), JP_TIME_SECONDS);
    return jp_xstrdup(ts);
}

struct jp_status *jp_api__not_found(const struct jp_kind *k, const char *name)
{
    struct jp_status *st = jp_status_new(JP_NOT_FOUND, "%s \"%s\" not found", k->resource, name);
    jp_status_details(st, name, k->group, k->plural);
    return st;
}

struct jp_status *jp_api__conflict(const struct jp_kind *k, const char *name)
{
    struct jp_status *st = jp_status_new(JP_CONFLICT,
                                         "Operation cannot be fulfilled on %s \"%s\": the object "
                                         "has been modified; please apply your changes to the "
                                         "latest version and try again",
                                         k->resource, name);
    jp_status_details(st, name, k->group, k->plural);
    return st;
}

struct jp_obj *jp_api_store_put(struct jp_store *s, const struct jp_kind *k, json_t *obj)
{
    char rv[32];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)jp_store_next_revision(s));
    json_object_set_new(jp_json_ensure(obj, "metadata", NULL), "resourceVersion", json_string(rv));
    char *json;
    size_t len;
    struct jp_proj *p = jp_object_serialize(k, obj, &json, &len);
    const char *ns = jp_json_str(obj, "metadata", "namespace", NULL);
    struct jp_obj *o =
        jp_obj_new((uint16_t)jp_kind_index(k), ns ? ns : "",
                   jp_json_str(obj, "metadata", "name", NULL), json, len, p, jp_proj_free);
    jp_store_put(s, jp_obj_ref(o));
    return o; /* the caller's reference */
}

/* An object that is not stored (dry run): serialized the same way. */
static struct jp_obj *unstored(const struct jp_kind *k, json_t *obj)
{
    char *json;
    size_t len;
    struct jp_proj *p = jp_object_serialize(k, obj, &json, &len);
    const char *ns = jp_json_str(obj, "metadata", "namespace", NULL);
    return jp_obj_new((uint16_t)jp_kind_index(k), ns ? ns : "",
                      jp_json_str(obj, "metadata", "name", NULL), json, len, p, jp_proj_free);
}

int jp_api__check_type_meta(const struct jp_kind *k, json_t *obj, const char *want_kind,
                            const char *want_version, struct jp_status **st)
{
    const char *av = jp_json_str(obj, "apiVersion", NULL), *kind = jp_json_str(obj, "kind", NULL);
    if (av && *av && strcmp(av, want_version) != 0) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "the API version in the data (%s) does not match the expected API "
                            "version (%s)",
                            av, want_version);
        return -1;
    }
    if (kind && *kind && strcmp(kind, want_kind) != 0) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "the kind in the data (%s) does not match the expected kind (%s)", kind,
                            want_kind);
        return -1;
    }
    (void)k;
    json_object_set_new(obj, "apiVersion", json_string(want_version));
    json_object_set_new(obj, "kind", json_string(want_kind));
    return 0;
}

static int validate(struct jp_write_ctx *c, const json_t *obj, const json_t *old,
                    struct jp_status **st)
{
    struct jp_ferrs fe = {0};
    c->kind->ops->validate(obj, old, &fe);
    if (old && c->subresource && strcmp(c->subresource, "status") == 0 &&
        c->kind->ops->validate_status)
        c->kind->ops->validate_status(obj, old, &fe);
    if (fe.n == 0) return 0;
    const char *name = jp_json_str(obj, "metadata", "name", NULL);
    *st = jp_status_invalid(c->kind->kind, c->kind->group, name ? name : "", &fe);
    return -1;
}

int jp_api__namespace_ready(struct jp_write_ctx *c, struct jp_status **st)
{
    if (!c->kind->namespaced) return 0;
    const struct jp_kind *nsk = jp_kind_by_plural("", "v1", "namespaces");
    const struct jp_obj *ns = jp_store_get(c->store, (uint16_t)jp_kind_index(nsk), "", c->ns);
    if (ns == NULL) {
        *st = jp_api__not_found(nsk, c->ns);
        return -1;
    }
    if (jp_proj_of(ns)->deleted_ns) {
        *st = jp_status_new(JP_FORBIDDEN,
                            "%s \"%s\" is forbidden: unable to create new content in namespace %s "
                            "because it is being terminated",
                            c->kind->resource, "", c->ns);
        return -1;
    }
    return 0;
}

/* A written body's namespace is the request's: one it leaves out is filled in, another one is
 * refused; a cluster-scoped kind has none. */
static int body_namespace(struct jp_write_ctx *c, json_t *body, struct jp_status **st)
{
    json_t *meta = jp_json_ensure(body, "metadata", NULL);
    if (!c->kind->namespaced) {
        json_object_del(meta, "namespace");
        return 0;
    }
    const char *bns = jp_json_str(meta, "namespace", NULL);
    if (bns && *bns && strcmp(bns, c->ns) != 0) {
        *st = jp_status_new(JP_BAD_REQUEST, "the namespace of the provided object does not match "
                                            "the namespace sent on the request");
        return -1;
    }
    json_object_set_new(meta, "namespace", json_string(c->ns));
    return 0;
}

int jp_api_create(struct jp_write_ctx *c, json_t *body, struct jp_write_result *out,
                  struct jp_status **st)
{
    const struct jp_kind *k = c->kind;
    char av[64];
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (jp_api__check_type_meta(k, body, k->kind, jp_kind_api_version(k, av, sizeof(av)), st) < 0)
        goto out;
    if (body_namespace(c, body, st) < 0) goto out;
    json_t *meta = json_object_get(body, "metadata");
    if (jp_json_str(meta, "resourceVersion", NULL) && *jp_json_str(meta, "resourceVersion", NULL)) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "resourceVersion should not be set on objects to be created");
        goto out;
    }
    if (jp_api__namespace_ready(c, st) < 0) goto out;
    const char *gen = jp_json_str(meta, "generateName", NULL);
    const char *name = jp_json_str(meta, "name", NULL);
    /* admission runs before a name is generated: its errors name the prefix */
    char *named = jp_xstrdup(name && *name ? name : gen ? gen : "");
    if ((name == NULL || *name == '\0') && gen && *gen) {
        /* apiserver appends 5 random characters; the prefix is cut to keep names <= 63 */
        for (int attempt = 0; attempt < 8; attempt++) {
            char suffix[6];
            jp_rand_suffix(suffix, 5);
            char *n = jp_xasprintf("%.58s%s", gen, suffix);
            bool taken = jp_store_get(c->store, (uint16_t)jp_kind_index(k), c->ns, n) != NULL;
            json_object_set_new(meta, "name", json_string(n));
            free(n);
            if (!taken) break;
        }
    }
    char uid[JP_UID_LEN + 1];
    jp_rand_uid(uid);
    json_object_set_new(meta, "uid", json_string(uid));
    char *now = jp_api__now_rfc3339();
    json_object_set_new(meta, "creationTimestamp", json_string(now));
    free(now);
    json_object_del(meta, "deletionTimestamp");
    json_object_del(meta, "deletionGracePeriodSeconds");
    json_object_del(meta, "managedFields");
    if (k->generation) json_object_set_new(meta, "generation", json_integer(1));
    if (k->has_status) json_object_del(body, "status");
    k->ops->defaults(body);
    if (k->ops->prepare_create) k->ops->prepare_create(c, body);
    int refused = k->ops->admit && !c->no_admission ? k->ops->admit(c, body, named, st) : 0;
    free(named);
    if (refused < 0 || validate(c, body, NULL, st) < 0) goto out;
    name = jp_json_str(meta, "name", NULL);
    if (jp_store_get(c->store, (uint16_t)jp_kind_index(k), c->ns, name)) {
        *st = jp_status_new(JP_ALREADY_EXISTS, "%s \"%s\" already exists", k->resource, name);
        jp_status_details(*st, name, k->group, k->plural);
        goto out;
    }
    out->obj = c->dry_run ? unstored(k, body) : jp_api_store_put(c->store, k, body);
    out->code = 201;
    out->changed = !c->dry_run;
    rc = 0;
out:
    json_decref(body);
    return rc;
}

/* Metadata only the server sets survives every update as stored. */
static void keep_system_meta(json_t *meta, const json_t *old_meta, bool has_generation)
{
    static const char *const keys[] = {"uid",
                                       "creationTimestamp",
                                       "deletionTimestamp",
                                       "deletionGracePeriodSeconds",
                                       "generateName",
                                       "name",
                                       "namespace"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(old_meta, keys[i]);
        if (v)
            json_object_set(meta, keys[i], v);
        else
            json_object_del(meta, keys[i]);
    }
    if (has_generation)
        json_object_set(meta, "generation", json_object_get(old_meta, "generation"));
    json_object_del(meta, "managedFields");
}

int jp_api__update_object(struct jp_write_ctx *c, const struct jp_obj *cur, json_t *obj,
                          struct jp_write_result *out, struct jp_status **st)
{
    const struct jp_kind *k = c->kind;
    /* shared and read-only: what obj takes from it is copied where obj may be changed later */
    json_t *old = jp_api_view(cur);
    int rc = -1;
    if (c->subresource && strcmp(c->subresource, "status") == 0) {
        /* status writes change status only: the rest is the stored object's, copied (not the
         * old status, which the new one replaces - a pod's is a third of it) */
        json_t *status = json_incref(json_object_get(obj, "status"));
        json_decref(obj);
        obj = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(old, key, v)
        {
            if (strcmp(key, "status") != 0) json_object_set_new(obj, key, json_deep_copy(v));
        }
        if (status) json_object_set_new(obj, "status", status);
    } else if (k->has_status) {
        json_t *status = json_object_get(old, "status");
        if (status == NULL)
            json_object_del(obj, "status");
        else if (!json_equal(json_object_get(obj, "status"), status)) /* else obj's is the same */
            json_object_set_new(obj, "status", json_deep_copy(status));
    }
    json_t *meta = jp_json_ensure(obj, "metadata", NULL);
    keep_system_meta(meta, json_object_get(old, "metadata"), k->generation);
    json_object_set(meta, "resourceVersion",
                    jp_json_path(old, "metadata", "resourceVersion", NULL));
    k->ops->defaults(obj);
    if (k->ops->prepare_update) k->ops->prepare_update(c, obj, old);
    if (validate(c, obj, old, st) < 0) goto out;
    if (k->generation && !json_equal(json_object_get(obj, "spec"), json_object_get(old, "spec")))
        json_object_set_new(meta, "generation",
                            json_integer(jp_json_int(old, 0, "metadata", "generation", NULL) + 1));
    memset(out, 0, sizeof(*out));
    out->code = 200;
    if (json_equal(obj, old)) { /* a no-op keeps its resourceVersion ("patched (no change)") */
        out->obj = jp_obj_ref(cur);
        rc = 0;
        goto out;
    }
    /* the last finalizer of a terminating object is gone: the object goes away - unless it is
     * still in its grace period (a pod its node is stopping), as in Kubernetes */
    if (json_object_get(meta, "deletionTimestamp") && !jp_api_must_wait(k, obj) &&
        jp_json_int(meta, 0, "deletionGracePeriodSeconds", NULL) == 0 && !c->dry_run) {
        rc = jp_api__remove(c, cur, obj, out, st);
        goto out;
    }
    out->obj = c->dry_run ? unstored(k, obj) : jp_api_store_put(c->store, k, obj);
    out->changed = !c->dry_run;
    if (c->keep_view && !c->dry_run && out->obj->view == NULL) {
        view_keep(out->obj, obj); /* the tree the text was made from, resourceVersion and all */
        obj = NULL;
    }
    rc = 0;
out:
    json_decref(old);
    json_decref(obj);
    return rc;
}

static int check_rv_precondition(struct jp_write_ctx *c, const struct jp_obj *cur,
                                 const json_t *obj, const char *name, struct jp_status **st)
{
    const char *rv = jp_json_str(obj, "metadata", "resourceVersion", NULL);
    if (rv && *rv) {
        char want[32];
        snprintf(want, sizeof(want), "%llu", (unsigned long long)cur->rv);
        if (strcmp(rv, want) != 0) {
            *st = jp_api__conflict(c->kind, name);
            return -1;
        }
    }
    return 0;
}

static int update_scale(struct jp_write_ctx *c, const struct jp_obj *cur, json_t *scale,
                        struct jp_write_result *out, struct jp_status **st)
{
    if (jp_api__check_type_meta(c->kind, scale, "Scale", "autoscaling/v1", st) < 0 ||
        jp_decode_check_type(JP_T_V1Scale, "Scale", scale, c->fv, &c->warnings, st) < 0) {
        json_decref(scale);
        return -1;
    }
    json_t *replicas = jp_json_path(scale, "spec", "replicas", NULL);
    json_t *obj = jp_api_parse(cur);
    json_object_set(jp_json_ensure(obj, "spec", NULL), "replicas",
                    replicas ? replicas : json_integer(0));
    json_decref(scale);
    const char *saved = c->subresource;
    c->subresource = NULL;
    int rc = jp_api__update_object(c, cur, obj, out, st);
    c->subresource = saved;
    if (rc == 0) {
        json_t *view = jp_api_scale_of(c->kind, out->obj);
        jp_obj_unref(out->obj);
        out->obj = unstored(c->kind, view); /* a Scale is never stored */
        json_decref(view);
    }
    return rc;
}

int jp_api_update(struct jp_write_ctx *c, const char *name, json_t *body,
                  struct jp_write_result *out, struct jp_status **st)
{
    const struct jp_kind *k = c->kind;
    memset(out, 0, sizeof(*out));
    const struct jp_obj *cur = jp_store_get(c->store, (uint16_t)jp_kind_index(k), c->ns, name);
    if (cur == NULL) {
        *st = jp_api__not_found(k, name);
        json_decref(body);
        return -1;
    }
    const char *bname = jp_json_str(body, "metadata", "name", NULL);
    if (bname && strcmp(bname, name) != 0) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "the name of the object (%s) does not match the name on the URL (%s)",
                            bname, name);
        json_decref(body);
        return -1;
    }
    if (check_rv_precondition(c, cur, body, name, st) < 0) {
        json_decref(body);
        return -1;
    }
    if (c->subresource && strcmp(c->subresource, "scale") == 0)
        return update_scale(c, cur, body, out, st);
    char av[64];
    if (jp_api__check_type_meta(k, body, k->kind, jp_kind_api_version(k, av, sizeof(av)), st) < 0) {
        json_decref(body);
        return -1;
    }
    if (body_namespace(c, body, st) < 0) {
        json_decref(body);
        return -1;
    }
    return jp_api__update_object(c, cur, body, out, st);
}

json_t *jp_api_scale_of(const struct jp_kind *k, const struct jp_obj *o)
{
    (void)k;
    json_t *obj = jp_api_parse(o);
    json_t *meta = json_object_get(obj, "metadata");
    json_t *scale_meta = json_object();
    static const char *const keys[] = {"name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (json_object_get(meta, keys[i]))
            json_object_set(scale_meta, keys[i], json_object_get(meta, keys[i]));
    struct jp_buf sel;
    jp_buf_init(&sel, 1 << 16);
    struct jp_selector *s = NULL;
    struct jp_status *st = NULL;
    if (jp_label_selector_from_json(jp_json_path(obj, "spec", "selector", NULL), &s, &st) == 0)
        jp_label_selector_string(s, &sel);
    jp_selector_free(s);
    jp_status_free(st);
    json_t *scale =
        json_pack("{s:s,s:s,s:o,s:{s:I},s:{s:I,s:s}}", "kind", "Scale", "apiVersion",
                  "autoscaling/v1", "metadata", scale_meta, "spec", "replicas",
                  (json_int_t)jp_json_int(obj, 0, "spec", "replicas", NULL), "status", "replicas",
                  (json_int_t)jp_json_int(obj, 0, "status", "replicas", NULL), "selector",
                  sel.data ? sel.data : "");
    jp_buf_free(&sel);
    json_decref(obj);
    return scale;
}

static int apply_patch(struct jp_write_ctx *c, const char *content_type, json_t **doc,
                       const json_t *patch, int schema_type, struct jp_status **st)
{
    if (strcmp(content_type, "application/merge-patch+json") == 0 ||
        strcmp(content_type, "application/apply-patch+yaml") == 0) {
        json_t *m = jp_merge_patch(*doc, patch);
        json_decref(*doc);
        *doc = m;
        return 0;
    }
    if (strcmp(content_type, "application/json-patch+json") == 0)
        return jp_json_patch(doc, patch, st);
    if (strcmp(content_type, "application/strategic-merge-patch+json") == 0) {
        if (!json_is_object(patch)) {
            *st = jp_status_new(JP_BAD_REQUEST, "strategic merge patch must be a JSON object");
            return -1;
        }
        return jp_strategic_merge(*doc, patch, schema_type, st);
    }
    (void)c;
    *st = jp_status_new(JP_UNSUPPORTED_MEDIA_TYPE,
                        "the body of the request was in an unknown format - accepted media types "
                        "include: application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml, application/strategic-merge-patch+json");
    return -1;
}

int jp_api_patch(struct jp_write_ctx *c, const char *name, const char *content_type,
                 const char *patch_text, size_t len, const char *field_manager, bool force,
                 struct jp_write_result *out, struct jp_status **st)
{
    (void)field_manager, (void)force;
    const struct jp_kind *k = c->kind;
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *patch = json_loadb(patch_text, len, 0, &jerr);
    if (patch == NULL) {
        *st = jp_status_new(JP_BAD_REQUEST, "error decoding patch: %s", jerr.text);
        return -1;
    }
    bool apply = strcmp(content_type, "application/apply-patch+yaml") == 0;
    const struct jp_obj *cur = jp_store_get(c->store, (uint16_t)jp_kind_index(k), c->ns, name);
    if (cur == NULL && apply && c->subresource == NULL) {
        /* server-side apply creates what does not exist yet */
        if (jp_decode_check(k, patch, c->fv, &c->warnings, st) < 0) {
            json_decref(patch);
            return -1;
        }
        json_object_set_new(jp_json_ensure(patch, "metadata", NULL), "name", json_string(name));
        return jp_api_create(c, patch, out, st);
    }
    if (cur == NULL) {
        json_decref(patch);
        *st = jp_api__not_found(k, name);
        return -1;
    }
    int rc = -1;
    bool scale = c->subresource && strcmp(c->subresource, "scale") == 0;
    json_t *doc = scale ? jp_api_scale_of(k, cur) : jp_api_parse(cur);
    int type = scale ? JP_T_V1Scale : k->schema_type;
    if (apply_patch(c, content_type, &doc, patch, type, st) < 0) goto out;
    if (!json_is_object(doc)) {
        *st = jp_status_new(JP_BAD_REQUEST, "the patch produced a %s, not an object",
                            json_is_array(doc) ? "list" : "scalar");
        goto out;
    }
    if (check_rv_precondition(c, cur, doc, name, st) < 0) goto out;
    if (scale) {
        rc = update_scale(c, cur, json_incref(doc), out, st);
        goto out;
    }
    if (jp_decode_check(k, doc, c->fv, &c->warnings, st) < 0) goto out;
    char av[64];
    if (jp_api__check_type_meta(k, doc, k->kind, jp_kind_api_version(k, av, sizeof(av)), st) < 0)
        goto out;
    rc = jp_api__update_object(c, cur, json_incref(doc), out, st);
out:
    json_decref(doc);
    json_decref(patch);
    return rc;
}

int jp_api_replace(struct jp_write_ctx *c, const struct jp_obj *cur, json_t *obj,
                   struct jp_write_result *out, struct jp_status **st)
{
    return jp_api__update_object(c, cur, obj, out, st);
}

int jp_api_bind_pod(struct jp_store *s, const struct jp_obj *pod, const char *node,
                    struct jp_status **st)
{
    const struct jp_kind *k = &jp_kinds[pod->kind];
    json_t *obj = jp_api_parse(pod);
    if (jp_json_str(obj, "spec", "nodeName", NULL)) {
        *st = jp_status_new(JP_CONFLICT, "pod %s is already assigned to node \"%s\"", pod->name,
                            jp_json_str(obj, "spec", "nodeName", NULL));
        json_decref(obj);
        return -1;
    }
    json_object_set_new(jp_json_ensure(obj, "spec", NULL), "nodeName", json_string(node));
    json_t *status = jp_json_ensure(obj, "status", NULL);
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    char *now = jp_api__now_rfc3339();
    json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status",
                                           "True", "lastProbeTime", "lastTransitionTime", now));
    free(now);
    jp_obj_unref(jp_api_store_put(s, k, obj));
    json_decref(obj);
    return 0;
}
