/* One sync of one Job, in the order of the Kubernetes job controller (job-semantics.md §5-§8):
 * count finished pods through uncountedTerminatedPods and their tracking finalizer, check the
 * failure and success criteria, then stop, suspend or run pods, and write the status. */
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/timefmt.h"
#include "controllers/job-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BACKOFF 6

/* An Indexed Job's indexes during one sync. */
struct indexes {
    struct jp_idx done, failed; /* completedIndexes, failedIndexes */
    int64_t completions;
    int64_t per_index; /* backoffLimitPerIndex; -1 when unset */
};

/* ---- reading pods ---- */

/* backoffLimitPerIndex: the failures of its index before this pod (the annotation). */
static int64_t annotation_count(const json_t *pod, const char *key)
{
    const char *v = jp_json_str(pod, "metadata", "annotations", key, NULL);
    int64_t n;
    return v && jp_parse_int(v, 10, 0, INT32_MAX, &n, NULL) == 0 ? n : 0;
}

static int64_t index_failures(const json_t *pod)
{
    return annotation_count(pod, FAILURES_KEY);
}

/* When a pod finished, for the re-creation back-off: its last container's finishedAt, else
 * when its deletion began, else its creation. */
static int64_t finish_time(const json_t *pod)
{
    int64_t last = 0;
    size_t i;
    json_t *cs;
    json_array_foreach(jp_json_path(pod, "status", "containerStatuses", NULL), i, cs)
    {
        int64_t t = jp_json_time(cs, "state", "terminated", "finishedAt", NULL);
        if (t > last) last = t;
    }
    if (last) return last;
    int64_t del = jp_json_time(pod, "metadata", "deletionTimestamp", NULL);
    if (del)
        return del - jp_json_int(pod, 0, "metadata", "deletionGracePeriodSeconds", NULL) * NS_PER_S;
    return jp_json_time(pod, "metadata", "creationTimestamp", NULL);
}

static bool collect(const struct jp_obj *o, void *arg)
{
    struct pods *ps = arg;
    const struct jp_proj *p = jp_proj_of(o);
    const struct jp_owner *ctl = jp_proj_controller(p);
    bool ours = ctl && strcmp(ctl->uid, ps->job_uid) == 0;
    if (!ours || jobctl__counted(o)) return true;
    ps->v = jp_xrealloc(ps->v, (ps->n + 1) * sizeof(*ps->v));
    struct owned *w = &ps->v[ps->n++];
    /* from the projection: a sync reads every pod it has not counted, and parsing each new
     * version of each was the largest cost of the server's loop in bench/jobs */
    w->o = jp_obj_ref(o);
    w->pod = NULL;
    w->uid = p->uid;
    w->name = o->name;
    w->phase = *jp_pod_phase(o) ? jp_pod_phase(o) : "Pending";
    w->tracked = jp_proj_has_finalizer(p, TRACKING);
    w->deleting = p->deleted_ns != 0;
    w->ready = jp_pod_ready(o);
    w->restarts = jp_pod_restarts(o);
    w->created_ns = p->created_ns;
    w->index = jp_pod_completion_index(o);
    return true;
}

/* The whole pod, for the rarer questions (why it failed, when it finished): parsed on the
 * first of them. */
static const json_t *pod_of(const struct owned *w)
{
    struct owned *m = (struct owned *)w; /* a cache, not a change of the pod */
    if (m->pod == NULL) m->pod = jp_api_view(w->o);
    return m->pod;
}

static void pods_free(struct pods *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        json_decref(ps->v[i].pod);
        jp_obj_unref(ps->v[i].o);
    }
    free(ps->v);
}

static bool finished(const struct owned *w)
{
    return !strcmp(w->phase, "Succeeded") || !strcmp(w->phase, "Failed");
}

static bool active(const struct owned *w)
{
    return !finished(w) && !w->deleting;
}

/* A failed pod (§6.1): phase Failed, or - under the default podReplacementPolicy without a
 * podFailurePolicy - being deleted without having succeeded. */
