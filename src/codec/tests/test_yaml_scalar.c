/* go-yaml v2's YAML 1.1 scalars as kubectl sees them: nulls, booleans, integers, floats, strings,
 * block scalars, keys turned into strings, and explicit tags. */
#include "support/cm.h"
#include "codec/tests/expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void plain_nulls_and_bools(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        {"", "null"},       {"~", "null"},
        {"null", "null"},   {"Null", "null"},
        {"NULL", "null"},   {"nULL", "\"nULL\""},
        {"y", "true"},      {"Y", "true"},
        {"yes", "true"},    {"Yes", "true"},
        {"YES", "true"},    {"true", "true"},
        {"True", "true"},   {"TRUE", "true"},
        {"on", "true"},     {"On", "true"},
        {"ON", "true"},     {"n", "false"},
        {"N", "false"},     {"no", "false"},
        {"No", "false"},    {"NO", "false"},
        {"false", "false"}, {"False", "false"},
        {"FALSE", "false"}, {"off", "false"},
        {"Off", "false"},   {"OFF", "false"},
        {"yEs", "\"yEs\""}, {"tRUE", "\"tRUE\""},
        {"t", "\"t\""},     {"f", "\"f\""},
        {"~x", "\"~x\""},   {"yes no", "\"yes no\""},
    };
    expect_values(cases, N(cases));
}

static void plain_integers(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        {"0", "0"},
        {"-0", "0"},
        {"10", "10"},
        {"+10", "10"},
        {"-10", "-10"},
        {"0x1F", "31"},
        {"0X1f", "31"},
        {"-0x10", "-16"},
        {"0o17", "15"},
        {"0O17", "15"},
        {"0777", "511"},
        {"-0777", "-511"},
        {"00", "0"},
        {"0b1010", "10"},
        {"-0b101", "-5"},
        {"1_000", "1000"},
        {"1__0_0", "100"},
        {"0x_ff", "255"},
        {"-1_0", "-10"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"0x7FFFFFFFFFFFFFFF", "9223372036854775807"},
        /* beyond int64: go-yaml gives uint64 or float64; jansson holds a double */
        {"9223372036854775808", "9223372036854775808.0"},
        {"18446744073709551615", "18446744073709551615.0"},
        {"0xFFFFFFFFFFFFFFFF", "18446744073709551615.0"},
        {"-9223372036854775809", "-9223372036854775808"}, /* the float -2^63 */
        {"99999999999999999999999", "1e23"},
        /* sigs.k8s.io/yaml's go-yaml fork makes a big.Int of what is beyond uint64 */
        {"0x10000000000000000", "18446744073709551616.0"},
        {"0x1_0000_0000_0000_0000", "18446744073709551616.0"},
        {"0b11111111111111111111111111111111111111111111111111111111111111111",
         "36893488147419103231.0"},
        {"-0x10000000000000000", "\"-0x10000000000000000\""}, /* ParseUint takes no sign */
        {"0x10000000000000000G", "\"0x10000000000000000G\""},
        /* not numbers */
        {"0x", "\"0x\""},
        {"0b", "\"0b\""},
        {"0b102", "\"0b102\""},
        {"0xG", "\"0xG\""},
        {"_1", "\"_1\""},
        {"1,000", "\"1,000\""},
        {"--1", "\"--1\""},
        {"+", "\"+\""},
        {"-x", "\"-x\""},
        {"12abc", "\"12abc\""},
        {"1:20", "\"1:20\""}, /* go-yaml v2 has no base-60 */
        {"2001-12-14", "\"2001-12-14\""},
        {"2001-12-14t21:59:43.10-05:00", "\"2001-12-14t21:59:43.10-05:00\""},
        {"1.2.3", "\"1.2.3\""},
        {"v1", "\"v1\""},
    };
    expect_values(cases, N(cases));
}

