/* Helpers shared by the codec tests: load YAML and compare with hand-written JSON or errors. */
#include "support/cm.h"
#include "codec/tests/expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse_json(const char *json)
{
    json_error_t jerr;
    json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (v == NULL) fail_msg("bad expected JSON %s: %s", json, jerr.text);
    return v;
}

static void check_equal(json_t *got, const char *want_json, const char *yaml)
{
    json_t *want = parse_json(want_json);
    if (!json_equal(got, want)) {
        char *s = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("YAML:\n%s\ngave %s\nwant %s", yaml, s, want_json);
    }
    json_decref(want);
}

/* Every document of yaml, as a JSON array. */
void expect_docs(const char *yaml, size_t len, const char *want_array)
{
    json_t **docs = (json_t **)1; /* must be reset */
    size_t n = 99;
    struct jp_err *err = NULL;
    if (jp_yaml_load(yaml, len, &docs, &n, &err) < 0)
        fail_msg("YAML:\n%s\nfailed: %s", yaml, err->msg);
    assert_null(err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(arr, docs[i]);
    if (n == 0) assert_null(docs);
    check_equal(arr, want_array, yaml);
    json_decref(arr);
    jp_yaml_docs_free(docs, n);
}

void expect_json(const char *yaml, const char *want)
{
    json_t *doc = (json_t *)1;
    struct jp_err *err = NULL;
    if (jp_yaml_load_one(yaml, strlen(yaml), &doc, &err) < 0)
        fail_msg("YAML:\n%s\nfailed: %s", yaml, err->msg);
    check_equal(doc, want, yaml);
    json_decref(doc);
}

void expect_error_n(const char *yaml, size_t len, enum jp_reason reason, const char *want)
{
    json_t **docs = (json_t **)1;
    size_t n = 99;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    if (jp_yaml_load(yaml, len, &docs, &n, &err) == 0) {
        jp_yaml_docs_free(docs, n);
        fail_msg("YAML:\n%s\nwas accepted; want error %s", yaml, want);
    }
    assert_null(docs);
    assert_int_equal(n, 0);
    assert_non_null(err);
    assert_int_equal(err->reason, reason);
    /* a want ending in '*' is a prefix */
    size_t wl = strlen(want);
    if (wl > 0 && want[wl - 1] == '*') {
        if (strncmp(err->msg, want, wl - 1) != 0) fail_msg("error %s, want %s", err->msg, want);
    } else if (strcmp(err->msg, want) != 0) {
        fail_msg("YAML:\n%s\nerror: %s\nwant:  %s", yaml, err->msg, want);
    }
}

void expect_error(const char *yaml, const char *want)
{
    expect_error_n(yaml, strlen(yaml), JP_BAD_REQUEST, want);
}

/* Each yaml is the value of key v; json is what the value must become. */
void expect_values(const struct value_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *yaml = NULL, *json = NULL;
        assert_true(asprintf(&yaml, "v: %s\n", cases[i].yaml) > 0);
        assert_true(asprintf(&json, "{\"v\":%s}", cases[i].json) > 0);
        expect_json(yaml, json);
        free(yaml);
        free(json);
    }
}
