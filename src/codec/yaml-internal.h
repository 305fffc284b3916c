/* Private to src/codec: scalar resolution (yaml_scalar.c) as used by the event walker (yaml.c).
 * Resolution follows go-yaml v2's resolve(), the YAML 1.1 rules behind sigs.k8s.io/yaml. */
#ifndef JP_CODEC_YAML_INTERNAL_H
#define JP_CODEC_YAML_INTERNAL_H

#include "base/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JP_YAML__TAG_PREFIX "tag:yaml.org,2002:"
#define JP_YAML__TAG_MAP    JP_YAML__TAG_PREFIX "map"
#define JP_YAML__TAG_SEQ    JP_YAML__TAG_PREFIX "seq"
#define JP_YAML__TAG_MERGE  JP_YAML__TAG_PREFIX "merge"

/* What a scalar resolved to. UINT is go-yaml's uint64, an integer above INT64_MAX; BIG is the
 * big.Int that sigs.k8s.io/yaml's go-yaml fork makes of an unsigned integer beyond uint64 that
 * is not a decimal float (0x10000000000000000). Both keep their value as a double in d too. */
enum jp_yaml__type {
    JP_YAML__NULL,
    JP_YAML__BOOL,
    JP_YAML__INT,
    JP_YAML__UINT,
    JP_YAML__BIG,
    JP_YAML__FLOAT,
    JP_YAML__STR,
};

struct jp_yaml__scalar {
    enum jp_yaml__type type;
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    const char *text; /* borrowed: the scalar's bytes (NUL-terminated, may hold NULs) */
    size_t len;
};

/* Resolves one scalar. tag is libyaml's resolved tag or NULL; plain is libyaml's plain_implicit
 * (an untagged plain scalar, or one tagged "!"). Fails with JP_BAD_REQUEST, without a position
 * (the caller adds it), on an unknown tag or a value its tag cannot hold. Numbers are read in the
 * calling thread's locale: callers run under the C locale (jp_yaml_load switches to it). */
int jp_yaml__resolve(const char *tag, const char *text, size_t len, bool plain,
                     struct jp_yaml__scalar *out, struct jp_err **err);

/* The JSON value of a resolved scalar: what jansson would read back from Go's json.Marshal of
 * go-yaml's value (integral floats become integers). NaN and infinities fail, as json.Marshal
 * does. OUT: new reference. */
json_t *jp_yaml__to_json(const struct jp_yaml__scalar *s, struct jp_err **err);

/* The mapping key string sigs.k8s.io/yaml makes of a resolved scalar key (1 -> "1", true ->
 * "true", 1.5 -> "1.5"); null keys and integers beyond int64 fail, as there. OUT: caller frees;
 * *len excludes the NUL. */
char *jp_yaml__to_key(const struct jp_yaml__scalar *s, size_t *len, struct jp_err **err);

/* "!!int" for "tag:yaml.org,2002:int", other tags as they are (cut to fit). Returns buf. */
const char *jp_yaml__short_tag(const char *tag, char *buf, size_t size);

/* A printable excerpt of s for error messages: at most ~60 bytes, control bytes as '?'.
 * Returns buf. */
const char *jp_yaml__show(const char *s, size_t n, char *buf, size_t size);

#endif
