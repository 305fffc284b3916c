/* The job controller's queue and its sync of one Job. Store events only queue a Job's key; a
 * 0 ms timer syncs the queued Jobs on a later loop turn (never inside event dispatch), and a
 * second timer brings back Jobs waiting for a back-off or a deadline. The store is read
 * directly - there is no second cache - and writes are visible at once, so a sync sees its own
 * creations and Kubernetes' "expectations" are not needed. */
#include "controllers/job.h"
#include "api/kinds.h"
#include "api/record.h"
#include "api/selector.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "controllers/job-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_queue(uv_timer_t *t);
static void run_later(uv_timer_t *t);

void jobctl__enqueue(struct jp_jobctl *j, const char *ns, const char *name, int64_t delay_ns)
{
    if (j->stopping) return;
    char *key = jp_xasprintf("%s/%s", ns, name);
    if (delay_ns <= 0) {
        json_object_set_new(j->queue, key, json_true());
        if (!uv_is_active((uv_handle_t *)&j->now)) uv_timer_start(&j->now, run_queue, 0, 0);
    } else {
        int64_t due = jp_mono_ns() + delay_ns;
        json_t *cur = json_object_get(j->delayed, key);
        if (cur == NULL || json_integer_value(cur) > due)
            json_object_set_new(j->delayed, key, json_integer(due));
        uint64_t left = (uint64_t)(delay_ns / 1000000) + 1;
        if (!uv_is_active((uv_handle_t *)&j->later) || uv_timer_get_due_in(&j->later) > left)
            uv_timer_start(&j->later, run_later, left, 0);
    }
    free(key);
}

static void run_later(uv_timer_t *t)
{
    struct jp_jobctl *j = t->data;
    int64_t now = jp_mono_ns(), next = 0;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(j->delayed, tmp, key, v)
    {
        int64_t due = json_integer_value(v);
        if (due <= now) {
            json_object_set_new(j->queue, key, json_true());
            json_object_del(j->delayed, key);
        } else if (next == 0 || due < next) {
            next = due;
        }
    }
    if (json_object_size(j->queue)) uv_timer_start(&j->now, run_queue, 0, 0);
    if (next) uv_timer_start(&j->later, run_later, (uint64_t)((next - now) / 1000000) + 1, 0);
}

static bool owner_alive(struct jp_jobctl *j, const struct jp_obj *pod);

static void run_queue(uv_timer_t *t)
{
    struct jp_jobctl *j = t->data;
    json_t *work = j->queue, *release = j->release;
    j->queue = json_object();
    j->release = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(work, key, v)
    {
        const char *slash = strchr(key, '/');
        char *ns = jp_xstrndup(key, (size_t)(slash - key));
        jobctl__sync(j, ns, slash + 1);
        free(ns);
    }
    json_object_foreach(release, key, v)
    {
        const char *slash = strchr(key, '/');
        char *ns = jp_xstrndup(key, (size_t)(slash - key));
        const struct jp_obj *pod = jp_store_get(j->store, j->kind_pods, ns, slash + 1);
        if (pod && !owner_alive(j, pod)) jobctl__strip_finalizer(j, ns, slash + 1);
        free(ns);
    }
    json_decref(work);
    json_decref(release);
}

/* The Job a pod belongs to: its controller ownerReference of kind Job. */
static const struct jp_owner *job_owner(const struct jp_obj *pod)
{
    const struct jp_owner *w = jp_proj_controller(jp_proj_of(pod));
    return w && !strcmp(w->kind, "Job") && !strncmp(w->api_version, "batch/", 6) ? w : NULL;
}

/* Whether a pod's controlling Job still exists - the very Job, not a namesake. */
static bool owner_alive(struct jp_jobctl *j, const struct jp_obj *pod)
{
    const struct jp_owner *w = job_owner(pod);
    if (w == NULL) return false;
    const struct jp_obj *job = jp_store_get(j->store, j->kind_jobs, pod->ns, w->name);
    return job && strcmp(jp_proj_of(job)->uid, w->uid) == 0;
}

/* A pod that carries the tracking finalizer but whose Job is gone (deleted, or the pod was
 * orphaned) is queued to lose the tracking finalizer: nobody else would ever remove it. */
static void release_if_orphan(struct jp_jobctl *j, const struct jp_obj *pod)
{
    if (j->stopping || !jp_proj_has_finalizer(jp_proj_of(pod), TRACKING) || owner_alive(j, pod))
        return;
    char *key = jp_xasprintf("%s/%s", pod->ns, pod->name);
    json_object_set_new(j->release, key, json_true());
    free(key);
    if (!uv_is_active((uv_handle_t *)&j->now)) uv_timer_start(&j->now, run_queue, 0, 0);
}

