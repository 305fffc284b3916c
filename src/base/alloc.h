/* Allocation that never returns NULL: running out of memory is fatal (crun xmalloc, redis
 * zmalloc), so callers need no OOM branches that would never be tested. */
#ifndef JP_BASE_ALLOC_H
#define JP_BASE_ALLOC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* 1 in AddressSanitizer builds, whose shadow memory and leak check change what is safe or
 * worth doing (see the uses) */
#if defined(__SANITIZE_ADDRESS__)
#define JP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JP_ASAN 1
#endif
#endif
#ifndef JP_ASAN
#define JP_ASAN 0
#endif

void *jp_xmalloc(size_t n);
void *jp_xcalloc(size_t nmemb, size_t size);
void *jp_xrealloc(void *p, size_t n);
char *jp_xstrdup(const char *s);
char *jp_xstrndup(const char *s, size_t n);
char *jp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *jp_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* The process is about to end: memory that lives until then (the store's objects, the garbage
 * collector's graph) need not be freed piece by piece - the end of the process returns it at
 * once, where freeing a store of 10,000 pods and their events took a third of a second. A
 * command calls jp_process_ending() just before it stops its engine; jp_free_at_stop() tells a
 * component whether to free such memory all the same: before that call, and always under
 * AddressSanitizer, whose leak check runs at the end. What is left is handed to
 * jp_keep_until_exit, so that it stays reachable for any other leak checker. */
void jp_process_ending(void);
bool jp_free_at_stop(void);
void jp_keep_until_exit(void *p);

#endif
