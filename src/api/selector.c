/* Selector parsing and matching. Label keys and values are checked with the same rules as
 * object labels (meta.c), so a selector can never name a label no object could carry. */
#include "api/selector.h"
#include "api/kinds.h"
#include "api/meta.h"
#include "base/alloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOT_EXISTS, OP_GT, OP_LT };

struct req {
    enum op op;
    char *key;
    char **values; /* sorted, for IN/NOTIN; one value for EQ/NE/GT/LT */
    size_t nvalues;
    int field; /* field selectors: -1 name, -2 namespace, else index in the kind's labels */
};

struct jp_selector {
    struct req *reqs;
    size_t n, cap;
};

static struct req *add_req(struct jp_selector *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->reqs = jp_xrealloc(s->reqs, s->cap * sizeof(*s->reqs));
    }
    struct req *r = &s->reqs[s->n++];
    memset(r, 0, sizeof(*r));
    return r;
}

void jp_selector_free(struct jp_selector *s)
{
    if (s == NULL) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->reqs[i].key);
        for (size_t j = 0; j < s->reqs[i].nvalues; j++)
            free(s->reqs[i].values[j]);
        free(s->reqs[i].values);
    }
    free(s->reqs);
    free(s);
}

bool jp_selector_is_empty(const struct jp_selector *s)
{
    return s == NULL || s->n == 0;
}

