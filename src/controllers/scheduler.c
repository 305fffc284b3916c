/* Binding pending pods. Events only queue a pod's key; the work queue binds it on a later loop
 * turn, so the binding writes never run inside the store's event dispatch. */
#include "controllers/scheduler.h"
#include "api/record.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "controllers/workqueue.h"

#include <stdlib.h>
#include <string.h>

struct jp_scheduler {
    struct jp_store *store;
    struct jp_store_sub *sub;
    char *node;
    uint16_t pods;
    struct jp_workqueue *queue;
    struct jp_recorder *events;
};

static bool unbound(const struct jp_obj *o)
{
    return jp_proj_of(o)->deleted_ns == 0 && *jp_pod_node_name(o) == '\0';
}

static void bind_one(void *arg, const char *ns, const char *name)
{
    struct jp_scheduler *s = arg;
    const struct jp_obj *cur = jp_store_get(s->store, s->pods, ns, name);
    if (cur == NULL || !unbound(cur)) return;
    struct jp_obj *o = jp_obj_ref(cur); /* binding replaces cur in the store */
    struct jp_status *st = NULL;
    if (jp_api_bind_pod(s->store, o, s->node, &st) < 0) {
        jp_log(JP_WARN, "scheduler", "bind %s/%s: %s", ns, name, st->message);
        jp_status_free(st);
    } else {
        struct jp_event_about about = {"Pod", "v1", o->ns, o->name, jp_proj_of(o)->uid, NULL, NULL};
        jp_record(s->events, &about, "Normal", "Scheduled", "Successfully assigned %s/%s to %s",
                  o->ns, o->name, s->node);
    }
    jp_obj_unref(o);
}

static void enqueue(struct jp_scheduler *s, const struct jp_obj *o)
{
    jp_workqueue_add(s->queue, o->ns, o->name);
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_scheduler *s = arg;
    if (ev->obj->kind != s->pods || ev->type == JP_EV_DELETED) return;
    if (unbound(ev->obj)) enqueue(s, ev->obj);
}

static bool scan(const struct jp_obj *o, void *arg)
{
    if (unbound(o)) enqueue(arg, o);
    return true;
}

struct jp_scheduler *jp_scheduler_start(uv_loop_t *loop, struct jp_store *store,
                                        const char *node_name)
{
    struct jp_scheduler *s = jp_xcalloc(1, sizeof(*s));
    s->store = store;
    s->node = jp_xstrdup(node_name);
    s->pods = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "pods"));
    s->queue = jp_workqueue_new(loop, bind_one, s);
    s->events = jp_recorder_new(store, "default-scheduler", NULL);
    jp_store_scan(store, s->pods, NULL, NULL, NULL, scan, s);
    s->sub = jp_store_subscribe(store, on_event, s);
    return s;
}

void jp_scheduler_stop(struct jp_scheduler *s)
{
    if (s == NULL) return;
    jp_store_unsubscribe(s->store, s->sub);
    jp_workqueue_close(s->queue);
    jp_recorder_free(s->events);
    free(s->node);
    free(s);
}
