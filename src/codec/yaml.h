/* YAML manifests to JSON (jansson) the way kubectl reads them: sigs.k8s.io/yaml, that is go-yaml
 * v2 with YAML 1.1 scalars, then Go's json.Marshal. Parsing is libyaml's. */
#ifndef JP_CODEC_YAML_H
#define JP_CODEC_YAML_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>

/* Caps per call, so aliases cannot expand a small input into a huge tree ("billion laughs"):
 * JSON values produced (every scalar, array and object, alias copies included), bytes of scalar
 * text and keys produced (the same), and nesting. Without aliases the text stays near the input's
 * size. The depth cap also keeps every result within what json_loads reads back. The input's own
 * size is the caller's to cap. */
#define JP_YAML_MAX_NODES 1000000
#define JP_YAML_MAX_BYTES (64 << 20)
#define JP_YAML_MAX_DEPTH 1000

/* Parses a stream of YAML documents (separated by "---", optionally ended by "...") from len
 * bytes of text (not NUL-terminated; UTF-8, or UTF-16 with a BOM) into one JSON value each.
 *
 * - Documents with no content (only comments, or "---" with nothing after it) are skipped; a
 *   document that is explicitly null ("--- null", "--- ~") is returned as json null. kubectl
 *   skips both, so callers reading manifests should skip nulls too.
 * - Quoted and block scalars are strings; plain scalars resolve as in YAML 1.1 (yes/no/on/off are
 *   booleans, 0777 is octal, 1_000 is 1000). Integral floats become JSON integers (1e3 -> 1000),
 *   as they would after json.Marshal; integers beyond int64 become reals. .inf and .nan fail:
 *   JSON cannot hold them.
 * - Tags !!str !!int !!float !!bool !!null !!timestamp !!binary !!map !!seq !!merge and "!" are
 *   honoured (a !!binary value is checked and kept as its base64 text); any other tag fails.
 * - Mapping keys must be scalars and become strings ("1", "true", "1.5"); a null key, a key
 *   holding NUL, or a key given twice (after conversion: 1 and "1" collide) fails.
 * - Aliases copy their anchor's value; merge keys ("<<: *a", "<<: [*a, *b]") add the keys the
 *   mapping does not set itself, earlier sources winning. Objects keep the document's key order.
 *
 * Errors are JP_BAD_REQUEST, "yaml: line L, column C: <problem>", or JP_INTERNAL when memory
 * runs out. On success *docs (OUT: caller frees with jp_yaml_docs_free; NULL when *ndocs is 0)
 * holds *ndocs new references. On failure *docs is NULL and *ndocs 0. */
int jp_yaml_load(const char *text, size_t len, json_t ***docs, size_t *ndocs, struct jp_err **err);

/* jp_yaml_load for a body that must hold exactly one document (an API request): zero or several
 * documents fail with JP_BAD_REQUEST. OUT: *doc, a new reference; NULL on failure. */
int jp_yaml_load_one(const char *text, size_t len, json_t **doc, struct jp_err **err);

/* Releases what jp_yaml_load returned. */
void jp_yaml_docs_free(json_t **docs, size_t ndocs);

#endif
