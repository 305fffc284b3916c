/* kuard's flags, parsed like pflag: both value forms, booleans, errors with pflag's wording. */
#include "support/cm.h"
#include "kuard/flags.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static enum kuard_flags_result parse(struct kuard_config *c, struct jp_err **err, int argc, ...)
{
    char *argv[32] = {"kuard"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return kuard_flags_parse(argc, argv, c, err);
}

static void defaults(void **state)
{
    (void)state;
    struct kuard_config c;
    assert_int_equal(parse(&c, NULL, 1), KUARD_FLAGS_OK);
    assert_string_equal(c.address, ":8080");
    assert_false(c.keygen.enable);
    assert_int_equal(c.keygen.num_to_gen, 0);
    assert_string_equal(c.keygen.memq_server, "");
    assert_string_equal(c.tls_dir, "/tls");
    kuard_config_free(&c);
}

static void chapter_flags(void **state)
{
    (void)state;
    struct kuard_config c;
    assert_int_equal(parse(&c, NULL, 4, "--keygen-enable", "--keygen-exit-on-complete",
                           "--keygen-num-to-gen=10"),
                     KUARD_FLAGS_OK);
    assert_true(c.keygen.enable);
    assert_true(c.keygen.exit_on_complete);
    assert_int_equal(c.keygen.num_to_gen, 10);
    kuard_config_free(&c);
    assert_int_equal(parse(&c, NULL, 5, "--keygen-enable", "--keygen-exit-on-complete",
                           "--keygen-memq-server=http://queue:8080/memq/server",
                           "--keygen-memq-queue=keygen"),
                     KUARD_FLAGS_OK);
    assert_string_equal(c.keygen.memq_server, "http://queue:8080/memq/server");
    assert_string_equal(c.keygen.memq_queue, "keygen");
    assert_true(keygen_config_uses_memq(&c.keygen));
    kuard_config_free(&c);
}

static void separate_values_and_booleans(void **state)
{
    (void)state;
    struct kuard_config c;
    /* a bool never takes the next argument: "false" here is a positional, ignored */
    assert_int_equal(parse(&c, NULL, 8, "--address", "127.0.0.1:9", "--keygen-num-to-gen", "0x10",
                           "--keygen-enable", "false", "--keygen-exit-code=-3"),
                     KUARD_FLAGS_OK);
    assert_string_equal(c.address, "127.0.0.1:9");
    assert_int_equal(c.keygen.num_to_gen, 16);
    assert_true(c.keygen.enable);
    assert_int_equal(c.keygen.exit_code, -3);
    kuard_config_free(&c);
    assert_int_equal(parse(&c, NULL, 3, "--keygen-enable=true", "--keygen-enable=F"),
                     KUARD_FLAGS_OK);
    assert_false(c.keygen.enable);
    kuard_config_free(&c);
    /* "--" ends flags: the rest is positional */
    assert_int_equal(parse(&c, NULL, 3, "--", "--bogus"), KUARD_FLAGS_OK);
    kuard_config_free(&c);
    /* the last occurrence wins, and repeated strings don't leak (ASan checks) */
    assert_int_equal(parse(&c, NULL, 3, "--address=:1", "--address=:2"), KUARD_FLAGS_OK);
    assert_string_equal(c.address, ":2");
    kuard_config_free(&c);
}

static void errors(void **state)
{
    (void)state;
    struct {
        const char *args[3];
        int argc;
        const char *msg;
    } cases[] = {
        {{"--bogus"}, 2, "unknown flag: --bogus"},
        {{"--bogus=1"}, 2, "unknown flag: --bogus"},
        {{"-x"}, 2, "unknown shorthand flag: 'x' in -x"},
        {{"--address"}, 2, "flag needs an argument: --address"},
        {{"--keygen-num-to-gen=ten"},
         2,
         "invalid argument \"ten\" for \"--keygen-num-to-gen\" flag: invalid number \"ten\""},
        {{"--keygen-num-to-gen", ""},
         3,
         "invalid argument \"\" for \"--keygen-num-to-gen\" flag: empty number"},
        {{"--keygen-enable=yes"},
         2,
         "invalid argument \"yes\" for \"--keygen-enable\" flag: invalid boolean \"yes\""},
        {{"---x"}, 2, "bad flag syntax: ---x"},
        {{"--=x"}, 2, "bad flag syntax: --=x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[4] = {"kuard", (char *)cases[i].args[0], (char *)cases[i].args[1], NULL};
        struct kuard_config c;
        struct jp_err *err = NULL;
        assert_int_equal(kuard_flags_parse(cases[i].argc, argv, &c, &err), KUARD_FLAGS_ERROR);
        assert_string_equal(err->msg, cases[i].msg);
        jp_err_free(err);
        kuard_config_free(&c);
    }
}

static void help(void **state)
{
    (void)state;
    struct kuard_config c;
    assert_int_equal(parse(&c, NULL, 2, "-h"), KUARD_FLAGS_HELP);
    kuard_config_free(&c);
    assert_int_equal(parse(&c, NULL, 3, "--keygen-enable", "--help"), KUARD_FLAGS_HELP);
    kuard_config_free(&c);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    kuard_flags_usage(f, "kuard");
    fclose(f);
    assert_non_null(strstr(text, "Usage of kuard:\n"));
    assert_non_null(strstr(text, "--address string"));
    assert_non_null(strstr(text, "(default \":8080\")"));
    assert_non_null(strstr(text, "--keygen-num-to-gen int"));
    free(text);
}

static void config_dump_is_nested_json(void **state)
{
    (void)state;
    struct kuard_config c;
    assert_int_equal(parse(&c, NULL, 3, "--keygen-enable", "--keygen-memq-queue=a\"b"),
                     KUARD_FLAGS_OK);
    char *dump = kuard_config_dump(&c);
    json_t *doc = json_loads(dump, 0, NULL);
    assert_non_null(doc);
    assert_true(json_is_true(json_object_get(json_object_get(doc, "keygen"), "enable")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "keygen"), "memq-queue")), "a\"b");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "liveness"), "fail-next")), 0);
    assert_string_equal(json_string_value(json_object_get(doc, "address")), ":8080");
    json_decref(doc);
    free(dump);
    kuard_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(chapter_flags),
        cmocka_unit_test(separate_values_and_booleans),
        cmocka_unit_test(errors),
        cmocka_unit_test(help),
        cmocka_unit_test(config_dump_is_nested_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
