/* The keygen workload manager with real threads and small keys: kuard's log lines, exit codes,
 * cancellation on reconfiguration, and memq consumption from a real server on the same loop. */
#include "support/cm.h"
#include "kuard/app.h"
#include "kuard/server.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    uv_loop_t loop;
    struct kuard_app app;
    struct kuard_server *server;
    uv_timer_t deadline, poke;
    int exit_code;
    int exits;
    char history[KEYGEN_MAX_HISTORY][512];
    int lines;
} t;

static void copy_line(int id, const char *line, void *arg)
{
    (void)id, (void)arg;
    snprintf(t.history[t.lines++], sizeof(t.history[0]), "%s", line);
}

static void shut_down(void)
{
    t.lines = 0;
    keygen_foreach_line(t.app.keygen, copy_line, NULL);
    keygen_close(t.app.keygen);
    if (t.server) kuard_server_close(t.server);
    t.server = NULL;
    uv_close((uv_handle_t *)&t.deadline, NULL);
    uv_close((uv_handle_t *)&t.poke, NULL);
}

static void on_exit_cb(int code, void *arg)
{
    (void)arg;
    t.exit_code = code;
    t.exits++;
    shut_down();
}

static void deadline_cb(uv_timer_t *timer)
{
    (void)timer;
    shut_down(); /* the test then fails on what did not happen */
}

static void start(void)
{
    memset(&t, 0, sizeof(t));
    t.exit_code = -1;
    uv_loop_init(&t.loop);
    t.app.version = KUARD_VERSION;
    t.app.broker = memq_broker_new(1 << 20);
    struct keygen_opts o = {.rsa_bits = 1024, .on_exit = on_exit_cb};
    t.app.keygen = keygen_new(&t.loop, &o);
    uv_timer_init(&t.loop, &t.deadline);
    uv_timer_start(&t.deadline, deadline_cb, 30000, 0);
    uv_timer_init(&t.loop, &t.poke);
}

static void finish(void)
{
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t.loop), 0);
}

static void release(void)
{
    memq_broker_free(t.app.broker);
    t.app.broker = NULL;
}

static void line_matches(int i, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int rc = i < t.lines ? regexec(&re, t.history[i], 0, NULL, 0) : -1;
    regfree(&re);
    if (rc != 0)
        fail_msg("line %d \"%s\" does not match %s", i, i < t.lines ? t.history[i] : "", pattern);
}

static void counted_workload_exits_with_code(void **state)
{
    (void)state;
    start();
    struct keygen_config c = {
        .enable = true, .num_to_gen = 3, .exit_on_complete = true, .exit_code = 4};
    keygen_load(t.app.keygen, &c);
    finish();
    assert_int_equal(t.exits, 1);
    assert_int_equal(t.exit_code, 4);
    assert_int_equal(t.lines, 5);
    line_matches(0, "^\\(ID 0\\) Workload starting$");
    line_matches(1, "^\\(ID 0 1/3\\) Item done: SHA256:[A-Za-z0-9+/]{43}$");
    line_matches(2, "^\\(ID 0 2/3\\) Item done: SHA256:[A-Za-z0-9+/]{43}$");
    line_matches(3, "^\\(ID 0 3/3\\) Item done: SHA256:[A-Za-z0-9+/]{43}$");
    line_matches(4, "^\\(ID 0\\) Workload exiting$");
    assert_string_not_equal(t.history[1], t.history[2]);
    release();
}

static void timed_workload_reports_time_left(void **state)
{
    (void)state;
    start();
    struct keygen_config c = {.enable = true, .time_to_run = 1, .exit_on_complete = true};
    keygen_load(t.app.keygen, &c);
    finish();
    assert_int_equal(t.exit_code, 0);
    /* small keys are fast: the history may hold only the last 20 of many lines */
    line_matches(t.lines - 2, "^\\(ID 0 [0-9]+/Inf (now|1 second left|[0-9]+ seconds? overdue)\\) "
                              "Item done: SHA256:");
    line_matches(t.lines - 1, "^\\(ID 0\\) Workload exiting$");
    release();
}

