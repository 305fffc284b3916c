/* JSON string quoting that matches Go's encoding/json byte for byte, so our output can be
 * compared with what kuard and Kubernetes (both Go) send. */
#ifndef JP_BASE_JSONSTR_H
#define JP_BASE_JSONSTR_H

#include "base/buf.h"

#include <stddef.h>

enum {
    /* Escape <, > and & as \u003c, \u003e, \u0026: Go's default (json.Marshal, json.Encoder). */
    JP_JSON_HTML_ESCAPE = 1,
};

/* Appends s (n bytes, any bytes) as a quoted JSON string. Like Go, each byte of invalid UTF-8
 * becomes \ufffd and U+2028/U+2029 are escaped. Returns -1 when the buffer's cap is hit. */
int jp_json_quote(struct jp_buf *b, const char *s, size_t n, unsigned flags);

/* Length of the valid UTF-8 sequence starting at s (1-4), or 0 if the bytes there are not one.
 * Follows Go's utf8.DecodeRune: no overlongs, no surrogates, nothing above U+10FFFF. */
size_t jp_utf8_seq_len(const unsigned char *s, size_t n);

#endif
