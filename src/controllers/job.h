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

struct jp_jobctl_opts {
    /* the pod re-creation back-off: base doubling per failure up to max (0: upstream's 10 s and
     * 10 min), both multiplied by scale (0: 1; tests use less) */
    int64_t backoff_base_ns, backoff_max_ns;
    double backoff_scale;
    struct jp_metrics *metrics; /* job_controller_* series, upstream names; may be NULL */
};

struct jp_jobctl *jp_jobctl_start(uv_loop_t *loop, struct jp_store *store,
                                  const struct jp_jobctl_opts *opts);
void jp_jobctl_stop(struct jp_jobctl *j);

#endif
