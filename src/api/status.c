/* Status and field-error rendering, following apimachinery's errors and field packages. */
#include "api/status.h"
#include "base/alloc.h"
#include "base/jsonstr.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ferr_names[] = {
    [JP_FERR_INVALID] = "Invalid value",
    [JP_FERR_REQUIRED] = "Required value",
    [JP_FERR_NOT_SUPPORTED] = "Unsupported value",
    [JP_FERR_DUPLICATE] = "Duplicate value",
    [JP_FERR_FORBIDDEN] = "Forbidden",
    [JP_FERR_TOO_LONG] = "Too long",
    [JP_FERR_TOO_MANY] = "Too many",
    [JP_FERR_NOT_FOUND] = "Not found",
};

static const char *const ferr_reasons[] = {
    [JP_FERR_INVALID] = "FieldValueInvalid",
    [JP_FERR_REQUIRED] = "FieldValueRequired",
    [JP_FERR_NOT_SUPPORTED] = "FieldValueNotSupported",
    [JP_FERR_DUPLICATE] = "FieldValueDuplicate",
    [JP_FERR_FORBIDDEN] = "FieldValueForbidden",
    [JP_FERR_TOO_LONG] = "FieldValueTooLong",
    [JP_FERR_TOO_MANY] = "FieldValueTooMany",
    [JP_FERR_NOT_FOUND] = "FieldValueNotFound",
};

char *jp_go_quote(const char *s)
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    jp_json_quote(&b, s, strlen(s), 0); /* Go's %q agrees with JSON for what we render */
    return jp_buf_steal(&b, NULL);
}

void jp_ferrs_add(struct jp_ferrs *fe, enum jp_ferr_type type, const char *field, const char *value,
                  const char *detail_fmt, ...)
{
    if (fe->n == fe->cap) {
        fe->cap = fe->cap ? fe->cap * 2 : 4;
        fe->items = jp_xrealloc(fe->items, fe->cap * sizeof(*fe->items));
    }
    struct jp_ferr *e = &fe->items[fe->n++];
    e->type = type;
    e->field = jp_xstrdup(field);
    e->value = value ? jp_xstrdup(value) : NULL;
    e->detail = NULL;
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        e->detail = jp_xvasprintf(detail_fmt, ap);
        va_end(ap);
    }
}

void jp_ferrs_free(struct jp_ferrs *fe)
{
    for (size_t i = 0; i < fe->n; i++) {
        free(fe->items[i].field);
        free(fe->items[i].value);
        free(fe->items[i].detail);
    }
    free(fe->items);
    memset(fe, 0, sizeof(*fe));
}

void jp_ferr_message(const struct jp_ferr *e, struct jp_buf *out)
{
    jp_buf_printf(out, "%s", ferr_names[e->type]);
    if (e->value) jp_buf_printf(out, ": %s", e->value);
    if (e->detail && *e->detail) jp_buf_printf(out, ": %s", e->detail);
}

struct jp_status *jp_status_new(enum jp_reason reason, const char *fmt, ...)
{
    struct jp_status *st = jp_xcalloc(1, sizeof(*st));
    st->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    st->message = jp_xvasprintf(fmt, ap);
    va_end(ap);
    return st;
}

static void set(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? jp_xstrdup(v) : NULL;
}

void jp_status_details(struct jp_status *st, const char *name, const char *group, const char *kind)
{
    set(&st->name, name);
    set(&st->group, group);
    set(&st->kind, kind);
}

struct jp_status *jp_status_from_err(const struct jp_err *err)
{
    return jp_status_new(err->reason, "%s", err->msg);
}