static bool failed(const json_t *spec, const struct owned *w)
{
    if (!strcmp(w->phase, "Failed")) return true;
    const char *policy = jp_json_str(spec, "podReplacementPolicy", NULL);
    bool eager = json_object_get(spec, "podFailurePolicy") == NULL &&
                 (policy == NULL || !strcmp(policy, "TerminatingOrFailed"));
    return eager && w->deleting && strcmp(w->phase, "Succeeded") != 0;
}

/* ---- writing pods ---- */

/* ---- the Job's status ---- */

static char *now_text(void)
{
    char ts[JP_TIME_BUFLEN];
    jp_time_format(ts, jp_now_ns(), JP_TIME_SECONDS);
    return jp_xstrdup(ts);
}

static void add_condition(json_t *st, const char *type, const char *status, const char *reason,
                          const char *message)
{
    char *now = now_text();
    json_t *c =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status, "lastProbeTime", now,
                  "lastTransitionTime", now, "reason", reason, "message", message);
    free(now);
    json_t *list = json_object_get(st, "conditions");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(st, "conditions", list);
    }
    /* a condition of that type changes in place (Suspended flips); others are appended */
    size_t i;
    json_t *old;
    json_array_foreach(list, i, old)
    {
        const char *t = jp_json_str(old, "type", NULL);
        if (t && !strcmp(t, type)) {
            json_array_set_new(list, i, c);
            return;
        }
    }
    json_array_append_new(list, c);
}

static void write_status(struct jp_jobctl *j, const char *ns, const char *name, json_t *st)
{
    const struct jp_obj *cur = jp_store_get(j->store, j->kind_jobs, ns, name);
    if (cur == NULL) return;
    json_t *view = jp_api_view(cur);
    if (view == NULL) return;
    json_t *job = json_copy(view); /* shallow: only the status is replaced */
    json_decref(view);
    json_object_set(job, "status", st);
    struct jp_write_ctx c = {.store = j->store,
                             .kind = &jp_kinds[j->kind_jobs],
                             .ns = ns,
                             .subresource = "status",
                             .fv = JP_FV_IGNORE};
    struct jp_write_result r = {0};
    struct jp_status *err = NULL;
    if (jp_api_replace(&c, cur, job, &r, &err) < 0) {
        j->retry = true;
        jp_log(JP_WARN, "job-controller", "writing the status of job %s/%s: %s", ns, name,
               err->message);
        jp_status_free(err);
    }
    jp_write_result_free(&r);
    jp_write_ctx_free(&c);
}

static bool listed(const json_t *list, const char *uid)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), uid)) return true;
    }
    return false;
}

static const struct owned *find_uid(const struct pods *ps, const char *uid)
{
    for (size_t i = 0; i < ps->n; i++)
        if (!strcmp(ps->v[i].uid, uid)) return &ps->v[i];
    return NULL;
}

static void set_count(json_t *st, const char *key, long long n, bool keep_zero)
{
    if (n > 0 || keep_zero)
        json_object_set_new(st, key, json_integer(n));
    else
        json_object_del(st, key);
}

/* The timestamps have whole seconds: the pod ended within the second after its finish time,
 * and no later than now, when its end is seen. */
static void note_finish(const struct owned *w, int64_t *last_failure)
{
    int64_t t = finish_time(pod_of(w)) + NS_PER_S - 1, now = jp_now_ns();
    if (t > now) t = now;
    if (t > *last_failure) *last_failure = t;
}

static void pod_finished(struct jp_jobctl *j, bool ok)
{
    char labels[96];
    snprintf(labels, sizeof(labels), "completion_mode=\"%s\",result=\"%s\"", j->mode,
             ok ? "succeeded" : "failed");
    jp_metrics_add(j->metrics, "job_controller_job_pods_finished_total", labels, 1);
}

/* §7.2: finished pods that still carry the finalizer are listed in uncountedTerminatedPods, the
 * list is written, the finalizers go, then the lists become counts. A crash between the steps
 * repeats the rest on the next sync; nothing is counted twice. */
