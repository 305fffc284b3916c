/* resource.Quantity text as Kubernetes reads and prints it (k8s.io/apimachinery/pkg/api/resource):
 * validation's comparisons (podspec.c) and what the kubelet does with quantities - an emptyDir's
 * sizeLimit (the tmpfs size, the eviction threshold and the "exceeds the limit" message) and
 * containers' memory limits. Values are kept exactly as mantissa x 10^exp; only what fits a
 * 64-bit mantissa is read. */
#include "api/quantity.h"

#include <stdio.h>
#include <string.h>

#define NANO_EXP (-9) /* Kubernetes rounds anything finer up to 1n */

static const uint64_t POW10[] = {1ULL,
                                 10ULL,
                                 100ULL,
                                 1000ULL,
                                 10000ULL,
                                 100000ULL,
                                 1000000ULL,
                                 10000000ULL,
                                 100000000ULL,
                                 1000000000ULL,
                                 10000000000ULL,
                                 100000000000ULL,
                                 1000000000000ULL,
                                 10000000000000ULL,
                                 100000000000000ULL,
                                 1000000000000000ULL,
                                 10000000000000000ULL,
                                 100000000000000000ULL,
                                 1000000000000000000ULL,
                                 10000000000000000000ULL};
#define POW10_MAX ((int)(sizeof(POW10) / sizeof(POW10[0])) - 1)

/* The suffixes Kubernetes knows (quantitySuffixer); anything else must be an exponent. */
static const struct {
    const char *text;
    int base, exp;
} SUFFIXES[] = {{"", 10, 0},   {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3},
                {"k", 10, 3},  {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12},
                {"P", 10, 15}, {"E", 10, 18}, {"Ki", 2, 10}, {"Mi", 2, 20},
                {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60}};

static bool mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* The parts parseQuantityString finds: sign, digits before and after the point (leading zeros
 * dropped), and the suffix, which must be the rest of the text. */
struct parts {
    bool neg;
    const char *num, *den, *suffix;
    size_t num_len, den_len;
};

static bool split(const char *s, struct parts *pt)
{
    memset(pt, 0, sizeof(*pt));
    if (*s == '+' || *s == '-') pt->neg = *s++ == '-';
    const char *start = s;
    while (*s == '0')
        s++;
    pt->num = s;
    while (*s >= '0' && *s <= '9')
        s++;
    pt->num_len = (size_t)(s - pt->num);
    if (pt->num_len == 0) pt->num = "0", pt->num_len = 1;
    if (*s == '.') {
        pt->den = ++s;
        while (*s >= '0' && *s <= '9')
            s++;
        pt->den_len = (size_t)(s - pt->den);
    }
    if (s == start) return false; /* no number at all */
    pt->suffix = s;
    while (*s && strchr("eEinumkKMGTP", *s))
        s++;
    if (*s == '+' || *s == '-') s++;
    while (*s >= '0' && *s <= '9')
        s++;
    return *s == '\0';
}

/* quantitySuffixer.interpret: base 10 or 2, the exponent, and the format it implies. */
static bool interpret(const char *suffix, int *base, int *exp, char *format)
{
    for (size_t i = 0; i < sizeof(SUFFIXES) / sizeof(SUFFIXES[0]); i++) {
        if (strcmp(suffix, SUFFIXES[i].text)) continue;
        *base = SUFFIXES[i].base;
        *exp = SUFFIXES[i].exp;
        *format = *base == 2 ? 'b' : 'd';
        return true;
    }
    if ((suffix[0] != 'e' && suffix[0] != 'E') || suffix[1] == '\0') return false;
    int64_t e = 0;
    const char *d = suffix + 1 + (suffix[1] == '+' || suffix[1] == '-');
    if (*d == '\0') return false;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || (e = e * 10 + (*d - '0')) > 1000) return false;
    }
    *base = 10;
    *exp = (int)(suffix[1] == '-' ? -e : e);
    *format = 'e';
    return true;
}

/* num and den as one integer, if it fits. */
static bool digits(const struct parts *pt, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < pt->num_len + pt->den_len; i++) {
        char c = i < pt->num_len ? pt->num[i] : pt->den[i - pt->num_len];
        if (!mul_u64(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(c - '0'), &v)) return false;
    }
    *out = v;
    return true;
}

/* ParseQuantity's int64 fast path keeps the text itself as String() when it is already in the
 * canonical form, by its own test (which lets "+1k" or "01Mi" through unchanged). */
static bool keeps_text(const struct parts *pt, int base, int exp, char format)
{
    int precision, scale;
    if (format == 'b') {
        if (exp < 0 || pt->den_len) return false;
        precision = 15 - (int)pt->num_len - (int)((float)exp * 3 / 10) - 1;
        scale = 0;
    } else {
        precision = 18 - (int)(pt->num_len + pt->den_len);
        scale = exp - (int)pt->den_len;
    }
    uint64_t v, r;
    if (precision < 0 || scale < NANO_EXP || !digits(pt, &v) || v > INT64_MAX ||
        !mul_u64(v, base == 2 ? 1ULL << exp : 1, &r) || r > INT64_MAX)
        return false;
    if (format == 'b') return exp % 10 == 0 && (v & 7) != 0;
    char shifted[32]; /* at most 18 digits here (precision >= 0) */
    int len = snprintf(shifted, sizeof(shifted), "%.*s%.*s", (int)pt->num_len, pt->num,
                       (int)pt->den_len, pt->den ? pt->den : "");
    bool zeros = len >= 3 && !strcmp(shifted + len - 3, "000");
    return scale % 3 == 0 && !zeros && shifted[0] != '0';
}