static void add_value(struct req *r, const char *v, size_t len)
{
    r->values = jp_xrealloc(r->values, (r->nvalues + 1) * sizeof(char *));
    r->values[r->nvalues++] = jp_xstrndup(v, len);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- label selector text ---- */

struct lexer {
    const char *p;
};

static void skip_ws(struct lexer *lx)
{
    while (*lx->p == ' ' || *lx->p == '\t')
        lx->p++;
}

static bool ident_char(char c)
{
    return c && !strchr(" \t,()=!<>", c);
}

static size_t ident(struct lexer *lx, const char **start)
{
    skip_ws(lx);
    *start = lx->p;
    while (ident_char(*lx->p))
        lx->p++;
    return (size_t)(lx->p - *start);
}

static int bad(struct jp_status **st, const char *text, const char *why)
{
    if (st) *st = jp_status_new(JP_BAD_REQUEST, "unable to parse requirement: %s: %s", why, text);
    return -1;
}

static int check_key(const char *key, struct jp_status **st)
{
    struct jp_ferrs fe = {0};
    jp_validate_label_key(key, "key", &fe);
    if (fe.n == 0) return 0;
    struct jp_buf m;
    jp_buf_init(&m, 1 << 16);
    jp_buf_printf(&m, "%s: ", fe.items[0].field);
    jp_ferr_message(&fe.items[0], &m);
    if (st) *st = jp_status_new(JP_BAD_REQUEST, "unable to parse requirement: %s", m.data);
    jp_buf_free(&m);
    jp_ferrs_free(&fe);
    return -1;
}

static int check_value(const char *v, struct jp_status **st)
{
    struct jp_ferrs fe = {0};
    jp_validate_label_value(v, "values", &fe);
    if (fe.n == 0) return 0;
    struct jp_buf m;
    jp_buf_init(&m, 1 << 16);
    jp_buf_printf(&m, "%s: ", fe.items[0].field);
    jp_ferr_message(&fe.items[0], &m);
    if (st) *st = jp_status_new(JP_BAD_REQUEST, "unable to parse requirement: %s", m.data);
    jp_buf_free(&m);
    jp_ferrs_free(&fe);
    return -1;
}

static int parse_requirement(struct lexer *lx, struct jp_selector *s, const char *text,
                             struct jp_status **st)
{
    skip_ws(lx);
    bool negate = false;
    if (*lx->p == '!') {
        negate = true;
        lx->p++;
    }
    const char *k;
    size_t klen = ident(lx, &k);
    if (klen == 0) return bad(st, text, "found no key");
    struct req *r = add_req(s);
    r->key = jp_xstrndup(k, klen);
    if (check_key(r->key, st) < 0) return -1;
    skip_ws(lx);
    if (negate) {
        r->op = OP_NOT_EXISTS;
        return 0;
    }
    if (*lx->p == ',' || *lx->p == '\0') {
        r->op = OP_EXISTS;
        return 0;
    }
    if (lx->p[0] == '=' && lx->p[1] == '=') {
        r->op = OP_EQ;
        lx->p += 2;
    } else if (lx->p[0] == '=') {
        r->op = OP_EQ;
        lx->p++;
    } else if (lx->p[0] == '!' && lx->p[1] == '=') {
        r->op = OP_NE;
        lx->p += 2;
    } else if (*lx->p == '>' || *lx->p == '<') {
        r->op = *lx->p == '>' ? OP_GT : OP_LT;
        lx->p++;
    } else {
        const char *w;
        size_t wlen = ident(lx, &w);
        if (wlen == 2 && strncmp(w, "in", 2) == 0)
            r->op = OP_IN;
        else if (wlen == 5 && strncmp(w, "notin", 5) == 0)
            r->op = OP_NOTIN;
        else
            return bad(st, text, "expected one of =, ==, !=, in, notin after the key");
        skip_ws(lx);
        if (*lx->p != '(') return bad(st, text, "expected '(' after in/notin");
        lx->p++;
        for (;;) {
            const char *v;
            size_t vlen = ident(lx, &v);
            add_value(r, v, vlen);
            if (check_value(r->values[r->nvalues - 1], st) < 0) return -1;
            skip_ws(lx);
            if (*lx->p == ',') {
                lx->p++;
                continue;
            }
            if (*lx->p == ')') {
                lx->p++;
                break;
            }
            return bad(st, text, "expected ',' or ')' in the value list");
        }
        qsort(r->values, r->nvalues, sizeof(char *), str_cmp);
        return 0;
    }
    const char *v;
    size_t vlen = ident(lx, &v);
    add_value(r, v, vlen);
    if (r->op == OP_GT || r->op == OP_LT) {
        char *end;
        strtoll(r->values[0], &end, 10);
        if (vlen == 0 || *end)
            return bad(st, text, "for 'Gt', 'Lt' operators, the value must be an integer");
        return 0;
    }
    return check_value(r->values[0], st);
}

int jp_label_selector_parse(const char *text, struct jp_selector **out, struct jp_status **st)
{
    struct jp_selector *s = jp_xcalloc(1, sizeof(*s));
    struct lexer lx = {text ? text : ""};
    skip_ws(&lx);
    while (*lx.p) {
        if (parse_requirement(&lx, s, text, st) < 0) goto fail;
        skip_ws(&lx);
        if (*lx.p == ',') {
            lx.p++;
            skip_ws(&lx);
            if (*lx.p == '\0') {
                bad(st, text, "found '', expected: identifier");
                goto fail;
            }
        } else if (*lx.p) {
            bad(st, text, "expected ',' between requirements");
            goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    jp_selector_free(s);
    return -1;
}

int jp_label_selector_from_json(const json_t *sel, struct jp_selector **out, struct jp_status **st)
{
    struct jp_selector *s = jp_xcalloc(1, sizeof(*s));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(sel, "matchLabels"), k, v)
    {
        struct req *r = add_req(s);
        r->op = OP_EQ;
        r->key = jp_xstrdup(k);
        const char *sv = json_string_value(v);
        add_value(r, sv ? sv : "", sv ? strlen(sv) : 0);
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, e)
    {
        const char *key = jp_json_str(e, "key", NULL), *op = jp_json_str(e, "operator", NULL);
        struct req *r = add_req(s);
        r->key = jp_xstrdup(key ? key : "");
        if (op && strcmp(op, "In") == 0)
            r->op = OP_IN;
        else if (op && strcmp(op, "NotIn") == 0)
            r->op = OP_NOTIN;
        else if (op && strcmp(op, "Exists") == 0)
            r->op = OP_EXISTS;
        else if (op && strcmp(op, "DoesNotExist") == 0)
            r->op = OP_NOT_EXISTS;
        else {
            if (st)
                *st = jp_status_new(JP_BAD_REQUEST, "\"%s\" is not a valid label selector operator",
                                    op ? op : "");
            jp_selector_free(s);
            return -1;
        }
        size_t j;
        json_t *val;
        json_array_foreach(json_object_get(e, "values"), j, val)
        {
            const char *sv = json_string_value(val);
            if (sv) add_value(r, sv, strlen(sv));
        }
        qsort(r->values, r->nvalues, sizeof(char *), str_cmp);
    }
    *out = s;
    return 0;
}

static bool has_value(const struct req *r, const char *v)
{
    return bsearch(&v, r->values, r->nvalues, sizeof(char *), str_cmp) != NULL;
}

static bool req_matches(const struct req *r, const char *v)
{
    switch (r->op) {
    case OP_EQ:
        return v && strcmp(v, r->values[0]) == 0;
    case OP_NE:
        return !v || strcmp(v, r->values[0]) != 0;
    case OP_IN:
        return v && has_value(r, v);
    case OP_NOTIN:
        return !v || !has_value(r, v);
    case OP_EXISTS:
        return v != NULL;
    case OP_NOT_EXISTS:
        return v == NULL;
    case OP_GT:
    case OP_LT: {
        if (!v) return false;
        char *end;
        long long a = strtoll(v, &end, 10), b = strtoll(r->values[0], NULL, 10);
        if (*v == '\0' || *end) return false;
        return r->op == OP_GT ? a > b : a < b;
    }
    }
    return false;
}

bool jp_label_selector_matches(const struct jp_selector *s, const struct jp_proj *p)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (!req_matches(&s->reqs[i], jp_proj_label(p, s->reqs[i].key))) return false;
    return true;
}

bool jp_label_selector_matches_json(const struct jp_selector *s, const json_t *labels)
{
    for (size_t i = 0; s && i < s->n; i++) {
        const char *v = json_string_value(json_object_get(labels, s->reqs[i].key));
        if (!req_matches(&s->reqs[i], v)) return false;
    }
    return true;
}

static int req_cmp(const void *a, const void *b)
{
    return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

void jp_label_selector_string(const struct jp_selector *s, struct jp_buf *out)
{
    if (s == NULL) return;
    if (s->n == 0) return;
    struct req *sorted = jp_xmalloc(s->n * sizeof(*sorted));
    memcpy(sorted, s->reqs, s->n * sizeof(*sorted));
    qsort(sorted, s->n, sizeof(*sorted), req_cmp); /* apimachinery sorts by key */
    for (size_t i = 0; i < s->n; i++) {
        const struct req *r = &sorted[i];
        if (i) jp_buf_appendc(out, ',');
        switch (r->op) {
        case OP_EQ:
            jp_buf_printf(out, "%s=%s", r->key, r->values[0]);
            break;
        case OP_NE:
            jp_buf_printf(out, "%s!=%s", r->key, r->values[0]);
            break;
        case OP_EXISTS:
            jp_buf_printf(out, "%s", r->key);
            break;
        case OP_NOT_EXISTS:
            jp_buf_printf(out, "!%s", r->key);
            break;
        case OP_GT:
            jp_buf_printf(out, "%s>%s", r->key, r->values[0]);
            break;
        case OP_LT:
            jp_buf_printf(out, "%s<%s", r->key, r->values[0]);
            break;
        case OP_IN:
        case OP_NOTIN:
            jp_buf_printf(out, "%s %s (", r->key, r->op == OP_IN ? "in" : "notin");
            for (size_t j = 0; j < r->nvalues; j++)
                jp_buf_printf(out, "%s%s", j ? "," : "", r->values[j]);
            jp_buf_appendc(out, ')');
            break;
        }
    }
    free(sorted);
}

/* ---- field selectors ---- */

/* Splits at an unescaped separator; unescapes \\, \, and \= into out. */
static size_t field_token(const char *p, const char *stops, char *out, size_t outsz)
{
    size_t i = 0, o = 0;
    while (p[i] && !strchr(stops, p[i])) {
        if (p[i] == '\\' && p[i + 1]) i++;
        if (o + 1 < outsz) out[o++] = p[i];
        i++;
    }
    out[o] = '\0';
    return i;
}

int jp_field_selector_parse(const struct jp_kind *kind, const char *text, struct jp_selector **out,
                            struct jp_status **st)
{
    struct jp_selector *s = jp_xcalloc(1, sizeof(*s));
    const char *p = text ? text : "";
    while (*p) {
        char key[256], value[1024];
        p += field_token(p, "=!,", key, sizeof(key));
        struct req *r = add_req(s);
        r->key = jp_xstrdup(key);
        if (p[0] == '=' && p[1] == '=') {
            r->op = OP_EQ;
            p += 2;
        } else if (p[0] == '=') {
            r->op = OP_EQ;
            p++;
        } else if (p[0] == '!' && p[1] == '=') {
            r->op = OP_NE;
            p += 2;
        } else {
            if (st)
                *st = jp_status_new(JP_BAD_REQUEST, "invalid selector: '%s'; can't understand '%s'",
                                    text, key);
            jp_selector_free(s);
            return -1;
        }
        p += field_token(p, ",", value, sizeof(value));
        add_value(r, value, strlen(value));
        if (strcmp(key, "metadata.name") == 0) {
            r->field = -1;
        } else if (strcmp(key, "metadata.namespace") == 0) {
            r->field = -2;
        } else {
            r->field = -3;
            for (int i = 0; kind->ops->field_labels && kind->ops->field_labels[i]; i++)
                if (strcmp(kind->ops->field_labels[i], key) == 0) r->field = i;
            if (r->field == -3) {
                if (st) *st = jp_status_new(JP_BAD_REQUEST, "field label not supported: %s", key);
                jp_selector_free(s);
                return -1;
            }
        }
        if (*p == ',') p++;
    }
    *out = s;
    return 0;
}

bool jp_field_selector_matches(const struct jp_selector *s, const struct jp_kind *kind,
                               const struct jp_obj *o)
{
    (void)kind;
    const struct jp_proj *p = jp_proj_of(o);
    for (size_t i = 0; s && i < s->n; i++) {
        const struct req *r = &s->reqs[i];
        const char *v = r->field == -1 ? o->name : r->field == -2 ? o->ns : p->fields[r->field];
        bool eq = strcmp(v, r->values[0]) == 0;
        if ((r->op == OP_EQ) != eq) return false;
    }
    return true;
}

const char *jp_field_selector_name(const struct jp_selector *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (s->reqs[i].field == -1 && s->reqs[i].op == OP_EQ) return s->reqs[i].values[0];
    return NULL;
}
