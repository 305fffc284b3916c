/* pods/NAME/portforward: the upgrade to SPDY/3.1 and the session that runs on the loop after it.
 * kubectl opens two streams per local connection it forwards (streamtype error and data, paired
 * by requestid); once both are there the data stream is joined to a TCP connection to the pod's
 * port in its network namespace and bytes are copied both ways, as the kubelet does. */
#include "agent/agent.h"
#include "apiserver/internal.h"
#include "apiserver/spdy.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROTOCOL        "portforward.k8s.io"
#define MAX_STREAMS     1024  /* open streams per session: two per forwarded connection */
#define PAIR_TIMEOUT_MS 30000 /* the kubelet's wait for a request's second stream */
#define TICK_MS         5000
#define POD_CHUNK       (32u * 1024) /* pod reads: one data frame each */
/* parse buffer: a partial control frame at most, plus a read's worth */
#define IN_CAP (JP_SPDY_HEAD_LEN + JP_SPDY_MAX_CONTROL + 2 * UPGRADE_READ_MIN)
/* data sent before a request's pair is complete, per request and in all */
#define EARLY_MAX         (64u * 1024)
#define EARLY_SESSION_MAX (1u << 20)
/* Bytes waiting toward one side before we stop reading the other (and resume below LOW):
 * spdystream does no flow control, so TCP's is the only back-pressure. */
#define HIGH_WATER (1u << 20)
#define LOW_WATER  (256u * 1024)

struct pf_target {
    char *ns, *name, *uid;
};

struct pair {
    struct pf_session *s;
    struct pair *next;
    char id[40]; /* the requestid header */
    uint16_t port;
    uint32_t err_id, data_id; /* 0 until that stream's SYN_STREAM came */
    bool err_fin, err_reset;  /* we ended / the client reset the error stream */
    bool data_fin_in;         /* the client sent all its data */
    bool data_fin_out;        /* the pod sent all its data (we sent FIN) */
    bool data_reset;
    bool started, connected, shut, reading, has_pod, done;
    uv_tcp_t pod;
    uv_connect_t connect;
    uv_shutdown_t shutdown;
    struct jp_buf early;
    int64_t created_ms;
};

struct pf_session {
    struct jp_apiserver *srv;
    struct pf_session *prev, *next; /* srv->pf_sessions while open */
    struct upgrade *conn;           /* the client: SPDY frames both ways */
    uv_timer_t tick;
    bool has_tick;
    struct jp_spdy *z;
    uint8_t *in; /* read, not yet parsed */
    size_t inlen;
    uint8_t pod_buf[POD_CHUNK];  /* each pod read is framed and queued before the next one */
    uint32_t data_id, data_left; /* the data frame being read */
    uint8_t data_flags;
    uint32_t last_id; /* highest stream id the client opened */
    struct pair *pairs;
    unsigned nstreams;
    struct pf_target *t;
    int handles;        /* open libuv handles; the session is freed when the last one has closed */
    size_t to_pods;     /* written to pods, not yet taken by their sockets */
    size_t early_bytes; /* held for requests still waiting for their second stream */
    bool closing, in_mhd, client_paused, pods_paused;
};

/* A buffer on its way to a pod. */
struct wreq {
    uv_write_t req;
    struct pair *p;
    size_t len;
    uint8_t data[];
};

static void teardown(struct pf_session *s, const char *why);
static void finish_pair(struct pair *p);
static void start_reading(struct pair *p);
static void consume(struct pf_session *s);

void portforward_target_free(struct pf_target *t)
{
    if (t == NULL) return;
    free(t->ns);
    free(t->name);
    free(t->uid);
    free(t);
}

/* ---- lifetimes ---- */

static void session_free(struct pf_session *s)
{
    jp_spdy_free(s->z);
    free(s->in);
    portforward_target_free(s->t);
    free(s);
}

static void handle_closed(uv_handle_t *h)
{
    struct pf_session *s = h->data;
    if (--s->handles == 0 && s->closing) session_free(s);
}

static void drop_early(struct pair *p)
{
    p->s->early_bytes -= p->early.len;
    jp_buf_free(&p->early);
}

static void pod_closed(uv_handle_t *h)
{
    struct pair *p = h->data;
    struct pf_session *s = p->s;
    drop_early(p);
    free(p);
    if (--s->handles == 0 && s->closing) session_free(s);
}

