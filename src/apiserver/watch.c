/* Watch streams: chunked newline-delimited events, filtered like lists, with synthetic ADDED
 * events for the current state (resourceVersion unset or 0), replay from the store's watch log
 * for an older resourceVersion (410 Expired when it no longer holds it), Table rows with the
 * column definitions only on the first event, bookmarks, timeoutSeconds, and hang-up detection
 * while the stream waits.
 *
 * Cost control: the initial state is a snapshot of object references rendered into the stream
 * only as the client reads it (so 100 watchers of 30,000 pods don't each buffer 40 MB), and
 * events only mark a watcher dirty; one 0 ms timer wakes every dirty watcher once per commit
 * batch instead of once per event. */
#include "api/selector.h"
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/parse.h"
#include "base/timefmt.h"

#include <stdlib.h>
#include <string.h>

#define WATCH_BUFFER_MAX  (64u << 20) /* a client this far behind is cut off */
#define DEFAULT_TIMEOUT_S 1800
#define BOOKMARK_EVERY_MS 60000
#define SNAPSHOT_CHUNK    64 /* initial objects rendered per read */

struct watch {
    struct jp_apiserver *srv;
    struct MHD_Connection *conn;
    const struct jp_kind *kind;
    char *ns; /* NULL: all namespaces */
    struct jp_selector *labels, *fields;
    bool table, bookmarks, columns_sent;
    char *table_type;
    char *include;
    struct jp_obj **snapshot; /* initial state still to send, in key order */
    size_t snap_n, snap_next;
    struct jp_buf out; /* rendered bytes not yet handed to MHD */
    size_t sent;
    struct jp_buf live; /* events that arrived while the snapshot was still being sent */
    struct jp_httpd_susp *susp;
    struct jp_store_sub *sub;
    uv_timer_t timeout, bookmark;
    int open_handles;
    bool dirty;   /* has new bytes: wake on the next flush */
    bool ended;   /* no more events: finish the stream */
    bool errored; /* the client is gone or too slow: abort */
    struct watch *prev, *next;
};

static void wake(struct watch *w)
{
    w->dirty = false;
    if (w->susp) {
        struct jp_httpd_susp *s = w->susp;
        w->susp = NULL;
        jp_httpd_resume(s);
    }
}

static void flush_cb(uv_timer_t *t)
{
    struct jp_apiserver *s = t->data;
    for (struct watch *w = s->watches; w; w = w->next)
        if (w->dirty) wake(w);
}

static void mark_dirty(struct watch *w)
{
    w->dirty = true;
    if (!uv_is_active((uv_handle_t *)&w->srv->watch_flush))
        uv_timer_start(&w->srv->watch_flush, flush_cb, 0, 0);
}

static bool matches(const struct watch *w, const struct jp_obj *o)
{
    if (o->kind != jp_kind_index(w->kind)) return false;
    if (w->ns && strcmp(o->ns, w->ns) != 0) return false;
    return jp_label_selector_matches(w->labels, jp_proj_of(o)) &&
           jp_field_selector_matches(w->fields, w->kind, o);
}

static void render(struct watch *w, struct jp_buf *b, const char *type, const struct jp_obj *o)
{
    jp_buf_printf(b, "{\"type\":\"%s\",\"object\":", type);
    if (w->table) {
        table_begin(b, w->kind, !w->columns_sent, 0, NULL);
        table_row(b, o, jp_now_ns(), w->include, true);
        table_end(b);
        w->columns_sent = true;
    } else {
        jp_buf_append(b, o->json, o->len);
    }
    jp_buf_printf(b, "}\n");
}

static void append_event(struct watch *w, const char *type, const struct jp_obj *o)
{
    if (w->errored || w->ended) return;
    /* while the snapshot is still going out, later events wait behind it */
    struct jp_buf *b = w->snap_next < w->snap_n ? &w->live : &w->out;
    render(w, b, type, o);
    if ((w->out.len - w->sent) + w->live.len > WATCH_BUFFER_MAX) w->errored = true;
    mark_dirty(w);
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct watch *w = arg;
    if (ev->obj->kind != jp_kind_index(w->kind)) return;
    bool now = matches(w, ev->obj);
    bool before = ev->old && matches(w, ev->old);
    /* an object moving in or out of the selection is ADDED or DELETED for this watcher */
    if (ev->type == JP_EV_DELETED) {
        if (now || before) append_event(w, "DELETED", ev->obj);
    } else if (now && before) {
        append_event(w, "MODIFIED", ev->obj);
    } else if (now) {
        append_event(w, "ADDED", ev->obj);
    } else if (before) {
        append_event(w, "DELETED", ev->obj);
    }
}

