/* The ReplicaSet controller (apps/v1): spec.replicas pods from the template, adoption of
 * matching orphans, release of pods that stop matching, status counts, events. */
#ifndef JP_CONTROLLERS_REPLICASET_H
#define JP_CONTROLLERS_REPLICASET_H

#include "store/store.h"

#include <uv.h>

struct jp_rsctl;

struct jp_rsctl *jp_rsctl_start(uv_loop_t *loop, struct jp_store *store);
void jp_rsctl_stop(struct jp_rsctl *r);

#endif
