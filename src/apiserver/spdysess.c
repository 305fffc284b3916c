/* The SPDY/3.1 session core of pods/portforward and pods/exec: the upgrade request, then on the
 * loop the client's frames parsed as they arrive (data to the app piece by piece, control frames
 * once whole), replies, pings, GOAWAY, back-pressure and the teardown. See spdysess.h. */
#include "apiserver/spdysess.h"
#include "base/alloc.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_STREAMS 1024 /* open streams per session */
/* parse buffer: a partial control frame at most, plus a read's worth */
#define IN_CAP (JP_SPDY_HEAD_LEN + JP_SPDY_MAX_CONTROL + 2 * UPGRADE_READ_MIN)

/* ---- lifetimes ---- */

static void session_free(struct spdy_session *s)
{
    jp_spdy_free(s->z);
    free(s->in);
    if (s->ops->free_app) s->ops->free_app(s->app);
    free(s->label);
    free(s);
}

void spdy_session_ref(struct spdy_session *s)
{
    s->refs++;
}

void spdy_session_unref(struct spdy_session *s)
{
    if (--s->refs == 0 && s->closing) session_free(s);
}

static void tick_closed(uv_handle_t *h)
{
    spdy_session_unref(h->data);
}

void spdy_session_teardown(struct spdy_session *s, const char *why)
{
    if (s->closing) return;
    s->closing = true;
    jp_log(JP_DEBUG, "apiserver", "%s %s: session closed: %s", s->ops->what, s->label, why);
    /* off the server's list now: close callbacks run after the server itself may be gone */
    if (s->prev)
        s->prev->next = s->next;
    else if (s->srv->spdy_sessions == s)
        s->srv->spdy_sessions = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->ops->closing(s);
    uv_close((uv_handle_t *)&s->tick, tick_closed);
    upgrade_close(s->conn, s->in_mhd || s->srv->stopping ? NULL : s->srv->httpd);
    s->conn = NULL;
}

void spdy_session_close_all(struct jp_apiserver *srv)
{
    while (srv->spdy_sessions)
        spdy_session_teardown(srv->spdy_sessions, "the server is stopping");
}

/* ---- writing to the client ---- */

static void send_frame(struct spdy_session *s, struct jp_buf *b)
{
    if (!s->closing) upgrade_write(s->conn, b->data, b->len, NULL, 0);
    jp_buf_free(b);
}

void spdy_session_rst(struct spdy_session *s, uint32_t id, uint32_t status)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    if (jp_spdy_put_rst(&b, id, status) == 0)
        send_frame(s, &b);
    else
        jp_buf_free(&b);
}

void spdy_session_data(struct spdy_session *s, uint32_t id, uint8_t flags, const void *p, size_t n)
{
    if (s->closing) return;
    uint8_t head[JP_SPDY_HEAD_LEN];
    jp_spdy_data_head(head, id, flags, (uint32_t)n);
    upgrade_write(s->conn, head, sizeof(head), p, n);
}

void spdy_session_goaway(struct spdy_session *s, uint32_t status)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_spdy_put_goaway(&b, s->last_id, status);
    send_frame(s, &b); /* best effort: libuv writes at once when the socket has room */
}

int spdy_session_reply(struct spdy_session *s, uint32_t id)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    if (jp_spdy_put_syn_reply(s->z, &b, id, 0, NULL, 0) < 0) {
        jp_buf_free(&b);
        spdy_session_teardown(s, "cannot encode a reply"); /* the deflate stream is out of step */
        return -1;
    }
    send_frame(s, &b);
    return 0;
}

void spdy_session_count_stream(struct spdy_session *s, int delta)
{
    s->nstreams = (unsigned)((int)s->nstreams + delta);
}

size_t spdy_session_queued(const struct spdy_session *s)
{
    return s->conn ? upgrade_queued(s->conn) : 0;
}

bool spdy_session_output_full(struct spdy_session *s)
{
    if (s->closing || upgrade_queued(s->conn) <= SPDY_HIGH_WATER) return s->out_paused;
    s->out_paused = true;
    return true;
}