static void count_finished(struct jp_jobctl *j, const json_t *job, struct pods *ps, json_t *st,
                           struct indexes *ix, int *new_ok, int *new_failed, int64_t *last_failure)
{
    struct jp_idx *done = ix ? &ix->done : NULL;
    const char *ns = jp_json_str(job, "metadata", "namespace", NULL);
    const char *name = jp_json_str(job, "metadata", "name", NULL);
    const json_t *spec = json_object_get(job, "spec");
    json_t *unc = json_object_get(st, "uncountedTerminatedPods");
    if (!json_is_object(unc)) {
        unc = json_object();
        json_object_set_new(st, "uncountedTerminatedPods", unc);
    }
    static const char *const keys[] = {"succeeded", "failed"};
    json_t *lists[2];
    for (int k = 0; k < 2; k++) {
        lists[k] = json_object_get(unc, keys[k]);
        if (!json_is_array(lists[k])) {
            lists[k] = json_array();
            json_object_set_new(unc, keys[k], lists[k]);
        }
    }
    bool added = false;
    int64_t completions = jp_json_int(spec, 0, "completions", NULL);
    const struct owned **ok_ix = jp_xcalloc(ps->n + 1, sizeof(*ok_ix));
    size_t nok = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const struct owned *w = &ps->v[i];
        if (!w->tracked) continue;
        if (done && !strcmp(w->phase, "Succeeded")) {
            /* Indexed: the set of indexes is the record, each counts once; no UIDs */
            if (w->index >= 0 && w->index < completions && !jobctl__idx_has(done, w->index)) {
                jobctl__idx_add(done, w->index);
                added = true;
                (*new_ok)++;
                pod_finished(j, true);
            }
            ok_ix[nok++] = w;
            continue;
        }
        int k = !strcmp(w->phase, "Succeeded") ? 0 : failed(spec, w) ? 1 : -1;
        if (k < 0 || listed(lists[k], w->uid)) continue;
        const char *action = NULL;
        char *why = NULL;
        if (k == 1 && !strcmp(w->phase, "Failed") &&
            !jp_json_condition_true(st, "SuccessCriteriaMet"))
            action = jobctl__pod_failure_action(spec, pod_of(w), &why);
        if (action) {
            char labels[48];
            snprintf(labels, sizeof(labels), "action=\"%s\"", action);
            jp_metrics_add(j->metrics,
                           "job_controller_pod_failures_handled_by_failure_policy_total", labels,
                           1);
        }
        if (action && !strcmp(action, "Ignore")) {
            /* not a failure of the Job: let the pod go uncounted; it still feeds the back-off */
            if (jobctl__strip_finalizer(j, ns, w->name) == 0) {
                (*new_failed)++;
                note_finish(w, last_failure);
            }
            free(why);
            continue;
        }
        if (ix && ix->per_index >= 0 && w->index >= 0 && w->index < ix->completions) {
            /* §6.6: the index has had its last try, or a FailIndex rule gave up on it */
            int64_t tries = index_failures(pod_of(w));
            if ((action && !strcmp(action, "FailIndex")) || tries >= ix->per_index)
                jobctl__idx_add(&ix->failed, w->index);
        }
        if (action && !strcmp(action, "FailJob") && !jp_json_condition_true(st, "FailureTarget")) {
            /* decided in the same status write that lists the pod: a crash cannot lose it */
            add_condition(st, "FailureTarget", "True", "PodFailurePolicy", why);
        }
        free(why);
        json_array_append_new(lists[k], json_string(w->uid));
        added = true;
        if (k == 0) {
            (*new_ok)++;
        } else {
            (*new_failed)++;
            note_finish(w, last_failure);
        }
    }
    if (ix) {
        static const char *const fields[] = {"completedIndexes", "failedIndexes"};
        for (int f = 0; f < 2; f++) {
            char *text = jobctl__idx_format(f ? &ix->failed : &ix->done);
            if (*text)
                json_object_set_new(st, fields[f], json_string(text));
            else
                json_object_del(st, fields[f]);
            free(text);
        }
        set_count(st, "succeeded", jobctl__idx_count(done), false);
    }
    if (added) write_status(j, ns, name, st);
    for (size_t i = 0; i < nok; i++)
        jobctl__strip_finalizer(j, ns, ok_ix[i]->name);
    free(ok_ix);
    for (int k = 0; k < 2; k++) {
        long long count = jp_json_int(st, 0, keys[k], NULL);
        for (size_t i = json_array_size(lists[k]); i-- > 0;) {
            const char *uid = json_string_value(json_array_get(lists[k], i));
            const struct owned *w = uid ? find_uid(ps, uid) : NULL;
            if (w && w->tracked && jobctl__strip_finalizer(j, ns, w->name) < 0) continue;
            json_array_remove(lists[k], i);
            count++;
            pod_finished(j, k == 0);
        }
        set_count(st, keys[k], count, false);
        if (json_array_size(lists[k]) == 0) json_object_del(unc, keys[k]);
    }
}

