/* Upgraded connections (upgrade.c) on jp_httpd, plain and TLS: an echo service behind a 101,
 * 1 MiB echoed intact and quickly (MHD 0.9.75's own TLS relay moves 4 bytes per run: minutes),
 * a close from either side, and MHD cleaning the connection up afterwards with no descriptor
 * left. */
#include "support/cm.h"
#include "apiserver/internal.h"
#include "base/timefmt.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_BYTES (1u << 20)
#define CHUNK      (16u * 1024)

struct fixture {
    uv_loop_t loop;
    struct jp_httpd *httpd;
    struct jp_pki pki;
    bool tls;
    uv_thread_t client;
    uv_async_t done;
    struct upgrade *u;
    int completed_calls;
    int echoed_from_extra;
    /* client results */
    bool ok101;
    size_t echoed;
    bool intact, saw_eof;
    int64_t elapsed_ns;
};

static void echo_event(void *arg, int events)
{
    struct fixture *f = arg;
    if (f->u == NULL) return;
    bool end = (events & UPGRADE_ERROR) != 0;
    if (!end && (events & UV_READABLE)) {
        static uint8_t buf[64 * 1024];
        for (;;) {
            ssize_t n = upgrade_read(f->u, buf, sizeof(buf));
            if (n == UV_EAGAIN) break;
            if (n <= 0 || (n == 3 && memcmp(buf, "bye", 3) == 0)) { /* EOF, or asked to close */
                end = true;
                break;
            }
            upgrade_write(f->u, buf, (size_t)n, NULL, 0);
        }
    }
    if (end) {
        upgrade_close(f->u, f->httpd);
        f->u = NULL;
    }
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra,
                       size_t extra_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)con_cls;
    struct fixture *f = cls;
    f->u = upgrade_open(&f->loop, conn, sock, urh, echo_event, f);
    assert_non_null(f->u);
    if (extra_size) {
        upgrade_write(f->u, extra, extra_size, NULL, 0);
        f->echoed_from_extra += (int)extra_size;
    }
    upgrade_read_start(f->u, true);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_size, void **con_cls)
{
    (void)url, (void)method, (void)version, (void)data, (void)data_size;
    if (*con_cls == NULL) {
        *con_cls = cls;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, cls);
    MHD_add_response_header(r, "Upgrade", "echo");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)c, (void)con_cls, (void)toe;
    ((struct fixture *)cls)->completed_calls++;
}

/* ---- the client, on its own thread: a plain socket or a GnuTLS session over it ---- */

struct client {
    int fd;
    gnutls_session_t tls;
    gnutls_certificate_credentials_t cred;
};

static ssize_t c_send(struct client *c, const void *p, size_t n)
{
    return c->tls ? gnutls_record_send(c->tls, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
}

static ssize_t c_recv(struct client *c, void *p, size_t n)
{
    if (!c->tls) return recv(c->fd, p, n, 0);
    ssize_t r = gnutls_record_recv(c->tls, p, n);
    return r == GNUTLS_E_PREMATURE_TERMINATION ? 0 : r;
}

/* (cmocka's asserts must not run on this thread: failures are results the test checks) */
static bool c_open(struct fixture *f, struct client *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(jp_httpd_port(f->httpd))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) return false;
    if (!f->tls) return true;
    gnutls_certificate_allocate_credentials(&c->cred);
    gnutls_datum_t ca = {(unsigned char *)f->pki.ca_crt, (unsigned)strlen(f->pki.ca_crt)};
    if (gnutls_certificate_set_x509_trust_mem(c->cred, &ca, GNUTLS_X509_FMT_PEM) <= 0) return false;
    gnutls_init(&c->tls, GNUTLS_CLIENT);
    gnutls_set_default_priority(c->tls);
    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred);
    gnutls_session_set_verify_cert(c->tls, "127.0.0.1", 0);
    gnutls_transport_set_int(c->tls, c->fd);
    int rc;
    do
        rc = gnutls_handshake(c->tls);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    return rc == 0;
}

static void c_close(struct client *c)
{
    if (c->tls) {
        gnutls_deinit(c->tls);
        gnutls_certificate_free_credentials(c->cred);
    }
    close(c->fd);
}

/* Sends the request and a first chunk with it; reads the 101 head. */
static bool c_upgrade(struct fixture *f, struct client *c, const char *first, size_t n)
{
    char req[256];
    int len = snprintf(req, sizeof(req),
                       "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                       "Upgrade: echo\r\nContent-Length: 0\r\n\r\n%.*s",
                       (int)n, first);
    if (c_send(c, req, (size_t)len) != len) return false;
    char head[1024];
    size_t have = 0;
    while (have < sizeof(head) - 1) { /* byte by byte: whatever follows the head is echo */
        if (c_recv(c, head + have, 1) != 1) return false;
        have++;
        head[have] = '\0';
        if (have >= 4 && memcmp(head + have - 4, "\r\n\r\n", 4) == 0) break;
    }
    f->ok101 = strncmp(head, "HTTP/1.1 101 ", 13) == 0 && strstr(head, "\r\nUpgrade: echo\r\n");
    return f->ok101;
}

static bool c_read_exact(struct client *c, uint8_t *p, size_t n)
{
    for (size_t have = 0; have < n;) {
        ssize_t r = c_recv(c, p + have, n - have);
        if (r <= 0) return false;
        have += (size_t)r;
    }
    return true;
}