static void pair_release(struct pair *p)
{
    if (p->has_pod) {
        uv_close((uv_handle_t *)&p->pod, pod_closed);
    } else {
        drop_early(p);
        free(p);
    }
}

/* ---- writing to the client ---- */

static void resume_pods(struct pf_session *s)
{
    s->pods_paused = false;
    for (struct pair *p = s->pairs; p; p = p->next)
        if (p->connected) start_reading(p);
}

/* Queues a frame (head, then an optional payload) for the client. */
static void client_send(struct pf_session *s, const void *head, size_t n, const void *payload,
                        size_t pn)
{
    if (!s->closing) upgrade_write(s->conn, head, n, payload, pn);
}

/* Sends a frame built in b (freed). */
static void send_frame(struct pf_session *s, struct jp_buf *b)
{
    client_send(s, b->data, b->len, NULL, 0);
    jp_buf_free(b);
}

static void send_rst(struct pf_session *s, uint32_t id, uint32_t status)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    if (jp_spdy_put_rst(&b, id, status) == 0)
        send_frame(s, &b);
    else
        jp_buf_free(&b);
}

static void send_data(struct pf_session *s, uint32_t id, uint8_t flags, const char *text)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    if (jp_spdy_put_data(&b, id, flags, text, text ? strlen(text) : 0) == 0)
        send_frame(s, &b);
    else
        jp_buf_free(&b);
}

/* ---- pods ---- */

static void pod_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct pair *p = h->data;
    *buf = uv_buf_init((char *)p->s->pod_buf, POD_CHUNK);
}

static void pause_pods(struct pf_session *s)
{
    s->pods_paused = true;
    for (struct pair *p = s->pairs; p; p = p->next)
        if (p->reading) {
            p->reading = false;
            uv_read_stop((uv_stream_t *)&p->pod);
        }
}

/* The pod has sent all it will: FIN on the data stream. */
static void pod_finished(struct pair *p)
{
    if (p->reading) uv_read_stop((uv_stream_t *)&p->pod);
    p->reading = false;
    if (!p->data_fin_out && !p->data_reset) send_data(p->s, p->data_id, JP_SPDY_FLAG_FIN, NULL);
    p->data_fin_out = true;
    if (p->data_fin_in || p->data_reset) finish_pair(p);
}

static void pod_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct pair *p = st->data;
    struct pf_session *s = p->s;
    if (nread == 0 || p->done || s->closing) return;
    if (nread < 0) {
        pod_finished(p); /* EOF, or a reset: the kubelet ends the stream either way */
        return;
    }
    uint8_t head[JP_SPDY_HEAD_LEN];
    jp_spdy_data_head(head, p->data_id, 0, (uint32_t)nread);
    client_send(s, head, sizeof(head), buf->base, (size_t)nread);
    if (!s->pods_paused && upgrade_queued(s->conn) > HIGH_WATER) pause_pods(s);
}

static void start_reading(struct pair *p)
{
    if (p->reading || p->data_fin_out || p->s->pods_paused) return;
    p->reading = true;
    uv_read_start((uv_stream_t *)&p->pod, pod_alloc, pod_read);
}

static void maybe_resume_client(struct pf_session *s)
{
    if (!s->client_paused || s->closing || s->to_pods > LOW_WATER) return;
    s->client_paused = false;
    upgrade_read_start(s->conn, true);
}

static void pod_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct pair *p = w->p;
    p->s->to_pods -= w->len;
    free(w);
    if (p->done) return;
    if (status < 0) {
        /* the pod closed its side (EPIPE, ECONNRESET): what it sent is delivered, then FIN */
        jp_log(JP_DEBUG, "apiserver", "port-forward %s/%s:%u: write: %s", p->s->t->ns,
               p->s->t->name, p->port, uv_strerror(status));
        p->data_fin_in = true;
        pod_finished(p);
        return;
    }
    maybe_resume_client(p->s);
}

static void pod_write(struct pair *p, const void *data, size_t n)
{
    struct wreq *w = jp_xmalloc(sizeof(*w) + n);
    w->p = p;
    w->len = n;
    memcpy(w->data, data, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&p->pod, &b, 1, pod_written) < 0) {
        free(w);
        p->data_fin_in = true;
        pod_finished(p);
        return;
    }
    struct pf_session *s = p->s;
    s->to_pods += n;
    if (!s->client_paused && s->to_pods > HIGH_WATER) {
        s->client_paused = true;
        upgrade_read_start(s->conn, false);
    }
}

