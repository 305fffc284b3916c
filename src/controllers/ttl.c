/* Finished Jobs with a TTL: each store event about a Job (and a scan at start) computes when it
 * expires; one timer fires at the earliest expiry and deletes what is due. The deletion is
 * re-checked against the current object at that moment: the TTL may have been changed, or the
 * Job replaced by a namesake (the UID precondition). */
#include "controllers/ttl.h"
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000LL

struct jp_ttlctl {
    struct jp_store *store;
    struct jp_store_sub *sub;
    uint16_t kind_jobs;
    json_t *due; /* "ns/name" -> expiry (unix ns) */
    uv_timer_t timer;
    bool stopping;
};

/* When the Job expires (unix ns), or 0 if it never does (not finished, no TTL, deleting). */
static int64_t expiry(const json_t *job)
{
    const json_t *ttl = json_object_get(json_object_get(job, "spec"), "ttlSecondsAfterFinished");
    if (!json_is_integer(ttl) || jp_json_path(job, "metadata", "deletionTimestamp", NULL)) return 0;
    const json_t *st = json_object_get(job, "status");
    static const char *const terminal[] = {"Complete", "Failed"}; /* never both */
    for (int i = 0; i < 2; i++) {
        if (!jp_json_condition_true(st, terminal[i])) continue;
        int64_t at = jp_json_time(jp_json_condition(st, terminal[i]), "lastTransitionTime", NULL);
        return (at ? at : jp_now_ns()) + json_integer_value(ttl) * NS_PER_S;
    }
    return 0;
}

static void rearm(struct jp_ttlctl *t);

static void delete_job(struct jp_ttlctl *t, const char *ns, const char *name, const json_t *job)
{
    const struct jp_kind *k = &jp_kinds[t->kind_jobs];
    json_t *opts = json_pack("{s:s,s:{s:s}}", "propagationPolicy", "Foreground", "preconditions",
                             "uid", jp_json_str(job, "metadata", "uid", NULL));
    struct jp_write_ctx c = {.store = t->store, .kind = k, .ns = ns};
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    if (jp_api_delete(&c, name, opts, &r, &st) < 0) {
        jp_log(JP_WARN, "ttl-after-finished", "deleting job %s/%s: %s", ns, name, st->message);
        jp_status_free(st);
    } else {
        jp_log(JP_INFO, "ttl-after-finished", "deleted job %s/%s: its TTL after finishing ran out",
               ns, name);
    }
    jp_write_result_free(&r);
    jp_write_ctx_free(&c);
    json_decref(opts);
}

static void fire(uv_timer_t *h)
{
    struct jp_ttlctl *t = h->data;
    int64_t now = jp_now_ns();
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(t->due, tmp, key, v)
    {
        if (json_integer_value(v) > now) continue;
        const char *slash = strchr(key, '/');
        char *ns = jp_xstrndup(key, (size_t)(slash - key));
        const struct jp_obj *o = jp_store_get(t->store, t->kind_jobs, ns, slash + 1);
        json_t *job = o ? jp_api_parse(o) : NULL;
        int64_t at = job ? expiry(job) : 0;
        if (at && at <= now) delete_job(t, ns, slash + 1, job);
        if (at > now)
            json_object_set_new(t->due, key, json_integer(at));
        else
            json_object_del(t->due, key);
        json_decref(job);
        free(ns);
    }
    rearm(t);
}

static void rearm(struct jp_ttlctl *t)
{
    int64_t first = 0;
    const char *key;
    json_t *v;
    json_object_foreach(t->due, key, v)
    {
        int64_t at = json_integer_value(v);
        if (first == 0 || at < first) first = at;
    }
    if (first == 0 || t->stopping) {
        uv_timer_stop(&t->timer);
        return;
    }
    int64_t wait_ms = (first - jp_now_ns()) / 1000000 + 1;
    uv_timer_start(&t->timer, fire, wait_ms > 0 ? (uint64_t)wait_ms : 0, 0);
}

static void consider(struct jp_ttlctl *t, const struct jp_obj *o, bool gone)
{
    char *key = jp_xasprintf("%s/%s", o->ns, o->name);
    json_t *job = gone ? NULL : jp_api_parse(o);
    int64_t at = job ? expiry(job) : 0;
    if (at)
        json_object_set_new(t->due, key, json_integer(at));
    else
        json_object_del(t->due, key);
    json_decref(job);
    free(key);
    rearm(t); /* deletes happen from the timer: never inside event dispatch */
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_ttlctl *t = arg;
    if (ev->obj->kind == t->kind_jobs) consider(t, ev->obj, ev->type == JP_EV_DELETED);
}

static bool scan(const struct jp_obj *o, void *arg)
{
    consider(arg, o, false);
    return true;
}

struct jp_ttlctl *jp_ttlctl_start(uv_loop_t *loop, struct jp_store *store)
{
    struct jp_ttlctl *t = jp_xcalloc(1, sizeof(*t));
    t->store = store;
    t->kind_jobs = (uint16_t)jp_kind_index(jp_kind_by_plural("batch", "v1", "jobs"));
    t->due = json_object();
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    jp_store_scan(store, t->kind_jobs, NULL, NULL, NULL, scan, t);
    t->sub = jp_store_subscribe(store, on_event, t);
    return t;
}

static void closed(uv_handle_t *h)
{
    struct jp_ttlctl *t = h->data;
    json_decref(t->due);
    free(t);
}

void jp_ttlctl_stop(struct jp_ttlctl *t)
{
    if (t == NULL) return;
    t->stopping = true;
    jp_store_unsubscribe(t->store, t->sub);
    uv_close((uv_handle_t *)&t->timer, closed);
}