/* base x 2^(n-1), capped, scaled: the wait after the n-th failure in a row. */
static int64_t backoff_delay(const struct jp_jobctl *j, int64_t n)
{
    int64_t delay = j->backoff_base_ns;
    for (int64_t i = 1; i < n && delay < j->backoff_max_ns; i++)
        delay *= 2;
    if (delay > j->backoff_max_ns) delay = j->backoff_max_ns;
    return (int64_t)((double)delay * j->backoff_scale);
}

/* The re-creation back-off (§6.2): none before a failure; 10 s doubling per failure since the
 * last success, capped at 10 min, from when the last failed pod finished. */
static int64_t backoff_left(struct jp_jobctl *j, const char *uid)
{
    json_t *rec = json_object_get(j->backoff, uid);
    long long n = jp_json_int(rec, 0, "n", NULL);
    if (n <= 0) return 0;
    int64_t delay = backoff_delay(j, n);
    int64_t due = jp_json_int(rec, 0, "last", NULL) + delay;
    int64_t now = jp_now_ns();
    return due > now ? due - now : 0;
}

static void note_outcomes(struct jp_jobctl *j, const char *uid, int ok, int bad, int64_t last)
{
    if (ok == 0 && bad == 0) return;
    json_t *rec = json_object_get(j->backoff, uid);
    long long n = ok > 0 ? 0 : jp_json_int(rec, 0, "n", NULL);
    int64_t prev = jp_json_int(rec, 0, "last", NULL);
    json_object_set_new(j->backoff, uid,
                        json_pack("{s:I,s:I}", "n", (json_int_t)(n + bad), "last",
                                  (json_int_t)(last > prev ? last : prev)));
}

/* Surplus pods go first that are not yet running, then the newest (§5.2, simplified). */
static int surplus_order(const void *a, const void *b)
{
    const struct owned *x = *(const struct owned *const *)a, *y = *(const struct owned *const *)b;
    bool xr = !strcmp(x->phase, "Running"), yr = !strcmp(y->phase, "Running");
    if (xr != yr) return xr ? 1 : -1;
    if (x->ready != y->ready) return x->ready ? 1 : -1;
    return x->created_ns > y->created_ns ? -1 : x->created_ns < y->created_ns;
}

/* Indexed: active pods without a valid index, of an index already done, or a second pod of
 * an index are let go first (§5.2); the rest hold their indexes. */
static void drop_bad_indexes(struct jp_jobctl *j, const json_t *job, struct pods *ps,
                             const struct indexes *ix, struct jp_idx *held, long long *nactive)
{
    for (size_t i = 0; i < ps->n; i++) {
        struct owned *w = &ps->v[i];
        if (!active(w)) continue;
        if (w->index >= 0 && w->index < ix->completions && !jobctl__idx_has(&ix->done, w->index) &&
            !jobctl__idx_has(&ix->failed, w->index) && !jobctl__idx_has(held, w->index)) {
            jobctl__idx_add(held, w->index);
            continue;
        }
        jobctl__delete_pod(j, job, w, true);
        w->deleting = true;
        (*nactive)--;
    }
}

/* backoffLimitPerIndex: how many counted failures index I has had, and how long its next pod
 * must still wait (the §6.2 back-off, per index). */