static void pod_shut(uv_shutdown_t *req, int status)
{
    (void)req, (void)status; /* a failed half-close shows up as EOF or a write error */
}

/* The client sent all its data: pass the half-close on once the pod is connected. */
static void client_finished(struct pair *p)
{
    p->data_fin_in = true;
    if (p->connected && !p->shut) {
        p->shut = true;
        if (uv_shutdown(&p->shutdown, (uv_stream_t *)&p->pod, pod_shut) < 0) pod_finished(p);
    }
    if (p->data_fin_out && !p->done) finish_pair(p);
}

/* Writes an error message to the request's error stream and ends the request. */
static void fail_pair(struct pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_pair(struct pair *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = jp_xvasprintf(fmt, ap);
    va_end(ap);
    struct pf_session *s = p->s;
    jp_log(JP_INFO, "apiserver", "port-forward %s/%s: %s", s->t->ns, s->t->name, msg);
    if (p->err_id && !p->err_reset && !p->err_fin) send_data(s, p->err_id, 0, msg);
    free(msg);
    finish_pair(p);
}

static void connected(uv_connect_t *req, int status)
{
    struct pair *p = req->handle->data;
    if (p->done) return;
    if (status < 0) {
        fail_pair(p,
                  "error forwarding port %u to pod %s, uid %s: dial tcp4 127.0.0.1:%u: connect: %s",
                  p->port, p->s->t->name, p->s->t->uid, p->port, uv_strerror(status));
        return;
    }
    p->connected = true;
    start_reading(p);
    if (p->data_fin_in) client_finished(p);
}

/* Both streams of a request are there: connect to the pod. */
static void start_pair(struct pair *p)
{
    struct pf_session *s = p->s;
    p->started = true;
    struct sockaddr_in to;
    struct jp_status *st = NULL;
    int fd = jp_agent_pod_socket(s->srv->agent, s->t->ns, s->t->name, p->port, &to, &st);
    if (fd < 0) {
        fail_pair(p, "error forwarding port %u to pod %s, uid %s: %s", p->port, s->t->name,
                  s->t->uid, st ? st->message : "no socket");
        jp_status_free(st);
        return;
    }
    uv_tcp_init(s->srv->loop, &p->pod);
    p->pod.data = p;
    p->has_pod = true;
    s->handles++;
    int rc = uv_tcp_open(&p->pod, fd);
    if (rc < 0) close(fd);
    if (rc == 0) rc = uv_tcp_connect(&p->connect, &p->pod, (struct sockaddr *)&to, connected);
    if (rc < 0) {
        fail_pair(p, "error forwarding port %u to pod %s, uid %s: dial tcp4 127.0.0.1:%u: %s",
                  p->port, s->t->name, s->t->uid, p->port, uv_strerror(rc));
        return;
    }
    if (p->early.len) pod_write(p, p->early.data, p->early.len); /* queued until connected */
    drop_early(p);
}

/* The request is over: end both streams (those the client did not reset) and drop the pair. */
static void finish_pair(struct pair *p)
{
    if (p->done) return;
    p->done = true;
    struct pf_session *s = p->s;
    if (p->data_id && !p->data_reset && !p->data_fin_out)
        send_data(s, p->data_id, JP_SPDY_FLAG_FIN, NULL);
    if (p->err_id && !p->err_reset && !p->err_fin) send_data(s, p->err_id, JP_SPDY_FLAG_FIN, NULL);
    p->err_fin = p->data_fin_out = true;
    for (struct pair **pp = &s->pairs; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    s->nstreams -= (p->err_id != 0) + (p->data_id != 0);
    pair_release(p);
    maybe_resume_client(s);
}

/* ---- frames from the client ---- */

static struct pair *by_stream(struct pf_session *s, uint32_t id, bool *is_data)
{
    if (id == 0) return NULL; /* 0 marks a stream a pair does not have yet */
    for (struct pair *p = s->pairs; p; p = p->next) {
        if (p->data_id == id || p->err_id == id) {
            *is_data = p->data_id == id;
            return p;
        }
    }
    return NULL;
}

static void data_payload(struct pf_session *s, uint32_t id, const uint8_t *data, size_t n)
{
    bool is_data;
    struct pair *p = by_stream(s, id, &is_data);
    if (p == NULL || !is_data || p->data_fin_in || p->data_reset) return; /* dropped */
    if (p->has_pod) {
        pod_write(p, data, n);
    } else if (!p->started) {
        if (s->early_bytes + n > EARLY_SESSION_MAX || jp_buf_append(&p->early, data, n) < 0) {
            fail_pair(p, "request %s: too much data before its error stream", p->id);
            return;
        }
        s->early_bytes += n;
    }
}

static void data_fin(struct pf_session *s, uint32_t id)
{
    bool is_data;
    struct pair *p = by_stream(s, id, &is_data);
    if (p && is_data && !p->data_fin_in) client_finished(p);
}

/* A header value as a C string in buf; false when absent, too long or holding a NUL. */
static bool header_str(const struct jp_spdy_ctrl *c, const char *name, char *buf, size_t n)
{
    size_t len;
    const char *v = jp_spdy_header_get(&c->headers, name, &len);
    if (v == NULL || len >= n || memchr(v, '\0', len)) return false;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
    unsigned v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 5) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535) return false;
    *port = (uint16_t)v;
    return true;
}