static bool snapshot_add(const struct jp_obj *o, void *arg)
{
    struct watch *w = arg;
    if (!matches(w, o)) return true;
    w->snapshot = jp_xrealloc(w->snapshot, (w->snap_n + 1) * sizeof(*w->snapshot));
    w->snapshot[w->snap_n++] = jp_obj_ref(o);
    return true;
}

static void handle_closed(uv_handle_t *h)
{
    struct watch *w = h->data;
    if (--w->open_handles == 0) free(w);
}

static void watch_free(struct watch *w)
{
    struct jp_apiserver *s = w->srv;
    if (w->prev)
        w->prev->next = w->next;
    else if (s->watches == w)
        s->watches = w->next;
    if (w->next) w->next->prev = w->prev;
    if (w->sub) jp_store_unsubscribe(s->store, w->sub);
    for (size_t i = w->snap_next; i < w->snap_n; i++)
        jp_obj_unref(w->snapshot[i]);
    free(w->snapshot);
    jp_selector_free(w->labels);
    jp_selector_free(w->fields);
    free(w->ns);
    free(w->table_type);
    free(w->include);
    jp_buf_free(&w->out);
    jp_buf_free(&w->live);
    uv_close((uv_handle_t *)&w->timeout, handle_closed);
    uv_close((uv_handle_t *)&w->bookmark, handle_closed);
}

static void on_gone(void *arg)
{
    struct watch *w = arg;
    w->errored = true;
    wake(w);
}

/* Renders the next slice of the initial state; once it is all out, the events that queued
 * behind it follow. */
static void refill(struct watch *w)
{
    size_t end = w->snap_next + SNAPSHOT_CHUNK;
    if (end > w->snap_n) end = w->snap_n;
    for (; w->snap_next < end; w->snap_next++) {
        render(w, &w->out, "ADDED", w->snapshot[w->snap_next]);
        jp_obj_unref(w->snapshot[w->snap_next]);
    }
    if (w->snap_next == w->snap_n && w->live.len) {
        jp_buf_append(&w->out, w->live.data, w->live.len);
        jp_buf_reset(&w->live);
    }
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct watch *w = cls;
    if (w->errored) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (w->out.len == w->sent && w->snap_next < w->snap_n) {
        jp_buf_reset(&w->out);
        w->sent = 0;
        refill(w);
    }
    size_t pending = w->out.len - w->sent;
    if (pending > 0) {
        size_t n = pending < max ? pending : max;
        memcpy(buf, w->out.data + w->sent, n);
        w->sent += n;
        if (w->sent == w->out.len) { /* everything handed over: reuse the buffer */
            jp_buf_reset(&w->out);
            w->sent = 0;
        }
        return (ssize_t)n;
    }
    if (w->ended || jp_httpd_stopping(w->srv->httpd)) return MHD_CONTENT_READER_END_OF_STREAM;
    w->susp = jp_httpd_suspend(w->srv->httpd, w->conn, on_gone, w);
    return 0;
}

static void response_freed(void *cls)
{
    struct watch *w = cls;
    if (w->susp) { /* cannot happen once MHD frees the response, but be safe */
        jp_httpd_resume(w->susp);
        w->susp = NULL;
    }
    watch_free(w);
}

static void timeout_cb(uv_timer_t *t)
{
    struct watch *w = t->data;
    w->ended = true;
    wake(w);
}

static void bookmark_cb(uv_timer_t *t)
{
    struct watch *w = t->data;
    char av[64];
    struct jp_buf *b = w->snap_next < w->snap_n ? &w->live : &w->out;
    jp_buf_printf(b,
                  "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
                  "\"metadata\":{\"resourceVersion\":\"%llu\"}}}\n",
                  w->kind->kind, jp_kind_api_version(w->kind, av, sizeof(av)),
                  (unsigned long long)jp_store_revision(w->srv->store));
    wake(w);
}

