/* RFC 3339 formatting/parsing and HumanDuration, against values Kubernetes and Go print. */
#include "support/cm.h"
#include "base/timefmt.h"

#include <string.h>

#define S(x) ((int64_t)(x)*JP_NS_PER_SEC)

static void format_variants(void **state)
{
    (void)state;
    char buf[JP_TIME_BUFLEN];
    int64_t t = S(1729473665) + 123456789; /* 2024-10-21T01:21:05.123456789Z */
    jp_time_format(buf, t, JP_TIME_SECONDS);
    assert_string_equal(buf, "2024-10-21T01:21:05Z");
    jp_time_format(buf, t, JP_TIME_MICRO);
    assert_string_equal(buf, "2024-10-21T01:21:05.123456Z");
    jp_time_format(buf, t, JP_TIME_NANO_TRIM);
    assert_string_equal(buf, "2024-10-21T01:21:05.123456789Z");
    jp_time_format(buf, S(1729473665) + 120000000, JP_TIME_NANO_TRIM);
    assert_string_equal(buf, "2024-10-21T01:21:05.12Z");
    jp_time_format(buf, S(1729473665), JP_TIME_NANO_TRIM);
    assert_string_equal(buf, "2024-10-21T01:21:05Z");
    jp_time_format(buf, S(1729473665), JP_TIME_MICRO);
    assert_string_equal(buf, "2024-10-21T01:21:05.000000Z");
    jp_time_format(buf, 0, JP_TIME_SECONDS);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    jp_time_format(buf, -1, JP_TIME_NANO_TRIM);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
    jp_time_format(buf, INT64_MAX, JP_TIME_SECONDS); /* clamps, never overflows the buffer */
    assert_int_equal(strlen(buf), 20);
}

static void parse_roundtrip_and_offsets(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(jp_time_parse("2024-10-21T01:21:05Z", &t, NULL), 0);
    assert_true(t == S(1729473665));
    assert_int_equal(jp_time_parse("2024-10-21T10:21:05+09:00", &t, NULL), 0);
    assert_true(t == S(1729473665));
    assert_int_equal(jp_time_parse("2024-10-21T01:21:05.5Z", &t, NULL), 0);
    assert_true(t == S(1729473665) + 500000000);
    assert_int_equal(jp_time_parse("2024-10-21T01:21:05.1234567891Z", &t, NULL), 0);
    assert_true(t == S(1729473665) + 123456789);
    assert_int_equal(jp_time_parse("2024-02-29T00:00:00Z", &t, NULL), 0);
    const char *bad[] = {"",
                         "2024-10-21",
                         "2024-10-21 01:21:05Z",
                         "2024-10-21T01:21:05",
                         "2024-13-01T00:00:00Z",
                         "2023-02-29T00:00:00Z",
                         "2024-10-21T24:00:00Z",
                         "2024-10-21T01:21:05.Z",
                         "2024-10-21T01:21:05Zjunk",
                         "2024-10-21T01:21:05+0900",
                         "4504-11-28T03:46:54Z", /* beyond int64 nanoseconds (found by fuzzing) */
                         "1600-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_(jp_err_freep) struct jp_err *err = NULL;
        assert_int_equal(jp_time_parse(bad[i], &t, &err), -1);
        assert_int_equal(err->reason, JP_BAD_REQUEST);
    }
}

static void human_duration_table(void **state)
{
    (void)state;
    /* Rows from apimachinery's duration_test.go cases and kubectl-protocol.md §5.4. */
    struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {S(-2), "<invalid>"},
        {-JP_NS_PER_SEC - 999999999, "0s"}, /* -1.999s truncates to -1 */
        {-1, "0s"},
        {0, "0s"},
        {S(1) - 1, "0s"},
        {S(21), "21s"},
        {S(119), "119s"},
        {S(120), "2m"},
        {S(161), "2m41s"},
        {S(599), "9m59s"},
        {S(600), "10m"},
        {S(45 * 60), "45m"},
        {S(179 * 60 + 59), "179m"},
        {S(180 * 60), "3h"},
        {S(6 * 3600 + 60), "6h1m"},
        {S(7 * 3600 + 59 * 60 + 59), "7h59m"},
        {S(8 * 3600), "8h"},
        {S(25 * 3600), "25h"},
        {S(47 * 3600 + 3599), "47h"},
        {S(48 * 3600), "2d"},
        {S(73 * 3600), "3d1h"},
        {S(72 * 3600), "3d"},
        {S(24 * 8 * 3600), "8d"},
        {S(729LL * 24 * 3600), "729d"},
        {S(730LL * 24 * 3600), "2y"},
        {S(731LL * 24 * 3600), "2y1d"},
        {S(8LL * 365 * 24 * 3600), "8y"},
        {S(100LL * 365 * 24 * 3600 + 3 * 24 * 3600), "100y"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[24];
        jp_human_duration(buf, sizeof(buf), cases[i].ns);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("case %zu: %lld ns gave %s, want %s", i, (long long)cases[i].ns, buf,
                     cases[i].want);
    }
    char tiny[3];
    assert_int_equal(jp_human_duration(tiny, sizeof(tiny), S(21)), 2);
    assert_string_equal(tiny, "21");
}

static void clocks_advance(void **state)
{
    (void)state;
    int64_t a = jp_mono_ns(), b = jp_mono_ns();
    assert_true(b >= a);
    assert_true(jp_now_ns() > S(1700000000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_variants),
        cmocka_unit_test(parse_roundtrip_and_offsets),
        cmocka_unit_test(human_duration_table),
        cmocka_unit_test(clocks_advance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
