/* Growable byte buffers with a hard cap (curl's dynbuf `toobig`): everything fed by a client
 * goes through one, so no client can make us allocate without bound. */
#ifndef JP_BASE_BUF_H
#define JP_BASE_BUF_H

#include "base/cleanup.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct jp_buf {
    char *data; /* NUL-terminated after every append, so text can be used as a C string */
    size_t len;
    size_t alloc;
    size_t limit; /* appends that would make len exceed this fail */
};

void jp_buf_init(struct jp_buf *b, size_t limit);
/* Returns -1 (and appends nothing) when the result would exceed the limit. */
int jp_buf_append(struct jp_buf *b, const void *data, size_t n);
int jp_buf_appendc(struct jp_buf *b, char c);
int jp_buf_printf(struct jp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jp_buf_reset(struct jp_buf *b);
/* snprintf for text that may be cut to fit on purpose (field paths in messages): NUL-terminated,
 * returns buf. */
char *jp_strfmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Gives the bytes to the caller (OUT: caller frees) and leaves the buffer empty. */
char *jp_buf_steal(struct jp_buf *b, size_t *len);
void jp_buf_free(struct jp_buf *b);

static inline void jp_buf_freep(struct jp_buf *b)
{
    jp_buf_free(b);
}
#define _cleanup_buf_ __attribute__((cleanup(jp_buf_freep)))

#endif
