/* The three patch formats of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and strategic merge patch, which merges lists by the merge keys and strategies of
 * the type schema and honours $patch, $retainKeys, $setElementOrder and
 * $deleteFromPrimitiveList. */
#ifndef JP_API_PATCH_H
#define JP_API_PATCH_H

#include "api/status.h"

#include <jansson.h>

/* Returns the patched document (new reference); target is not modified. */
json_t *jp_merge_patch(const json_t *target, const json_t *patch);
/* Applies ops to *doc (replaced on success). Errors are 422 with the failing operation. */
int jp_json_patch(json_t **doc, const json_t *ops, struct jp_status **st);
/* Merges patch into target (modified in place) as a value of schema type `type`. */
int jp_strategic_merge(json_t *target, const json_t *patch, int type, struct jp_status **st);

#endif
