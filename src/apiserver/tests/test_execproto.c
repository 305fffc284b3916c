/* pods/exec's pure parts: repeated command arguments in order, first-wins options and the API
 * server's reading of booleans, the kubelet's option checks, resize messages, and the final
 * Status on the error stream per protocol version (what makes kubectl exit with the code). */
#include "support/cm.h"
#include "apiserver/execproto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void add_all(struct jp_exec_opts *o, const char *const *kv, size_t n)
{
    const char *err = NULL;
    for (size_t i = 0; i + 1 < n; i += 2)
        assert_int_equal(jp_exec_opts_add(o, kv[i], kv[i + 1], &err), 0);
}

static void test_repeated_command_in_order(void **state)
{
    (void)state;
    struct jp_exec_opts o = {0};
    const char *kv[] = {"command",   "sh",        "stdout",  "true",    "command",
                        "-c",        "container", "main",    "command", "echo hi; exit 3",
                        "container", "other",     "unknown", "x",       "command",
                        NULL};
    add_all(&o, kv, sizeof(kv) / sizeof(kv[0]));
    assert_int_equal(o.ncommand, 4);
    assert_string_equal(o.command[0], "sh");
    assert_string_equal(o.command[1], "-c");
    assert_string_equal(o.command[2], "echo hi; exit 3");
    assert_string_equal(o.command[3], ""); /* a bare key is an empty argument */
    assert_null(o.command[4]);
    assert_string_equal(o.container, "main"); /* the first value counts */
    assert_true(o.stdout_);
    assert_false(o.stdin_);
    assert_null(jp_exec_opts_check(&o));
    jp_exec_opts_free(&o);
}

static void test_booleans(void **state)
{
    (void)state;
    struct jp_exec_opts o = {0};
    const char *kv[] = {"stdin", "1", "stdout", "FALSE", "stderr",  "",
                        "tty",   "0", "stdout", "true",  "command", "true"};
    add_all(&o, kv, sizeof(kv) / sizeof(kv[0]));
    assert_true(o.stdin_);
    assert_false(o.stdout_); /* the second stdout is ignored */
    assert_true(o.stderr_);  /* an empty value is true for the API server's conversion */
    assert_false(o.tty);
    jp_exec_opts_free(&o);
    const char *kv2[] = {"tty", "true", "stderr", "true", "stdout", "true", "command", "sh"};
    add_all(&o, kv2, sizeof(kv2) / sizeof(kv2[0]));
    assert_null(jp_exec_opts_check(&o));
    assert_false(o.stderr_); /* a terminal has no stderr of its own */
    jp_exec_opts_free(&o);
}

static void test_checks(void **state)
{
    (void)state;
    struct jp_exec_opts o = {0};
    const char *kv[] = {"command", "ls"};
    add_all(&o, kv, 2);
    assert_string_equal(jp_exec_opts_check(&o),
                        "you must specify at least 1 of stdin, stdout, stderr");
    jp_exec_opts_free(&o);
    const char *kv2[] = {"stdout", "true"};
    add_all(&o, kv2, 2);
    assert_string_equal(jp_exec_opts_check(&o),
                        "you must specify at least one command for the container");
    jp_exec_opts_free(&o);
    /* caps */
    const char *err = NULL;
    char *big = malloc(JP_EXEC_MAX_BYTES + 2);
    memset(big, 'a', JP_EXEC_MAX_BYTES + 1);
    big[JP_EXEC_MAX_BYTES + 1] = '\0';
    assert_int_equal(jp_exec_opts_add(&o, "command", big, &err), -1);
    assert_string_equal(err, "the command is too long");
    free(big);
    for (int i = 0; i < JP_EXEC_MAX_ARGS; i++)
        assert_int_equal(jp_exec_opts_add(&o, "command", "x", &err), 0);
    assert_int_equal(jp_exec_opts_add(&o, "command", "x", &err), -1);
    jp_exec_opts_free(&o);
}

static void test_resize(void **state)
{
    (void)state;
    uint16_t w = 1, h = 1;
#define R(s) jp_exec_resize_parse(s, strlen(s), &w, &h)
    assert_int_equal(R("{\"Width\":132,\"Height\":43}"), 0);
    assert_int_equal(w, 132);
    assert_int_equal(h, 43);
    assert_int_equal(R("{\"height\":7,\"WIDTH\":9,\"other\":[1]}"), 0);
    assert_int_equal(w, 9);
    assert_int_equal(h, 7);
    assert_int_equal(R("{}"), 0);
    assert_int_equal(w, 0);
    assert_int_equal(R("{\"Width\":65536,\"Height\":1}"), -1);
    assert_int_equal(R("{\"Width\":-1,\"Height\":1}"), -1);
    assert_int_equal(R("{\"Width\":8.5,\"Height\":1}"), -1);
    assert_int_equal(R("{\"Width\":\"80\"}"), -1);
    assert_int_equal(R("[80,24]"), -1);
    assert_int_equal(R("{\"Width\":80"), -1);
    assert_int_equal(R(""), -1);
#undef R
}

static char *status(int version, enum jp_exec_end end, int code, const char *msg)
{
    char *argv[] = {"sh", "-c", "echo <hi>; exit 3", NULL};
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_exec_status(&b, version, end, code, msg, argv, 3), 0);
    jp_buf_appendc(&b, '\0');
    return b.data;
}

static void test_status(void **state)
{
    (void)state;
    char *s = status(4, JP_EXEC_SUCCESS, 0, NULL);
    assert_string_equal(s, "{\"metadata\":{},\"status\":\"Success\"}");
    free(s);
    s = status(4, JP_EXEC_EXITED, 3, NULL);
    assert_string_equal(
        s, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
           "exit code: error executing command [sh -c echo \\u003chi\\u003e; exit 3], exit code "
           "3\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\","
           "\"message\":\"3\"}]}}");
    json_t *doc = json_loads(s, 0, NULL);
    assert_non_null(doc);
    json_decref(doc);
    free(s);
    s = status(4, JP_EXEC_INTERNAL, 0, "container \"c\" is \\ gone");
    assert_string_equal(s, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error "
                           "occurred: container \\\"c\\\" is \\\\ gone\",\"reason\":"
                           "\"InternalError\",\"details\":{\"causes\":[{\"message\":\"container "
                           "\\\"c\\\" is \\\\ gone\"}]},\"code\":500}");
    free(s);
    /* older protocols: the message alone, nothing on success */
    s = status(3, JP_EXEC_SUCCESS, 0, NULL);
    assert_string_equal(s, "");
    free(s);
    s = status(2, JP_EXEC_EXITED, 137, NULL);
    assert_string_equal(s, "command terminated with non-zero exit code: error executing command "
                           "[sh -c echo <hi>; exit 3], exit code 137");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated_command_in_order),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
