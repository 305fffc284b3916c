/* The ReplicaSet controller: keeps spec.replicas pods matching the selector alive. A sync
 * adopts orphans that match (ownerReference added), releases owned pods that stopped matching,
 * creates from the template (slow start, as the job controller) or deletes the surplus
 * (not-ready and newest first), and writes replicas/readyReplicas/availableReplicas. Events
 * only queue keys; the work queue syncs them on a later loop turn. */
#include "controllers/replicaset.h"
#include "api/kinds.h"
#include "api/record.h"
#include "api/selector.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "controllers/workqueue.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PER_SYNC 500
#define COMPONENT    "replicaset-controller"

struct jp_rsctl {
    struct jp_store *store;
    struct jp_store_sub *sub;
    struct jp_recorder *events;
    uint16_t kind_rs, kind_pods;
    struct jp_workqueue *queue;
};

struct member {
    const struct jp_obj *o;
    bool ready;
    int64_t created_ns;
};

static const struct jp_owner *controller_of(const struct jp_obj *o)
{
    return jp_proj_controller(jp_proj_of(o));
}

static void about(const json_t *rs, struct jp_event_about *a)
{
    *a = (struct jp_event_about){"ReplicaSet",
                                 "apps/v1",
                                 jp_json_str(rs, "metadata", "namespace", NULL),
                                 jp_json_str(rs, "metadata", "name", NULL),
                                 jp_json_str(rs, "metadata", "uid", NULL),
                                 jp_json_str(rs, "metadata", "resourceVersion", NULL),
                                 NULL};
}

/* Rewrites a pod's ownerReferences: adds the ReplicaSet as controller (adopt) or drops it. */
static void set_owner(struct jp_rsctl *r, const json_t *rs, const struct jp_obj *pod, bool adopt)
{
    json_t *doc = jp_api_parse(pod);
    json_t *meta = json_object_get(doc, "metadata");
    json_t *refs = json_object_get(meta, "ownerReferences");
    const char *uid = jp_json_str(rs, "metadata", "uid", NULL);
    if (adopt) {
        if (!json_is_array(refs)) {
            refs = json_array();
            json_object_set_new(meta, "ownerReferences", refs);
        }
        json_array_append_new(refs, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", "apps/v1",
                                              "kind", "ReplicaSet", "name",
                                              jp_json_str(rs, "metadata", "name", NULL), "uid", uid,
                                              "controller", 1, "blockOwnerDeletion", 1));
    } else {
        for (size_t i = json_array_size(refs); i-- > 0;)
            if (!strcmp(jp_json_str(json_array_get(refs, i), "uid", NULL) ?: "", uid))
                json_array_remove(refs, i);
        if (json_array_size(refs) == 0) json_object_del(meta, "ownerReferences");
    }
    struct jp_write_ctx c = {.store = r->store, .kind = &jp_kinds[r->kind_pods], .ns = pod->ns};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    if (jp_api_replace(&c, pod, doc, &res, &st) < 0) {
        jp_log(JP_WARN, COMPONENT, "%s pod %s/%s: %s", adopt ? "adopting" : "releasing", pod->ns,
               pod->name, st->message);
        jp_status_free(st);
    }
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
}

static bool create_pod(struct jp_rsctl *r, const json_t *rs)
{
    const char *ns = jp_json_str(rs, "metadata", "namespace", NULL);
    const char *name = jp_json_str(rs, "metadata", "name", NULL);
    const json_t *tmpl = jp_json_path(rs, "spec", "template", NULL);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%.57s-", name);
    json_t *meta = json_pack(
        "{s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:b,s:b}]}", "generateName", prefix, "namespace", ns,
        "ownerReferences", "apiVersion", "apps/v1", "kind", "ReplicaSet", "name", name, "uid",
        jp_json_str(rs, "metadata", "uid", NULL), "controller", 1, "blockOwnerDeletion", 1);
    static const char *const copied[] = {"labels", "annotations"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = jp_json_path(tmpl, "metadata", copied[i], NULL);
        if (v) json_object_set_new(meta, copied[i], json_deep_copy(v));
    }
    json_t *pod = json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "v1", "kind", "Pod", "metadata",
                            meta, "spec", json_deep_copy(json_object_get(tmpl, "spec")));
    struct jp_write_ctx c = {
        .store = r->store, .kind = &jp_kinds[r->kind_pods], .ns = ns, .fv = JP_FV_IGNORE};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    struct jp_event_about a;
    about(rs, &a);
    bool ok = jp_api_create(&c, pod, &res, &st) == 0;
    if (ok) {
        jp_record(r->events, &a, "Normal", "SuccessfulCreate", "Created pod: %s", res.obj->name);
    } else {
        jp_record(r->events, &a, "Warning", "FailedCreate", "Error creating: %s", st->message);
        jp_status_free(st);
    }
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
    return ok;
}

