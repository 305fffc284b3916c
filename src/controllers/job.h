/* The job controller: batch/v1 Jobs as Kubernetes 1.33 runs them (reference/job-semantics.md):
 * pods from the template, finalizer-based counting, parallelism and completions, backoffLimit
 * with the pod re-creation back-off, activeDeadlineSeconds, suspend, Indexed completion,
 * backoffLimitPerIndex, podFailurePolicy, successPolicy, and the delayed terminal conditions
 * (SuccessCriteriaMet then Complete, FailureTarget then Failed). */
#ifndef JP_CONTROLLERS_JOB_H
#define JP_CONTROLLERS_JOB_H

#include "base/metrics.h"
#include "store/store.h"

#include <uv.h>

struct jp_jobctl;

/* backoff_scale multiplies the 10 s doubling pod re-creation back-off (tests use less);
 * metrics (may be NULL) receives job_controller_* series with upstream's names and labels. */
struct jp_jobctl *jp_jobctl_start(uv_loop_t *loop, struct jp_store *store, double backoff_scale,
                                  struct jp_metrics *metrics);
void jp_jobctl_stop(struct jp_jobctl *j);

#endif