static void cancel_after_first_key(uv_timer_t *timer)
{
    (void)timer;
    t.lines = 0;
    keygen_foreach_line(t.app.keygen, copy_line, NULL);
    if (t.lines < 2) return; /* no key yet */
    uv_timer_stop(&t.poke);
    struct keygen_config off = {.enable = false};
    keygen_load(t.app.keygen, &off); /* cancels the running workload */
    uv_timer_start(&t.poke, (uv_timer_cb)shut_down, 300, 0);
}

static void reconfiguring_cancels_the_workload(void **state)
{
    (void)state;
    start();
    struct keygen_config c = {.enable = true, .exit_on_complete = true}; /* unlimited */
    keygen_load(t.app.keygen, &c);
    uv_timer_start(&t.poke, cancel_after_first_key, 20, 20);
    finish();
    assert_int_equal(t.exits, 0); /* a cancelled workload never exits the process */
    line_matches(t.lines - 1, "^\\(ID 0\\) Workload exiting$");
    release();
}

static void fill_queue_later(uv_timer_t *timer)
{
    (void)timer;
    memq_create(t.app.broker, "keygen");
    for (int i = 0; i < 3; i++) {
        char body[32];
        int n = snprintf(body, sizeof(body), "work-item-%d", i);
        memq_enqueue(t.app.broker, "keygen", body, (size_t)n, NULL);
    }
}

static void memq_worker_drains_queue_then_exits(void **state)
{
    (void)state;
    start();
    struct jp_err *err = NULL;
    assert_int_equal(kuard_server_start(&t.loop, &t.app, "127.0.0.1:0", &t.server, &err), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/memq/server", kuard_server_port(t.server));
    struct keygen_config c = {.enable = true,
                              .memq_server = url,
                              .memq_queue = "keygen",
                              .exit_on_complete = true,
                              .exit_code = 0};
    keygen_load(t.app.keygen, &c);
    /* the queue appears only after the worker has failed once: it must retry after 1 s */
    uv_timer_start(&t.poke, fill_queue_later, 300, 0);
    finish();
    assert_int_equal(t.exits, 1);
    assert_int_equal(t.exit_code, 0);
    line_matches(0, "^MemQ Worker starting$");
    line_matches(1,
                 "^Error talking to server: HTTP Error: 400 Bad Request\\. Retrying after 1s\\.$");
    line_matches(2, "^Item done: SHA256:[A-Za-z0-9+/]{43}$");
    line_matches(4, "^Item done: SHA256:");
    assert_int_equal(t.lines, 5);
    struct memq_msg *m = NULL;
    assert_int_equal(memq_dequeue(t.app.broker, "keygen", &m), MEMQ_EMPTY);
    release();
}

static void memq_worker_reports_unreachable_server(void **state)
{
    (void)state;
    start();
    /* port 1 on loopback: nothing listens there */
    struct keygen_config c = {.enable = true,
                              .memq_server = "http://127.0.0.1:1/memq/server",
                              .memq_queue = "keygen",
                              .exit_on_complete = true};
    keygen_load(t.app.keygen, &c);
    uv_timer_start(&t.poke, (uv_timer_cb)shut_down, 1500, 0);
    finish();
    assert_int_equal(t.exits, 0);
    line_matches(1, "^Error talking to server: Post \"http://127.0.0.1:1/memq/server/queues/keygen/"
                    "dequeue\": .*\\. Retrying after 1s\\.$");
    line_matches(t.lines - 1, "^(MemQ Worker shutting down|Error talking to server: .*)$");
    release();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counted_workload_exits_with_code),
        cmocka_unit_test(timed_workload_reports_time_left),
        cmocka_unit_test(reconfiguring_cancels_the_workload),
        cmocka_unit_test(memq_worker_drains_queue_then_exits),
        cmocka_unit_test(memq_worker_reports_unreachable_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