static struct pair *pair_for(struct pf_session *s, const char *request_id)
{
    for (struct pair *p = s->pairs; p; p = p->next)
        if (strcmp(p->id, request_id) == 0) return p;
    struct pair *p = jp_xcalloc(1, sizeof(*p));
    p->s = s;
    jp_strfmt(p->id, sizeof(p->id), "%s", request_id);
    jp_buf_init(&p->early, EARLY_MAX);
    p->created_ms = jp_mono_ns() / 1000000;
    p->next = s->pairs;
    s->pairs = p;
    return p;
}

static void syn_stream(struct pf_session *s, const struct jp_spdy_ctrl *c)
{
    uint32_t id = c->stream_id;
    if ((id & 1) == 0 || id <= s->last_id) { /* client streams are odd and increasing */
        send_rst(s, id, JP_SPDY_PROTOCOL_ERROR);
        return;
    }
    s->last_id = id;
    if (s->nstreams >= MAX_STREAMS) {
        send_rst(s, id, JP_SPDY_REFUSED_STREAM);
        return;
    }
    char port_s[8], type[8], rid[40];
    uint16_t port;
    /* the kubelet resets a stream without a valid port or stream type */
    if (!header_str(c, "port", port_s, sizeof(port_s)) || !parse_port(port_s, &port) ||
        !header_str(c, "streamtype", type, sizeof(type)) ||
        (strcmp(type, "error") != 0 && strcmp(type, "data") != 0)) {
        send_rst(s, id, JP_SPDY_CANCEL);
        return;
    }
    bool is_data = strcmp(type, "data") == 0;
    if (!header_str(c, "requestid", rid, sizeof(rid)))
        /* clients older than the header: the error stream's id names the request */
        snprintf(rid, sizeof(rid), "%u", is_data ? id - 2 : id);
    struct pair *p = pair_for(s, rid);
    if (is_data ? p->data_id : p->err_id) {
        send_rst(s, id, JP_SPDY_CANCEL); /* a second stream of that type for the request */
        return;
    }
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    if (jp_spdy_put_syn_reply(s->z, &b, id, 0, NULL, 0) < 0) {
        jp_buf_free(&b);
        teardown(s, "cannot encode a reply"); /* the deflate stream is out of step now */
        return;
    }
    send_frame(s, &b);
    s->nstreams++;
    if (is_data) {
        p->data_id = id;
        p->port = port;
        p->data_fin_in = (c->flags & JP_SPDY_FLAG_FIN) != 0; /* passed on once connected */
    } else {
        p->err_id = id;
    }
    if (p->err_id && p->data_id) start_pair(p); /* may end (and free) the pair */
}

static void rst_stream(struct pf_session *s, const struct jp_spdy_ctrl *c)
{
    bool is_data;
    struct pair *p = by_stream(s, c->stream_id, &is_data);
    if (p == NULL) return;
    if (is_data) {
        p->data_reset = true;
        finish_pair(p);
    } else {
        p->err_reset = true;
    }
}

static void control(struct pf_session *s, const struct jp_spdy_ctrl *c)
{
    switch (c->type) {
    case JP_SPDY_SYN_STREAM:
        syn_stream(s, c);
        break;
    case JP_SPDY_RST_STREAM:
        rst_stream(s, c);
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
        teardown(s, "the client went away");
        break;
    default: /* SYN_REPLY, HEADERS, SETTINGS, WINDOW_UPDATE: nothing to act on */
        break;
    }
}

