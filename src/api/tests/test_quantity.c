/* resource.Quantity as the kubelet prints it in "exceeds the limit" messages (Quantity.String():
 * the parsed text when Kubernetes keeps it, else the canonical form) and the values it uses. */
#include "support/cm.h"
#include "api/quantity.h"

#include <string.h>

static void string_of(const char *text, const char *want)
{
    char buf[64];
    bool ok = jp_quantity_string(text, buf, sizeof(buf));
    if (want == NULL) {
        assert_false(ok);
        return;
    }
    assert_true(ok);
    assert_string_equal(buf, want);
}

static void test_binary(void **state)
{
    (void)state;
    string_of("1Mi", "1Mi");
    string_of("1024Ki", "1Mi");
    string_of("2048Ki", "2Mi");
    string_of("8Mi", "8Mi");
    string_of("1536Ki", "1536Ki");
    string_of("1.5Gi", "1536Mi");
    string_of("0.5Ki", "512");               /* below 1024: printed as DecimalSI */
    string_of("1.1Ki", "1126400m");          /* not whole: DecimalSI, nothing lost */
    string_of("01Mi", "01Mi");               /* Kubernetes keeps this text as it came */
    string_of("8Ei", "9223372036854775807"); /* capped at the largest int64 */
}

static void test_decimal(void **state)
{
    (void)state;
    string_of("1048576", "1048576");
    string_of("1000000", "1M");
    string_of("1500000", "1500k");
    string_of("100m", "100m");
    string_of("1.5", "1500m");
    string_of("0.1", "100m");
    string_of("0", "0");
    string_of("+1k", "+1k");
    string_of("0.0000000001", "1n"); /* rounded up to the nano */
    string_of("10E", "10E");
}

static void test_exponent(void **state)
{
    (void)state;
    string_of("1e3", "1e3");
    string_of("12e6", "12e6");
    string_of("1e4", "10e3");
    string_of("1000e3", "1e6");
    string_of("1.5e6", "1500e3");
}

static void test_not_quantities(void **state)
{
    (void)state;
    string_of("", NULL);
    string_of("abc", NULL);
    string_of("1Q", NULL);
    string_of("1.5.5", NULL);
    string_of("Mi", NULL);
    string_of("1e", NULL);
    string_of("99999999999999999999999", NULL); /* more than this code holds */
}

static void test_values(void **state)
{
    (void)state;
    struct jp_quantity q;
    assert_true(jp_quantity_parse("1.5Gi", &q));
    assert_int_equal(jp_quantity_value(&q), 1610612736);
    assert_int_equal(jp_quantity_trunc(&q), 1610612736);
    assert_true(jp_quantity_parse("100m", &q));
    assert_int_equal(jp_quantity_value(&q), 1);
    assert_int_equal(jp_quantity_trunc(&q), 0);
    assert_true(jp_quantity_parse("1.5", &q));
    assert_int_equal(jp_quantity_value(&q), 2);
    assert_int_equal(jp_quantity_trunc(&q), 1);
    assert_true(jp_quantity_parse("10E", &q));
    assert_int_equal(jp_quantity_value(&q), INT64_MAX);
    assert_true(jp_quantity_parse("-1Mi", &q));
    assert_true(q.neg);
    assert_int_equal(jp_quantity_value(&q), -1048576);

    char text[32];
    json_t *n = json_integer(1048576);
    assert_true(jp_quantity_json(n, &q, text, sizeof(text)));
    assert_string_equal(text, "1048576");
    assert_int_equal(jp_quantity_value(&q), 1048576);
    json_decref(n);
    json_t *s = json_string("1234567890123456789012345678901234567890");
    assert_false(jp_quantity_json(s, &q, text, sizeof(text))); /* does not fit: not read */
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),   cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_exponent), cmocka_unit_test(test_not_quantities),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