static int64_t index_tries(struct jp_jobctl *j, const json_t *spec, const struct pods *ps,
                           int64_t i, int64_t *ignored, int64_t *wait)
{
    int64_t tries = 0, skipped = 0, last = 0;
    for (size_t k = 0; k < ps->n; k++) {
        const struct owned *w = &ps->v[k];
        if (w->index != i || strcmp(w->phase, "Failed") != 0) continue;
        char *why;
        const char *action = jobctl__pod_failure_action(spec, pod_of(w), &why);
        free(why);
        int64_t n = index_failures(pod_of(w));
        if (action && !strcmp(action, "Ignore")) {
            /* not a try of the index (§6.6), counted apart; it feeds the back-off all the same */
            if (n > tries) tries = n;
            int64_t m = annotation_count(pod_of(w), IGNORED_KEY) + 1;
            if (m > skipped) skipped = m;
        } else if (n + 1 > tries) {
            tries = n + 1;
        }
        note_finish(w, &last);
    }
    *ignored = skipped;
    *wait = 0;
    if (tries + skipped > 0) {
        int64_t due = last + backoff_delay(j, tries + skipped), now = jp_now_ns();
        if (due > now) *wait = due - now;
    }
    return tries;
}

static void run_pods(struct jp_jobctl *j, const json_t *job, struct pods *ps, long long *nactive,
                     long long succeeded, const struct indexes *ix)
{
    const json_t *spec = json_object_get(job, "spec");
    long long parallelism = jp_json_int(spec, 1, "parallelism", NULL);
    const json_t *comp = json_object_get(spec, "completions");
    struct jp_idx held = {0};
    int64_t soonest = 0; /* backoffLimitPerIndex: when the first waiting index may go */
    if (ix) drop_bad_indexes(j, job, ps, ix, &held, nactive);
    long long want;
    if (json_is_integer(comp)) {
        want = json_integer_value(comp) - succeeded - (ix ? jobctl__idx_count(&ix->failed) : 0);
        if (want > parallelism) want = parallelism;
        if (want < 0) want = 0;
    } else {
        want =
            succeeded == 0 ? parallelism : *nactive; /* a work queue: no new pods after a success */
    }
    if (*nactive > want) {
        const struct owned **order = jp_xcalloc(ps->n, sizeof(*order));
        size_t n = 0;
        for (size_t i = 0; i < ps->n; i++)
            if (active(&ps->v[i])) order[n++] = &ps->v[i];
        qsort(order, n, sizeof(*order), surplus_order);
        for (size_t i = 0; i<n && * nactive> want && i < MAX_PER_SYNC; i++) {
            jobctl__delete_pod(j, job, order[i], true);
            (*nactive)--;
        }
        free(order);
        goto out;
    }
    long long diff = want - *nactive;
    const char *policy = jp_json_str(spec, "podReplacementPolicy", NULL);
    if (json_object_get(spec, "podFailurePolicy") || (policy && !strcmp(policy, "Failed"))) {
        /* a terminating pod is replaced only once it has failed (§5.2, R48, R55) */
        for (size_t i = 0; i < ps->n; i++)
            if (ps->v[i].deleting && !finished(&ps->v[i])) diff--;
    }
    if (diff <= 0) goto out;
    const char *uid = jp_json_str(job, "metadata", "uid", NULL);
    bool per_index = ix && ix->per_index >= 0;
    int64_t wait = per_index ? 0 : backoff_left(j, uid);
    if (wait > 0) {
        jobctl__enqueue(j, jp_json_str(job, "metadata", "namespace", NULL),
                        jp_json_str(job, "metadata", "name", NULL), wait);
        goto out;
    }
    if (diff > MAX_PER_SYNC) diff = MAX_PER_SYNC;
    /* slow start: batches of 1, 2, 4...; a refused create ends this sync's creations. Indexed
     * pods take the lowest indexes neither done nor held. */
    int64_t next = 0;
    for (long long batch = 1, made = 0; made < diff; batch *= 2) {
        for (long long k = 0; k < batch && made < diff; k++, made++) {
            int64_t index = -1, tries = -1, ignored = 0;
            while (ix) {
                while (next < ix->completions &&
                       (jobctl__idx_has(&ix->done, next) || jobctl__idx_has(&ix->failed, next) ||
                        jobctl__idx_has(&held, next)))
                    next++;
                if (next >= ix->completions) goto out;
                index = next++;
                if (!per_index) break;
                int64_t left;
                tries = index_tries(j, spec, ps, index, &ignored, &left);
                if (left == 0) break;
                if (soonest == 0 || left < soonest) soonest = left; /* this index waits */
            }
            if (!jobctl__create_pod(j, job, index, tries, ignored)) {
                j->retry = true; /* a refused create is tried again (§4: 1 s) */
                goto out;
            }
            (*nactive)++;
        }
    }
out:
    if (soonest > 0)
        jobctl__enqueue(j, jp_json_str(job, "metadata", "namespace", NULL),
                        jp_json_str(job, "metadata", "name", NULL), soonest);
    jobctl__idx_free(&held);
}

