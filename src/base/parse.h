/* Checked parsing of numbers and booleans from text: the only way the project turns user text
 * into integers (no atoi/strtol at call sites). */
#ifndef JP_BASE_PARSE_H
#define JP_BASE_PARSE_H

#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

/* Parses all of s as an integer in [min, max]. base is 10, or 0 for C prefixes (0x, leading 0).
 * Rejects empty text, whitespace, trailing junk and overflow with JP_BAD_REQUEST. */
int jp_parse_int(const char *s, int base, int64_t min, int64_t max, int64_t *out,
                 struct jp_err **err);

/* Go's strconv.ParseBool spellings: 1 t T TRUE true True, 0 f F FALSE false False. */
int jp_parse_bool(const char *s, bool *out, struct jp_err **err);

/* A Go time.Duration as flags take it: one or more <number><unit> ("10s", "1m30s", "500ms",
 * "1.5h"), units ns us µs ms s m h; a plain "0" is zero. Non-negative, at most ~292 years. */
int jp_parse_duration(const char *s, int64_t *ns, struct jp_err **err);

#endif
