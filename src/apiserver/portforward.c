/* pods/NAME/portforward: what a SPDY/3.1 session (spdysess.c) forwards, and how.
 * kubectl opens two streams per local connection it forwards (streamtype error and data, paired
 * by requestid); once both are there the data stream is joined to a TCP connection to the pod's
 * port in its network namespace and bytes are copied both ways, as the kubelet does. */
#include "agent/agent.h"
#include "apiserver/internal.h"
#include "apiserver/spdysess.h"
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
#define PAIR_TIMEOUT_MS 30000 /* the kubelet's wait for a request's second stream */
#define TICK_MS         5000
#define POD_CHUNK       (32u * 1024) /* pod reads: one data frame each */
/* data sent before a request's pair is complete, per request and in all */
#define EARLY_MAX         (64u * 1024)
#define EARLY_SESSION_MAX (1u << 20)

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

/* What a session forwards to, and its requests: the app half of a spdy_session. */
struct pf_session {
    struct spdy_session *ss; /* set once the connection is upgraded */
    char *ns, *name, *uid;
    uint8_t pod_buf[POD_CHUNK]; /* each pod read is framed and queued before the next one */
    struct pair *pairs;
    size_t to_pods;     /* written to pods, not yet taken by their sockets */
    size_t early_bytes; /* held for requests still waiting for their second stream */
    bool pods_paused;
};

/* A buffer on its way to a pod. */
struct wreq {
    uv_write_t req;
    struct pair *p;
    size_t len;
    uint8_t data[];
};

static void finish_pair(struct pair *p);
static void start_reading(struct pair *p);

static void pf_free(void *app)
{
    struct pf_session *s = app;
    if (s == NULL) return;
    free(s->ns);
    free(s->name);
    free(s->uid);
    free(s);
}

/* ---- lifetimes ---- */

static void drop_early(struct pair *p)
{
    p->s->early_bytes -= p->early.len;
    jp_buf_free(&p->early);
}