static void plain_floats(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        {"1.5", "1.5"},
        {"-1.5", "-1.5"},
        {"+1.5", "1.5"},
        {".5", "0.5"},
        {"-.5", "-0.5"},
        {"+.5", "0.5"},
        {"-1.5e-3", "-0.0015"},
        {"1.5E+3", "1500"},
        {"2.5e3", "2500"},
        {"1_000.5", "1000.5"},
        {".5e1", "5"},
        {"1e-400", "0"}, /* underflow is zero, as in strconv.ParseFloat */
        /* integral floats are integers in JSON, as after json.Marshal */
        {"1e3", "1000"},
        {"1.0", "1"},
        {"1.", "1"},
        {"08", "8"}, /* not octal, so go-yaml's float rule takes it */
        {"-0.0", "0"},
        {"1e21", "1e21"},
        {"1e300", "1e300"},
        /* not floats */
        {"1e400", "\"1e400\""}, /* overflow: ParseFloat fails, so a string */
        {".", "\".\""},
        {".e5", "\".e5\""},
        {"._5", "\"._5\""},
        {"1e", "\"1e\""},
        {"1.5f", "\"1.5f\""},
        {".nan.", "\".nan.\""},
        {"-.nan", "\"-.nan\""},
        {"inf", "\"inf\""},
        {"nan", "\"nan\""},
        {"0x1p3", "\"0x1p3\""},
    };
    expect_values(cases, N(cases));
}

static void nan_and_infinity_fail(void **state)
{
    (void)state;
    expect_error("a: .inf\n",
                 "yaml: line 1, column 4: .inf cannot be represented in JSON (json: unsupported "
                 "value: +Inf)");
    expect_error("a:\n- -.Inf\n",
                 "yaml: line 2, column 3: -.Inf cannot be represented in JSON (json: unsupported "
                 "value: -Inf)");
    expect_error("a: .NaN\n", "yaml: line 1, column 4: .NaN cannot be represented in JSON (json: "
                              "unsupported value: NaN)");
    static const char *const others[] = {".INF", "+.inf", "+.Inf", ".nan", ".NAN", "-.INF"};
    for (size_t i = 0; i < N(others); i++) {
        char *yaml = NULL;
        assert_true(asprintf(&yaml, "- %s", others[i]) > 0);
        expect_error(yaml, "yaml: line 1, column 3: *");
        free(yaml);
    }
    expect_json("a: \".inf\"\nb: !!str .nan\n", "{\"a\":\".inf\",\"b\":\".nan\"}");
    /* a big.Int beyond what a double holds (a decimal one would be a float, and overflow) */
    char *yaml = malloc(300);
    memcpy(yaml, "a: 0x1", 6);
    memset(yaml + 6, '0', 280);
    yaml[286] = '\0';
    char want[160];
    snprintf(want, sizeof(want),
             "yaml: line 1, column 4: integer 0x1%.57s... is too large for a JSON number here",
             yaml + 6);
    expect_error(yaml, want);
    free(yaml);
}

static void quoted_and_block_scalars_are_strings(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        {"\"10\"", "\"10\""},
        {"'10'", "\"10\""},
        {"\"yes\"", "\"yes\""},
        {"'no'", "\"no\""},
        {"\"\"", "\"\""},
        {"''", "\"\""},
        {"\"~\"", "\"~\""},
        {"'null'", "\"null\""},
        {"\"1.5\"", "\"1.5\""},
        {"\".inf\"", "\".inf\""},
        {"'it''s'", "\"it's\""},
        {"\"tab\\there\\n\"", "\"tab\\there\\n\""},
        {"\"\\u00e9\\x41\"", "\"\xC3\xA9"
                             "A\""},
        {"\"nul\\0inside\"", "\"nul\\u0000inside\""},
        {"héllo wörld", "\"héllo wörld\""},
        {"a b  c", "\"a b  c\""},
        {"http://queue:8080/memq/server", "\"http://queue:8080/memq/server\""},
        {"--keygen-num-to-gen=10", "\"--keygen-num-to-gen=10\""},
        {"gcr.io/kuar-demo/kuard-amd64:blue", "\"gcr.io/kuar-demo/kuard-amd64:blue\""},
        {"|\n  10\n", "\"10\\n\""},
        {">\n  yes\n", "\"yes\\n\""},
    };
    expect_values(cases, N(cases));
}