static void replay_cb(const struct jp_event *ev, void *arg)
{
    on_event(ev, arg);
}

void serve_watch(struct apireq *q, const struct route *r)
{
    struct jp_apiserver *s = q->srv;
    struct jp_selector *labels, *fields;
    if (parse_selectors(q, r->kind, &labels, &fields) < 0) return;
    const char *rvs = req_arg(q, "resourceVersion");
    const char *ts = req_arg(q, "timeoutSeconds");
    int64_t rv = 0, timeout = DEFAULT_TIMEOUT_S;
    if (rvs && *rvs && jp_parse_int(rvs, 10, 0, INT64_MAX, &rv, NULL) < 0) {
        reply_error(q, JP_BAD_REQUEST, "invalid resource version: %s", rvs);
        goto fail;
    }
    if (ts && (jp_parse_int(ts, 10, 0, INT64_MAX, &timeout, NULL) < 0)) {
        reply_error(q, JP_BAD_REQUEST, "invalid timeoutSeconds: %s", ts);
        goto fail;
    }
    if (timeout == 0) timeout = DEFAULT_TIMEOUT_S;
    struct watch *w = jp_xcalloc(1, sizeof(*w));
    w->srv = s;
    w->conn = q->conn;
    w->kind = r->kind;
    w->ns = *r->ns ? jp_xstrdup(r->ns) : NULL;
    w->labels = labels;
    w->fields = fields;
    const char *tt;
    w->table = wants_table(q, &tt);
    w->table_type = jp_xstrdup(w->table ? tt : "application/json");
    const char *inc = req_arg(q, "includeObject");
    w->include = inc ? jp_xstrdup(inc) : NULL;
    const char *bm = req_arg(q, "allowWatchBookmarks");
    w->bookmarks = bm && strcmp(bm, "true") == 0;
    jp_buf_init(&w->out, SIZE_MAX);
    jp_buf_init(&w->live, SIZE_MAX);
    uv_timer_init(s->loop, &w->timeout);
    uv_timer_init(s->loop, &w->bookmark);
    w->timeout.data = w->bookmark.data = w;
    w->open_handles = 2;
    uint64_t current = jp_store_revision(s->store);
    if (rv == 0) {
        jp_store_scan(s->store, (uint16_t)jp_kind_index(r->kind), w->ns, NULL, NULL, snapshot_add,
                      w);
    } else if ((uint64_t)rv > current) {
        /* the client has seen the future (a store from another server?): start from now */
    } else if (jp_store_replay(s->store, (uint64_t)rv, replay_cb, w) < 0) {
        jp_buf_printf(&w->out,
                      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                      "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
                      "version: %lld (%llu)\",\"reason\":\"Expired\",\"code\":410}}\n",
                      (long long)rv, (unsigned long long)jp_store_oldest_replayable(s->store));
        w->ended = true;
    }
    w->dirty = false; /* the response is queued below: no wake needed */
    if (!w->ended) {
        w->sub = jp_store_subscribe(s->store, on_event, w);
        uv_timer_start(&w->timeout, timeout_cb, (uint64_t)timeout * 1000, 0);
        if (w->bookmarks)
            uv_timer_start(&w->bookmark, bookmark_cb, BOOKMARK_EVERY_MS, BOOKMARK_EVERY_MS);
    }
    w->next = s->watches;
    if (s->watches) s->watches->prev = w;
    s->watches = w;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, reader, w, response_freed);
    MHD_add_response_header(resp, "Content-Type", w->table_type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    q->watch = w;
    q->status = 200;
    MHD_queue_response(q->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return;
fail:
    jp_selector_free(labels);
    jp_selector_free(fields);
}

void watch_close_all(struct jp_apiserver *s)
{
    uv_timer_stop(&s->watch_flush);
    for (struct watch *w = s->watches; w; w = w->next) {
        w->ended = true;
        if (w->sub) {
            jp_store_unsubscribe(s->store, w->sub);
            w->sub = NULL;
        }
    }
}