void spdy_session_pause_input(struct spdy_session *s, bool pause)
{
    if (s->closing || s->in_paused == pause) return;
    s->in_paused = pause;
    upgrade_read_start(s->conn, !pause);
}

bool spdy_header_str(const struct jp_spdy_ctrl *c, const char *name, char *buf, size_t n)
{
    size_t len;
    const char *v = jp_spdy_header_get(&c->headers, name, &len);
    if (v == NULL || len >= n || memchr(v, '\0', len)) return false;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return true;
}

/* ---- frames from the client ---- */

static void syn_stream(struct spdy_session *s, const struct jp_spdy_ctrl *c)
{
    uint32_t id = c->stream_id;
    if ((id & 1) == 0 || id <= s->last_id) { /* client streams are odd and increasing */
        spdy_session_rst(s, id, JP_SPDY_PROTOCOL_ERROR);
        return;
    }
    s->last_id = id;
    if (s->nstreams >= MAX_STREAMS) {
        spdy_session_rst(s, id, JP_SPDY_REFUSED_STREAM);
        return;
    }
    s->ops->syn_stream(s, c);
}

static void control(struct spdy_session *s, const struct jp_spdy_ctrl *c)
{
    switch (c->type) {
    case JP_SPDY_SYN_STREAM:
        syn_stream(s, c);
        break;
    case JP_SPDY_RST_STREAM:
        if (c->stream_id) s->ops->rst_stream(s, c->stream_id);
        break;
    case JP_SPDY_PING:
        if (c->ping_id & 1) { /* the client's (odd): echo it; even ones would answer ours */
            struct jp_buf b;
            jp_buf_init(&b, SIZE_MAX);
            jp_spdy_put_ping(&b, c->ping_id);
            send_frame(s, &b);
        }
        break;
    case JP_SPDY_GOAWAY:
        spdy_session_teardown(s, "the client went away");
        break;
    default: /* SYN_REPLY, HEADERS, SETTINGS, WINDOW_UPDATE: nothing to act on */
        break;
    }
}

static void protocol_error(struct spdy_session *s, const char *why)
{
    jp_log(JP_WARN, "apiserver", "%s %s: protocol error: %s", s->ops->what, s->label, why);
    spdy_session_goaway(s, JP_SPDY_GOAWAY_PROTOCOL_ERROR);
    spdy_session_teardown(s, why);
}

static void data_fin(struct spdy_session *s, uint32_t id)
{
    if (id) s->ops->data_fin(s, id);
}

/* Parses what has been read: data payloads go to the app as they arrive (a data frame need not
 * be complete), control frames once whole. */
static void consume(struct spdy_session *s)
{
    size_t off = 0;
    while (!s->closing) {
        const uint8_t *p = s->in + off;
        size_t avail = s->inlen - off;
        if (s->data_left > 0) {
            if (avail == 0) break;
            size_t n = avail < s->data_left ? avail : s->data_left;
            if (s->data_id) s->ops->data(s, s->data_id, p, n);
            off += n;
            s->data_left -= (uint32_t)n;
            if (s->data_left == 0 && (s->data_flags & JP_SPDY_FLAG_FIN)) data_fin(s, s->data_id);
            continue;
        }
        struct jp_spdy_head h;
        if (jp_spdy_head_parse(p, avail, &h) == 0) break;
        if (!h.control) {
            off += JP_SPDY_HEAD_LEN;
            s->data_id = h.stream_id;
            s->data_left = h.length;
            s->data_flags = h.flags;
            if (h.length == 0 && (h.flags & JP_SPDY_FLAG_FIN)) data_fin(s, h.stream_id);
            continue;
        }
        if (h.length > JP_SPDY_MAX_CONTROL) {
            protocol_error(s, "control frame too large");
            return;
        }
        if (avail < JP_SPDY_HEAD_LEN + h.length) break;
        struct jp_spdy_ctrl c;
        const char *err = NULL;
        int rc = jp_spdy_ctrl_parse(s->z, &h, p + JP_SPDY_HEAD_LEN, &c, &err);
        off += JP_SPDY_HEAD_LEN + h.length;
        if (rc < 0) {
            jp_spdy_ctrl_clear(&c);
            protocol_error(s, err);
            return;
        }
        control(s, &c);
        jp_spdy_ctrl_clear(&c);
    }
    if (s->closing) return;
    memmove(s->in, s->in + off, s->inlen - off);
    s->inlen -= off;
}

