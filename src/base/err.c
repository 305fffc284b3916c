/* Error values: creation, wrapping with context, and the Kubernetes Status mapping.
 * Reason strings and codes follow k8s.io/apimachinery metav1.StatusReason. */
#include "base/err.h"
#include "base/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int code;
} reasons[JP_REASON_COUNT] = {
    [JP_INTERNAL] = {"InternalError", 500},
    [JP_BAD_REQUEST] = {"BadRequest", 400},
    [JP_UNAUTHORIZED] = {"Unauthorized", 401},
    [JP_FORBIDDEN] = {"Forbidden", 403},
    [JP_NOT_FOUND] = {"NotFound", 404},
    [JP_METHOD_NOT_ALLOWED] = {"MethodNotAllowed", 405},
    [JP_NOT_ACCEPTABLE] = {"NotAcceptable", 406},
    [JP_ALREADY_EXISTS] = {"AlreadyExists", 409},
    [JP_CONFLICT] = {"Conflict", 409},
    [JP_GONE] = {"Gone", 410},
    [JP_EXPIRED] = {"Expired", 410},
    [JP_TOO_LARGE] = {"RequestEntityTooLarge", 413},
    [JP_UNSUPPORTED_MEDIA_TYPE] = {"UnsupportedMediaType", 415},
    [JP_INVALID] = {"Invalid", 422},
    [JP_TOO_MANY_REQUESTS] = {"TooManyRequests", 429},
    [JP_SERVICE_UNAVAILABLE] = {"ServiceUnavailable", 503},
    [JP_TIMEOUT] = {"Timeout", 504},
    [JP_SERVER_TIMEOUT] = {"ServerTimeout", 500},
};

const char *jp_reason_name(enum jp_reason reason)
{
    if ((unsigned)reason >= JP_REASON_COUNT) reason = JP_INTERNAL;
    return reasons[reason].name;
}

int jp_reason_http_code(enum jp_reason reason)
{
    if ((unsigned)reason >= JP_REASON_COUNT) reason = JP_INTERNAL;
    return reasons[reason].code;
}

int jp_err_setv(struct jp_err **err, enum jp_reason reason, int sys_errno, const char *fmt,
                va_list ap)
{
    if (err == NULL || *err != NULL) return -1;
    struct jp_err *e = jp_xcalloc(1, sizeof(*e));
    e->reason = reason;
    e->sys_errno = sys_errno;
    e->msg = jp_xvasprintf(fmt, ap);
    /* Messages are one line: a newline from a caller's value would split a log record. */
    for (char *p = e->msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    *err = e;
    return -1;
}

int jp_err_set(struct jp_err **err, enum jp_reason reason, int sys_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jp_err_setv(err, reason, sys_errno, fmt, ap);
    va_end(ap);
    return -1;
}

int jp_err_sys(struct jp_err **err, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = jp_xvasprintf(fmt, ap);
    va_end(ap);
    jp_err_set(err, JP_INTERNAL, saved, "%s: %s", ctx, strerror(saved));
    free(ctx);
    errno = saved;
    return -1;
}

int jp_err_wrap(struct jp_err **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL) return -1;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = jp_xvasprintf(fmt, ap);
    va_end(ap);
    char *msg = jp_xasprintf("%s: %s", ctx, (*err)->msg);
    free(ctx);
    free((*err)->msg);
    (*err)->msg = msg;
    return -1;
}

void jp_err_free(struct jp_err *err)
{
    if (err == NULL) return;
    free(err->msg);
    free(err);
}