/* §6.7: the first successPolicy rule the completed indexes satisfy. */
static bool success_policy(const json_t *spec, const struct indexes *ix, json_t *st)
{
    size_t r;
    json_t *rule;
    json_array_foreach(jp_json_path(spec, "successPolicy", "rules", NULL), r, rule)
    {
        const char *text = jp_json_str(rule, "succeededIndexes", NULL);
        const json_t *count = json_object_get(rule, "succeededCount");
        struct jp_idx listed;
        jobctl__idx_parse(text, ix->completions, &listed);
        int64_t have = text ? jobctl__idx_common(&listed, &ix->done) : jobctl__idx_count(&ix->done);
        bool ok = json_is_integer(count) ? have >= json_integer_value(count)
                                         : text && have == jobctl__idx_count(&listed);
        jobctl__idx_free(&listed);
        if (!ok) continue;
        char msg[64];
        snprintf(msg, sizeof(msg), "Matched rules at index %zu", r);
        add_condition(st, "SuccessCriteriaMet", "True", "SuccessPolicy", msg);
        return true;
    }
    return false;
}

static void sync_metrics(struct jp_jobctl *j, int64_t t0)
{
    char labels[128];
    snprintf(labels, sizeof(labels), "action=\"%s\",completion_mode=\"%s\",result=\"%s\"",
             j->created   ? "pods_created"
             : j->deleted ? "pods_deleted"
                          : "reconciling",
             j->mode, j->retry ? "error" : "success");
    jp_metrics_observe(j->metrics, "job_controller_job_sync_duration_seconds", labels,
                       (double)(jp_mono_ns() - t0) / 1e9);
    jp_metrics_add(j->metrics, "job_controller_job_syncs_total", labels, 1);
}

