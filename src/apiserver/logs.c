/* pods/NAME/log, served from the node agent: a plain answer, or with follow=true a chunked
 * stream that the agent's follower feeds and that ends when the container does. */
#include "agent/agent.h"
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/parse.h"
#include "base/timefmt.h"

#include <stdlib.h>
#include <string.h>

struct logstream {
    struct jp_apiserver *srv;
    struct jp_log_follow *follow;
    struct jp_buf out;
    size_t sent;
    bool done, errored;
    struct jp_httpd_susp *susp;
    struct MHD_Connection *conn;
};

static void wake(struct logstream *l)
{
    if (l->susp) {
        struct jp_httpd_susp *s = l->susp;
        l->susp = NULL;
        jp_httpd_resume(s);
    }
}

static void on_text(const char *text, size_t n, bool done, void *arg)
{
    struct logstream *l = arg;
    jp_buf_append(&l->out, text, n);
    l->done |= done;
    wake(l);
}

static void on_gone(void *arg)
{
    struct logstream *l = arg;
    l->errored = true;
    wake(l);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct logstream *l = cls;
    if (l->errored) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t pending = l->out.len - l->sent;
    if (pending > 0) {
        size_t n = pending < max ? pending : max;
        memcpy(buf, l->out.data + l->sent, n);
        l->sent += n;
        if (l->sent == l->out.len) {
            jp_buf_reset(&l->out);
            l->sent = 0;
        }
        return (ssize_t)n;
    }
    if (l->done || jp_httpd_stopping(l->srv->httpd)) return MHD_CONTENT_READER_END_OF_STREAM;
    l->susp = jp_httpd_suspend(l->srv->httpd, l->conn, on_gone, l);
    return 0;
}

static void response_freed(void *cls)
{
    struct logstream *l = cls;
    if (l->susp) jp_httpd_resume(l->susp);
    jp_agent_log_follow_stop(l->follow);
    jp_buf_free(&l->out);
    free(l);
}

static int int_arg(struct apireq *q, const char *name, int64_t min, int64_t *out)
{
    const char *v = req_arg(q, name);
    if (v == NULL) return 0;
    if (jp_parse_int(v, 10, min, INT64_MAX, out, NULL) == 0) return 0;
    reply_error(q, JP_BAD_REQUEST, "invalid %s: %s", name, v);
    return -1;
}

static bool bool_arg(struct apireq *q, const char *name)
{
    const char *v = req_arg(q, name);
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

void serve_pod_log(struct apireq *q, const struct route *r)
{
    struct jp_log_opts o = {.container = req_arg(q, "container"), .tail_lines = -1};
    o.previous = bool_arg(q, "previous");
    o.timestamps = bool_arg(q, "timestamps");
    o.follow = bool_arg(q, "follow");
    int64_t since_s = 0;
    if (int_arg(q, "tailLines", 0, &o.tail_lines) < 0 ||
        int_arg(q, "sinceSeconds", 1, &since_s) < 0 ||
        int_arg(q, "limitBytes", 1, &o.limit_bytes) < 0)
        return;
    if (!req_arg(q, "tailLines")) o.tail_lines = -1;
    if (since_s) o.since_ns = jp_now_ns() - since_s * 1000000000LL;
    const char *since_time = req_arg(q, "sinceTime");
    if (since_time && jp_time_parse(since_time, &o.since_ns, NULL) < 0) {
        reply_error(q, JP_BAD_REQUEST, "invalid sinceTime: %s", since_time);
        return;
    }
    struct jp_status *st = NULL;
    if (!o.follow) {
        struct jp_buf b;
        jp_buf_init(&b, SIZE_MAX);
        if (jp_agent_log(q->srv->agent, r->ns, r->name, &o, &b, &st) < 0) {
            jp_buf_free(&b);
            reply_status(q, st);
            return;
        }
        size_t len;
        char *body = jp_buf_steal(&b, &len);
        reply(q, 200, "text/plain", body, len);
        return;
    }
    struct logstream *l = jp_xcalloc(1, sizeof(*l));
    l->srv = q->srv;
    l->conn = q->conn;
    jp_buf_init(&l->out, SIZE_MAX);
    l->follow = jp_agent_log_follow(q->srv->agent, r->ns, r->name, &o, on_text, l, &st);
    if (l->follow == NULL) {
        jp_buf_free(&l->out);
        free(l);
        reply_status(q, st);
        return;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, reader, l, response_freed);
    MHD_add_response_header(resp, "Content-Type", "text/plain");
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    q->streaming = true;
    q->status = 200;
    MHD_queue_response(q->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
}
