/* Errors that carry context up to the one place that reports them.
 * A reason maps to a Kubernetes Status reason and HTTP code (see docs/internals/errors.md). */
#ifndef JP_BASE_ERR_H
#define JP_BASE_ERR_H

#include "base/cleanup.h"

#include <stdarg.h>

enum jp_reason {
    JP_INTERNAL = 0, /* InternalError 500: the default for "should not happen" */
    JP_BAD_REQUEST,
    JP_UNAUTHORIZED,
    JP_FORBIDDEN,
    JP_NOT_FOUND,
    JP_METHOD_NOT_ALLOWED,
    JP_NOT_ACCEPTABLE,
    JP_ALREADY_EXISTS,
    JP_CONFLICT,
    JP_GONE,
    JP_EXPIRED,
    JP_TOO_LARGE,
    JP_UNSUPPORTED_MEDIA_TYPE,
    JP_INVALID,
    JP_TOO_MANY_REQUESTS,
    JP_SERVICE_UNAVAILABLE,
    JP_TIMEOUT,
    JP_SERVER_TIMEOUT,
    JP_REASON_COUNT
};

struct jp_err {
    enum jp_reason reason;
    int sys_errno; /* 0 unless a system call failed */
    char *msg;     /* one line, no trailing newline */
};

/* Fills *err (when err is not NULL and *err is still NULL) and returns -1, so callers can write
 * `return jp_err_set(err, JP_NOT_FOUND, 0, "queue \"%s\" not found", name);`.
 * A second set on an already filled error keeps the first: the innermost cause wins. */
int jp_err_set(struct jp_err **err, enum jp_reason reason, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int jp_err_setv(struct jp_err **err, enum jp_reason reason, int sys_errno, const char *fmt,
                va_list ap) __attribute__((format(printf, 4, 0)));

/* Sets a JP_INTERNAL error from errno: "<context>: <strerror(errno)>". */
int jp_err_sys(struct jp_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes context as the error climbs: "sync job a/b: <old message>". Returns -1. */
int jp_err_wrap(struct jp_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void jp_err_free(struct jp_err *err);
JP_DEFINE_CLEANUP(struct jp_err, jp_err_free)

/* Kubernetes Status `reason` string and HTTP `code` for a reason. */
const char *jp_reason_name(enum jp_reason reason);
int jp_reason_http_code(enum jp_reason reason);

#endif
