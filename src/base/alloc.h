/* Allocation that never returns NULL: running out of memory is fatal (crun xmalloc, redis
 * zmalloc), so callers need no OOM branches that would never be tested. */
#ifndef JP_BASE_ALLOC_H
#define JP_BASE_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *jp_xmalloc(size_t n);
void *jp_xcalloc(size_t nmemb, size_t size);
void *jp_xrealloc(void *p, size_t n);
char *jp_xstrdup(const char *s);
char *jp_xstrndup(const char *s, size_t n);
char *jp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *jp_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