void jobctl__sync(struct jp_jobctl *j, const char *ns, const char *name)
{
    const struct jp_obj *cur = jp_store_get(j->store, j->kind_jobs, ns, name);
    if (cur == NULL) return;
    json_t *job = jp_api_view(cur); /* read-only */
    const json_t *spec = json_object_get(job, "spec");
    const char *managed = jp_json_str(spec, "managedBy", NULL);
    if (managed && strcmp(managed, "kubernetes.io/job-controller") != 0) goto out_job;
    const char *uid = jp_json_str(job, "metadata", "uid", NULL);
    const char *cm = jp_json_str(spec, "completionMode", NULL);
    j->mode = cm && !strcmp(cm, "Indexed") ? "Indexed" : "NonIndexed";
    j->created = j->deleted = 0;
    j->retry = false;
    int64_t t0 = jp_mono_ns();
    char *key = jp_xasprintf("%s/%s", ns, name);
    if (json_object_get(j->claims, key)) {
        json_object_del(j->claims, key);
        const json_t *now = json_object_get(job, "status");
        if (!jp_json_path(job, "metadata", "deletionTimestamp", NULL) &&
            !jp_json_condition_true(now, "Complete") && !jp_json_condition_true(now, "Failed"))
            jobctl__claim(j, job);
    }
    free(key);
    struct pods ps = {NULL, 0, uid};
    size_t nlive;
    const char **live = jobctl__live_pods(j, uid ? uid : "", &nlive);
    for (size_t i = 0; i < nlive; i++) {
        const struct jp_obj *o = jp_store_get(j->store, j->kind_pods, ns, live[i]);
        if (o) collect(o, &ps);
    }
    free(live);
    json_t *st = json_deep_copy(json_object_get(job, "status"));
    if (!json_is_object(st)) {
        json_decref(st);
        st = json_object();
    }
    bool finished_job =
        jp_json_condition_true(st, "Complete") || jp_json_condition_true(st, "Failed");
    if (finished_job || jp_json_path(job, "metadata", "deletionTimestamp", NULL)) {
        /* nothing runs for a finished or deleted Job; its pods are let go */
        for (size_t i = 0; i < ps.n; i++)
            if (ps.v[i].tracked) jobctl__strip_finalizer(j, ns, ps.v[i].name);
        goto out;
    }
    int new_ok = 0, new_bad = 0;
    int64_t last_failure = 0;
    const char *mode = jp_json_str(spec, "completionMode", NULL);
    bool indexed = mode && !strcmp(mode, "Indexed");
    struct indexes ix_set = {{0}, {0}, 0, -1}, *ix = indexed ? &ix_set : NULL;
    if (indexed) {
        ix->completions = jp_json_int(spec, 0, "completions", NULL);
        ix->per_index = jp_json_int(spec, -1, "backoffLimitPerIndex", NULL);
        jobctl__idx_parse(jp_json_str(st, "completedIndexes", NULL), ix->completions, &ix->done);
        jobctl__idx_parse(jp_json_str(st, "failedIndexes", NULL), ix->completions, &ix->failed);
    }
    count_finished(j, job, &ps, st, ix, &new_ok, &new_bad, &last_failure);
    note_outcomes(j, uid, new_ok, new_bad, last_failure);
    long long nactive = 0, ready = 0, terminating = 0, restarts = 0;
    for (size_t i = 0; i < ps.n; i++) {
        const struct owned *w = &ps.v[i];
        if (active(w)) {
            nactive++;
            ready += w->ready;
            restarts += w->restarts;
        } else if (w->deleting && !finished(w)) {
            terminating++;
        }
    }
    long long succeeded = jp_json_int(st, 0, "succeeded", NULL);
    long long nfailed = jp_json_int(st, 0, "failed", NULL);
    bool suspended = json_is_true(json_object_get(spec, "suspend"));
    int64_t now = jp_now_ns();
    if (!suspended && !json_object_get(st, "startTime")) {
        char *t = now_text();
        json_object_set_new(st, "startTime", json_string(t));
        free(t);
    }
    bool target = jp_json_condition_true(st, "FailureTarget");
    bool met = jp_json_condition_true(st, "SuccessCriteriaMet");
    if (!target && !met) {
        long long limit = jp_json_int(spec, DEFAULT_BACKOFF, "backoffLimit", NULL);
        const char *policy = jp_json_str(spec, "template", "spec", "restartPolicy", NULL);
        bool on_failure = policy && !strcmp(policy, "OnFailure");
        long long ads = jp_json_int(spec, -1, "activeDeadlineSeconds", NULL);
        int64_t start = jp_json_time(st, "startTime", NULL);
        if (nfailed > limit || (on_failure && (limit == 0 ? restarts > 0 : restarts >= limit))) {
            add_condition(st, "FailureTarget", "True", "BackoffLimitExceeded",
                          "Job has reached the specified backoff limit");
            target = true;
        } else if (ix && json_is_integer(jp_json_path(spec, "maxFailedIndexes", NULL)) &&
                   jobctl__idx_count(&ix->failed) >
                       jp_json_int(spec, 0, "maxFailedIndexes", NULL)) {
            add_condition(st, "FailureTarget", "True", "MaxFailedIndexesExceeded",
                          "Job has exceeded the specified maximal number of failed indexes");
            target = true;
        } else if (ads >= 0 && start && !suspended) {
            int64_t left = start + ads * NS_PER_S - now;
            if (left <= 0) {
                add_condition(st, "FailureTarget", "True", "DeadlineExceeded",
                              "Job was active longer than specified deadline");
                target = true;
            } else {
                jobctl__enqueue(j, ns, name, left);
            }
        }
    }
    if (!target && !met && ix) {
        if (jobctl__idx_count(&ix->failed) > 0 &&
            jobctl__idx_count(&ix->failed) + succeeded >= ix->completions) {
            add_condition(st, "FailureTarget", "True", "FailedIndexes", "Job has failed indexes");
            target = true;
        } else {
            met = success_policy(spec, ix, st);
        }
    }
    if (!target && !met) {
        const json_t *comp = json_object_get(spec, "completions");
        if (json_is_integer(comp) ? succeeded >= json_integer_value(comp)
                                  : succeeded >= 1 && nactive == 0) {
            add_condition(st, "SuccessCriteriaMet", "True", "CompletionsReached",
                          "Reached expected number of succeeded pods");
            met = true;
        }
    }
    struct jp_event_about about;
    jobctl__about_job(job, &about);
    if (target || met) {
        for (size_t i = 0; i < ps.n; i++) {
            if (!active(&ps.v[i])) continue;
            jobctl__delete_pod(j, job, &ps.v[i], met); /* a failing Job's pods count as failed */
            nactive--;
            terminating++;
        }
        json_t *unc = json_object_get(st, "uncountedTerminatedPods");
        if (json_object_size(unc) == 0 && terminating == 0) {
            const json_t *why = jp_json_condition(st, met ? "SuccessCriteriaMet" : "FailureTarget");
            const char *reason = jp_json_str(why, "reason", NULL) ?: "";
            const char *message = jp_json_str(why, "message", NULL) ?: "";
            add_condition(st, met ? "Complete" : "Failed", "True", reason, message);
            char labels[160];
            snprintf(labels, sizeof(labels), "completion_mode=\"%s\",reason=\"%s\",result=\"%s\"",
                     j->mode, reason, met ? "succeeded" : "failed");
            jp_metrics_add(j->metrics, "job_controller_jobs_finished_total", labels, 1);
            if (met) {
                char *t = now_text();
                json_object_set_new(st, "completionTime", json_string(t));
                free(t);
                jp_record(j->events, &about, "Normal", "Completed", "Job completed");
            } else {
                jp_record(j->events, &about, "Warning", reason, "%s", message);
            }
            json_object_del(j->backoff, uid);
        }
    } else if (suspended) {
        for (size_t i = 0; i < ps.n; i++) {
            if (!active(&ps.v[i])) continue;
            jobctl__delete_pod(j, job, &ps.v[i], true);
            nactive--;
        }
        if (!jp_json_condition_true(st, "Suspended")) {
            add_condition(st, "Suspended", "True", "JobSuspended", "Job suspended");
            jp_record(j->events, &about, "Normal", "Suspended", "Job suspended");
        }
    } else {
        if (jp_json_condition_true(st, "Suspended")) {
            add_condition(st, "Suspended", "False", "JobResumed", "Job resumed");
            char *t = now_text();
            json_object_set_new(st, "startTime", json_string(t));
            free(t);
            jp_record(j->events, &about, "Normal", "Resumed", "Job resumed");
        }
        const char *rp = jp_json_str(spec, "podReplacementPolicy", NULL);
        j->create_reason =
            nfailed == 0 ? "new"
            : (rp && !strcmp(rp, "Failed")) || json_object_get(spec, "podFailurePolicy")
                ? "recreate_failed"
                : "recreate_terminating_or_failed";
        run_pods(j, job, &ps, &nactive, succeeded, ix);
    }
    set_count(st, "active", nactive, false);
    set_count(st, "ready", ready > nactive ? nactive : ready, true);
    set_count(st, "terminating", terminating, true);
    write_status(j, ns, name, st);
    jobctl__idx_free(&ix_set.done);
    jobctl__idx_free(&ix_set.failed);
out:
    if (j->retry) jobctl__enqueue(j, ns, name, NS_PER_S);
    sync_metrics(j, t0);
    json_decref(st);
    pods_free(&ps);
out_job:
    json_decref(job);
}
