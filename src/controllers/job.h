/* The job controller: batch/v1 Jobs as Kubernetes 1.33 runs them (reference/job-semantics.md):
 * pods from the template, finalizer-based counting, parallelism and completions, backoffLimit
 * with the pod re-creation back-off, activeDeadlineSeconds, suspend, Indexed completion,
 * podFailurePolicy, and the delayed terminal
 * conditions (SuccessCriteriaMet then Complete, FailureTarget then Failed). */
#ifndef JP_CONTROLLERS_JOB_H
#define JP_CONTROLLERS_JOB_H

#include "store/store.h"

#include <uv.h>

struct jp_jobctl;

/* backoff_scale multiplies the 10 s doubling pod re-creation back-off (tests use less). */
struct jp_jobctl *jp_jobctl_start(uv_loop_t *loop, struct jp_store *store, double backoff_scale);
void jp_jobctl_stop(struct jp_jobctl *j);

#endif
