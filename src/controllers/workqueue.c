/* Keys are "ns/name" in a jansson object: a namespace never contains '/', so the first slash
 * splits them again. */
#include "controllers/workqueue.h"
#include "base/alloc.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct jp_workqueue {
    uv_timer_t timer;
    jp_workqueue_sync sync;
    void *arg;
    json_t *keys;
    bool closing;
};

static void run(uv_timer_t *t)
{
    struct jp_workqueue *q = t->data;
    json_t *work = q->keys; /* syncs may queue more: those run on the next turn */
    q->keys = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(work, key, v)
    {
        if (q->closing) break;
        const char *slash = strchr(key, '/');
        char *ns = jp_xstrndup(key, (size_t)(slash - key));
        q->sync(q->arg, ns, slash + 1);
        free(ns);
    }
    json_decref(work);
}

struct jp_workqueue *jp_workqueue_new(uv_loop_t *loop, jp_workqueue_sync sync, void *arg)
{
    struct jp_workqueue *q = jp_xcalloc(1, sizeof(*q));
    q->sync = sync;
    q->arg = arg;
    q->keys = json_object();
    uv_timer_init(loop, &q->timer);
    q->timer.data = q;
    return q;
}

void jp_workqueue_add(struct jp_workqueue *q, const char *ns, const char *name)
{
    if (q->closing) return;
    char *key = jp_xasprintf("%s/%s", ns ? ns : "", name);
    json_object_set_new(q->keys, key, json_true());
    free(key);
    if (!uv_is_active((uv_handle_t *)&q->timer)) uv_timer_start(&q->timer, run, 0, 0);
}

static void closed(uv_handle_t *h)
{
    struct jp_workqueue *q = h->data;
    json_decref(q->keys);
    free(q);
}

void jp_workqueue_close(struct jp_workqueue *q)
{
    if (q == NULL) return;
    q->closing = true;
    uv_close((uv_handle_t *)&q->timer, closed);
}