static void delete_pod(struct jp_rsctl *r, const json_t *rs, const struct jp_obj *pod)
{
    struct jp_write_ctx c = {.store = r->store, .kind = &jp_kinds[r->kind_pods], .ns = pod->ns};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    struct jp_event_about a;
    about(rs, &a);
    char *name = jp_xstrdup(pod->name); /* the object may go with the delete */
    if (jp_api_delete(&c, name, NULL, &res, &st) < 0) {
        jp_record(r->events, &a, "Warning", "FailedDelete", "Error deleting: %s", st->message);
        jp_status_free(st);
    } else {
        jp_record(r->events, &a, "Normal", "SuccessfulDelete", "Deleted pod: %s", name);
    }
    free(name);
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
}

/* Deleted first: not ready, then the newest. */
static int surplus_order(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    if (x->ready != y->ready) return x->ready ? 1 : -1;
    return x->created_ns > y->created_ns ? -1 : x->created_ns < y->created_ns;
}

struct scan {
    const char *uid;
    struct jp_selector *sel;
    struct jp_obj **v; /* ours, and orphans that match; referenced */
    size_t n;
};

/* Only collects: the store is not written while it is being scanned. */
static bool scan_pod(const struct jp_obj *o, void *arg)
{
    struct scan *s = arg;
    const struct jp_owner *ctl = controller_of(o);
    bool ours = ctl && strcmp(ctl->uid, s->uid) == 0;
    bool orphan = ctl == NULL && jp_proj_of(o)->deleted_ns == 0 && !jp_pod_finished(o) &&
                  jp_label_selector_matches(s->sel, jp_proj_of(o));
    if (!ours && !orphan) return true;
    s->v = jp_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n++] = jp_obj_ref(o);
    return true;
}

/* Adopts matching orphans, releases owned pods that stopped matching; returns the live pods. */
static struct member *claim(struct jp_rsctl *r, const json_t *rs, struct scan *s, size_t *n,
                            long long *ready)
{
    struct member *live = jp_xcalloc(s->n + 1, sizeof(*live));
    *n = 0;
    *ready = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct jp_obj *o = s->v[i];
        bool matches = jp_label_selector_matches(s->sel, jp_proj_of(o));
        if (controller_of(o) == NULL) {
            set_owner(r, rs, o, true);
        } else if (!matches) {
            set_owner(r, rs, o, false); /* its labels changed: not ours any more */
            continue;
        }
        o = jp_store_get(r->store, r->kind_pods, o->ns, o->name);
        if (o == NULL || jp_proj_of(o)->deleted_ns || jp_pod_finished(o)) continue;
        const struct jp_owner *ctl = controller_of(o);
        if (ctl == NULL || strcmp(ctl->uid, s->uid) != 0) continue;
        json_t *pod = jp_api_parse(o);
        bool ok = jp_json_condition_true(json_object_get(pod, "status"), "Ready");
        json_decref(pod);
        live[(*n)++] = (struct member){o, ok, jp_proj_of(o)->created_ns};
        *ready += ok;
    }
    return live;
}

static void write_status(struct jp_rsctl *r, const struct jp_obj *cur, json_t *rs, long long n,
                         long long ready)
{
    json_t *st = json_pack(
        "{s:I,s:I,s:I,s:I,s:I}", "replicas", (json_int_t)n, "fullyLabeledReplicas", (json_int_t)n,
        "readyReplicas", (json_int_t)ready, "availableReplicas", (json_int_t)ready,
        "observedGeneration", (json_int_t)jp_json_int(rs, 1, "metadata", "generation", NULL));
    /* Kubernetes omits the zero counts (omitempty); replicas is always there */
    static const char *const zeros[] = {"fullyLabeledReplicas", "readyReplicas",
                                        "availableReplicas"};
    for (int i = 0; i < 3; i++)
        if (json_integer_value(json_object_get(st, zeros[i])) == 0) json_object_del(st, zeros[i]);
    const json_t *old = json_object_get(rs, "status");
    json_t *conds = json_object_get(old, "conditions");
    if (conds) json_object_set(st, "conditions", conds);
    if (json_equal(old, st)) {
        json_decref(st);
        return;
    }
    json_object_set_new(rs, "status", st);
    struct jp_write_ctx c = {.store = r->store,
                             .kind = &jp_kinds[r->kind_rs],
                             .ns = cur->ns,
                             .subresource = "status",
                             .fv = JP_FV_IGNORE};
    struct jp_write_result res = {0};
    struct jp_status *err = NULL;
    if (jp_api_replace(&c, cur, json_incref(rs), &res, &err) < 0) {
        jp_log(JP_WARN, COMPONENT, "writing the status of replicaset %s/%s: %s", cur->ns, cur->name,
               err->message);
        jp_status_free(err);
    }
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
}