static void protocol_error(struct pf_session *s, const char *why)
{
    jp_log(JP_WARN, "apiserver", "port-forward %s/%s: protocol error: %s", s->t->ns, s->t->name,
           why);
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_spdy_put_goaway(&b, s->last_id, JP_SPDY_GOAWAY_PROTOCOL_ERROR);
    send_frame(s, &b); /* best effort: libuv writes at once when the socket has room */
    teardown(s, why);
}

/* Parses what has been read: data payloads go to the pods as they arrive (a data frame need
 * not be complete), control frames once whole. */
static void consume(struct pf_session *s)
{
    size_t off = 0;
    while (!s->closing) {
        const uint8_t *p = s->in + off;
        size_t avail = s->inlen - off;
        if (s->data_left > 0) {
            if (avail == 0) break;
            size_t n = avail < s->data_left ? avail : s->data_left;
            data_payload(s, s->data_id, p, n);
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
    memmove(s->in, s->in + off, s->inlen - off);
    s->inlen -= off;
}

/* Reads what the client sent and parses it. Each read has room for a whole TLS record (see
 * upgrade.c); what is left over after parsing is less than a control frame, so there always is. */
static void client_readable(struct pf_session *s)
{
    for (int i = 0; i < 64 && !s->closing && !s->client_paused; i++) {
        ssize_t n = upgrade_read(s->conn, s->in + s->inlen, IN_CAP - s->inlen);
        if (n == UV_EAGAIN) return;
        if (n <= 0) {
            teardown(s, n == 0 ? "the client closed the connection" : uv_strerror((int)n));
            return;
        }
        s->inlen += (size_t)n;
        consume(s);
    }
}

static void client_event(void *arg, int events)
{
    struct pf_session *s = arg;
    if (s->closing) return;
    if (events & UPGRADE_ERROR) {
        teardown(s, "the connection to the client failed");
        return;
    }
    if ((events & UV_WRITABLE) && s->pods_paused && upgrade_queued(s->conn) <= LOW_WATER)
        resume_pods(s);
    if (events & UV_READABLE) client_readable(s);
}

/* Requests whose second stream never came end as the kubelet ends them. */
static void tick_cb(uv_timer_t *t)
{
    struct pf_session *s = t->data;
    int64_t now = jp_mono_ns() / 1000000;
    struct pair *p = s->pairs, *next;
    for (; p && !s->closing; p = next) {
        next = p->next;
        if (!p->started && now - p->created_ms > PAIR_TIMEOUT_MS)
            fail_pair(p, "request %s: timed out waiting for streams", p->id);
    }
}

/* ---- the session ---- */

static void teardown(struct pf_session *s, const char *why)
{
    if (s->closing) return;
    s->closing = true;
    jp_log(JP_DEBUG, "apiserver", "port-forward %s/%s: session closed: %s", s->t->ns, s->t->name,
           why);
    /* off the server's list now: close callbacks run after the server itself may be gone */
    if (s->prev)
        s->prev->next = s->next;
    else if (s->srv->pf_sessions == s)
        s->srv->pf_sessions = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
    while (s->pairs) {
        struct pair *p = s->pairs;
        s->pairs = p->next;
        p->done = true;
        pair_release(p);
    }
    if (s->has_tick) uv_close((uv_handle_t *)&s->tick, handle_closed);
    if (s->conn) upgrade_close(s->conn, s->in_mhd || s->srv->stopping ? NULL : s->srv->httpd);
    s->conn = NULL;
    if (s->handles == 0) session_free(s);
}

/* MHD's upgrade callback (inside MHD_run): the 101 has gone out. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    struct jp_apiserver *srv = cls;
    struct apireq *q = con_cls;
    struct pf_target *t = q ? q->pf : NULL;
    if (q) q->pf = NULL;
    struct pf_session *s = NULL;
    if (t && !srv->stopping && extra_in_size <= IN_CAP - UPGRADE_READ_MIN) {
        s = jp_xcalloc(1, sizeof(*s));
        s->conn = upgrade_open(srv->loop, conn, sock, urh, client_event, s);
    }
    if (s == NULL || s->conn == NULL) {
        jp_log(JP_WARN, "apiserver", "port-forward: cannot take over the upgraded connection");
        portforward_target_free(t);
        free(s);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    s->srv = srv;
    s->t = t;
    s->z = jp_spdy_new();
    s->in = jp_xmalloc(IN_CAP);
    s->in_mhd = true;
    s->next = srv->pf_sessions;
    if (s->next) s->next->prev = s;
    srv->pf_sessions = s;
    jp_log(JP_DEBUG, "apiserver", "port-forward %s/%s: session opened", t->ns, t->name);
    uv_timer_init(srv->loop, &s->tick);
    s->tick.data = s;
    s->has_tick = true;
    s->handles++;
    uv_timer_start(&s->tick, tick_cb, TICK_MS, TICK_MS);
    upgrade_read_start(s->conn, true);
    memcpy(s->in, extra_in, extra_in_size); /* frames that came with the request */
    s->inlen = extra_in_size;
    consume(s);
    client_readable(s); /* TLS: what the session may already hold, which no poll would show */
    s->in_mhd = false;
}

void portforward_close_all(struct jp_apiserver *srv)
{
    while (srv->pf_sessions)
        teardown(srv->pf_sessions, "the server is stopping");
}

/* ---- the request ---- */

struct protocols {
    bool ours;
    struct jp_buf seen;
};

static enum MHD_Result protocol_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct protocols *p = cls;
    if (strcasecmp(key, "X-Stream-Protocol-Version") != 0 || value == NULL) return MHD_YES;
    p->ours |= strcmp(value, PROTOCOL) == 0;
    jp_buf_printf(&p->seen, "%s%s", p->seen.len ? " " : "", value);
    return MHD_YES;
}

