/* The one place that decides what happens when memory runs out: abort with a message. */
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void __attribute__((noreturn)) oom(size_t n)
{
    /* No allocation here: we are out of memory. */
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *jp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) oom(n);
    return p;
}

void *jp_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL) oom(nmemb * size);
    return p;
}

void *jp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) oom(n);
    return q;
}

char *jp_xstrdup(const char *s)
{
    return jp_xstrndup(s, strlen(s));
}

char *jp_xstrndup(const char *s, size_t n)
{
    char *p = jp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *jp_xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) oom(0);
    return s;
}

char *jp_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = jp_xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

static bool process_ending;

struct kept {
    struct kept *next;
    void *p;
};
static struct kept *kept_until_exit; /* reachable from here, so no checker calls it lost */

void jp_process_ending(void)
{
    process_ending = true;
}

bool jp_free_at_stop(void)
{
    return JP_ASAN || !process_ending;
}

void jp_keep_until_exit(void *p)
{
    struct kept *k = jp_xmalloc(sizeof(*k));
    *k = (struct kept){kept_until_exit, p};
    kept_until_exit = k;
}
