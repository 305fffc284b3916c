/* The /keygen config JSON, both ways, with Go's decoding rules. */
#include "support/cm.h"
#include "kuard/keygen/config.h"

#include <string.h>

static void roundtrip(void **state)
{
    (void)state;
    struct keygen_config c;
    const char *in = "{\"enable\":true,\"numToGen\":10,\"timeToRun\":5,\"memQServer\":\"http://q\","
                     "\"memQQueue\":\"keygen\",\"exitOnComplete\":true,\"exitCode\":3}";
    assert_int_equal(keygen_config_parse(in, strlen(in), &c, NULL), 0);
    struct jp_buf out;
    jp_buf_init(&out, 4096);
    assert_int_equal(keygen_config_json(&c, &out), 0);
    assert_string_equal(out.data, in);
    jp_buf_free(&out);
    keygen_config_free(&c);
}

static void go_decoding_rules(void **state)
{
    (void)state;
    struct keygen_config c;
    /* case-insensitive keys, unknown keys ignored, null leaves zero, trailing data ignored */
    const char *in = "{\"ENABLE\":true,\"numtogen\":2,\"bogus\":[1],\"memQQueue\":null} junk";
    assert_int_equal(keygen_config_parse(in, strlen(in), &c, NULL), 0);
    assert_true(c.enable);
    assert_int_equal(c.num_to_gen, 2);
    assert_null(c.memq_queue);
    assert_false(keygen_config_uses_memq(&c));
    keygen_config_free(&c);
}

static void errors(void **state)
{
    (void)state;
    struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "EOF"},
        {"  \n", "EOF"},
        {"[1]", "json: cannot unmarshal array into Go value of type keygen.Config"},
        {"{\"numToGen\":\"10\"}",
         "json: cannot unmarshal string into Go struct field Config.numToGen of type int"},
        {"{\"numToGen\":1.5}",
         "json: cannot unmarshal number 1.5 into Go struct field Config.numToGen of type int"},
        {"{\"enable\":1}", "json: cannot unmarshal number into Go struct field Config.enable of "
                           "type bool"},
        {"{\"memQServer\":{}}",
         "json: cannot unmarshal object into Go struct field Config.memQServer of type string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct keygen_config c;
        struct jp_err *err = NULL;
        assert_int_equal(keygen_config_parse(cases[i].in, strlen(cases[i].in), &c, &err), -1);
        assert_int_equal(err->reason, JP_BAD_REQUEST);
        assert_string_equal(err->msg, cases[i].msg);
        jp_err_free(err);
    }
    struct keygen_config c;
    struct jp_err *err = NULL;
    assert_int_equal(keygen_config_parse("{\"enable\":", 10, &c, &err), -1);
    assert_memory_equal(err->msg, "invalid JSON: ", 14);
    jp_err_free(err);
    err = NULL; /* NUL is not whitespace: Go reports a syntax error, not EOF */
    assert_int_equal(keygen_config_parse("\0\0", 2, &c, &err), -1);
    assert_memory_equal(err->msg, "invalid JSON: ", 14);
    jp_err_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(go_decoding_rules),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
