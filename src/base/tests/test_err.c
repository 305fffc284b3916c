/* Error values: first cause wins, wrapping adds context, reasons map to Kubernetes codes. */
#include "support/cm.h"
#include "base/err.h"

#include <errno.h>
#include <string.h>

static void set_and_wrap(void **state)
{
    (void)state;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    assert_int_equal(jp_err_set(&err, JP_NOT_FOUND, 0, "queue \"%s\" not found", "a"), -1);
    assert_int_equal(jp_err_set(&err, JP_INTERNAL, 0, "later"), -1); /* first cause wins */
    jp_err_wrap(&err, "sync job %s/%s", "ns", "j");
    assert_string_equal(err->msg, "sync job ns/j: queue \"a\" not found");
    assert_int_equal(err->reason, JP_NOT_FOUND);
}

static void null_err_is_allowed(void **state)
{
    (void)state;
    assert_int_equal(jp_err_set(NULL, JP_INVALID, 0, "x"), -1);
    assert_int_equal(jp_err_wrap(NULL, "y"), -1);
}

static void sys_error_keeps_errno(void **state)
{
    (void)state;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    errno = ENOENT;
    jp_err_sys(&err, "open %s", "/nope");
    assert_int_equal(err->sys_errno, ENOENT);
    assert_string_equal(err->msg, "open /nope: No such file or directory");
    assert_int_equal(errno, ENOENT);
}

static void newline_in_message_is_flattened(void **state)
{
    (void)state;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    jp_err_set(&err, JP_BAD_REQUEST, 0, "bad %s", "a\nb");
    assert_string_equal(err->msg, "bad a b");
}

static void reasons_match_kubernetes(void **state)
{
    (void)state;
    struct {
        enum jp_reason r;
        const char *name;
        int code;
    } want[] = {
        {JP_BAD_REQUEST, "BadRequest", 400}, {JP_UNAUTHORIZED, "Unauthorized", 401},
        {JP_NOT_FOUND, "NotFound", 404},     {JP_ALREADY_EXISTS, "AlreadyExists", 409},
        {JP_CONFLICT, "Conflict", 409},      {JP_EXPIRED, "Expired", 410},
        {JP_INVALID, "Invalid", 422},        {JP_TOO_LARGE, "RequestEntityTooLarge", 413},
        {JP_INTERNAL, "InternalError", 500}, {JP_METHOD_NOT_ALLOWED, "MethodNotAllowed", 405},
        {JP_TIMEOUT, "Timeout", 504},        {JP_SERVICE_UNAVAILABLE, "ServiceUnavailable", 503},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(jp_reason_name(want[i].r), want[i].name);
        assert_int_equal(jp_reason_http_code(want[i].r), want[i].code);
    }
    for (int r = 0; r < JP_REASON_COUNT; r++)
        assert_non_null(jp_reason_name((enum jp_reason)r));
    assert_string_equal(jp_reason_name((enum jp_reason)999), "InternalError");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_and_wrap),
        cmocka_unit_test(null_err_is_allowed),
        cmocka_unit_test(sys_error_keeps_errno),
        cmocka_unit_test(newline_in_message_is_flattened),
        cmocka_unit_test(reasons_match_kubernetes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
