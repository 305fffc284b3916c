/* Shared between the job controller's queue (job.c) and its sync (job_sync.c). */
#ifndef JP_CONTROLLERS_JOB_INTERNAL_H
#define JP_CONTROLLERS_JOB_INTERNAL_H

#include "api/kinds.h"
#include "api/record.h"
#include "base/metrics.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct jp_jobctl {
    struct jp_store *store;
    struct jp_store_sub *sub;
    struct jp_recorder *events;
    uint16_t kind_jobs, kind_pods;
    double backoff_scale;
    int64_t backoff_base_ns, backoff_max_ns;
    json_t *queue;   /* "ns/name" -> true: sync on the next loop turn */
    json_t *delayed; /* "ns/name" -> due time (monotonic ns) */
    json_t *backoff; /* job uid -> {"n": failures since the last success, "last": unix ns} */
    json_t *release; /* "ns/pod" -> true: a pod whose Job is gone, to lose its finalizer */
    json_t *claims;  /* "ns/name" -> true: the Job's next sync adopts and releases first */
    json_t *live;    /* controller uid -> {pod name: true}: the pods a sync reads (job.c) */
    uv_timer_t now, later;
    int closed;
    bool stopping;
    struct jp_metrics *metrics; /* may be NULL */
    const char *mode;           /* the synced Job's completion mode, for metric labels */
    const char *create_reason;  /* job_pods_creation_total's reason for this sync's pods */
    int created, deleted;       /* by the current sync */
    bool retry;                 /* a write of the current sync failed: sync again in 1 s */
};

#define JOB_INDEX_KEY JP_JOB_INDEX_KEY
#define TRACKING      "batch.kubernetes.io/job-tracking"
#define FAILURES_KEY  "batch.kubernetes.io/job-index-failure-count"
#define IGNORED_KEY   "batch.kubernetes.io/job-index-ignored-failure-count"
#define NS_PER_S      1000000000LL
#define MAX_PER_SYNC  500

/* A pod the Job controls, as one sync sees it. */
struct owned {
    struct jp_obj *o;
    json_t *pod;
    const char *uid, *name, *phase;
    bool tracked, deleting, ready;
    int restarts;
    int64_t created_ns;
    int64_t index; /* completion index, -1 for none */
};

struct pods {
    struct owned *v;
    size_t n;
    const char *job_uid;
};

/* A succeeded pod whose tracking finalizer is gone: counted for good, it plays no part in a
 * sync any more (neither read nor parsed). */
bool jobctl__counted(const struct jp_obj *pod);
/* The names of the pods a sync of the Job with this uid must read, sorted (the store's
 * order): all it controls but the succeeded ones already counted. OUT: caller frees the
 * vector (the names are borrowed until the next store event). */
const char **jobctl__live_pods(struct jp_jobctl *j, const char *uid, size_t *n);

/* Deletes a pod; `uncounted` first lets it go (suspend, surplus, success) so it never counts. */
void jobctl__delete_pod(struct jp_jobctl *j, const json_t *job, const struct owned *w,
                        bool uncounted);
/* A pod from the template for completion INDEX (-1: NonIndexed), FAILURES the index's
 * failures so far (-1 without backoffLimitPerIndex) and IGNORED its failures a podFailurePolicy
 * ignored; false when refused. */
bool jobctl__create_pod(struct jp_jobctl *j, const json_t *job, int64_t index, int64_t failures,
                        int64_t ignored);
void jobctl__about_job(const json_t *job, struct jp_event_about *a);

/* A set of completion indexes: sorted, disjoint, non-adjacent ranges. */
struct jp_idx {
    struct {
        int64_t first, last;
    } * v;
    size_t n;
};

void jobctl__idx_parse(const char *s, int64_t limit, struct jp_idx *out);
bool jobctl__idx_has(const struct jp_idx *x, int64_t i);
void jobctl__idx_add(struct jp_idx *x, int64_t i);
int64_t jobctl__idx_count(const struct jp_idx *x);
int64_t jobctl__idx_common(const struct jp_idx *a, const struct jp_idx *b); /* |a & b| */
char *jobctl__idx_format(const struct jp_idx *x); /* "" for none; caller frees */
void jobctl__idx_free(struct jp_idx *x);

/* What podFailurePolicy says of a Failed pod: "FailJob", "Ignore", "Count", "FailIndex", or
 * NULL when no rule matches; *message (caller frees) names the container, code and rule. */
const char *jobctl__pod_failure_action(const json_t *spec, const json_t *pod, char **message);

/* Whether the Job's selector matches the pod's labels. */
bool jobctl__selects(const json_t *job, const struct jp_obj *pod);
/* Adopts the matching orphans and releases the owned pods that stopped matching. */
void jobctl__claim(struct jp_jobctl *j, const json_t *job);

void jobctl__enqueue(struct jp_jobctl *j, const char *ns, const char *name, int64_t delay_ns);
/* Removes the tracking finalizer; 0 if it is gone (or the pod is), -1 if the write failed. */
int jobctl__strip_finalizer(struct jp_jobctl *j, const char *ns, const char *name);
void jobctl__sync(struct jp_jobctl *j, const char *ns, const char *name);

#endif