/* Reads what the client sent and parses it. Each read has room for a whole TLS record (see
 * upgrade.c); what is left over after parsing is less than a control frame, so there always is. */
static void client_readable(struct spdy_session *s)
{
    for (int i = 0; i < 64 && !s->closing && !s->in_paused; i++) {
        ssize_t n = upgrade_read(s->conn, s->in + s->inlen, IN_CAP - s->inlen);
        if (n == UV_EAGAIN) return;
        if (n <= 0) {
            spdy_session_teardown(s, n == 0 ? "the client closed the connection"
                                            : uv_strerror((int)n));
            return;
        }
        s->inlen += (size_t)n;
        consume(s);
    }
}

static void client_event(void *arg, int events)
{
    struct spdy_session *s = arg;
    if (s->closing) return;
    if (events & UPGRADE_ERROR) {
        spdy_session_teardown(s, "the connection to the client failed");
        return;
    }
    if ((events & UV_WRITABLE) && s->out_paused && upgrade_queued(s->conn) <= SPDY_LOW_WATER) {
        s->out_paused = false;
        s->ops->drained(s);
    }
    if (events & UV_READABLE) client_readable(s);
}

static void tick_cb(uv_timer_t *t)
{
    struct spdy_session *s = t->data;
    if (!s->closing && s->ops->tick) s->ops->tick(s);
}

/* MHD's upgrade callback (inside MHD_run): the 101 has gone out. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    struct jp_apiserver *srv = cls;
    struct apireq *q = con_cls;
    if (q == NULL || q->upg_ops == NULL) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    const struct spdy_session_ops *ops = q->upg_ops;
    struct spdy_session *s = jp_xcalloc(1, sizeof(*s));
    s->ops = ops;
    s->app = q->upg_app;
    s->label = q->upg_label;
    q->upg_ops = NULL;
    q->upg_app = NULL;
    q->upg_label = NULL;
    if (!srv->stopping && extra_in_size <= IN_CAP - UPGRADE_READ_MIN)
        s->conn = upgrade_open(srv->loop, conn, sock, urh, client_event, s);
    if (s->conn == NULL) {
        jp_log(JP_WARN, "apiserver", "%s: cannot take over the upgraded connection", ops->what);
        if (ops->free_app) ops->free_app(s->app);
        free(s->label);
        free(s);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    s->srv = srv;
    s->z = jp_spdy_new();
    s->in = jp_xmalloc(IN_CAP);
    s->in_mhd = true;
    s->next = srv->spdy_sessions;
    if (s->next) s->next->prev = s;
    srv->spdy_sessions = s;
    jp_log(JP_DEBUG, "apiserver", "%s %s: session opened", ops->what, s->label);
    uv_timer_init(srv->loop, &s->tick);
    s->tick.data = s;
    s->refs++;
    uv_timer_start(&s->tick, tick_cb, ops->tick_ms, ops->tick_ms);
    if (ops->opened) ops->opened(s);
    upgrade_read_start(s->conn, true);
    memcpy(s->in, extra_in, extra_in_size); /* frames that came with the request */
    s->inlen = extra_in_size;
    consume(s);
    client_readable(s); /* TLS: what the session may already hold, which no poll would show */
    s->in_mhd = false;
}

/* ---- the request ---- */

struct protocols {
    const char *const *ours;
    size_t n;
    const char *chosen;
    struct jp_buf seen;
};

static void offer(struct protocols *p, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len == 0) return;
    for (size_t i = 0; i < p->n && p->chosen == NULL; i++)
        if (strlen(p->ours[i]) == len && memcmp(p->ours[i], v, len) == 0) p->chosen = p->ours[i];
    jp_buf_printf(&p->seen, "%s%.*s", p->seen.len ? " " : "", (int)len, v);
}