static void sync_rs(struct jp_rsctl *r, const char *ns, const char *name)
{
    const struct jp_obj *cur = jp_store_get(r->store, r->kind_rs, ns, name);
    if (cur == NULL || jp_proj_of(cur)->deleted_ns) return; /* the garbage collector's now */
    json_t *rs = jp_api_parse(cur);
    struct scan s = {jp_proj_of(cur)->uid, NULL, NULL, 0};
    struct jp_status *st = NULL;
    struct member *live = NULL;
    if (jp_label_selector_from_json(jp_json_path(rs, "spec", "selector", NULL), &s.sel, &st) < 0 ||
        jp_selector_is_empty(s.sel)) {
        if (st) jp_status_free(st);
        goto out; /* validation forbids it; nothing sensible to do */
    }
    jp_store_scan(r->store, r->kind_pods, ns, NULL, NULL, scan_pod, &s);
    size_t n;
    long long ready;
    live = claim(r, rs, &s, &n, &ready);
    long long want = jp_json_int(rs, 1, "spec", "replicas", NULL);
    long long have = (long long)n;
    if (have > want) {
        qsort(live, n, sizeof(*live), surplus_order);
        for (size_t i = 0; have > want && i < MAX_PER_SYNC; i++, have--) {
            ready -= live[i].ready;
            delete_pod(r, rs, live[i].o);
        }
    } else if (have < want) {
        long long diff = want - have > MAX_PER_SYNC ? MAX_PER_SYNC : want - have;
        for (long long batch = 1, made = 0; made < diff; batch *= 2)
            for (long long k = 0; k < batch && made < diff; k++, made++) {
                if (!create_pod(r, rs)) goto created;
                have++;
            }
    }
created:
    cur = jp_store_get(r->store, r->kind_rs, ns, name);
    if (cur) {
        json_t *now = jp_api_parse(cur);
        write_status(r, cur, now, have, ready);
        json_decref(now);
    }
out:
    for (size_t i = 0; i < s.n; i++)
        jp_obj_unref(s.v[i]);
    free(s.v);
    free(live);
    jp_selector_free(s.sel);
    json_decref(rs);
}

static void sync_key(void *arg, const char *ns, const char *name)
{
    sync_rs(arg, ns, name);
}

static void enqueue(struct jp_rsctl *r, const char *ns, const char *name)
{
    jp_workqueue_add(r->queue, ns, name);
}

struct orphan {
    struct jp_rsctl *r;
    const struct jp_obj *pod;
};

/* An orphan pod: every ReplicaSet of its namespace whose selector matches may adopt it. */
static bool offer_orphan(const struct jp_obj *rs, void *arg)
{
    struct orphan *o = arg;
    json_t *doc = jp_api_parse(rs);
    struct jp_selector *sel = NULL;
    struct jp_status *st = NULL;
    if (jp_label_selector_from_json(jp_json_path(doc, "spec", "selector", NULL), &sel, &st) == 0) {
        if (!jp_selector_is_empty(sel) && jp_label_selector_matches(sel, jp_proj_of(o->pod)))
            enqueue(o->r, rs->ns, rs->name);
    } else {
        jp_status_free(st);
    }
    jp_selector_free(sel);
    json_decref(doc);
    return true;
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_rsctl *r = arg;
    const struct jp_obj *o = ev->obj;
    if (o->kind == r->kind_rs) {
        if (ev->type != JP_EV_DELETED) enqueue(r, o->ns, o->name);
        return;
    }
    if (o->kind != r->kind_pods) return;
    const struct jp_obj *both[] = {o, ev->old};
    for (int i = 0; i < 2; i++) {
        const struct jp_owner *ctl = both[i] ? controller_of(both[i]) : NULL;
        if (ctl && !strcmp(ctl->kind, "ReplicaSet")) enqueue(r, o->ns, ctl->name);
    }
    if (ev->type != JP_EV_DELETED && controller_of(o) == NULL && !jp_pod_finished(o)) {
        struct orphan orphan = {r, o};
        jp_store_scan(r->store, r->kind_rs, o->ns, NULL, NULL, offer_orphan, &orphan);
    }
}

static bool scan_rs(const struct jp_obj *o, void *arg)
{
    enqueue(arg, o->ns, o->name);
    return true;
}

struct jp_rsctl *jp_rsctl_start(uv_loop_t *loop, struct jp_store *store)
{
    struct jp_rsctl *r = jp_xcalloc(1, sizeof(*r));
    r->store = store;
    r->kind_rs = (uint16_t)jp_kind_index(jp_kind_by_plural("apps", "v1", "replicasets"));
    r->kind_pods = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "pods"));
    r->queue = jp_workqueue_new(loop, sync_key, r);
    r->events = jp_recorder_new(store, COMPONENT, NULL);
    jp_store_scan(store, r->kind_rs, NULL, NULL, NULL, scan_rs, r);
    r->sub = jp_store_subscribe(store, on_event, r);
    return r;
}

void jp_rsctl_stop(struct jp_rsctl *r)
{
    if (r == NULL) return;
    jp_store_unsubscribe(r->store, r->sub);
    jp_workqueue_close(r->queue);
    jp_recorder_free(r->events);
    free(r);
}
