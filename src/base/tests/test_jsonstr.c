/* JSON quoting against what Go's encoding/json produces for the same bytes. */
#include "support/cm.h"
#include "base/jsonstr.h"

#include <string.h>

static void check(const char *in, size_t n, unsigned flags, const char *want)
{
    _cleanup_buf_ struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    assert_int_equal(jp_json_quote(&b, in, n, flags), 0);
    if (strcmp(b.data, want) != 0) fail_msg("got %s want %s", b.data, want);
}

static void matches_go(void **state)
{
    (void)state;
    check("work-item-0", 11, JP_JSON_HTML_ESCAPE, "\"work-item-0\"");
    check("", 0, 0, "\"\"");
    check("a\"b\\c", 5, 0, "\"a\\\"b\\\\c\"");
    check("\n\r\t\b\f\x01\x1f", 7, 0, "\"\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\"");
    check("<a&b>", 5, JP_JSON_HTML_ESCAPE, "\"\\u003ca\\u0026b\\u003e\"");
    check("<a&b>", 5, 0, "\"<a&b>\"");
    check("a\0b", 3, 0, "\"a\\u0000b\"");
    check("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, 0,
          "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
    check("\xe2\x80\xa8\xe2\x80\xa9", 6, 0, "\"\\u2028\\u2029\"");
    /* invalid UTF-8: one \ufffd per bad byte, like Go's DecodeRune */
    check("\xff", 1, 0, "\"\\ufffd\"");
    check("a\xc3", 2, 0, "\"a\\ufffd\"");                                /* truncated */
    check("\xc0\xaf", 2, 0, "\"\\ufffd\\ufffd\"");                       /* overlong */
    check("\xed\xa0\x80", 3, 0, "\"\\ufffd\\ufffd\\ufffd\"");            /* surrogate */
    check("\xf4\x90\x80\x80", 4, 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    check("\xe2\x82", 2, 0, "\"\\ufffd\\ufffd\"");
}

static void utf8_lengths(void **state)
{
    (void)state;
    assert_int_equal(jp_utf8_seq_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(jp_utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(jp_utf8_seq_len((const unsigned char *)"\xc3\xa9", 1), 0);
    assert_int_equal(jp_utf8_seq_len((const unsigned char *)"\xef\xbf\xbf", 3), 3);
    assert_int_equal(jp_utf8_seq_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
    assert_int_equal(jp_utf8_seq_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(jp_utf8_seq_len((const unsigned char *)"\xf5\x80\x80\x80", 4), 0);
}

static void cap_is_reported(void **state)
{
    (void)state;
    _cleanup_buf_ struct jp_buf b;
    jp_buf_init(&b, 8);
    assert_int_equal(jp_json_quote(&b, "\x01\x01", 2, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_go),
        cmocka_unit_test(utf8_lengths),
        cmocka_unit_test(cap_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
