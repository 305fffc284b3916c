/* The libuv + libmicrohttpd bridge, driven by real clients on loopback: plain responses, a
 * suspended stream fed by a timer, a client that hangs up while suspended, and shutdown with a
 * stream still suspended (which aborts inside MHD unless handled). */
#include "support/cm.h"
#include "base/httpd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum mode { PLAIN, STREAM, HANGUP, CLOSE };

struct stream {
    struct fixture *f;
    struct MHD_Connection *conn;
    struct jp_httpd_susp *susp;
    int ticks_ready; /* lines produced by the timer, not yet sent */
    int ticks_sent;
    bool ended;
};

struct fixture {
    uv_loop_t loop;
    struct jp_httpd *httpd;
    uv_timer_t tick;
    uv_async_t done;
    uv_thread_t client;
    struct stream *active;
    int gone_calls;
    int completed_calls;
    int max_ticks;
    enum mode mode;
    /* client results */
    long status;
    char body[4096];
    size_t body_len;
};

static void on_gone(void *arg);

static ssize_t next_line(struct stream *s, char *buf, size_t max, bool notice_hangup)
{
    if (jp_httpd_stopping(s->f->httpd)) return MHD_CONTENT_READER_END_OF_STREAM;
    if (s->ended) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (s->ticks_sent == s->f->max_ticks) return MHD_CONTENT_READER_END_OF_STREAM;
    if (s->ticks_ready == 0) {
        s->susp = jp_httpd_suspend(s->f->httpd, s->conn, notice_hangup ? on_gone : NULL, s);
        return 0;
    }
    s->ticks_ready--;
    s->ticks_sent++;
    return snprintf(buf, max, "tick %d\n", s->ticks_sent);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    return next_line(cls, buf, max, false);
}

static ssize_t gone_aware_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    return next_line(cls, buf, max, true);
}

static void on_gone(void *arg)
{
    struct stream *s = arg;
    s->f->gone_calls++;
    s->ended = true;
    struct jp_httpd_susp *susp = s->susp;
    s->susp = NULL;
    jp_httpd_resume(susp);
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->f->active == s) s->f->active = NULL;
    free(s);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_size, void **con_cls)
{
    (void)method, (void)version, (void)data, (void)data_size;
    struct fixture *f = cls;
    if (*con_cls == NULL) { /* first call: headers only; queue on the second (see httpd.md) */
        *con_cls = f;
        return MHD_YES;
    }
    struct MHD_Response *r;
    if (strcmp(url, "/stream") == 0 || strcmp(url, "/hangup") == 0) {
        struct stream *s = calloc(1, sizeof(*s));
        s->f = f;
        s->conn = conn;
        f->active = s;
        r = MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, 64, strcmp(url, "/hangup") == 0 ? gone_aware_reader : reader, s,
            stream_free);
    } else {
        static const char hello[] = "hello\n";
        r = MHD_create_response_from_buffer(sizeof(hello) - 1, (void *)hello,
                                            MHD_RESPMEM_PERSISTENT);
    }
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)c, (void)con_cls, (void)toe;
    ((struct fixture *)cls)->completed_calls++;
}

static void tick_cb(uv_timer_t *t)
{
    struct fixture *f = t->data;
    if (f->mode == HANGUP && f->gone_calls == 1 && f->completed_calls == 1) {
        uv_async_send(&f->done);
        return;
    }
    struct stream *s = f->active;
    if (s == NULL) return;
    if (f->mode == CLOSE) {
        if (s->susp == NULL) return;
        uv_timer_stop(&f->tick);
        f->active = NULL;
        jp_httpd_close(f->httpd); /* must not abort with the stream suspended */
        f->httpd = NULL;
        return;
    }
    /* HANGUP produces one line, then leaves the stream suspended until the client leaves */
    int limit = f->mode == HANGUP ? 1 : f->max_ticks;
    if (s->ticks_ready + s->ticks_sent < limit) s->ticks_ready++;
    if (s->susp && s->ticks_ready > 0) {
        struct jp_httpd_susp *susp = s->susp;
        s->susp = NULL;
        jp_httpd_resume(susp);
    }
}

static size_t collect(char *p, size_t sz, size_t n, void *cls)
{
    struct fixture *f = cls;
    size_t len = sz * n;
    size_t room = sizeof(f->body) - 1 - f->body_len;
    memcpy(f->body + f->body_len, p, len < room ? len : room);
    f->body_len += len < room ? len : room;
    f->body[f->body_len] = '\0';
    return len;
}

