/* Helpers shared by the codec tests: each loads YAML and fails the test (cmocka) on a mismatch. */
#ifndef JP_CODEC_TESTS_EXPECT_H
#define JP_CODEC_TESTS_EXPECT_H

#include "codec/yaml.h"

#include <stddef.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every document of len bytes of yaml, compared with a JSON array. */
void expect_docs(const char *yaml, size_t len, const char *want_array);
/* yaml holds one document, equal (json_equal: 1 and 1.0 differ) to want. */
void expect_json(const char *yaml, const char *want);
/* Loading fails with reason and message want; a want ending in '*' is a prefix. */
void expect_error_n(const char *yaml, size_t len, enum jp_reason reason, const char *want);
void expect_error(const char *yaml, const char *want);

struct value_case {
    const char *yaml, *json;
};
/* For each case, "v: <yaml>" must load as {"v": <json>}. */
void expect_values(const struct value_case *cases, size_t n);

#endif
