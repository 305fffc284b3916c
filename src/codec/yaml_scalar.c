/* YAML 1.1 scalar resolution as go-yaml v2 does it (the parser inside sigs.k8s.io/yaml, hence
 * kubectl), and the JSON value or mapping key each resolved scalar becomes after json.Marshal. */
#include "codec/yaml-internal.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define TAG_BINARY JP_YAML__TAG_PREFIX "binary"

/* go-yaml's resolveMap: plain words with a fixed meaning. go-yaml only looks a word up when its
 * first byte is one of "+-.0123456789yYnNtTfFoO~" (or it is empty); every word here starts with
 * one of those, so looking every plain scalar up gives the same answer. */
static const struct {
    enum jp_yaml__type type;
    bool b;
    double d;
    const char *words[7]; /* NULL-terminated */
} words[] = {
    {JP_YAML__BOOL, true, 0, {"y", "Y", "yes", "Yes", "YES"}},
    {JP_YAML__BOOL, true, 0, {"true", "True", "TRUE"}},
    {JP_YAML__BOOL, true, 0, {"on", "On", "ON"}},
    {JP_YAML__BOOL, false, 0, {"n", "N", "no", "No", "NO"}},
    {JP_YAML__BOOL, false, 0, {"false", "False", "FALSE"}},
    {JP_YAML__BOOL, false, 0, {"off", "Off", "OFF"}},
    {JP_YAML__NULL, false, 0, {"", "~", "null", "Null", "NULL"}},
    {JP_YAML__FLOAT, false, NAN, {".nan", ".NaN", ".NAN"}},
    {JP_YAML__FLOAT, false, INFINITY, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}},
    {JP_YAML__FLOAT, false, -INFINITY, {"-.inf", "-.Inf", "-.INF"}},
};

/* Explicit tags that resolve like a plain scalar and then must agree with the result. */
static const struct {
    const char *tag;
    enum jp_yaml__type type;
} typed_tags[] = {
    {YAML_NULL_TAG, JP_YAML__NULL},     {YAML_BOOL_TAG, JP_YAML__BOOL},
    {YAML_INT_TAG, JP_YAML__INT},       {YAML_FLOAT_TAG, JP_YAML__FLOAT},
    {YAML_TIMESTAMP_TAG, JP_YAML__STR}, /* go-yaml v2 hands timestamps to interface{} as text */
};

static const char *const type_tags[] = {
    [JP_YAML__NULL] = "!!null", [JP_YAML__BOOL] = "!!bool", [JP_YAML__INT] = "!!int",
    [JP_YAML__UINT] = "!!int",  [JP_YAML__BIG] = "!!int",   [JP_YAML__FLOAT] = "!!float",
    [JP_YAML__STR] = "!!str",
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A digit in any base up to 36; 36 for anything else. */
static unsigned digit_value(char c)
{
    char l = (char)(c | 0x20);
    if (is_digit(c)) return (unsigned)(c - '0');
    if (l >= 'a' && l <= 'z') return (unsigned)(l - 'a' + 10);
    return 36;
}

enum uint_parse { UINT_OK, UINT_SYNTAX, UINT_RANGE };

/* strconv.ParseUint(s, 0, 64): 0b/0o/0x prefixes (either case), a bare leading 0 for octal.
 * UINT_RANGE: digits all valid but beyond uint64 (what big.Int.SetString(s, 0) then takes);
 * *approx holds the value as near as a long double gets. */
static enum uint_parse go_parse_uint(const char *s, uint64_t *out, long double *approx)
{
    size_t n = strlen(s);
    unsigned base = 10;
    if (n == 0) return UINT_SYNTAX;
    if (s[0] == '0') { /* Go wants a digit after a prefix: "0x" alone is octal, and invalid */
        char l = n >= 3 ? (char)(s[1] | 0x20) : '\0';
        base = l == 'b' ? 2 : l == 'o' ? 8 : l == 'x' ? 16 : 8;
        s += l == 'b' || l == 'o' || l == 'x' ? 2 : 1;
    }
    uint64_t v = 0;
    long double big = 0;
    bool over = false;
    for (; *s; s++) {
        unsigned d = digit_value(*s);
        if (d >= base) return UINT_SYNTAX;
        over = over || v > (UINT64_MAX - d) / base;
        v = v * base + d;
        big = big * base + d;
    }
    *out = v;
    *approx = big;
    return over ? UINT_RANGE : UINT_OK;
}

/* strconv.ParseInt(s, 0, 64). */
static bool go_parse_int(const char *s, int64_t *out)
{
    bool neg = s[0] == '-';
    uint64_t u;
    long double ignored;
    if (go_parse_uint(s + (s[0] == '-' || s[0] == '+'), &u, &ignored) != UINT_OK) return false;
    if (u > (uint64_t)INT64_MAX + neg) return false;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool float_syntax(const char *s)
{
    if (*s == '+' || *s == '-') s++;
    if (*s == '.') {
        if (!is_digit(*++s)) return false;
    } else {
        if (!is_digit(*s)) return false;
        while (is_digit(*s))
            s++;
        if (*s == '.') s++;
    }
    while (is_digit(*s))
        s++;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!is_digit(*s)) return false;
        while (is_digit(*s))
            s++;
    }
    return *s == '\0';
}

