/* Fuzz target for the three patch formats: [kind byte][format byte] target JSON, a NUL, patch
 * JSON. Applying must never crash; a successful result must be serializable JSON, and a JSON
 * merge patch must be idempotent (RFC 7386: applying it twice gives the same document). */
#include "fuzz_check.h"
#include "api/kinds.h"
#include "api/patch.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    const struct jp_kind *k = &jp_kinds[data[0] % jp_nkinds];
    int format = data[1] % 3;
    const char *rest = (const char *)data + 2;
    size_t n = size - 2;
    const char *nul = memchr(rest, '\0', n);
    if (nul == NULL) return 0;
    json_t *target = json_loadb(rest, (size_t)(nul - rest), JSON_DECODE_ANY, NULL);
    json_t *patch = json_loadb(nul + 1, n - (size_t)(nul - rest) - 1, JSON_DECODE_ANY, NULL);
    if (target && patch) {
        struct jp_status *st = NULL;
        if (format == 0) {
            json_t *once = jp_merge_patch(target, patch);
            json_t *twice = jp_merge_patch(once, patch);
            FUZZ_CHECK(json_equal(once, twice), "merge patch is not idempotent");
            json_decref(once);
            json_decref(twice);
        } else if (format == 1) {
            json_t *doc = json_deep_copy(target);
            if (jp_json_patch(&doc, patch, &st) < 0) {
                FUZZ_CHECK(st != NULL, "json patch failed without a Status");
                FUZZ_CHECK(json_equal(doc, target), "a failed json patch changed the document");
            }
            char *s = json_dumps(doc, JSON_ENCODE_ANY);
            FUZZ_CHECK(s != NULL, "json patch result cannot be serialized");
            free(s);
            json_decref(doc);
        } else if (json_is_object(target)) {
            json_t *doc = json_deep_copy(target);
            if (jp_strategic_merge(doc, patch, k->schema_type, &st) == 0) {
                char *s = json_dumps(doc, 0);
                FUZZ_CHECK(s != NULL, "strategic merge result cannot be serialized");
                free(s);
            }
            json_decref(doc);
        }
        jp_status_free(st);
    }
    json_decref(target);
    json_decref(patch);
    return 0;
}
