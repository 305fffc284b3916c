/* Fuzz target for the YAML manifest decoder (jp_yaml_load): failures must be clean "yaml: ..."
 * errors; every document it returns must stay within the caps and survive a trip through JSON
 * text (json_dumps, json_loads) unchanged; jp_yaml_load_one must agree with it. */
#include "fuzz_check.h"
#include "base/err.h"
#include "codec/yaml.h"

#include <stdlib.h>
#include <string.h>

/* Counts the values in v and checks its nesting, without recursing past the cap. */
static void check_shape(const json_t *v, size_t depth, size_t *nodes)
{
    FUZZ_CHECK(!(json_is_object(v) || json_is_array(v)) || depth < JP_YAML_MAX_DEPTH,
               "nesting deeper than %d", JP_YAML_MAX_DEPTH);
    (*nodes)++;
    if (json_is_object(v)) {
        const char *k;
        size_t klen;
        json_t *e;
        json_object_keylen_foreach((json_t *)v, k, klen, e)
        {
            FUZZ_CHECK(memchr(k, '\0', klen) == NULL, "key with a NUL");
            check_shape(e, depth + 1, nodes);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) check_shape(e, depth + 1, nodes);
    }
}

static void check_round_trip(const json_t *doc)
{
    char *text = json_dumps(doc, JSON_ENCODE_ANY | JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "document cannot be written as JSON");
    json_error_t jerr;
    json_t *again = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    FUZZ_CHECK(again != NULL, "JSON %.200s does not load back: %s", text, jerr.text);
    FUZZ_CHECK(json_equal(doc, again), "JSON %.200s loads back different", text);
    json_decref(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t **docs = NULL, *one = NULL;
    size_t n = 0, nodes = 0;
    struct jp_err *err = NULL;
    int rc = jp_yaml_load((const char *)data, size, &docs, &n, &err);
    if (rc < 0) {
        FUZZ_CHECK(err != NULL && strncmp(err->msg, "yaml: ", 6) == 0,
                   "failed without a yaml: error");
        FUZZ_CHECK(err->reason == JP_BAD_REQUEST, "error %s is not BadRequest", err->msg);
        FUZZ_CHECK(docs == NULL && n == 0, "failed load left documents behind");
        FUZZ_CHECK(strchr(err->msg, '\n') == NULL, "error spans lines");
    } else {
        FUZZ_CHECK(rc == 0 && err == NULL, "returned %d with error %s", rc, err ? err->msg : "");
        FUZZ_CHECK((n == 0) == (docs == NULL), "%zu documents in %p", n, (void *)docs);
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(docs[i] != NULL, "document %zu is NULL", i);
            check_shape(docs[i], 0, &nodes);
            check_round_trip(docs[i]);
        }
        FUZZ_CHECK(nodes <= JP_YAML_MAX_NODES, "%zu values over the cap", nodes);
    }
    jp_err_free(JP_STEAL(err));

    /* one document exactly: the same value; otherwise an error */
    int rc1 = jp_yaml_load_one((const char *)data, size, &one, &err);
    FUZZ_CHECK((rc1 == 0) == (rc == 0 && n == 1), "load_one %d, load %d with %zu documents", rc1,
               rc, n);
    if (rc1 == 0) FUZZ_CHECK(json_equal(one, docs[0]), "load_one gives another document");
    json_decref(one);
    jp_err_free(err);
    jp_yaml_docs_free(docs, n);
    return 0;
}
