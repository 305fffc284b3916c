/* API errors as Kubernetes reports them: a Status object with reason, code, message and details,
 * and, for Invalid, field errors rendered the way apimachinery's field.Error prints them
 * ("spec.parallelism: Invalid value: -1: must be greater than or equal to 0"). */
#ifndef JP_API_STATUS_H
#define JP_API_STATUS_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>

enum jp_ferr_type {
    JP_FERR_INVALID,       /* Invalid value: <value>: <detail> */
    JP_FERR_REQUIRED,      /* Required value[: <detail>] */
    JP_FERR_NOT_SUPPORTED, /* Unsupported value: <value>: supported values: "a", "b" */
    JP_FERR_DUPLICATE,     /* Duplicate value: <value> */
    JP_FERR_FORBIDDEN,     /* Forbidden: <detail> */
    JP_FERR_TOO_LONG,      /* Too long: <detail> */
    JP_FERR_TOO_MANY,      /* Too many: <value>: <detail> */
    JP_FERR_NOT_FOUND,     /* Not found: <value> */
};

struct jp_ferr {
    enum jp_ferr_type type;
    char *field;  /* "spec.template.spec.containers[0].name" */
    char *value;  /* rendered as Go prints it ("\"x\"", "-1"), or NULL for none */
    char *detail; /* may be NULL */
};

/* A list of field errors collected by validation. */
struct jp_ferrs {
    struct jp_ferr *items;
    size_t n, cap;
};

void jp_ferrs_add(struct jp_ferrs *fe, enum jp_ferr_type type, const char *field, const char *value,
                  const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
void jp_ferrs_free(struct jp_ferrs *fe);
/* "Invalid value: -1: must be ..." (the error without its field). */
void jp_ferr_message(const struct jp_ferr *e, struct jp_buf *out);
/* Go-quoted string value for messages: "\"Bad_Name\"". OUT: caller frees. */
char *jp_go_quote(const char *s);

/* A failed API call, ready to be written as a Status. */
struct jp_status {
    enum jp_reason reason;
    int code; /* 0: the reason's code */
    char *message;
    char *name, *group, *kind; /* details; NULL when absent */
    char *uid;
    struct jp_ferrs causes;
    int retry_after; /* seconds; 0 for none */
};

struct jp_status *jp_status_new(enum jp_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void jp_status_details(struct jp_status *st, const char *name, const char *group, const char *kind);
struct jp_status *jp_status_from_err(const struct jp_err *err);
/* 422 Invalid: "<Kind>.<group> \"<name>\" is invalid: <errors>", details.kind = Kind. Takes the
 * errors. */
struct jp_status *jp_status_invalid(const char *kind, const char *group, const char *name,
                                    struct jp_ferrs *errors);
void jp_status_free(struct jp_status *st);
int jp_status_code(const struct jp_status *st);
/* {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...} */
void jp_status_json(const struct jp_status *st, struct jp_buf *out);
/* The success Status DELETE may answer with. */
void jp_status_success_json(const char *name, const char *group, const char *kind, const char *uid,
                            struct jp_buf *out);

#endif
