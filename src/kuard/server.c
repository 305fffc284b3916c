/* MHD access handler for kuard. Bodies are collected into a capped buffer; the reply is built by
 * kuard_route on the final call and turned into an MHD response with Go's header sets. */
#include "kuard/server.h"
#include "base/alloc.h"
#include "base/httpd.h"
#include "base/parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct kuard_server {
    struct jp_httpd *httpd;
    struct kuard_app *app;
};

/* An oversized body is read and thrown away up to this much, so a client that doesn't wait for
 * "100 Continue" can still read our 413 instead of failing with a broken pipe (nginx does the
 * same); beyond it we answer at once and MHD closes the connection. */
#define DISCARD_MAX (64u << 20)

/* Marks a request with no body so far: most requests never need a body buffer. */
static char no_body;

struct request {
    struct jp_buf body;
    bool too_large;
    size_t discarded;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int kuard_unescape_path(char *path)
{
    char *w = path;
    for (const char *r = path; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
        *w++ = (char)(hi * 16 + lo);
        r += 2;
    }
    *w = '\0';
    return 0;
}

int kuard_split_address(const char *address, char **host, uint16_t *port, struct jp_err **err)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL)
        return jp_err_set(err, JP_BAD_REQUEST, 0,
                          "listen tcp %s: address %s: missing port in address", address, address);
    const char *h = address;
    size_t hlen = (size_t)(colon - address);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return jp_err_set(err, JP_BAD_REQUEST, 0,
                          "listen tcp %s: address %s: too many colons in address", address,
                          address);
    }
    int64_t p;
    struct jp_err *perr = NULL;
    if (jp_parse_int(colon + 1, 10, 0, 65535, &p, &perr) < 0) {
        jp_err_free(perr);
        return jp_err_set(err, JP_BAD_REQUEST, 0, "listen tcp %s: invalid port \"%s\"", address,
                          colon + 1);
    }
    *host = jp_xstrndup(h, hlen);
    *port = (uint16_t)p;
    return 0;
}

static void add_go_headers(struct MHD_Response *resp, const struct kuard_reply *r)
{
    switch (r->ctype) {
    case KUARD_CT_JSON:
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Cache-Control", "no-cache, private, max-age=0");
        MHD_add_response_header(resp, "Expires", "Thu, 01 Jan 1970 00:00:00 UTC");
        MHD_add_response_header(resp, "Pragma", "no-cache");
        break;
    case KUARD_CT_ERROR:
        MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        break;
    case KUARD_CT_TEXT:
        MHD_add_response_header(resp, "Content-Type", "text/plain");
        break;
    case KUARD_CT_HTML:
        MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
        break;
    case KUARD_CT_NONE:
        break;
    }
    if (r->allow) MHD_add_response_header(resp, "Allow", r->allow);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct kuard_reply *r)
{
    size_t len = 0;
    char *data = r->status == 204 ? NULL : jp_buf_steal(&r->body, &len);
    struct MHD_Response *resp =
        data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(data);
        return MHD_NO;
    }
    add_go_headers(resp, r);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, int status, const char *text)
{
    struct kuard_reply r;
    kuard_reply_init(&r);
    kuard_reply_error(&r, status, text);
    enum MHD_Result ret = send_reply(conn, &r);
    kuard_reply_free(&r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_size, void **con_cls)
{
    (void)version;
    struct kuard_server *s = cls;
    if (*con_cls == NULL) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
        int64_t n;
        /* With "Expect: 100-continue" the client waits: refuse before the body is sent. */
        if (cl && jp_parse_int(cl, 10, 0, INT64_MAX, &n, NULL) == 0 && n > KUARD_MAX_BODY &&
            (n > DISCARD_MAX || expect != NULL))
            return reply_error(conn, 413, "http: request body too large");
        *con_cls = &no_body;
        return MHD_YES;
    }
    struct request *req = *con_cls == &no_body ? NULL : *con_cls;
    if (*data_size > 0) {
        if (req == NULL) {
            req = jp_xcalloc(1, sizeof(*req));
            jp_buf_init(&req->body, KUARD_MAX_BODY);
            *con_cls = req;
        }
        if (!req->too_large && jp_buf_append(&req->body, data, *data_size) < 0) {
            req->too_large = true;
            jp_buf_free(&req->body);
        }
        if (req->too_large) req->discarded += *data_size;
        *data_size = 0;
        if (req->discarded > DISCARD_MAX)
            return reply_error(conn, 413, "http: request body too large");
        return MHD_YES;
    }
    if (req && req->too_large) return reply_error(conn, 413, "http: request body too large");

    char *path = jp_xstrdup(url);
    enum MHD_Result ret;
    if (kuard_unescape_path(path) < 0 || path[0] != '/') {
        ret = reply_error(conn, 400, "400 Bad Request");
    } else {
        struct kuard_reply r;
        kuard_reply_init(&r);
        kuard_route(s->app, method, path, req && req->body.data ? req->body.data : "",
                    req ? req->body.len : 0, &r);
        ret = send_reply(conn, &r);
        kuard_reply_free(&r);
    }
    free(path);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    if (*con_cls && *con_cls != &no_body) {
        struct request *req = *con_cls;
        jp_buf_free(&req->body);
        free(req);
    }
    *con_cls = NULL;
}

/* MHD would decode %XX itself and stop at an encoded NUL; keep the raw path and decode it in
 * kuard_unescape_path, which rejects that case. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *uri)
{
    (void)cls, (void)c;
    return strlen(uri);
}

int kuard_server_start(uv_loop_t *loop, struct kuard_app *app, const char *address,
                       struct kuard_server **out, struct jp_err **err)
{
    char *host = NULL;
    uint16_t port;
    if (kuard_split_address(address, &host, &port, err) < 0) return -1;
    struct kuard_server *s = jp_xcalloc(1, sizeof(*s));
    s->app = app;
    const struct MHD_OptionItem opts[] = {
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)keep_escaped, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    struct jp_httpd_opts o = {
        .host = host,
        .port = port,
        .handler = handler,
        .handler_cls = s,
        .completed = completed,
        .completed_cls = s,
        .extra_options = opts,
    };
    int rc = jp_httpd_start(loop, &o, &s->httpd, err);
    free(host);
    if (rc < 0) {
        free(s);
        return jp_err_wrap(err, "kuard");
    }
    *out = s;
    return 0;
}

uint16_t kuard_server_port(const struct kuard_server *s)
{
    return jp_httpd_port(s->httpd);
}

void kuard_server_close(struct kuard_server *s)
{
    jp_httpd_close(s->httpd);
    free(s);
}
