/* Integer and boolean parsing that refuses anything but the whole, in-range value. */
#include "base/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int jp_parse_int(const char *s, int base, int64_t min, int64_t max, int64_t *out,
                 struct jp_err **err)
{
    if (s == NULL || *s == '\0') return jp_err_set(err, JP_BAD_REQUEST, 0, "empty number");
    /* strtoll skips leading space and accepts a sign; we allow the sign only. */
    if (isspace((unsigned char)s[0]))
        return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid number \"%s\"", s);
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (end == s || *end != '\0')
        return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid number \"%s\"", s);
    if (errno == ERANGE || v < min || v > max)
        return jp_err_set(err, JP_BAD_REQUEST, 0, "number \"%s\" out of range [%lld, %lld]", s,
                          (long long)min, (long long)max);
    *out = v;
    return 0;
}

int jp_parse_bool(const char *s, bool *out, struct jp_err **err)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; s && i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid boolean \"%s\"", s ? s : "");
}

int jp_parse_duration(const char *s, int64_t *ns, struct jp_err **err)
{
    static const struct {
        const char *name;
        double ns;
    } units[] = {{"ns", 1},  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
                 {"s", 1e9}, {"m", 6e10}, {"h", 3.6e12}};
    if (s && strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (s == NULL || *s == '\0') return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid duration \"\"");
    double total = 0;
    const char *p = s;
    while (*p) {
        const char *start = p;
        while (isdigit((unsigned char)*p) || *p == '.')
            p++;
        if (p == start || (p - start == 1 && *start == '.'))
            return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid duration \"%s\"", s);
        char num[64];
        if ((size_t)(p - start) >= sizeof(num))
            return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid duration \"%s\"", s);
        memcpy(num, start, (size_t)(p - start));
        num[p - start] = '\0';
        if (strchr(num, '.') != strrchr(num, '.'))
            return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid duration \"%s\"", s);
        double v = strtod(num, NULL);
        size_t best = 0, best_len = 0;
        for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            size_t n = strlen(units[u].name);
            if (n > best_len && strncmp(p, units[u].name, n) == 0) best = u, best_len = n;
        }
        if (best_len == 0)
            return jp_err_set(err, JP_BAD_REQUEST, 0, "missing unit in duration \"%s\"", s);
        p += best_len;
        total += v * units[best].ns;
        if (total > 9.2e18)
            return jp_err_set(err, JP_BAD_REQUEST, 0, "duration \"%s\" out of range", s);
    }
    *ns = (int64_t)total;
    return 0;
}
