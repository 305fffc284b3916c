/* Label selectors (equality- and set-based, as labels.Parse accepts them) and field selectors
 * (k=v, k==v, k!=v with backslash escapes), parsed once per request and matched against
 * projections. */
#ifndef JP_API_SELECTOR_H
#define JP_API_SELECTOR_H

#include "api/object.h"
#include "api/status.h"

#include <jansson.h>
#include <stdbool.h>

struct jp_kind;
struct jp_selector;

/* NULL or "" parse to a selector that matches everything. Errors are 400 BadRequest. */
int jp_label_selector_parse(const char *text, struct jp_selector **out, struct jp_status **st);
/* From a LabelSelector object ({matchLabels, matchExpressions}), as controllers use it. */
int jp_label_selector_from_json(const json_t *sel, struct jp_selector **out, struct jp_status **st);
bool jp_label_selector_matches(const struct jp_selector *s, const struct jp_proj *p);
bool jp_label_selector_matches_json(const struct jp_selector *s, const json_t *labels);
bool jp_selector_is_empty(const struct jp_selector *s);
/* "k=v,k2 in (a,b)": the canonical text, as kubectl and the Table's Selector column show it. */
void jp_label_selector_string(const struct jp_selector *s, struct jp_buf *out);

/* Field selectors: labels must be metadata.name, metadata.namespace or one the kind supports;
 * otherwise 400 "field label not supported: <label>". */
int jp_field_selector_parse(const struct jp_kind *kind, const char *text, struct jp_selector **out,
                            struct jp_status **st);
bool jp_field_selector_matches(const struct jp_selector *s, const struct jp_kind *kind,
                               const struct jp_obj *o);
/* If the selector pins metadata.name to one value, that value (for a point lookup). */
const char *jp_field_selector_name(const struct jp_selector *s);

void jp_selector_free(struct jp_selector *s);

#endif
