/* Garbage collection over an owner graph kept in two jansson maps (string keys hash well):
 *   objects:    uid -> "kind/namespace/name"
 *   dependents: owner uid -> { dependent uid: true }
 * Store events keep both current and queue owner uids whose state may call for work; a 0 ms
 * timer drains the queue on a later loop turn, so the collector's own writes never recurse into
 * event dispatch. */
#include "controllers/gc.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp_gc {
    struct jp_store *store;
    struct jp_store_sub *sub;
    json_t *objects;
    json_t *dependents;
    json_t *queue; /* uid -> true */
    uv_timer_t timer;
    bool closing;
};

static char *key_of(const struct jp_obj *o)
{
    return jp_xasprintf("%u/%s/%s", (unsigned)o->kind, o->ns, o->name);
}

static const struct jp_obj *lookup(struct jp_gc *gc, const char *uid)
{
    const char *key = json_string_value(json_object_get(gc->objects, uid));
    if (key == NULL) return NULL;
    const char *s1 = strchr(key, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (s2 == NULL) return NULL;
    char ns[256];
    snprintf(ns, sizeof(ns), "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    return jp_store_get(gc->store, (uint16_t)atoi(key), ns, s2 + 1);
}

static void drain(uv_timer_t *t);

static void enqueue(struct jp_gc *gc, const char *uid)
{
    if (uid == NULL || *uid == '\0') return;
    json_object_set_new(gc->queue, uid, json_true());
    if (!gc->closing && !uv_is_active((uv_handle_t *)&gc->timer))
        uv_timer_start(&gc->timer, drain, 0, 0);
}

static void unlink_owners(struct jp_gc *gc, const struct jp_obj *o)
{
    const struct jp_proj *p = jp_proj_of(o);
    for (size_t i = 0; i < p->nowners; i++) {
        json_t *set = json_object_get(gc->dependents, p->owners[i].uid);
        json_object_del(set, p->uid);
        if (json_object_size(set) == 0) json_object_del(gc->dependents, p->owners[i].uid);
        enqueue(gc, p->owners[i].uid); /* a foreground owner may now be empty */
    }
}

static void link_owners(struct jp_gc *gc, const struct jp_obj *o)
{
    const struct jp_proj *p = jp_proj_of(o);
    for (size_t i = 0; i < p->nowners; i++) {
        json_t *set = json_object_get(gc->dependents, p->owners[i].uid);
        if (set == NULL) {
            set = json_object();
            json_object_set_new(gc->dependents, p->owners[i].uid, set);
        }
        json_object_set_new(set, p->uid, json_true());
        /* an owner that no longer exists (deleted while we were down): collect */
        if (!json_object_get(gc->objects, p->owners[i].uid)) enqueue(gc, p->owners[i].uid);
    }
}

static void track(struct jp_gc *gc, const struct jp_obj *o)
{
    const struct jp_proj *p = jp_proj_of(o);
    if (*p->uid == '\0') return;
    char *key = key_of(o);
    json_object_set_new(gc->objects, p->uid, json_string(key));
    free(key);
    link_owners(gc, o);
    if (p->deleted_ns) enqueue(gc, p->uid);
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_gc *gc = arg;
    if (ev->old) unlink_owners(gc, ev->old);
    if (ev->type == JP_EV_DELETED) {
        const struct jp_proj *p = jp_proj_of(ev->obj);
        unlink_owners(gc, ev->obj);
        json_object_del(gc->objects, p->uid);
        enqueue(gc, p->uid); /* its dependents lost an owner */
        return;
    }
    track(gc, ev->obj);
}

static struct jp_write_ctx ctx_for(struct jp_gc *gc, const struct jp_obj *o)
{
    struct jp_write_ctx c = {
        .store = gc->store, .kind = &jp_kinds[o->kind], .ns = o->ns, .fv = JP_FV_IGNORE};
    return c;
}

static void delete_background(struct jp_gc *gc, const struct jp_obj *o)
{
    if (jp_proj_of(o)->deleted_ns) return; /* already on its way */
    struct jp_write_ctx c = ctx_for(gc, o);
    json_t *opts = json_pack("{s:s}", "propagationPolicy", "Background");
    struct jp_write_result r;
    struct jp_status *st = NULL;
    if (jp_api_delete(&c, o->name, opts, &r, &st) == 0)
        jp_write_result_free(&r);
    else if (st->reason != JP_NOT_FOUND)
        jp_log(JP_WARN, "gc", "delete %s %s/%s: %s", jp_kinds[o->kind].plural, o->ns, o->name,
               st->message);
    jp_status_free(st);
    json_decref(opts);
    jp_write_ctx_free(&c);
}

/* Rewrites o through the update path with fn applied to its JSON. */
static void update(struct jp_gc *gc, const struct jp_obj *o,
                   void (*fn)(json_t *obj, const char *arg), const char *arg)
{
    struct jp_write_ctx c = ctx_for(gc, o);
    json_t *obj = jp_api_parse(o);
    fn(obj, arg);
    struct jp_write_result r;
    struct jp_status *st = NULL;
    if (jp_api_replace(&c, o, obj, &r, &st) == 0)
        jp_write_result_free(&r);
    else
        jp_log(JP_WARN, "gc", "update %s %s/%s: %s", jp_kinds[o->kind].plural, o->ns, o->name,
               st->message);
    jp_status_free(st);
    jp_write_ctx_free(&c);
}

static void drop_finalizer(json_t *obj, const char *name)
{
    json_t *list = jp_json_path(obj, "metadata", "finalizers", NULL);
    for (size_t i = json_array_size(list); i-- > 0;)
        if (strcmp(json_string_value(json_array_get(list, i)) ?: "", name) == 0)
            json_array_remove(list, i);
}

static void drop_owner(json_t *obj, const char *uid)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *owners = json_object_get(meta, "ownerReferences");
    for (size_t i = json_array_size(owners); i-- > 0;)
        if (strcmp(jp_json_str(json_array_get(owners, i), "uid", NULL) ?: "", uid) == 0)
            json_array_remove(owners, i);
    if (owners && json_array_size(owners) == 0) json_object_del(meta, "ownerReferences");
}

static void clear_spec_finalizers(json_t *obj, const char *unused)
{
    (void)unused;
    json_object_set_new(jp_json_ensure(obj, "spec", NULL), "finalizers", json_array());
}

static bool owner_has_finalizer(const struct jp_obj *o, const char *name)
{
    json_t *obj = jp_api_parse(o);
    bool has = false;
    size_t i;
    json_t *f;
    json_array_foreach(jp_json_path(obj, "metadata", "finalizers", NULL), i, f) has |=
        json_is_string(f) && strcmp(json_string_value(f), name) == 0;
    json_decref(obj);
    return has;
}

/* The dependents' objects, referenced: the set may change while we act on them. */
static size_t dependents_of(struct jp_gc *gc, const char *uid, struct jp_obj ***out)
{
    json_t *set = json_object_get(gc->dependents, uid);
    size_t n = 0;
    *out = jp_xcalloc(json_object_size(set) + 1, sizeof(**out));
    const char *dep;
    json_t *v;
    json_object_foreach(set, dep, v)
    {
        const struct jp_obj *o = lookup(gc, dep);
        if (o) (*out)[n++] = jp_obj_ref(o);
    }
    return n;
}

static bool collect_ns(const struct jp_obj *o, void *arg)
{
    (void)o;
    size_t *count = arg;
    (*count)++;
    return true;
}

struct ns_walk {
    struct jp_gc *gc;
    struct jp_obj **items;
    size_t n;
};

static bool gather(const struct jp_obj *o, void *arg)
{
    struct ns_walk *w = arg;
    w->items = jp_xrealloc(w->items, (w->n + 1) * sizeof(*w->items));
    w->items[w->n++] = jp_obj_ref(o);
    return true;
}

static void empty_namespace(struct jp_gc *gc, const struct jp_obj *ns)
{
    size_t left = 0;
    for (unsigned k = 0; k < jp_nkinds; k++) {
        if (!jp_kinds[k].namespaced) continue;
        struct ns_walk w = {gc, NULL, 0};
        jp_store_scan(gc->store, (uint16_t)k, ns->name, NULL, NULL, gather, &w);
        for (size_t i = 0; i < w.n; i++) {
            delete_background(gc, w.items[i]);
            jp_obj_unref(w.items[i]);
        }
        free(w.items);
        jp_store_scan(gc->store, (uint16_t)k, ns->name, NULL, NULL, collect_ns, &left);
    }
    if (left == 0) update(gc, ns, clear_spec_finalizers, NULL);
}

static void process(struct jp_gc *gc, const char *uid)
{
    const struct jp_obj *owner = lookup(gc, uid);
    /* a live owner keeps its dependents: not walked (a Job's thousands of pods, on each of
     * their changes, made this quadratic) */
    if (owner && !jp_proj_of(owner)->deleted_ns) return;
    struct jp_obj **deps;
    size_t n = dependents_of(gc, uid, &deps);
    if (owner == NULL) {
        /* the owner is gone: its dependents go too, unless another owner still holds them */
        for (size_t i = 0; i < n; i++) {
            const struct jp_proj *p = jp_proj_of(deps[i]);
            bool held = false;
            for (size_t j = 0; j < p->nowners; j++)
                held |= strcmp(p->owners[j].uid, uid) != 0 && lookup(gc, p->owners[j].uid) != NULL;
            if (held)
                update(gc, deps[i], drop_owner, uid);
            else
                delete_background(gc, deps[i]);
        }
    } else if (jp_proj_of(owner)->deleted_ns) {
        struct jp_obj *o = jp_obj_ref(owner);
        if (owner_has_finalizer(o, "orphan")) {
            for (size_t i = 0; i < n; i++)
                update(gc, deps[i], drop_owner, uid);
            update(gc, o, drop_finalizer, "orphan");
        } else if (owner_has_finalizer(o, "foregroundDeletion")) {
            for (size_t i = 0; i < n; i++)
                delete_background(gc, deps[i]);
            if (n == 0) update(gc, o, drop_finalizer, "foregroundDeletion");
        } else if (strcmp(jp_kinds[o->kind].plural, "namespaces") == 0) {
            empty_namespace(gc, o);
        }
        jp_obj_unref(o);
    }
    for (size_t i = 0; i < n; i++)
        jp_obj_unref(deps[i]);
    free(deps);
}

static void drain(uv_timer_t *t)
{
    struct jp_gc *gc = t->data;
    /* take the queue: processing queues new work for the next turn */
    json_t *work = gc->queue;
    gc->queue = json_object();
    const char *uid;
    json_t *v;
    json_object_foreach(work, uid, v) process(gc, uid);
    json_decref(work);
}

static bool track_all(const struct jp_obj *o, void *arg)
{
    track(arg, o);
    return true;
}

int jp_gc_start(uv_loop_t *loop, struct jp_store *store, struct jp_gc **out, struct jp_err **err)
{
    (void)err;
    struct jp_gc *gc = jp_xcalloc(1, sizeof(*gc));
    gc->store = store;
    gc->objects = json_object();
    gc->dependents = json_object();
    gc->queue = json_object();
    uv_timer_init(loop, &gc->timer);
    gc->timer.data = gc;
    for (unsigned k = 0; k < jp_nkinds; k++)
        jp_store_scan(store, (uint16_t)k, NULL, NULL, NULL, track_all, gc);
    gc->sub = jp_store_subscribe(store, on_event, gc);
    *out = gc;
    return 0;
}

static void closed(uv_handle_t *h)
{
    free(h->data);
}

void jp_gc_stop(struct jp_gc *gc)
{
    if (gc == NULL) return;
    gc->closing = true;
    jp_store_unsubscribe(gc->store, gc->sub);
    if (jp_free_at_stop()) {
        json_decref(gc->objects);
        json_decref(gc->dependents);
    } else { /* an object per stored object: the process's end frees them faster */
        jp_keep_until_exit(gc->objects);
        jp_keep_until_exit(gc->dependents);
    }
    json_decref(gc->queue);
    uv_close((uv_handle_t *)&gc->timer, closed);
}
