/* The TTL-after-finished controller: a Job with spec.ttlSecondsAfterFinished is deleted (with
 * Foreground propagation, its pods first, and a UID precondition) that many seconds after its
 * Complete or Failed condition appeared (job-semantics.md §11). */
#ifndef JP_CONTROLLERS_TTL_H
#define JP_CONTROLLERS_TTL_H

#include "store/store.h"

#include <uv.h>

struct jp_ttlctl;

struct jp_ttlctl *jp_ttlctl_start(uv_loop_t *loop, struct jp_store *store);
void jp_ttlctl_stop(struct jp_ttlctl *t);

#endif