struct deleted_job {
    struct jp_jobctl *j;
    const char *uid;
};

static bool release_pod_of(const struct jp_obj *pod, void *arg)
{
    struct deleted_job *d = arg;
    const struct jp_owner *w = job_owner(pod);
    if (d->uid == NULL || (w && strcmp(w->uid, d->uid) == 0)) release_if_orphan(d->j, pod);
    return true;
}

static void claim_later(struct jp_jobctl *j, const char *ns, const char *name)
{
    char *key = jp_xasprintf("%s/%s", ns, name);
    json_object_set_new(j->claims, key, json_true());
    free(key);
    jobctl__enqueue(j, ns, name, 0);
}

static bool same_labels(const struct jp_obj *a, const struct jp_obj *b)
{
    const struct jp_proj *x = jp_proj_of(a), *y = jp_proj_of(b);
    if (x->nlabels != y->nlabels) return false;
    for (size_t i = 0; i < x->nlabels; i++)
        if (strcmp(x->labels[i].key, y->labels[i].key) ||
            strcmp(x->labels[i].value, y->labels[i].value))
            return false;
    return true;
}

struct orphan_offer {
    struct jp_jobctl *j;
    const struct jp_obj *pod;
};

/* An orphan pod: a running Job whose selector matches will adopt it. */
static bool offer_orphan(const struct jp_obj *job, void *arg)
{
    struct orphan_offer *o = arg;
    if (jp_proj_of(o->pod)->deleted_ns || jp_pod_finished(o->pod) || jp_proj_of(job)->deleted_ns)
        return true;
    json_t *doc = jp_api_parse(job);
    if (jobctl__selects(doc, o->pod)) claim_later(o->j, job->ns, job->name);
    json_decref(doc);
    return true;
}

/* ---- the pods each sync reads ----
 * A sync used to walk every pod of the namespace: at the end of a 10,000-completion Job, each
 * of its syncs went over 10,000 finished pods. A succeeded pod whose finalizer is gone is
 * counted for good and plays no further part, so the index keeps the rest: the live pods and
 * the finished ones not yet counted, a few more than the parallelism. */

bool jobctl__counted(const struct jp_obj *pod)
{
    return !jp_proj_has_finalizer(jp_proj_of(pod), TRACKING) &&
           !strcmp(jp_pod_phase(pod), "Succeeded");
}

static bool sync_reads(const struct jp_obj *pod)
{
    return jp_proj_controller(jp_proj_of(pod)) && !jobctl__counted(pod);
}

static void unindex(struct jp_jobctl *j, const struct jp_obj *pod)
{
    const struct jp_owner *ctl = jp_proj_controller(jp_proj_of(pod));
    json_t *set = ctl ? json_object_get(j->live, ctl->uid) : NULL;
    if (set == NULL) return;
    json_object_del(set, pod->name);
    if (json_object_size(set) == 0) json_object_del(j->live, ctl->uid);
}

