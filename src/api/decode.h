/* Request bodies into objects, checked against the schema the way the apiserver's decoder does:
 * unknown fields are an error (Strict), a warning (Warn) or silently dropped (Ignore); a value of
 * the wrong JSON type is always an error; explicit nulls are dropped, as decoding into Go structs
 * leaves no trace of them. */
#ifndef JP_API_DECODE_H
#define JP_API_DECODE_H

#include "api/status.h"

#include <jansson.h>

struct jp_kind;

enum jp_field_validation { JP_FV_STRICT, JP_FV_WARN, JP_FV_IGNORE };

#define JP_MAX_BODY (3u << 20) /* kube-apiserver's limit for a request body */

struct jp_warnings {
    char **items;
    size_t n;
};
void jp_warnings_add(struct jp_warnings *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void jp_warnings_free(struct jp_warnings *w);

/* Parses body (JSON) as an object of kind. On success *out is owned by the caller. */
int jp_decode_object(const struct jp_kind *kind, const char *body, size_t len,
                     enum jp_field_validation fv, json_t **out, struct jp_warnings *warnings,
                     struct jp_status **st);
/* Checks (and prunes) an already parsed object against the kind's schema, e.g. after a patch. */
int jp_decode_check(const struct jp_kind *kind, json_t *obj, enum jp_field_validation fv,
                    struct jp_warnings *warnings, struct jp_status **st);
/* Checks a value against a schema type (by JP_T_ index), e.g. a Scale or DeleteOptions body. */
int jp_decode_check_type(int type, const char *what, json_t *obj, enum jp_field_validation fv,
                         struct jp_warnings *warnings, struct jp_status **st);

#endif
