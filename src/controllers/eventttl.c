/* A sweep every tenth of the TTL (1 s to 1 min) deletes the Events whose last write is older than
 * the TTL. The creation time in each object's projection rules out most Events without parsing
 * them; only those created before the cut are read for their lastTimestamp (or eventTime): a
 * repeated Event lives on from its latest occurrence, as a refreshed lease does upstream. */
#include "controllers/eventttl.h"
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <jansson.h>
#include <stdlib.h>

struct jp_eventttl {
    struct jp_store *store;
    uint16_t kind;
    int64_t ttl_ns;
    uv_timer_t timer;
};

struct expired {
    int64_t cut;
    json_t *list; /* [[ns, name]] */
};

static bool collect(const struct jp_obj *o, void *arg)
{
    struct expired *x = arg;
    if (jp_proj_of(o)->created_ns >= x->cut) return true;
    json_t *ev = jp_api_parse(o);
    int64_t last = jp_json_time(ev, "lastTimestamp", NULL);
    if (last == 0) last = jp_json_time(ev, "eventTime", NULL);
    if (last < x->cut) json_array_append_new(x->list, json_pack("[s,s]", o->ns, o->name));
    json_decref(ev);
    return true;
}

static void sweep(uv_timer_t *h)
{
    struct jp_eventttl *t = h->data;
    struct expired x = {jp_now_ns() - t->ttl_ns, json_array()};
    jp_store_scan(t->store, t->kind, NULL, NULL, NULL, collect, &x);
    size_t i;
    json_t *e;
    json_array_foreach(x.list, i, e)
    {
        const char *ns = json_string_value(json_array_get(e, 0));
        struct jp_write_ctx c = {.store = t->store, .kind = &jp_kinds[t->kind], .ns = ns};
        struct jp_write_result r = {0};
        struct jp_status *st = NULL;
        if (jp_api_delete(&c, json_string_value(json_array_get(e, 1)), NULL, &r, &st) < 0)
            jp_status_free(st); /* gone meanwhile: nothing to do */
        jp_write_result_free(&r);
        jp_write_ctx_free(&c);
    }
    if (json_array_size(x.list))
        jp_log(JP_DEBUG, "event-ttl", "deleted %zu expired events", json_array_size(x.list));
    json_decref(x.list);
}

struct jp_eventttl *jp_eventttl_start(uv_loop_t *loop, struct jp_store *store, int64_t ttl_ns)
{
    struct jp_eventttl *t = jp_xcalloc(1, sizeof(*t));
    t->store = store;
    t->kind = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "events"));
    t->ttl_ns = ttl_ns;
    int64_t every_ms = ttl_ns / 10 / 1000000;
    if (every_ms < 1000) every_ms = 1000;
    if (every_ms > 60000) every_ms = 60000;
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    uv_timer_start(&t->timer, sweep, (uint64_t)every_ms, (uint64_t)every_ms);
    return t;
}

static void closed(uv_handle_t *h)
{
    free(h->data);
}

void jp_eventttl_stop(struct jp_eventttl *t)
{
    if (t == NULL) return;
    uv_close((uv_handle_t *)&t->timer, closed);
}