static void index_pod(struct jp_jobctl *j, const struct jp_obj *pod)
{
    if (!sync_reads(pod)) return;
    const char *uid = jp_proj_controller(jp_proj_of(pod))->uid;
    json_t *set = json_object_get(j->live, uid);
    if (set == NULL) {
        set = json_object();
        json_object_set_new(j->live, uid, set);
    }
    json_object_set_new(set, pod->name, json_true());
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **jobctl__live_pods(struct jp_jobctl *j, const char *uid, size_t *n)
{
    json_t *set = json_object_get(j->live, uid);
    const char **names = jp_xcalloc(json_object_size(set) + 1, sizeof(*names));
    const char *name;
    json_t *v;
    *n = 0;
    json_object_foreach(set, name, v) names[(*n)++] = name;
    qsort(names, *n, sizeof(*names), by_name);
    return names;
}

static bool scan_index(const struct jp_obj *pod, void *arg)
{
    index_pod(arg, pod);
    return true;
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_jobctl *j = arg;
    const struct jp_obj *o = ev->obj;
    if (o->kind == j->kind_pods) {
        if (ev->old) unindex(j, ev->old);
        if (ev->type == JP_EV_DELETED)
            unindex(j, o);
        else
            index_pod(j, o);
    }
    if (o->kind == j->kind_jobs) {
        if (ev->type == JP_EV_DELETED) {
            json_object_del(j->backoff, jp_proj_of(o)->uid);
            struct deleted_job d = {j, jp_proj_of(o)->uid};
            jp_store_scan(j->store, j->kind_pods, o->ns, NULL, NULL, release_pod_of, &d);
        } else {
            jobctl__enqueue(j, o->ns, o->name, 0);
        }
    } else if (o->kind == j->kind_pods) {
        const struct jp_owner *w = job_owner(o);
        const struct jp_owner *was = ev->old ? job_owner(ev->old) : NULL;
        if (w) jobctl__enqueue(j, o->ns, w->name, 0);
        if (w && ev->old && !same_labels(o, ev->old)) claim_later(j, o->ns, w->name);
        if (ev->type != JP_EV_DELETED && jp_proj_controller(jp_proj_of(o)) == NULL) {
            struct orphan_offer offer = {j, o};
            jp_store_scan(j->store, j->kind_jobs, o->ns, NULL, NULL, offer_orphan, &offer);
        }
        if (was && (w == NULL || strcmp(was->uid, w->uid) != 0))
            jobctl__enqueue(j, o->ns, was->name, 0);
        if (ev->type != JP_EV_DELETED) release_if_orphan(j, o);
    }
}

static bool scan_job(const struct jp_obj *o, void *arg)
{
    struct jp_jobctl *j = arg;
    jobctl__enqueue(j, o->ns, o->name, 0);
    return true;
}

static void declare_metrics(struct jp_metrics *m)
{
    jp_metrics_declare(m, "job_controller_job_sync_duration_seconds", "histogram",
                       "The time it took to sync a job");
    jp_metrics_declare(m, "job_controller_job_syncs_total", "counter", "The number of job syncs");
    jp_metrics_declare(m, "job_controller_jobs_finished_total", "counter",
                       "The number of finished jobs");
    jp_metrics_declare(m, "job_controller_job_pods_finished_total", "counter",
                       "The number of finished Pods that are fully tracked");
    jp_metrics_declare(m, "job_controller_job_pods_creation_total", "counter",
                       "The number of Pods created by the Job controller labelled with a reason "
                       "for the Pod creation.");
    jp_metrics_declare(m, "job_controller_pod_failures_handled_by_failure_policy_total", "counter",
                       "The number of failed Pods handled by failure policy with respect to the "
                       "failure policy action applied based on the matched rule.");
}

struct jp_jobctl *jp_jobctl_start(uv_loop_t *loop, struct jp_store *store,
                                  const struct jp_jobctl_opts *opts)
{
    struct jp_jobctl *j = jp_xcalloc(1, sizeof(*j));
    j->metrics = opts->metrics;
    declare_metrics(j->metrics);
    j->store = store;
    j->backoff_scale = opts->backoff_scale > 0 ? opts->backoff_scale : 1.0;
    j->backoff_base_ns = opts->backoff_base_ns > 0 ? opts->backoff_base_ns : 10 * NS_PER_S;
    j->backoff_max_ns = opts->backoff_max_ns > 0 ? opts->backoff_max_ns : 600 * NS_PER_S;
    j->kind_jobs = (uint16_t)jp_kind_index(jp_kind_by_plural("batch", "v1", "jobs"));
    j->kind_pods = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "pods"));
    j->queue = json_object();
    j->delayed = json_object();
    j->claims = json_object();
    j->backoff = json_object();
    j->release = json_object();
    j->live = json_object();
    jp_store_scan(store, j->kind_pods, NULL, NULL, NULL, scan_index, j);
    j->events = jp_recorder_new(store, "job-controller", NULL);
    uv_timer_init(loop, &j->now);
    uv_timer_init(loop, &j->later);
    j->now.data = j->later.data = j;
    jp_store_scan(store, j->kind_jobs, NULL, NULL, NULL, scan_job, j);
    struct deleted_job any = {j, NULL}; /* pods whose Job went while jobplane was down */
    jp_store_scan(store, j->kind_pods, NULL, NULL, NULL, release_pod_of, &any);
    j->sub = jp_store_subscribe(store, on_event, j);
    return j;
}

static void closed(uv_handle_t *h)
{
    struct jp_jobctl *j = h->data;
    if (++j->closed < 2) return;
    json_decref(j->queue);
    json_decref(j->delayed);
    json_decref(j->backoff);
    json_decref(j->release);
    json_decref(j->claims);
    json_decref(j->live);
    jp_recorder_free(j->events);
    free(j);
}

void jp_jobctl_stop(struct jp_jobctl *j)
{
    if (j == NULL) return;
    j->stopping = true;
    jp_store_unsubscribe(j->store, j->sub);
    uv_close((uv_handle_t *)&j->now, closed);
    uv_close((uv_handle_t *)&j->later, closed);
}
