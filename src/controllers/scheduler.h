/* The scheduler of a one-node cluster: every pod that is not yet bound (and not being deleted)
 * is bound to this node. */
#ifndef JP_CONTROLLERS_SCHEDULER_H
#define JP_CONTROLLERS_SCHEDULER_H

#include "store/store.h"

#include <uv.h>

struct jp_scheduler;

struct jp_scheduler *jp_scheduler_start(uv_loop_t *loop, struct jp_store *store,
                                        const char *node_name);
void jp_scheduler_stop(struct jp_scheduler *s);

#endif