static enum MHD_Result protocol_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct protocols *p = cls;
    if (strcasecmp(key, "X-Stream-Protocol-Version") != 0 || value == NULL) return MHD_YES;
    /* one value per header line as Go sends them; a comma-separated list is read the same way */
    for (const char *c; (c = strchr(value, ',')) != NULL; value = c + 1)
        offer(p, value, (size_t)(c - value));
    offer(p, value, strlen(value));
    return MHD_YES;
}

static bool has_token(const char *v, const char *token)
{
    return v && strcasestr(v, token) != NULL;
}

const struct jp_obj *spdy_upgrade_pod(struct apireq *q, const struct route *r)
{
    q->m_verb = "CONNECT";
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "POST") != 0) {
        reply_error(q, JP_METHOD_NOT_ALLOWED,
                    "the server does not allow this method on the requested resource");
        return NULL;
    }
    const struct jp_kind *k = r->kind;
    const struct jp_obj *o =
        jp_store_get(q->srv->store, (uint16_t)jp_kind_index(k), r->ns, r->name);
    if (o == NULL) {
        reply_not_found(q, k, r->name);
        return NULL;
    }
    if (q->srv->agent == NULL || *jp_pod_node_name(o) == '\0') {
        reply_error(q, JP_BAD_REQUEST, "pod %s does not have a host assigned", r->name);
        return NULL;
    }
    return o;
}

int spdy_upgrade_check(struct apireq *q, const char *const *ours, size_t n, const char **chosen)
{
    /* kubectl 1.30+ first asks for a WebSocket tunnel: any answer but 101 makes it fall back
     * to SPDY */
    const char *upgrade = req_header(q, "Upgrade");
    if (!has_token(req_header(q, "Connection"), "upgrade") || upgrade == NULL) {
        reply_error(q, JP_BAD_REQUEST, "Upgrade request required");
        return -1;
    }
    if (!has_token(upgrade, "spdy/3.1")) {
        reply_error(q, JP_BAD_REQUEST, "unable to upgrade: only SPDY/3.1 is served, not %s",
                    upgrade);
        return -1;
    }
    struct protocols pr = {ours, n, NULL, {0}};
    jp_buf_init(&pr.seen, 4096);
    MHD_get_connection_values(q->conn, MHD_HEADER_KIND, protocol_value, &pr);
    if (pr.chosen == NULL) {
        struct jp_buf list;
        jp_buf_init(&list, 4096);
        for (size_t i = 0; i < n; i++)
            jp_buf_printf(&list, "%s%s", i ? " " : "", ours[i]);
        if (pr.seen.len == 0)
            reply_error(q, JP_BAD_REQUEST,
                        "unable to upgrade: X-Stream-Protocol-Version is required");
        else
            reply_error(q, JP_FORBIDDEN,
                        "unable to upgrade: unable to negotiate protocol: client supports [%s], "
                        "server accepts [%s]",
                        pr.seen.data, list.data);
        jp_buf_free(&list);
        jp_buf_free(&pr.seen);
        return -1;
    }
    jp_buf_free(&pr.seen);
    *chosen = pr.chosen;
    return 0;
}

void spdy_pending_free(struct apireq *q)
{
    if (q->upg_ops && q->upg_ops->free_app) q->upg_ops->free_app(q->upg_app);
    free(q->upg_label);
    q->upg_ops = NULL;
    q->upg_app = NULL;
    q->upg_label = NULL;
}

void spdy_upgrade_respond(struct apireq *q, const struct spdy_session_ops *ops, void *app,
                          const char *protocol, const char *label)
{
    spdy_pending_free(q);
    q->upg_ops = ops;
    q->upg_app = app;
    q->upg_label = jp_xstrdup(label);
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, q->srv);
    MHD_add_response_header(resp, "Upgrade", "SPDY/3.1");
    MHD_add_response_header(resp, "X-Stream-Protocol-Version", protocol);
    q->streaming = true;
    q->status = MHD_HTTP_SWITCHING_PROTOCOLS;
    if (MHD_queue_response(q->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp) != MHD_YES)
        jp_log(JP_WARN, "apiserver", "%s %s: the upgrade was refused", ops->what, label);
    MHD_destroy_response(resp);
}