static void client_echo(void *arg)
{
    struct fixture *f = arg;
    struct client c = {0};
    uint8_t two[2];
    /* "hi" goes with the request: MHD passes it to the upgrade callback as extra_in */
    f->intact = c_open(f, &c) && c_upgrade(f, &c, "hi", 2) && c_read_exact(&c, two, 2) &&
                memcmp(two, "hi", 2) == 0;
    static uint8_t out[CHUNK], in[CHUNK];
    int64_t t0 = jp_mono_ns();
    for (size_t sent = 0; sent < ECHO_BYTES && f->intact; sent += CHUNK) {
        for (size_t i = 0; i < CHUNK; i++)
            out[i] = (uint8_t)((sent + i) * 131 >> 3);
        f->intact = c_send(&c, out, CHUNK) == CHUNK && c_read_exact(&c, in, CHUNK) &&
                    memcmp(in, out, CHUNK) == 0;
        if (f->intact) f->echoed += CHUNK;
    }
    f->elapsed_ns = jp_mono_ns() - t0;
    uint8_t x;
    f->saw_eof = c_send(&c, "bye", 3) == 3 && c_recv(&c, &x, 1) == 0; /* the server closes */
    c_close(&c);
    uv_async_send(&f->done);
}

static void client_hangs_up(void *arg)
{
    struct fixture *f = arg;
    struct client c = {0};
    uint8_t four[4];
    f->intact = c_open(f, &c) && c_upgrade(f, &c, "", 0) && c_send(&c, "ping", 4) == 4 &&
                c_read_exact(&c, four, 4) && memcmp(four, "ping", 4) == 0;
    c_close(&c); /* no close_notify: the server sees the TCP connection end */
    uv_async_send(&f->done);
}

/* ---- the fixture ---- */

static void done_cb(uv_async_t *a)
{
    struct fixture *f = a->data;
    uv_thread_join(&f->client);
    uv_close((uv_handle_t *)&f->done, NULL);
}

static void check_cb(uv_timer_t *t)
{
    struct fixture *f = t->data;
    /* once the client is done and MHD has let go of the connection, stop */
    if (uv_is_closing((uv_handle_t *)&f->done) && f->completed_calls == 1 && f->u == NULL) {
        jp_httpd_close(f->httpd);
        uv_close((uv_handle_t *)t, NULL);
    }
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory itself */
}

static void run(bool tls, void (*client)(void *), struct fixture *f)
{
    int fds = count_fds();
    memset(f, 0, sizeof(*f));
    f->tls = tls;
    uv_loop_init(&f->loop);
    char dir[] = "/tmp/jp-test-upgrade.XXXXXX";
    struct MHD_OptionItem opts[3] = {{MHD_OPTION_END, 0, NULL}};
    if (tls) {
        assert_non_null(mkdtemp(dir));
        struct jp_err *err = NULL;
        assert_int_equal(jp_pki_ensure(dir, NULL, &f->pki, &err), 0);
        opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, f->pki.server_crt};
        opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, f->pki.server_key};
    }
    struct jp_httpd_opts o = {.host = "127.0.0.1",
                              .handler = handler,
                              .handler_cls = f,
                              .completed = completed,
                              .completed_cls = f,
                              .extra_flags = MHD_ALLOW_UPGRADE | (tls ? MHD_USE_TLS : 0),
                              .extra_options = opts};
    struct jp_err *err = NULL;
    assert_int_equal(jp_httpd_start(&f->loop, &o, &f->httpd, &err), 0);
    uv_async_init(&f->loop, &f->done, done_cb);
    f->done.data = f;
    uv_timer_t check;
    uv_timer_init(&f->loop, &check);
    check.data = f;
    uv_timer_start(&check, check_cb, 5, 5);
    assert_int_equal(uv_thread_create(&f->client, client, f), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    if (tls) {
        jp_pki_free(&f->pki);
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(count_fds(), fds); /* MHD closed the connection, we our duplicate */
}

static void echo(bool tls)
{
    struct fixture f;
    run(tls, client_echo, &f);
    assert_true(f.ok101);
    assert_int_equal(f.echoed_from_extra, 2);
    assert_true(f.intact);
    assert_int_equal(f.echoed, ECHO_BYTES);
    assert_true(f.elapsed_ns < 5 * 1000000000LL); /* ~50 ms here; MHD's relay: minutes */
    assert_true(f.saw_eof);
    assert_int_equal(f.completed_calls, 1);
}

static void echo_plain(void **state)
{
    (void)state;
    echo(false);
}

static void echo_tls(void **state)
{
    (void)state;
    echo(true);
}

static void hang_up(bool tls)
{
    struct fixture f;
    run(tls, client_hangs_up, &f);
    assert_true(f.ok101);
    assert_true(f.intact);
    assert_int_equal(f.completed_calls, 1);
}

static void hang_up_plain(void **state)
{
    (void)state;
    hang_up(false);
}

static void hang_up_tls(void **state)
{
    (void)state;
    hang_up(true);
}

int main(void)
{
    uv_loop_t warm; /* libuv's process-wide signal pipe opens with the first loop: not a leak */
    uv_loop_init(&warm);
    uv_loop_close(&warm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_plain),
        cmocka_unit_test(echo_tls),
        cmocka_unit_test(hang_up_plain),
        cmocka_unit_test(hang_up_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
