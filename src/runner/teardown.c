/* The end of a run: what the run created is deleted as `kubectl delete -f` would (background
 * propagation: the garbage collector takes the pods, the agent stops them gracefully), and the
 * caller hears when no pod is left running. */
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "runner/runner.h"

#include <stdlib.h>
#include <string.h>

#define POLL_MS 20

struct teardown {
    struct jp_store *store;
    uint16_t kind_pods;
    int64_t deadline;
    uv_timer_t timer;
    void (*done)(void *arg);
    void *arg;
};

static bool running(const struct jp_obj *o, void *arg)
{
    bool *any = arg;
    if (!jp_pod_finished(o)) *any = true;
    return !*any;
}

static void closed(uv_handle_t *h)
{
    struct teardown *t = h->data;
    void (*done)(void *) = t->done;
    void *arg = t->arg;
    free(t);
    done(arg);
}

static void poll_cb(uv_timer_t *h)
{
    struct teardown *t = h->data;
    bool any = false;
    jp_store_scan(t->store, t->kind_pods, NULL, NULL, NULL, running, &any);
    if (any && jp_mono_ns() < t->deadline) return;
    if (any) jp_log(JP_WARN, "run", "pods still running at the end of the grace period");
    uv_timer_stop(h);
    uv_close((uv_handle_t *)h, closed);
}

void jp_teardown(uv_loop_t *loop, struct jp_store *store, const json_t *created, bool keep_jobs,
                 uint64_t timeout_ms, void (*done)(void *arg), void *arg)
{
    json_t *opts = json_pack("{s:s}", "propagationPolicy", "Background");
    for (size_t i = json_array_size(created); i-- > 0;) {
        const json_t *c = json_array_get(created, i);
        const char *kind = jp_json_str(c, "kind", NULL);
        if (keep_jobs && strcmp(kind, "Job") == 0) continue;
        const struct jp_kind *k =
            jp_kind_by_plural(jp_json_str(c, "group", NULL), jp_json_str(c, "version", NULL),
                              jp_json_str(c, "plural", NULL));
        if (k == NULL || !strcmp(kind, "Namespace")) continue; /* namespaces: not worth a wait */
        struct jp_write_ctx wc = {.store = store, .kind = k, .ns = jp_json_str(c, "ns", NULL)};
        struct jp_write_result res = {0};
        struct jp_status *st = NULL;
        if (jp_api_delete(&wc, jp_json_str(c, "name", NULL), opts, &res, &st) < 0) {
            if (st->reason != JP_NOT_FOUND)
                jp_log(JP_WARN, "run", "deleting %s %s: %s", kind, jp_json_str(c, "name", NULL),
                       st->message);
            jp_status_free(st);
        }
        jp_write_result_free(&res);
        jp_write_ctx_free(&wc);
    }
    json_decref(opts);
    struct teardown *t = jp_xcalloc(1, sizeof(*t));
    t->store = store;
    t->kind_pods = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "pods"));
    t->deadline = jp_mono_ns() + (int64_t)timeout_ms * 1000000;
    t->done = done;
    t->arg = arg;
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    uv_timer_start(&t->timer, poll_cb, 0, POLL_MS);
}
