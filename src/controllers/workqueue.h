/* A controller's work queue: object keys (namespace, name) de-duplicated until the next loop
 * turn, when a 0 ms timer hands each to the controller's sync once. Syncing on a later turn
 * keeps writes out of store-event dispatch and folds a burst of events into one sync. */
#ifndef JP_CONTROLLERS_WORKQUEUE_H
#define JP_CONTROLLERS_WORKQUEUE_H

#include <uv.h>

struct jp_workqueue;

typedef void (*jp_workqueue_sync)(void *arg, const char *ns, const char *name);

struct jp_workqueue *jp_workqueue_new(uv_loop_t *loop, jp_workqueue_sync sync, void *arg);
/* Queues (ns, name); ns is "" for cluster-scoped objects. Ignored once the queue is closing. */
void jp_workqueue_add(struct jp_workqueue *q, const char *ns, const char *name);
/* Drops what is queued and frees the queue on a later turn (its timer closes asynchronously). */
void jp_workqueue_close(struct jp_workqueue *q);

#endif