static void block_scalars(void **state)
{
    (void)state;
    expect_json("a: |\n  one\n  two\n\n\nb: 1\n", "{\"a\":\"one\\ntwo\\n\",\"b\":1}");
    expect_json("a: |-\n  one\n  two\n\n\nb: 1\n", "{\"a\":\"one\\ntwo\",\"b\":1}");
    expect_json("a: |+\n  one\n  two\n\n\nb: 1\n", "{\"a\":\"one\\ntwo\\n\\n\\n\",\"b\":1}");
    expect_json("a: >\n  one\n  two\n\n  three\n    indented\n  four\n",
                "{\"a\":\"one two\\nthree\\n  indented\\nfour\\n\"}");
    expect_json("a: >-\n  one\n  two\n\n", "{\"a\":\"one two\"}");
    expect_json("a: >+\n  one\n  two\n\n", "{\"a\":\"one two\\n\\n\"}");
    expect_json("a: |2\n    indented\n  base\n", "{\"a\":\"  indented\\nbase\\n\"}");
    expect_json("a: |\n  #!/bin/sh\n  echo \"$HOME\": yes\n",
                "{\"a\":\"#!/bin/sh\\necho \\\"$HOME\\\": yes\\n\"}");
    expect_json("- |\n  x\n- >\n  y\n", "[\"x\\n\",\"y\\n\"]");
    expect_json("a: |\nb: 1\n", "{\"a\":\"\",\"b\":1}");
    expect_json("a: plain\n  continued\n  line\n", "{\"a\":\"plain continued line\"}");
}

static void keys_become_strings(void **state)
{
    (void)state;
    /* sigs.k8s.io/yaml turns go-yaml's int, float and bool keys into their Go string forms */
    expect_json("1: a\n-2: b\n0x10: c\n010: d\n1_000: e\n",
                "{\"1\":\"a\",\"-2\":\"b\",\"16\":\"c\",\"8\":\"d\",\"1000\":\"e\"}");
    expect_json("true: a\nno: b\n", "{\"true\":\"a\",\"false\":\"b\"}");
    expect_json("y: a\n", "{\"true\":\"a\"}"); /* YAML 1.1: y is a boolean, even as a key */
    expect_json("on: a\nOff: b\n", "{\"true\":\"a\",\"false\":\"b\"}");
    /* floats: strconv.FormatFloat(f, 'g', -1, 32) */
    expect_json("1.5: a\n0.1: b\n1e3: c\n1e6: d\n123456: e\n1234567.0: f\n1e-5: g\n-0.0: h\n",
                "{\"1.5\":\"a\",\"0.1\":\"b\",\"1000\":\"c\",\"1e+06\":\"d\",\"123456\":\"e\","
                "\"1.234567e+06\":\"f\",\"1e-05\":\"g\",\"-0\":\"h\"}");
    expect_json("0.0001: a\n3.14159265358979: b\n16777217.0: c\n",
                "{\"0.0001\":\"a\",\"3.1415927\":\"b\",\"1.6777216e+07\":\"c\"}");
    expect_json(".inf: a\n-.inf: b\n.nan: c\n", "{\".inf\":\"a\",\"-.inf\":\"b\",\".nan\":\"c\"}");
    expect_json("1e39: a\n", "{\".inf\":\"a\"}"); /* beyond float32 */
    expect_json("\"1\": a\n'true': b\nplain key: c\n\"\": d\n",
                "{\"1\":\"a\",\"true\":\"b\",\"plain key\":\"c\",\"\":\"d\"}");
    expect_error("9223372036854775808: a\n", "yaml: line 1, column 1: unsupported map key: "
                                             "integer 9223372036854775808 is beyond int64");
    expect_error("0x10000000000000000: a\n", "yaml: line 1, column 1: unsupported map key: "
                                             "integer 0x10000000000000000 is beyond int64");
    expect_json("{? a, b: 1}", "{\"a\":null,\"b\":1}");
    expect_json("!!str 1: a\n!!int \"2\": b\n", "{\"1\":\"a\",\"2\":\"b\"}");
    expect_error("~: a\n", "yaml: line 1, column 1: unsupported map key: null");
    expect_error("a: 1\n? \n: 2\n", "yaml: line 2, column 2: unsupported map key: null");
    expect_error("\"a\\0b\": 1\n", "yaml: line 1, column 1: mapping key contains a NUL character");
    expect_error("? [a, b]\n: 1\n", "yaml: line 1, column 3: invalid map key: a sequence");
    expect_error("{a: 1}: 2\n", "yaml: line 1, column 1: invalid map key: a mapping");
}

/* --- tags ------------------------------------------------------------------------------------- */

