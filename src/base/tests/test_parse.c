/* Checked integer and boolean parsing. */
#include "support/cm.h"
#include "base/parse.h"

static int64_t ok(const char *s, int base)
{
    int64_t v = -12345;
    struct jp_err *err = NULL;
    assert_int_equal(jp_parse_int(s, base, INT64_MIN, INT64_MAX, &v, &err), 0);
    assert_null(err);
    return v;
}

static void bad(const char *s, int base, int64_t min, int64_t max)
{
    int64_t v = 7;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    assert_int_equal(jp_parse_int(s, base, min, max, &v, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->reason, JP_BAD_REQUEST);
    assert_int_equal(v, 7); /* untouched on failure */
}

static void integers(void **state)
{
    (void)state;
    assert_int_equal(ok("0", 10), 0);
    assert_int_equal(ok("-42", 10), -42);
    assert_int_equal(ok("+42", 10), 42);
    assert_int_equal(ok("9223372036854775807", 10), INT64_MAX);
    assert_int_equal(ok("0x1f", 0), 31);
    assert_int_equal(ok("010", 0), 8);
    assert_int_equal(ok("010", 10), 10);
    bad("", 10, INT64_MIN, INT64_MAX);
    bad(NULL, 10, INT64_MIN, INT64_MAX);
    bad(" 1", 10, INT64_MIN, INT64_MAX);
    bad("1 ", 10, INT64_MIN, INT64_MAX);
    bad("1x", 10, INT64_MIN, INT64_MAX);
    bad("0x", 0, INT64_MIN, INT64_MAX);
    bad("-", 10, INT64_MIN, INT64_MAX);
    bad("9223372036854775808", 10, INT64_MIN, INT64_MAX);
    bad("-9223372036854775809", 10, INT64_MIN, INT64_MAX);
    bad("256", 10, 0, 255);
    bad("-1", 10, 0, 255);
}

static void booleans(void **state)
{
    (void)state;
    const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    const char *no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        bool b = false;
        assert_int_equal(jp_parse_bool(yes[i], &b, NULL), 0);
        assert_true(b);
        assert_int_equal(jp_parse_bool(no[i], &b, NULL), 0);
        assert_false(b);
    }
    bool b = true;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    assert_int_equal(jp_parse_bool("yes", &b, &err), -1);
    assert_string_equal(err->msg, "invalid boolean \"yes\"");
    assert_int_equal(jp_parse_bool("tRUE", &b, NULL), -1);
    assert_int_equal(jp_parse_bool("", &b, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers),
        cmocka_unit_test(booleans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