static void curl_get(struct fixture *f, const char *path)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", jp_httpd_port(f->httpd), path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
    curl_easy_cleanup(c);
}

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void client_plain(void *arg)
{
    struct fixture *f = arg;
    curl_get(f, "/");
    uv_async_send(&f->done);
}

static void client_stream(void *arg)
{
    struct fixture *f = arg;
    curl_get(f, "/stream");
    uv_async_send(&f->done);
}

static void client_hangup(void *arg)
{
    struct fixture *f = arg;
    int fd = raw_connect(jp_httpd_port(f->httpd));
    const char req[] = "GET /hangup HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf)); /* headers and the first tick */
    assert_true(n > 0);
    close(fd);
    /* the loop stops itself once the hang-up is seen and the request completes */
}

static void client_close(void *arg)
{
    struct fixture *f = arg;
    int fd = raw_connect(jp_httpd_port(f->httpd));
    const char req[] = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    char buf[512];
    while (read(fd, buf, sizeof(buf)) > 0) { /* until the server closes */
    }
    close(fd);
    uv_async_send(&f->done);
}

static void done_cb(uv_async_t *a)
{
    struct fixture *f = a->data;
    uv_close((uv_handle_t *)&f->done, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    if (f->httpd) jp_httpd_close(f->httpd);
    f->httpd = NULL;
}

static void run(struct fixture *f, void (*client)(void *), enum mode mode, int max_ticks)
{
    memset(f, 0, sizeof(*f));
    f->mode = mode;
    f->max_ticks = max_ticks;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct jp_httpd_opts o = {.host = "127.0.0.1",
                              .port = 0,
                              .handler = handler,
                              .handler_cls = f,
                              .completed = completed,
                              .completed_cls = f};
    struct jp_err *err = NULL;
    assert_int_equal(jp_httpd_start(&f->loop, &o, &f->httpd, &err), 0);
    assert_true(jp_httpd_port(f->httpd) > 0);
    uv_async_init(&f->loop, &f->done, done_cb);
    f->done.data = f;
    uv_timer_init(&f->loop, &f->tick);
    f->tick.data = f;
    uv_timer_start(&f->tick, tick_cb, 10, 10);
    uv_thread_create(&f->client, client, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_thread_join(&f->client);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void plain_response(void **state)
{
    (void)state;
    static struct fixture f;
    run(&f, client_plain, PLAIN, 0);
    assert_int_equal(f.status, 200);
    assert_string_equal(f.body, "hello\n");
    assert_int_equal(f.completed_calls, 1);
}

static void suspended_stream_is_resumed_by_timer(void **state)
{
    (void)state;
    static struct fixture f;
    run(&f, client_stream, STREAM, 5);
    assert_int_equal(f.status, 200);
    assert_string_equal(f.body, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
    assert_int_equal(f.completed_calls, 1);
}

static void hangup_while_suspended_is_noticed(void **state)
{
    (void)state;
    static struct fixture f;
    run(&f, client_hangup, HANGUP, 1);
    assert_int_equal(f.gone_calls, 1);
    assert_int_equal(f.completed_calls, 1);
}

static void close_with_suspended_stream(void **state)
{
    (void)state;
    static struct fixture f;
    run(&f, client_close, CLOSE, 1000);
    assert_int_equal(f.completed_calls, 1);
    assert_int_equal(f.gone_calls, 0);
}

static void port_in_use_is_an_error(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fixture f = {0};
    struct jp_httpd_opts o = {.host = "127.0.0.1", .handler = handler, .handler_cls = &f};
    struct jp_httpd *a = NULL, *b = NULL;
    struct jp_err *err = NULL;
    assert_int_equal(jp_httpd_start(&loop, &o, &a, &err), 0);
    o.port = jp_httpd_port(a);
    assert_int_equal(jp_httpd_start(&loop, &o, &b, &err), -1);
    assert_non_null(strstr(err->msg, "cannot start HTTP server"));
    assert_non_null(strstr(err->msg, "in use")); /* MHD's reason, which only its logger gives */
    jp_err_free(err);
    err = NULL;
    o.host = "no such host.invalid";
    assert_int_equal(jp_httpd_start(&loop, &o, &b, &err), -1);
    assert_int_equal(err->reason, JP_BAD_REQUEST);
    jp_err_free(err);
    jp_httpd_close(a);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_response),
        cmocka_unit_test(suspended_stream_is_resumed_by_timer),
        cmocka_unit_test(hangup_while_suspended_is_noticed),
        cmocka_unit_test(close_with_suspended_stream),
        cmocka_unit_test(port_in_use_is_an_error),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