struct jp_status *jp_status_invalid(const char *kind, const char *group, const char *name,
                                    struct jp_ferrs *errors)
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    if (group && *group)
        jp_buf_printf(&b, "%s.%s \"%s\" is invalid: ", kind, group, name);
    else
        jp_buf_printf(&b, "%s \"%s\" is invalid: ", kind, name);
    /* apimachinery's aggregate: one error bare, several in brackets, duplicates dropped */
    struct jp_buf one;
    jp_buf_init(&one, 1 << 20);
    size_t shown = 0;
    char **seen = jp_xcalloc(errors->n + 1, sizeof(char *));
    for (size_t i = 0; i < errors->n; i++) {
        jp_buf_reset(&one);
        jp_buf_printf(&one, "%s: ", errors->items[i].field);
        jp_ferr_message(&errors->items[i], &one);
        bool dup = false;
        for (size_t j = 0; j < shown && !dup; j++)
            dup = strcmp(seen[j], one.data) == 0;
        if (!dup) seen[shown++] = jp_xstrdup(one.data);
    }
    if (shown > 1) jp_buf_appendc(&b, '[');
    for (size_t i = 0; i < shown; i++) {
        jp_buf_printf(&b, "%s%s", i ? ", " : "", seen[i]);
        free(seen[i]);
    }
    if (shown > 1) jp_buf_appendc(&b, ']');
    free(seen);
    jp_buf_free(&one);
    struct jp_status *st = jp_xcalloc(1, sizeof(*st));
    st->reason = JP_INVALID;
    st->message = jp_buf_steal(&b, NULL);
    jp_status_details(st, name, group, kind);
    st->causes = *errors;
    memset(errors, 0, sizeof(*errors));
    return st;
}

void jp_status_free(struct jp_status *st)
{
    if (st == NULL) return;
    free(st->message);
    free(st->name);
    free(st->group);
    free(st->kind);
    free(st->uid);
    jp_ferrs_free(&st->causes);
    free(st);
}

int jp_status_code(const struct jp_status *st)
{
    return st->code ? st->code : jp_reason_http_code(st->reason);
}

static void quoted(struct jp_buf *out, const char *s)
{
    jp_json_quote(out, s, strlen(s), 0);
}

void jp_status_json(const struct jp_status *st, struct jp_buf *out)
{
    jp_buf_printf(out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                       "\"status\":\"Failure\",\"message\":");
    quoted(out, st->message ? st->message : "");
    jp_buf_printf(out, ",\"reason\":\"%s\"", jp_reason_name(st->reason));
    bool details = st->name || st->group || st->kind || st->uid || st->causes.n || st->retry_after;
    if (details) {
        const char *sep = "";
        jp_buf_printf(out, ",\"details\":{");
        const char *keys[] = {"name", "group", "kind", "uid"};
        const char *vals[] = {st->name, st->group, st->kind, st->uid};
        for (int i = 0; i < 4; i++) {
            if (vals[i] == NULL) continue;
            jp_buf_printf(out, "%s\"%s\":", sep, keys[i]);
            quoted(out, vals[i]);
            sep = ",";
        }
        if (st->causes.n) {
            jp_buf_printf(out, "%s\"causes\":[", sep);
            struct jp_buf msg;
            jp_buf_init(&msg, 1 << 20);
            for (size_t i = 0; i < st->causes.n; i++) {
                const struct jp_ferr *e = &st->causes.items[i];
                jp_buf_reset(&msg);
                jp_ferr_message(e, &msg);
                jp_buf_printf(out, "%s{\"reason\":\"%s\",\"message\":", i ? "," : "",
                              ferr_reasons[e->type]);
                quoted(out, msg.data);
                jp_buf_printf(out, ",\"field\":");
                quoted(out, e->field);
                jp_buf_appendc(out, '}');
            }
            jp_buf_free(&msg);
            jp_buf_appendc(out, ']');
            sep = ",";
        }
        if (st->retry_after) jp_buf_printf(out, "%s\"retryAfterSeconds\":%d", sep, st->retry_after);
        jp_buf_appendc(out, '}');
    }
    jp_buf_printf(out, ",\"code\":%d}", jp_status_code(st));
}

void jp_status_success_json(const char *name, const char *group, const char *kind, const char *uid,
                            struct jp_buf *out)
{
    jp_buf_printf(out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                       "\"status\":\"Success\",\"details\":{\"name\":");
    quoted(out, name);
    jp_buf_printf(out, ",\"group\":");
    quoted(out, group);
    jp_buf_printf(out, ",\"kind\":");
    quoted(out, kind);
    jp_buf_printf(out, ",\"uid\":");
    quoted(out, uid);
    jp_buf_printf(out, "}}");
}