/* strconv.ParseFloat on text float_syntax accepted: only overflow fails (underflow is 0). */
static bool go_parse_float(const char *s, double *out)
{
    errno = 0;
    double d = strtod(s, NULL);
    if (errno == ERANGE && isinf(d)) return false;
    *out = d;
    return true;
}

/* A plain scalar starting with a digit or sign: go-yaml drops every '_' and then tries int,
 * uint64, float and big.Int in that order. */
static void resolve_number(const char *text, size_t len, struct jp_yaml__scalar *out)
{
    _cleanup_free_ char *s = jp_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != '_') s[n++] = text[i];
    s[n] = '\0';
    long double approx = 0;
    enum uint_parse u;
    if (go_parse_int(s, &out->i)) {
        out->type = JP_YAML__INT;
    } else if ((u = go_parse_uint(s, &out->u, &approx)) == UINT_OK) {
        out->type = JP_YAML__UINT;
        out->d = (double)out->u;
    } else if (float_syntax(s) && go_parse_float(s, &out->d)) {
        out->type = JP_YAML__FLOAT;
    } else if (u == UINT_RANGE) {
        out->type = JP_YAML__BIG;
        out->d = approx > DBL_MAX ? INFINITY : (double)approx;
    }
}

/* go-yaml v2 resolve() for an untagged plain scalar; text holds no NUL. */
static void resolve_plain(const char *text, size_t len, struct jp_yaml__scalar *out)
{
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        for (const char *const *w = words[i].words; *w != NULL; w++) {
            if (strlen(*w) == len && memcmp(*w, text, len) == 0) {
                out->type = words[i].type;
                out->b = words[i].b;
                out->d = words[i].d;
                return;
            }
        }
    }
    if (text[0] == '.') { /* ".5", ".5e3": ParseFloat, which takes no '_' without a 0x prefix */
        if (float_syntax(text) && go_parse_float(text, &out->d)) out->type = JP_YAML__FLOAT;
    } else if (is_digit(text[0]) || text[0] == '+' || text[0] == '-') {
        resolve_number(text, len, out);
    }
}

/* base64.StdEncoding.DecodeString, which go-yaml applies to !!binary: padding required, CR and
 * LF ignored, nothing else. */
static bool go_base64_ok(const char *s, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n') continue;
        if (c == '=') {
            pad++;
        } else if (pad > 0 || c == '\0' || strchr(alphabet, c) == NULL) {
            return false; /* data after padding, or a byte outside the alphabet */
        }
        n++;
    }
    return n % 4 == 0 && pad <= 2;
}

static bool take_num(const char **p, const char *end, int min_digits, int max_digits, int *v)
{
    int d = 0;
    *v = 0;
    while (*p < end && d < max_digits && is_digit(**p)) {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        d++;
    }
    return d >= min_digits;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* go-yaml's parseTimestamp: time.Parse with "2006-1-2T15:4:5.999999999Z07:00" (T or t),
 * "2006-1-2 15:4:5.999999999" or "2006-1-2". Only matters for an explicit !!timestamp. */
static bool go_timestamp(const char *s, size_t len)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s, *end = s + len;
    int y, mo, d, h, mi, sec, zh, zm;
    if (!take_num(&p, end, 4, 4, &y) || p == end || *p++ != '-' || !take_num(&p, end, 1, 2, &mo) ||
        p == end || *p++ != '-' || !take_num(&p, end, 1, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y))) return false;
    if (p == end) return true;
    char sep = *p++;
    if ((sep != 'T' && sep != 't' && sep != ' ') || !take_num(&p, end, 1, 2, &h) || p == end ||
        *p++ != ':' || !take_num(&p, end, 1, 2, &mi) || p == end || *p++ != ':' ||
        !take_num(&p, end, 1, 2, &sec) || h > 23 || mi > 59 || sec > 59)
        return false;
    if (end - p >= 2 && (*p == '.' || *p == ',') && is_digit(p[1]))
        for (p++; p < end && is_digit(*p);)
            p++;
    if (sep == ' ') return p == end;
    if (p < end && *p == 'Z') return p + 1 == end;
    if (end - p != 6 || (*p != '+' && *p != '-') || p[3] != ':') return false;
    p++;
    if (!take_num(&p, end, 2, 2, &zh) || *p++ != ':' || !take_num(&p, end, 2, 2, &zm)) return false;
    return zh <= 24 && zm <= 60;
}

