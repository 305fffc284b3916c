/* The compact JSON emitter: the same text as jansson's compact dump wherever Go and jansson
 * quote alike, Go's quoting where they differ (\u0008, \u001f, \u2028), and every tree parses
 * back equal. */
#include "support/cm.h"
#include "api/emit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *emit_text(const json_t *v)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_json_emit(&b, v), 0);
    size_t len;
    return jp_buf_steal(&b, &len);
}

static void emits(const json_t *v, const char *want)
{
    char *got = emit_text(v);
    assert_string_equal(got, want);
    json_t *back = json_loads(got, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, v));
    json_decref(back);
    free(got);
}

static void the_text_of_a_pod_is_jansson_compact_dump(void **state)
{
    (void)state;
    const char *pod =
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p-\\u00e9\","
        "\"labels\":{\"job-name\":\"j\"},\"annotations\":{}},\"spec\":{\"containers\":[{\"name\":"
        "\"c\",\"command\":[\"sh\",\"-c\",\"echo \\\"a\\\\b\\\"\\n\\ttab/slash\"],\"ports\":[]}],"
        "\"terminationGracePeriodSeconds\":30,\"priority\":-7,\"hostNetwork\":false,"
        "\"preemptionPolicy\":null,\"enableServiceLinks\":true},\"status\":{\"x\":[[],{},[1,"
        "[2,{\"y\":\"\\u007f\"}]]],\"f\":0.25,\"big\":9223372036854775807,"
        "\"small\":-9223372036854775808}}";
    json_t *v = json_loads(pod, 0, NULL);
    assert_non_null(v);
    char *want = json_dumps(v, JSON_COMPACT);
    emits(v, want);
    free(want);
    json_decref(v);
}

static void control_characters_and_line_separators_are_quoted_as_go_quotes_them(void **state)
{
    (void)state;
    json_t *s = json_string("\b\f\x01 \xe2\x80\xa8\xe2\x80\xa9 \xe2\x80\xaa <&>");
    emits(s, "\"\\u0008\\u000c\\u0001 \\u2028\\u2029 \xe2\x80\xaa <&>\"");
    json_decref(s);
    /* a key with a NUL in it: jansson builds such objects but cannot parse them back */
    json_t *o = json_object();
    json_object_setn_new(o, "a\0b", 3, json_stringn("x\0y", 3));
    char *got = emit_text(o);
    assert_string_equal(got, "{\"a\\u0000b\":\"x\\u0000y\"}");
    free(got);
    json_decref(o);
}

static void numbers_keep_their_form(void **state)
{
    (void)state;
    static const struct {
        json_int_t v;
        const char *text;
    } ints[] = {{0, "0"},
                {-1, "-1"},
                {42, "42"},
                {INT64_MAX, "9223372036854775807"},
                {INT64_MIN, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_t *n = json_integer(ints[i].v);
        emits(n, ints[i].text);
        json_decref(n);
    }
    static const struct {
        double v;
        const char *text;
    } reals[] = {{3.0, "3.0"}, {1e20, "1e20"}, {-0.5, "-0.5"}, {0x1p-20, "9.5367431640625e-7"}};
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_t *n = json_real(reals[i].v);
        emits(n, reals[i].text);
        json_decref(n);
    }
    json_t *lits = json_pack("[b,b,n]", 1, 0);
    emits(lits, "[true,false,null]");
    json_decref(lits);
}

static void a_full_buffer_or_a_tree_too_deep_is_an_error(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s}", "key", "a value longer than the cap");
    struct jp_buf b;
    jp_buf_init(&b, 16);
    assert_int_equal(jp_json_emit(&b, v), -1);
    jp_buf_free(&b);
    json_decref(v);
    /* jansson parses up to 2048 levels: those are emitted, one level more is refused */
    json_t *deep = json_array();
    for (int i = 0; i < 2048; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_json_emit(&b, deep), 0);
    jp_buf_free(&b);
    json_t *deeper = json_array();
    json_array_append_new(deeper, deep);
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_json_emit(&b, deeper), -1);
    jp_buf_free(&b);
    json_decref(deeper);
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_json_emit(&b, NULL), -1);
    jp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_text_of_a_pod_is_jansson_compact_dump),
        cmocka_unit_test(control_characters_and_line_separators_are_quoted_as_go_quotes_them),
        cmocka_unit_test(numbers_keep_their_form),
        cmocka_unit_test(a_full_buffer_or_a_tree_too_deep_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