bool jp_quantity_parse(const char *text, struct jp_quantity *q)
{
    struct parts pt;
    int base, exp;
    char format;
    memset(q, 0, sizeof(*q));
    if (text == NULL || !split(text, &pt) || !interpret(pt.suffix, &base, &exp, &format))
        return false;
    uint64_t m;
    if (!digits(&pt, &m)) return false;
    q->neg = pt.neg;
    q->format = format;
    q->cached = keeps_text(&pt, base, exp, format);
    q->exp = -(int)pt.den_len;
    if (base == 10)
        q->exp += exp;
    else if (m && (exp >= 64 || !mul_u64(m, 1ULL << exp, &m)))
        return false;
    if (m && q->exp < NANO_EXP) { /* rounded up to the nano, as ParseQuantity does */
        int drop = NANO_EXP - q->exp;
        uint64_t d = drop <= POW10_MAX ? POW10[drop] : 0;
        m = d ? m / d + (m % d != 0) : 1;
        q->exp = NANO_EXP;
    }
    q->m = m;
    if (format == 'b' && jp_quantity_trunc(q) == INT64_MAX && (q->exp != 0 || m != INT64_MAX)) {
        q->m = INT64_MAX; /* ParseQuantity's cap for binary amounts */
        q->exp = 0;
    }
    if (m && format == 'b' && q->exp < 0 && m < POW10[-q->exp])
        q->format = 'd'; /* a binary amount below 1 prints as DecimalSI */
    return true;
}

/* The value as an integer, its magnitude rounded up or cut; saturated. */
static int64_t integer(const struct jp_quantity *q, bool up)
{
    uint64_t v = q->m;
    if (q->exp >= 0) {
        if (v && (q->exp > POW10_MAX || !mul_u64(v, POW10[q->exp], &v))) v = UINT64_MAX;
    } else {
        uint64_t d = -q->exp <= POW10_MAX ? POW10[-q->exp] : UINT64_MAX;
        bool frac = v % d != 0;
        v /= d;
        if (frac && up) v++;
    }
    if (v > INT64_MAX) v = INT64_MAX;
    return q->neg ? -(int64_t)v : (int64_t)v;
}

int64_t jp_quantity_value(const struct jp_quantity *q)
{
    return integer(q, true);
}

int64_t jp_quantity_trunc(const struct jp_quantity *q)
{
    return integer(q, false);
}

/* CanonicalizeBytes for BinarySI: a whole number of at least 1024, as n * 1024^k. */
static bool binary(const struct jp_quantity *q, char *buf, size_t n)
{
    static const char *const bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    uint64_t v = q->m;
    if (q->exp < 0) {
        if (q->exp < -POW10_MAX || v % POW10[-q->exp]) return false; /* not whole */
        v /= POW10[-q->exp];
    } else if (q->exp > POW10_MAX || !mul_u64(v, POW10[q->exp], &v)) {
        return false;
    }
    if (v < 1024) return false;
    int k = 0;
    while (k < 6 && v % 1024 == 0) {
        v /= 1024;
        k++;
    }
    snprintf(buf, n, "%s%llu%s", q->neg ? "-" : "", (unsigned long long)v, bin[k]);
    return true;
}

void jp_quantity_format(const struct jp_quantity *q, char *buf, size_t n)
{
    if (q->m == 0) {
        snprintf(buf, n, "0");
        return;
    }
    if (q->format == 'b' && binary(q, buf, n)) return;
    /* DecimalSI or DecimalExponent: no trailing zeros in the mantissa, then an exponent that is
     * a multiple of three (AsCanonicalBytes) */
    uint64_t m = q->m;
    int e = q->exp;
    while (m % 10 == 0) {
        m /= 10;
        e++;
    }
    while (e % 3 != 0 && m <= UINT64_MAX / 10) {
        m *= 10;
        e--;
    }
    static const char *const si[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
    char suffix[16] = "";
    if (q->format != 'e' && e % 3 == 0 && e >= -9 && e <= 18)
        snprintf(suffix, sizeof(suffix), "%s", si[(e + 9) / 3]);
    else if (e != 0)
        snprintf(suffix, sizeof(suffix), "e%d", e);
    snprintf(buf, n, "%s%llu%s", q->neg ? "-" : "", (unsigned long long)m, suffix);
}

bool jp_quantity_string(const char *text, char *buf, size_t n)
{
    struct jp_quantity q;
    if (!jp_quantity_parse(text, &q)) return false;
    if (q.cached)
        snprintf(buf, n, "%s", text);
    else
        jp_quantity_format(&q, buf, n);
    return true;
}

bool jp_quantity_json(const json_t *v, struct jp_quantity *q, char *text, size_t n)
{
    /* a number is read from its JSON text, as UnmarshalJSON does */
    int len;
    if (json_is_integer(v))
        len = snprintf(text, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        len = snprintf(text, n, "%.17g", json_real_value(v));
    else if (json_is_string(v))
        len = snprintf(text, n, "%s", json_string_value(v));
    else
        return false;
    return len >= 0 && (size_t)len < n && jp_quantity_parse(text, q);
}

long double jp_quantity_approx(const struct jp_quantity *q)
{
    long double v = (long double)q->m;
    for (int e = q->exp; e > 0; e--)
        v *= 10.0L;
    for (int e = q->exp; e < 0; e++)
        v /= 10.0L;
    return q->neg ? -v : v;
}
