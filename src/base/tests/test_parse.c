/* Checked integer and boolean parsing. */
#include "support/cm.h"
#include "base/parse.h"

#include <string.h>

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

static void durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ns;
    } ok[] = {{"0", 0},
              {"10s", 10000000000LL},
              {"6m", 360000000000LL},
              {"1m30s", 90000000000LL},
              {"500ms", 500000000},
              {"1.5h", 5400000000000LL},
              {"2us", 2000},
              {"2\xc2\xb5s", 2000},
              {"7ns", 7},
              {".5s", 500000000},
              {"0s", 0}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t ns = -1;
        assert_int_equal(jp_parse_duration(ok[i].text, &ns, NULL), 0);
        assert_int_equal(ns, ok[i].ns);
    }
    static const char *const bad[] = {"",   "10",  "s",   "-1s",           "1x",   "1..2s",
                                      ".s", "1s ", " 1s", "999999999999h", "1e3s", NULL};
    for (size_t i = 0; bad[i]; i++) {
        int64_t ns = 0;
        _cleanup_(jp_err_freep) struct jp_err *err = NULL;
        assert_int_equal(jp_parse_duration(bad[i], &ns, &err), -1);
        assert_non_null(strstr(err->msg, "duration"));
    }
    assert_int_equal(jp_parse_duration(NULL, &(int64_t){0}, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers),
        cmocka_unit_test(durations),
        cmocka_unit_test(booleans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
