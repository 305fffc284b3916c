/* Compact JSON text of a jansson tree, written straight into a buffer. Every write serializes
 * its object; json_dump_callback made a callback per token (each brace, colon and quote), and
 * was an eighth of the server loop's time in bench/jobs. Members keep their order; strings are
 * quoted as Go quotes them (jp_json_quote), reals printed as jansson prints them. */
#ifndef JP_API_EMIT_H
#define JP_API_EMIT_H

#include "base/buf.h"

#include <jansson.h>

/* Appends v; -1 when the buffer's cap is hit or v nests deeper than any parsed document can. */
int jp_json_emit(struct jp_buf *b, const json_t *v);

#endif
