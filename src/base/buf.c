/* Capped growable buffers. Growth doubles, so appends are amortised O(1). */
#include "base/buf.h"
#include "base/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jp_buf_init(struct jp_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->limit = limit;
}

static int reserve(struct jp_buf *b, size_t n)
{
    if (n > b->limit || b->len > b->limit - n) return -1;
    size_t need = b->len + n + 1; /* room for the terminating NUL */
    if (need <= b->alloc) return 0;
    size_t a = b->alloc ? b->alloc : 64;
    while (a < need)
        a = a > SIZE_MAX / 2 ? need : a * 2;
    b->data = jp_xrealloc(b->data, a);
    b->alloc = a;
    return 0;
}

int jp_buf_append(struct jp_buf *b, const void *data, size_t n)
{
    if (reserve(b, n) < 0) return -1;
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int jp_buf_appendc(struct jp_buf *b, char c)
{
    /* the common case, room for c and the NUL (serializers call this for every brace, comma
     * and quote): no reserve, no memcpy */
    if (b->len + 1 < b->alloc && b->len < b->limit) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return jp_buf_append(b, &c, 1);
}

int jp_buf_printf(struct jp_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof(small)) return jp_buf_append(b, small, (size_t)n);
    if (reserve(b, (size_t)n) < 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void jp_buf_reset(struct jp_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

char *jp_buf_steal(struct jp_buf *b, size_t *len)
{
    char *d = b->data ? b->data : jp_xstrdup("");
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return d;
}

void jp_buf_free(struct jp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

char *jp_strfmt(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return buf;
}
