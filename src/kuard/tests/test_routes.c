/* kuard's route table and memq API replies, without sockets: status codes, bodies, 404 vs 405,
 * the /a /b /c prefixes, probes and the address/path helpers of the HTTP adapter. */
#include "support/cm.h"
#include "kuard/app.h"
#include "kuard/reltime.h"
#include "kuard/server.h"

#include <stdlib.h>
#include <string.h>

static uv_loop_t loop;
static struct kuard_app app;
static struct kuard_reply r;

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    memset(&app, 0, sizeof(app));
    app.version = KUARD_VERSION;
    app.broker = memq_broker_new(1 << 20);
    struct keygen_opts o = {.rsa_bits = 1024};
    app.keygen = keygen_new(&loop, &o);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    keygen_close(app.keygen);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    memq_broker_free(app.broker);
    return 0;
}

static const char *call(const char *method, const char *path, const char *body)
{
    kuard_reply_free(&r);
    kuard_reply_init(&r);
    kuard_route(&app, method, path, body ? body : "", body ? strlen(body) : 0, &r);
    return r.body.data ? r.body.data : "";
}

static void memq_sequence(void **state)
{
    (void)state;
    call("PUT", "/memq/server/queues/keygen", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    assert_string_equal(call("PUT", "/memq/server/queues/keygen", NULL), "already exists\n");
    assert_int_equal(r.status, 400);
    assert_int_equal(r.ctype, KUARD_CT_ERROR);
    assert_non_null(strstr(call("POST", "/memq/server/queues/keygen/enqueue", "work-item-0"),
                           "\"body\":\"work-item-0\""));
    assert_int_equal(r.status, 200);
    assert_int_equal(r.ctype, KUARD_CT_JSON);
    assert_string_equal(call("GET", "/memq/server/stats", NULL),
                        "{\"kind\":\"stats\",\"queues\":[{\"name\":\"keygen\",\"depth\":1,"
                        "\"enqueued\":1,\"dequeued\":0,\"drained\":0}]}\n");
    assert_non_null(strstr(call("POST", "/memq/server/queues/keygen/dequeue", NULL),
                           "\"body\":\"work-item-0\""));
    call("POST", "/memq/server/queues/keygen/dequeue", NULL);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body.len, 0);
    call("POST", "/memq/server/queues/keygen/drain", NULL);
    assert_int_equal(r.status, 200);
    call("DELETE", "/memq/server/queues/keygen", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(call("DELETE", "/memq/server/queues/keygen", NULL), "does not exist\n");
    assert_string_equal(call("POST", "/memq/server/queues/keygen/dequeue", NULL),
                        "does not exist\n");
    assert_string_equal(call("POST", "/memq/server/queues/keygen/drain", NULL), "does not exist\n");
    assert_string_equal(call("POST", "/memq/server/queues/keygen/enqueue", "x"),
                        "does not exist\n");
}

static void bad_paths_and_methods(void **state)
{
    (void)state;
    struct {
        const char *method, *path;
        int status;
        const char *body;
    } cases[] = {
        {"GET", "/nope", 404, "404 page not found\n"},
        {"GET", "/memq/server", 404, "404 page not found\n"},
        {"GET", "/memq/server/queues", 404, "404 page not found\n"},
        {"PUT", "/memq/server/queues/", 400, "empty name\n"},
        {"POST", "/memq/server/queues//enqueue", 400, "empty name\n"},
        {"PUT", "/memq/server/queues/..", 404, "404 page not found\n"},
        {"PUT", "/memq/server/queues/.", 404, "404 page not found\n"},
        {"PUT", "/memq/server/queues/a/b/c", 404, "404 page not found\n"},
        {"POST", "/memq/server/queues/a/explode", 404, "404 page not found\n"},
        {"GET", "/memq/server/queues/a/dequeue", 405, "Method Not Allowed\n"},
        {"POST", "/memq/server/queues/a", 405, "Method Not Allowed\n"},
        {"POST", "/memq/server/stats", 405, "Method Not Allowed\n"},
        {"DELETE", "/keygen", 405, "Method Not Allowed\n"},
        {"POST", "/", 405, "Method Not Allowed\n"},
        {"GET", "/memq/serverx/stats", 404, "404 page not found\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *body = call(cases[i].method, cases[i].path, NULL);
        if (r.status != cases[i].status || strcmp(body, cases[i].body) != 0)
            fail_msg("%s %s: %d %s", cases[i].method, cases[i].path, r.status, body);
    }
    call("GET", "/memq/server/queues/a/dequeue", NULL);
    assert_string_equal(r.allow, "POST");
}

static void prefixes_and_page(void **state)
{
    (void)state;
    call("PUT", "/a/memq/server/queues/pre", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(call("GET", "/c/memq/server/stats", NULL), "\"name\":\"pre\""));
    call("PUT", "/memq/server/queues/<b>", NULL);
    const char *page = call("GET", "/", NULL);
    assert_int_equal(r.ctype, KUARD_CT_HTML);
    assert_non_null(strstr(page, "<td>pre</td><td>0</td>"));
    assert_non_null(strstr(page, "<td>&lt;b&gt;</td>")); /* names are escaped */
    assert_null(strstr(page, "<td><b></td>"));
    call("GET", "/-/memq", NULL);
    assert_int_equal(r.status, 200);
    call("GET", "/b/", NULL);
    assert_int_equal(r.status, 200);
}

static void probes(void **state)
{
    (void)state;
    assert_string_equal(call("GET", "/healthy", NULL), "ok");
    assert_int_equal(r.ctype, KUARD_CT_TEXT);
    call("PUT", "/ready/api", "{\"failNext\":2}");
    assert_int_equal(r.status, 200);
    assert_string_equal(call("GET", "/ready", NULL), "fail, 1 left");
    assert_int_equal(r.status, 500);
    assert_string_equal(call("GET", "/ready", NULL), "fail, 0 left");
    assert_string_equal(call("GET", "/ready", NULL), "ok");
    const char *st = call("GET", "/ready/api", NULL);
    assert_non_null(strstr(st, "\"failNext\":0,\"history\":[{\"id\":3,"));
    assert_non_null(strstr(st, "\"relWhen\":\"now\",\"code\":200}"));
    call("PUT", "/healthy/api", "{\"failNext\":-1}");
    assert_string_equal(call("GET", "/healthy", NULL), "fail, permanent");
    assert_string_equal(call("GET", "/healthy", NULL), "fail, permanent");
    call("PUT", "/healthy/api", "{\"failNext\":\"x\"}");
    assert_int_equal(r.status, 400);
    call("PUT", "/healthy/api", "");
    assert_int_equal(r.status, 400);
    call("PUT", "/healthy/api", "{}");
    assert_string_equal(call("GET", "/healthy", NULL), "ok");
}

static void keygen_config_endpoint(void **state)
{
    (void)state;
    assert_string_equal(call("GET", "/keygen", NULL),
                        "{\"config\":{\"enable\":false,\"numToGen\":0,\"timeToRun\":0,"
                        "\"memQServer\":\"\",\"memQQueue\":\"\",\"exitOnComplete\":false,"
                        "\"exitCode\":0},\"history\":[]}\n");
    assert_string_equal(call("PUT", "/keygen", "{\"numToGen\":\"x\"}"),
                        "json: cannot unmarshal string into Go struct field Config.numToGen of "
                        "type int\n");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(call("PUT", "/keygen", "{\"numToGen\":7}"), "\"numToGen\":7,"));
    assert_int_equal(r.status, 200);
}

static void address_and_path_helpers(void **state)
{
    (void)state;
    char *host = NULL;
    uint16_t port = 0;
    assert_int_equal(kuard_split_address(":8080", &host, &port, NULL), 0);
    assert_string_equal(host, "");
    assert_int_equal(port, 8080);
    free(host);
    assert_int_equal(kuard_split_address("[::1]:0", &host, &port, NULL), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    free(host);
    assert_int_equal(kuard_split_address("localhost:65535", &host, &port, NULL), 0);
    free(host);
    const char *bad[] = {"8080", "::1:80", "a:65536", "a:-1", "a:", "a:x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jp_err *err = NULL;
        assert_int_equal(kuard_split_address(bad[i], &host, &port, &err), -1);
        assert_non_null(strstr(err->msg, bad[i]));
        jp_err_free(err);
    }
    char p1[] = "/memq/server/queues/a%2Fb%20c";
    assert_int_equal(kuard_unescape_path(p1), 0);
    assert_string_equal(p1, "/memq/server/queues/a/b c");
    char p2[] = "/x%00y", p3[] = "/x%zz", p4[] = "/x%4", p5[] = "/%e2%82%ac";
    assert_int_equal(kuard_unescape_path(p2), -1);
    assert_int_equal(kuard_unescape_path(p3), -1);
    assert_int_equal(kuard_unescape_path(p4), -1);
    assert_int_equal(kuard_unescape_path(p5), 0);
    assert_string_equal(p5, "/\xe2\x82\xac");
}

static void reltime_words(void **state)
{
    (void)state;
    const int64_t s = 1000000000LL;
    struct {
        int64_t a, b;
        const char *want;
    } cases[] = {
        {0, 0, "now"},
        {0, s / 2, "now"},
        {0, s, "1 second left"},
        {0, 9 * s + 500, "9 seconds left"},
        {0, 60 * s, "1 minute left"},
        {0, 119 * s, "1 minute left"},
        {0, 120 * s, "2 minutes left"},
        {0, 3600 * s, "1 hour left"},
        {0, 5 * 3600 * s, "5 hours left"},
        {0, 3 * 86400 * s, "3 days left"},
        {10 * s, 0, "10 seconds overdue"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        kuard_reltime(buf, sizeof(buf), cases[i].a, cases[i].b, "left", "overdue");
        assert_string_equal(buf, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memq_sequence),          cmocka_unit_test(bad_paths_and_methods),
        cmocka_unit_test(prefixes_and_page),      cmocka_unit_test(probes),
        cmocka_unit_test(keygen_config_endpoint), cmocka_unit_test(address_and_path_helpers),
        cmocka_unit_test(reltime_words),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    kuard_reply_free(&r);
    return rc;
}
