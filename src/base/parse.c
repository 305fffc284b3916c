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