static bool has_token(const char *v, const char *token)
{
    return v && strcasestr(v, token) != NULL;
}

void serve_portforward(struct apireq *q, const struct route *r)
{
    q->m_verb = "CONNECT";
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "POST") != 0) {
        reply_error(q, JP_METHOD_NOT_ALLOWED,
                    "the server does not allow this method on the requested resource");
        return;
    }
    const struct jp_kind *k = r->kind;
    const struct jp_obj *o =
        jp_store_get(q->srv->store, (uint16_t)jp_kind_index(k), r->ns, r->name);
    if (o == NULL) {
        reply_not_found(q, k, r->name);
        return;
    }
    if (q->srv->agent == NULL || *jp_pod_node_name(o) == '\0') {
        reply_error(q, JP_BAD_REQUEST, "pod %s does not have a host assigned", r->name);
        return;
    }
    /* kubectl 1.31+ first asks for a WebSocket tunnel: any answer but 101 makes it fall back
     * to SPDY */
    const char *upgrade = req_header(q, "Upgrade");
    if (!has_token(req_header(q, "Connection"), "upgrade") || upgrade == NULL) {
        reply_error(q, JP_BAD_REQUEST, "Upgrade request required");
        return;
    }
    if (!has_token(upgrade, "spdy/3.1")) {
        reply_error(q, JP_BAD_REQUEST, "unable to upgrade: only SPDY/3.1 is served, not %s",
                    upgrade);
        return;
    }
    struct protocols pr = {0};
    jp_buf_init(&pr.seen, 4096);
    MHD_get_connection_values(q->conn, MHD_HEADER_KIND, protocol_value, &pr);
    if (!pr.ours) {
        if (pr.seen.len == 0)
            reply_error(q, JP_BAD_REQUEST,
                        "unable to upgrade: X-Stream-Protocol-Version is required");
        else
            reply_error(q, JP_FORBIDDEN,
                        "unable to upgrade: unable to negotiate protocol: client supports [%s], "
                        "server accepts [" PROTOCOL "]",
                        pr.seen.data);
        jp_buf_free(&pr.seen);
        return;
    }
    jp_buf_free(&pr.seen);
    struct pf_target *t = jp_xcalloc(1, sizeof(*t));
    t->ns = jp_xstrdup(r->ns);
    t->name = jp_xstrdup(r->name);
    t->uid = jp_xstrdup(jp_proj_of(o)->uid ? jp_proj_of(o)->uid : "");
    portforward_target_free(q->pf);
    q->pf = t;
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, q->srv);
    MHD_add_response_header(resp, "Upgrade", "SPDY/3.1");
    MHD_add_response_header(resp, "X-Stream-Protocol-Version", PROTOCOL);
    q->streaming = true;
    q->status = MHD_HTTP_SWITCHING_PROTOCOLS;
    if (MHD_queue_response(q->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp) != MHD_YES)
        jp_log(JP_WARN, "apiserver", "port-forward %s/%s: the upgrade was refused", r->ns, r->name);
    MHD_destroy_response(resp);
}