static void pod_closed(uv_handle_t *h)
{
    struct pair *p = h->data;
    struct spdy_session *ss = p->s->ss;
    drop_early(p);
    free(p);
    spdy_session_unref(ss);
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

static void resume_pods(struct pf_session *s)
{
    s->pods_paused = false;
    for (struct pair *p = s->pairs; p; p = p->next)
        if (p->connected) start_reading(p);
}

static void send_data(struct pf_session *s, uint32_t id, uint8_t flags, const char *text)
{
    spdy_session_data(s->ss, id, flags, text, text ? strlen(text) : 0);
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
    if (nread == 0 || p->done || s->ss->closing) return;
    if (nread < 0) {
        pod_finished(p); /* EOF, or a reset: the kubelet ends the stream either way */
        return;
    }
    spdy_session_data(s->ss, p->data_id, 0, buf->base, (size_t)nread);
    if (!s->pods_paused && spdy_session_output_full(s->ss)) pause_pods(s);
}

static void start_reading(struct pair *p)
{
    if (p->reading || p->data_fin_out || p->s->pods_paused) return;
    p->reading = true;
    uv_read_start((uv_stream_t *)&p->pod, pod_alloc, pod_read);
}

static void maybe_resume_client(struct pf_session *s)
{
    if (s->to_pods <= SPDY_LOW_WATER) spdy_session_pause_input(s->ss, false);
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
        jp_log(JP_DEBUG, "apiserver", "port-forward %s/%s:%u: write: %s", p->s->ns, p->s->name,
               p->port, uv_strerror(status));
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
    if (s->to_pods > SPDY_HIGH_WATER) spdy_session_pause_input(s->ss, true);
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
    jp_log(JP_INFO, "apiserver", "port-forward %s/%s: %s", s->ns, s->name, msg);
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
                  p->port, p->s->name, p->s->uid, p->port, uv_strerror(status));
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
    int fd = jp_agent_pod_socket(s->ss->srv->agent, s->ns, s->name, p->port, &to, &st);
    if (fd < 0) {
        fail_pair(p, "error forwarding port %u to pod %s, uid %s: %s", p->port, s->name, s->uid,
                  st ? st->message : "no socket");
        jp_status_free(st);
        return;
    }
    uv_tcp_init(s->ss->srv->loop, &p->pod);
    p->pod.data = p;
    p->has_pod = true;
    spdy_session_ref(s->ss);
    int rc = uv_tcp_open(&p->pod, fd);
    if (rc < 0) close(fd);
    if (rc == 0) rc = uv_tcp_connect(&p->connect, &p->pod, (struct sockaddr *)&to, connected);
    if (rc < 0) {
        fail_pair(p, "error forwarding port %u to pod %s, uid %s: dial tcp4 127.0.0.1:%u: %s",
                  p->port, s->name, s->uid, p->port, uv_strerror(rc));
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
    spdy_session_count_stream(s->ss, -((p->err_id != 0) + (p->data_id != 0)));
    pair_release(p);
    maybe_resume_client(s);
}

/* ---- frames from the client ---- */

static struct pair *by_stream(struct pf_session *s, uint32_t id, bool *is_data)
{
    for (struct pair *p = s->pairs; p; p = p->next) {
        if (p->data_id == id || p->err_id == id) {
            *is_data = p->data_id == id;
            return p;
        }
    }
    return NULL;
}

static void on_data(struct spdy_session *ss, uint32_t id, const uint8_t *data, size_t n)
{
    struct pf_session *s = ss->app;
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

static void on_data_fin(struct spdy_session *ss, uint32_t id)
{
    bool is_data;
    struct pair *p = by_stream(ss->app, id, &is_data);
    if (p && is_data && !p->data_fin_in) client_finished(p);
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

static void on_syn_stream(struct spdy_session *ss, const struct jp_spdy_ctrl *c)
{
    struct pf_session *s = ss->app;
    uint32_t id = c->stream_id;
    char port_s[8], type[8], rid[40];
    uint16_t port;
    /* the kubelet resets a stream without a valid port or stream type */
    if (!spdy_header_str(c, "port", port_s, sizeof(port_s)) || !parse_port(port_s, &port) ||
        !spdy_header_str(c, "streamtype", type, sizeof(type)) ||
        (strcmp(type, "error") != 0 && strcmp(type, "data") != 0)) {
        spdy_session_rst(ss, id, JP_SPDY_CANCEL);
        return;
    }
    bool is_data = strcmp(type, "data") == 0;
    if (!spdy_header_str(c, "requestid", rid, sizeof(rid)))
        /* clients older than the header: the error stream's id names the request */
        snprintf(rid, sizeof(rid), "%u", is_data ? id - 2 : id);
    struct pair *p = pair_for(s, rid);
    if (is_data ? p->data_id : p->err_id) {
        spdy_session_rst(ss, id, JP_SPDY_CANCEL); /* a second stream of that type for the request */
        return;
    }
    if (spdy_session_reply(ss, id) < 0) return;
    spdy_session_count_stream(ss, 1);
    if (is_data) {
        p->data_id = id;
        p->port = port;
        p->data_fin_in = (c->flags & JP_SPDY_FLAG_FIN) != 0; /* passed on once connected */
    } else {
        p->err_id = id;
    }
    if (p->err_id && p->data_id) start_pair(p); /* may end (and free) the pair */
}

static void on_rst_stream(struct spdy_session *ss, uint32_t id)
{
    bool is_data;
    struct pair *p = by_stream(ss->app, id, &is_data);
    if (p == NULL) return;
    if (is_data) {
        p->data_reset = true;
        finish_pair(p);
    } else {
        p->err_reset = true;
    }
}

static void on_drained(struct spdy_session *ss)
{
    struct pf_session *s = ss->app;
    if (s->pods_paused) resume_pods(s);
}

/* Requests whose second stream never came end as the kubelet ends them. */
static void on_tick(struct spdy_session *ss)
{
    struct pf_session *s = ss->app;
    int64_t now = jp_mono_ns() / 1000000;
    struct pair *p = s->pairs, *next;
    for (; p && !ss->closing; p = next) {
        next = p->next;
        if (!p->started && now - p->created_ms > PAIR_TIMEOUT_MS)
            fail_pair(p, "request %s: timed out waiting for streams", p->id);
    }
}

static void on_opened(struct spdy_session *ss)
{
    struct pf_session *s = ss->app;
    s->ss = ss;
}

static void on_closing(struct spdy_session *ss)
{
    struct pf_session *s = ss->app;
    while (s->pairs) {
        struct pair *p = s->pairs;
        s->pairs = p->next;
        p->done = true;
        pair_release(p);
    }
}

static const struct spdy_session_ops pf_ops = {
    .what = "port-forward",
    .tick_ms = TICK_MS,
    .opened = on_opened,
    .syn_stream = on_syn_stream,
    .rst_stream = on_rst_stream,
    .data = on_data,
    .data_fin = on_data_fin,
    .drained = on_drained,
    .tick = on_tick,
    .closing = on_closing,
    .free_app = pf_free,
};

/* ---- the request ---- */

void serve_portforward(struct apireq *q, const struct route *r)
{
    const struct jp_obj *o = spdy_upgrade_pod(q, r);
    if (o == NULL) return;
    static const char *const protocols[] = {PROTOCOL};
    const char *chosen;
    if (spdy_upgrade_check(q, protocols, 1, &chosen) < 0) return;
    struct pf_session *s = jp_xcalloc(1, sizeof(*s));
    s->ns = jp_xstrdup(r->ns);
    s->name = jp_xstrdup(r->name);
    s->uid = jp_xstrdup(jp_proj_of(o)->uid ? jp_proj_of(o)->uid : "");
    char label[520];
    snprintf(label, sizeof(label), "%s/%s", r->ns, r->name);
    spdy_upgrade_respond(q, &pf_ops, s, chosen, label);
}
