/* Scope-bound release (crun's cleanup_free): a variable declared with one of these attributes is
 * released when it goes out of scope. Hand ownership out by nulling the local. */
#ifndef JP_BASE_CLEANUP_H
#define JP_BASE_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void jp_cleanup_free(void *p)
{
    free(*(void **)p);
}

static inline void jp_cleanup_close(int *fd)
{
    if (*fd >= 0) {
        int saved = errno; /* a cleanup must not clobber the errno being reported */
        (void)close(*fd);
        errno = saved;
    }
}

static inline void jp_cleanup_fclose(FILE **f)
{
    if (*f != NULL) {
        int saved = errno;
        (void)fclose(*f);
        errno = saved;
    }
}

#define _cleanup_free_   __attribute__((cleanup(jp_cleanup_free)))
#define _cleanup_close_  __attribute__((cleanup(jp_cleanup_close)))
#define _cleanup_fclose_ __attribute__((cleanup(jp_cleanup_fclose)))

/* Declares a cleanup helper for a type whose free function takes the pointer:
 * JP_DEFINE_CLEANUP(struct jp_err, jp_err_free) gives _cleanup_(jp_err_freep). */
#define JP_DEFINE_CLEANUP(type, func)                                                              \
    static inline void func##p(type **p)                                                           \
    {                                                                                              \
        if (*p != NULL) func(*p);                                                                  \
    }
#define _cleanup_(f) __attribute__((cleanup(f)))

/* Hands ownership out of a cleanup-scoped local. */
#define JP_STEAL(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) stolen_ = (p);                                                               \
        (p) = NULL;                                                                                \
        stolen_;                                                                                   \
    })

#endif
