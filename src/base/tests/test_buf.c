/* Capped buffers: growth, the cap, printf and stealing. */
#include "support/cm.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

static void append_grows_and_terminates(void **state)
{
    (void)state;
    _cleanup_buf_ struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(jp_buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3000);
    assert_int_equal(b.data[3000], '\0');
    assert_memory_equal(b.data + 2997, "abc", 3);
}

static void cap_is_enforced_exactly(void **state)
{
    (void)state;
    _cleanup_buf_ struct jp_buf b;
    jp_buf_init(&b, 10);
    assert_int_equal(jp_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(jp_buf_appendc(&b, 'x'), -1);
    assert_int_equal(b.len, 10);
    jp_buf_reset(&b);
    assert_int_equal(jp_buf_append(&b, "0123456789a", 11), -1);
    assert_int_equal(b.len, 0);
    assert_int_equal(jp_buf_append(&b, "x", SIZE_MAX), -1); /* no overflow in the check */
}

static void printf_small_and_large(void **state)
{
    (void)state;
    _cleanup_buf_ struct jp_buf b;
    jp_buf_init(&b, 4096);
    assert_int_equal(jp_buf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_string_equal(b.data, "42-x");
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(jp_buf_printf(&b, "%s", big), 0);
    assert_int_equal(b.len, 4 + 999);
    assert_int_equal(jp_buf_printf(&b, "%s%s%s%s", big, big, big, big), -1);
    assert_int_equal(b.len, 4 + 999);
}

static void steal_leaves_empty(void **state)
{
    (void)state;
    struct jp_buf b;
    jp_buf_init(&b, 100);
    jp_buf_append(&b, "hi", 2);
    size_t n;
    char *s = jp_buf_steal(&b, &n);
    assert_int_equal(n, 2);
    assert_string_equal(s, "hi");
    assert_null(b.data);
    free(s);
    s = jp_buf_steal(&b, &n); /* stealing an empty buffer gives an empty string, not NULL */
    assert_string_equal(s, "");
    free(s);
    jp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_grows_and_terminates),
        cmocka_unit_test(cap_is_enforced_exactly),
        cmocka_unit_test(printf_small_and_large),
        cmocka_unit_test(steal_leaves_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