const char *jp_yaml__short_tag(const char *tag, char *buf, size_t size)
{
    size_t n = strlen(JP_YAML__TAG_PREFIX);
    if (strncmp(tag, JP_YAML__TAG_PREFIX, n) == 0) return jp_strfmt(buf, size, "!!%s", tag + n);
    return jp_strfmt(buf, size, "%s", tag);
}

const char *jp_yaml__show(const char *s, size_t n, char *buf, size_t size)
{
    size_t max = size > 64 ? 60 : size - 4, i = 0;
    if (n > max) { /* cut on a UTF-8 character boundary */
        while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
            max--;
    }
    for (; i < n && i < max; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    if (i < n) memcpy(buf + i, "...", 4);
    return buf;
}

static int typed(const char *tag, const char *text, size_t len, bool has_nul,
                 struct jp_yaml__scalar *out, struct jp_err **err)
{
    char sbuf[72], tbuf[64];
    size_t i = 0, n = sizeof(typed_tags) / sizeof(typed_tags[0]);
    while (i < n && strcmp(tag, typed_tags[i].tag) != 0)
        i++;
    if (i == n)
        return jp_err_set(err, JP_BAD_REQUEST, 0, "unknown tag %s",
                          jp_yaml__short_tag(tag, tbuf, sizeof(tbuf)));
    bool timestamp = strcmp(tag, YAML_TIMESTAMP_TAG) == 0;
    if (timestamp && !has_nul && go_timestamp(text, len)) return 0;
    if (!has_nul) resolve_plain(text, len, out);
    if (out->type == typed_tags[i].type && !timestamp) return 0;
    if ((out->type == JP_YAML__UINT || out->type == JP_YAML__BIG) &&
        typed_tags[i].type == JP_YAML__INT)
        return 0;
    if (out->type == JP_YAML__INT && typed_tags[i].type == JP_YAML__FLOAT) {
        out->d = (double)out->i; /* go-yaml converts int, not uint64 or big.Int */
        out->type = JP_YAML__FLOAT;
        return 0;
    }
    return jp_err_set(err, JP_BAD_REQUEST, 0, "cannot decode %s `%s` as a %s", type_tags[out->type],
                      jp_yaml__show(text, len, sbuf, sizeof(sbuf)),
                      jp_yaml__short_tag(tag, tbuf, sizeof(tbuf)));
}

int jp_yaml__resolve(const char *tag, const char *text, size_t len, bool plain,
                     struct jp_yaml__scalar *out, struct jp_err **err)
{
    *out = (struct jp_yaml__scalar){.type = JP_YAML__STR, .text = text, .len = len};
    bool has_nul = memchr(text, '\0', len) != NULL; /* only a "\0" escape puts one there */
    if (tag == NULL) {
        if (plain && !has_nul) resolve_plain(text, len, out);
        return 0;
    }
    /* "!" is the non-specific tag: a string. !!merge only means something on a "<<" key. */
    if (strcmp(tag, "!") == 0 || strcmp(tag, YAML_STR_TAG) == 0 ||
        strcmp(tag, JP_YAML__TAG_MERGE) == 0)
        return 0;
    if (strcmp(tag, TAG_BINARY) == 0) {
        if (go_base64_ok(text, len)) return 0; /* kept as the base64 text, see yaml.h */
        return jp_err_set(err, JP_BAD_REQUEST, 0, "!!binary value contains invalid base64 data");
    }
    return typed(tag, text, len, has_nul, out, err);
}

/* Go's json.Marshal writes an integral float64 below 1e21 without a fraction, so jansson reads
 * it back as an integer when it fits one. */
static json_t *float_json(double d, const char *text, size_t len, struct jp_err **err)
{
    char sbuf[72];
    if (isnan(d) || isinf(d)) {
        jp_err_set(err, JP_BAD_REQUEST, 0,
                   "%s cannot be represented in JSON (json: unsupported value: %s)",
                   jp_yaml__show(text, len, sbuf, sizeof(sbuf)),
                   isnan(d) ? "NaN"
                   : d > 0  ? "+Inf"
                            : "-Inf");
        return NULL;
    }
    if (d == trunc(d) && d >= -0x1p63 && d < 0x1p63) return json_integer((json_int_t)d);
    return json_real(d);
}

json_t *jp_yaml__to_json(const struct jp_yaml__scalar *s, struct jp_err **err)
{
    json_t *v = NULL;
    switch (s->type) {
    case JP_YAML__NULL:
        return json_null();
    case JP_YAML__BOOL:
        return json_boolean(s->b);
    case JP_YAML__INT:
        v = json_integer(s->i);
        break;
    case JP_YAML__UINT: /* jansson has no uint64 or big.Int: the nearest double */
    case JP_YAML__BIG:
        if (isinf(s->d)) {
            char sbuf[72];
            jp_err_set(err, JP_BAD_REQUEST, 0, "integer %s is too large for a JSON number here",
                       jp_yaml__show(s->text, s->len, sbuf, sizeof(sbuf)));
            return NULL;
        }
        return float_json(s->d, s->text, s->len, err);
    case JP_YAML__FLOAT:
        return float_json(s->d, s->text, s->len, err);
    case JP_YAML__STR:
        v = json_stringn(s->text, s->len);
        break;
    }
    if (v == NULL) jp_err_set(err, JP_INTERNAL, 0, "out of memory building a JSON value");
    return v;
}

/* strconv.FormatFloat(v, 'g', -1, 32), which sigs.k8s.io/yaml uses for float keys: the shortest
 * digits that read back as the same float32, in %e form below 1e-4 or from 1e6 up. */
static char *go_float32_key(double v)
{
    float f = (float)v;
    if (isnan(f)) return jp_xstrdup(".nan");
    if (isinf(f)) return jp_xstrdup(f > 0 ? ".inf" : "-.inf");
    char e[32];
    int p;
    for (p = 1; p < 9; p++) { /* 9 significant digits always identify a float32 */
        snprintf(e, sizeof(e), "%.*e", p - 1, (double)f);
        if (strtof(e, NULL) == f) break;
    }
    if (p == 9) snprintf(e, sizeof(e), "%.8e", (double)f);
    long exp = strtol(strchr(e, 'e') + 1, NULL, 10);
    if (exp < -4 || exp >= 6) return jp_xstrdup(e);
    return jp_xasprintf("%.*f", p - 1 - (int)exp > 0 ? p - 1 - (int)exp : 0, (double)f);
}

char *jp_yaml__to_key(const struct jp_yaml__scalar *s, size_t *len, struct jp_err **err)
{
    char *k = NULL;
    switch (s->type) {
    case JP_YAML__NULL:
        jp_err_set(err, JP_BAD_REQUEST, 0, "unsupported map key: null");
        return NULL;
    case JP_YAML__BOOL:
        k = jp_xstrdup(s->b ? "true" : "false");
        break;
    case JP_YAML__INT:
        k = jp_xasprintf("%" PRId64, s->i);
        break;
    case JP_YAML__UINT: /* sigs.k8s.io/yaml turns only int, float and bool keys to strings */
    case JP_YAML__BIG: {
        char sbuf[72];
        jp_err_set(err, JP_BAD_REQUEST, 0, "unsupported map key: integer %s is beyond int64",
                   jp_yaml__show(s->text, s->len, sbuf, sizeof(sbuf)));
        return NULL;
    }
    case JP_YAML__FLOAT:
        k = go_float32_key(s->d);
        break;
    case JP_YAML__STR:
        /* jansson cannot read such a key back, and C callers look keys up as C strings */
        if (memchr(s->text, '\0', s->len) != NULL) {
            jp_err_set(err, JP_BAD_REQUEST, 0, "mapping key contains a NUL character");
            return NULL;
        }
        k = jp_xstrndup(s->text, s->len);
        *len = s->len;
        return k;
    }
    *len = strlen(k);
    return k;
}
