/* The CRI log reader: full and partial records, timestamps only at line starts, sinceTime,
 * incomplete and torn records, and tail. */
#include "support/cm.h"
#include "agent/cri.h"

#include <string.h>

static char *render_all(const char *data, const struct jp_log_opts *o, size_t *used)
{
    struct jp_cri_render r = {o, false};
    struct jp_buf out;
    jp_buf_init(&out, SIZE_MAX);
    *used = jp_cri_render(&r, data, strlen(data), &out);
    jp_buf_appendc(&out, '\0');
    return jp_buf_steal(&out, NULL);
}

static const char LOG[] = "2026-11-28T03:46:53.1Z stdout F first\n"
                          "2026-11-28T03:46:54.2Z stderr P par\n"
                          "2026-11-28T03:46:54.3Z stderr F tial\n"
                          "2026-11-28T03:46:55Z stdout F \n"
                          "2026-11-28T03:46:56Z stdout F last";

static void test_full_and_partial_records(void **state)
{
    (void)state;
    struct jp_log_opts o = {.tail_lines = -1};
    size_t used;
    char *s = render_all(LOG, &o, &used);
    assert_string_equal(s, "first\npartial\n\n");
    /* the last record has no newline yet: it is left for the next read */
    assert_int_equal(used, strlen(LOG) - strlen("2026-11-28T03:46:56Z stdout F last"));
    free(s);
}

static void test_timestamps_only_start_lines(void **state)
{
    (void)state;
    struct jp_log_opts o = {.timestamps = true, .tail_lines = -1};
    size_t used;
    char *s = render_all(LOG, &o, &used);
    assert_string_equal(s, "2026-11-28T03:46:53.1Z first\n"
                           "2026-11-28T03:46:54.2Z partial\n"
                           "2026-11-28T03:46:55Z \n");
    free(s);
}

static void test_since_skips_older_records(void **state)
{
    (void)state;
    struct jp_log_opts o = {.tail_lines = -1};
    o.since_ns = 1795837614LL * 1000000000LL + 250000000LL; /* 2026-11-28T03:46:54.25Z */
    size_t used;
    char *s = render_all(LOG, &o, &used);
    assert_string_equal(s, "tial\n\n");
    free(s);
}

static void test_torn_records_are_skipped(void **state)
{
    (void)state;
    struct jp_log_opts o = {.tail_lines = -1};
    size_t used;
    char *s = render_all("garbage\n\nno-tag \n2026-11-28T03:46:53Z stdout F ok\n", &o, &used);
    assert_string_equal(s, "ok\n");
    free(s);
}

static void tail_of(const char *in, int64_t n, const char *want)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_buf_append(&b, in, strlen(in));
    jp_cri_tail(&b, n);
    jp_buf_appendc(&b, '\0');
    assert_string_equal(b.data, want);
    jp_buf_free(&b);
}

static void test_tail(void **state)
{
    (void)state;
    tail_of("a\nb\nc\n", 2, "b\nc\n");
    tail_of("a\nb\nc\n", 5, "a\nb\nc\n");
    tail_of("a\nb\nc\n", -1, "a\nb\nc\n");
    tail_of("a\nb\nc\n", 0, "");
    tail_of("a\nb\nc", 1, "c");
    tail_of("", 3, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_partial_records),
        cmocka_unit_test(test_timestamps_only_start_lines),
        cmocka_unit_test(test_since_skips_older_records),
        cmocka_unit_test(test_torn_records_are_skipped),
        cmocka_unit_test(test_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