static void explicit_tags(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        {"!!str 10", "\"10\""},
        {"!!str yes", "\"yes\""},
        {"!!str", "\"\""},
        {"!!str ~", "\"~\""},
        {"!!int \"10\"", "10"},
        {"!!int 0x10", "16"},
        {"!!int 18446744073709551615", "18446744073709551615.0"},
        {"!!int 0x10000000000000000", "18446744073709551616.0"},
        {"!!float 1", "1"},
        {"!!float \"1.5\"", "1.5"},
        {"!!bool \"yes\"", "true"},
        {"!!bool off", "false"},
        {"!!null \"\"", "null"},
        {"!!null ~", "null"},
        {"!!null", "null"},
        {"!<tag:yaml.org,2002:int> '7'", "7"},
        {"! 10", "\"10\""},
        {"!!binary aGVsbG8=", "\"aGVsbG8=\""},
        {"!!binary |\n  aGVs\n  bG8=\n", "\"aGVs\\nbG8=\\n\""},
        {"!!binary \"\"", "\"\""},
        {"!!timestamp 2001-12-14", "\"2001-12-14\""},
        {"!!timestamp 2001-12-14T21:59:43.10-05:00", "\"2001-12-14T21:59:43.10-05:00\""},
        {"!!timestamp 2001-12-14 21:59:43.10", "\"2001-12-14 21:59:43.10\""},
        {"!!timestamp 2024-2-29t1:2:3Z", "\"2024-2-29t1:2:3Z\""},
        {"!!merge <<", "\"<<\""},
        {"!!map {a: 1}", "{\"a\":1}"},
        {"!!seq [1]", "[1]"},
        {"! [1]", "[1]"},
    };
    expect_values(cases, N(cases));
    expect_error("a: !!int 1.5\n",
                 "yaml: line 1, column 4: cannot decode !!float `1.5` as a !!int");
    expect_error("a: !!int abc\n", "yaml: line 1, column 4: cannot decode !!str `abc` as a !!int");
    expect_error("a: !!int \"\"\n", "yaml: line 1, column 4: cannot decode !!null `` as a !!int");
    expect_error("a: !!bool 1\n", "yaml: line 1, column 4: cannot decode !!int `1` as a !!bool");
    /* go-yaml turns an int into a float for !!float, but not a uint64 */
    expect_error("a: !!float 18446744073709551615\n", "yaml: line 1, column 4: cannot decode "
                                                      "!!int `18446744073709551615` as a !!float");
    expect_error("a: !!float yes\n",
                 "yaml: line 1, column 4: cannot decode !!bool `yes` as a !!float");
    expect_error("a: !!null 0\n", "yaml: line 1, column 4: cannot decode !!int `0` as a !!null");
    expect_error("a: !!timestamp 2001-13-01\n",
                 "yaml: line 1, column 4: cannot decode !!str `2001-13-01` as a !!timestamp");
    expect_error("a: !!timestamp 2023-02-29\n", "yaml: line 1, column 4: cannot decode *");
    expect_error("a: !!timestamp 2001\n",
                 "yaml: line 1, column 4: cannot decode !!int `2001` as a !!timestamp");
    expect_error("a: !!binary aGVsbG8\n",
                 "yaml: line 1, column 4: !!binary value contains invalid base64 data");
    expect_error("a: !!binary a=GV\n", "yaml: line 1, column 4: !!binary *");
    expect_error("a: !!binary 'aGVs bG8='\n", "yaml: line 1, column 4: !!binary *");
    expect_error("a: !foo bar\n", "yaml: line 1, column 4: unknown tag !foo");
    expect_error("a: !!omap [a]\n", "yaml: line 1, column 4: cannot decode !!seq as a !!omap");
    expect_error("a: !!seq {a: 1}\n", "yaml: line 1, column 4: cannot decode !!map as a !!seq");
    expect_error("a: !!str [1]\n", "yaml: line 1, column 4: cannot decode !!seq as a !!str");
    expect_error("a: !!set {a}\n", "yaml: line 1, column 4: cannot decode !!map as a !!set");
    expect_error("a: !local {}\n", "yaml: line 1, column 4: unknown tag !local");
    expect_error("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
                 "yaml: line 3, column 4: unknown tag tag:example.com,2000:x");
    expect_error("a: !!nope 1\n", "yaml: line 1, column 4: unknown tag !!nope");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_nulls_and_bools),
        cmocka_unit_test(plain_integers),
        cmocka_unit_test(plain_floats),
        cmocka_unit_test(nan_and_infinity_fail),
        cmocka_unit_test(quoted_and_block_scalars_are_strings),
        cmocka_unit_test(block_scalars),
        cmocka_unit_test(keys_become_strings),
        cmocka_unit_test(explicit_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
