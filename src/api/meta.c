/* Name, label and annotation validation with apimachinery's messages. */
#include "base/buf.h"
#include "api/meta.h"
#include "base/alloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char SUBDOMAIN_MSG[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char LABEL_MSG[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char DNS1035_MSG[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
static const char QNAME_MSG[] =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
static const char QNAME_SLASHES_MSG[] =
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
    "subdomain prefix and '/' (e.g. 'example.com/MyName')";
static const char LABEL_VALUE_MSG[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
    "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

#define MAX_ANNOTATIONS_BYTES (256 * 1024)

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_label(const char *s, size_t n)
{
    if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!lower_alnum(s[i]) && s[i] != '-') return false;
    return true;
}

const char *jp_check_dns1123_label(const char *s)
{
    size_t n = strlen(s);
    if (n > 63) return "must be no more than 63 characters";
    return is_label(s, n) ? NULL : LABEL_MSG;
}

const char *jp_check_dns1123_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n > 253) return "must be no more than 253 characters";
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!is_label(p, len)) return SUBDOMAIN_MSG;
        if (!dot) return NULL;
        p = dot + 1;
    }
}

const char *jp_check_dns1035_label(const char *s)
{
    size_t n = strlen(s);
    if (n > 63) return "must be no more than 63 characters";
    if (n == 0 || !(s[0] >= 'a' && s[0] <= 'z') || !is_label(s, n)) return DNS1035_MSG;
    return NULL;
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

static bool is_qname_part(const char *s, size_t n)
{
    if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i])) return false;
    return true;
}

static char *quote(const char *s)
{
    return jp_go_quote(s);
}

void jp_validate_label_key(const char *key, const char *field, struct jp_ferrs *fe)
{
    char *q = quote(key);
    const char *slash = strchr(key, '/');
    const char *name = slash ? slash + 1 : key;
    if (slash && strchr(name, '/')) {
        jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "%s", QNAME_SLASHES_MSG);
    } else {
        if (slash) {
            char *prefix = jp_xstrndup(key, (size_t)(slash - key));
            const char *m =
                *prefix ? jp_check_dns1123_subdomain(prefix) : "prefix part must be non-empty";
            if (m && *prefix)
                jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "prefix part %s", m);
            else if (m)
                jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "%s", m);
            free(prefix);
        }
        size_t n = strlen(name);
        if (n == 0)
            jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "name part must be non-empty");
        else if (n > 63)
            jp_ferrs_add(fe, JP_FERR_INVALID, field, q,
                         "name part must be no more than 63 characters");
        if (n > 0 && !is_qname_part(name, n))
            jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "%s", QNAME_MSG);
    }
    free(q);
}

void jp_validate_label_value(const char *value, const char *field, struct jp_ferrs *fe)
{
    size_t n = strlen(value);
    char *q = quote(value);
    if (n > 63) jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "must be no more than 63 characters");
    if (n > 0 && !is_qname_part(value, n))
        jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "%s", LABEL_VALUE_MSG);
    free(q);
}

void jp_validate_labels(const json_t *labels, const char *field, struct jp_ferrs *fe)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v)
    {
        jp_validate_label_key(k, field, fe);
        jp_validate_label_value(json_is_string(v) ? json_string_value(v) : "", field, fe);
    }
}

void jp_validate_annotations(const json_t *annotations, const char *field, struct jp_ferrs *fe)
{
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)annotations, k, v)
    {
        /* annotation keys are qualified names, lower-cased before the check */
        char *lower = jp_xstrdup(k);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        jp_validate_label_key(lower, field, fe);
        free(lower);
        total += strlen(k) + (json_is_string(v) ? json_string_length(v) : 0);
    }
    if (total > MAX_ANNOTATIONS_BYTES)
        jp_ferrs_add(fe, JP_FERR_TOO_LONG, field, NULL, "must have at most %d bytes",
                     MAX_ANNOTATIONS_BYTES);
}

const char *jp_check_path_segment(const char *s)
{
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return "may not be '.' or '..'";
    if (strchr(s, '/')) return "may not contain '/'";
    if (strchr(s, '%')) return "may not contain '%'";
    return NULL;
}

static const char *check_name(const char *name, enum jp_name_rule rule)
{
    switch (rule) {
    case JP_NAME_SUBDOMAIN:
        return jp_check_dns1123_subdomain(name);
    case JP_NAME_DNS_LABEL:
        return jp_check_dns1123_label(name);
    case JP_NAME_DNS1035:
        return jp_check_dns1035_label(name);
    case JP_NAME_PATH_SEGMENT:
        return jp_check_path_segment(name);
    }
    return NULL;
}

void jp_validate_object_meta(const json_t *meta, enum jp_name_rule rule, bool namespaced,
                             const char *field, struct jp_ferrs *fe)
{
    char path[128];
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *gen = json_string_value(json_object_get(meta, "generateName"));
    jp_strfmt(path, sizeof(path), "%s.name", field);
    if (name == NULL || *name == '\0') {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, "name or generateName is required");
    } else {
        const char *m = check_name(name, rule);
        if (m) {
            char *q = quote(name);
            jp_ferrs_add(fe, JP_FERR_INVALID, path, q, "%s", m);
            free(q);
        }
    }
    (void)gen;
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    jp_strfmt(path, sizeof(path), "%s.namespace", field);
    if (namespaced && (ns == NULL || *ns == '\0'))
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
    else if (!namespaced && ns && *ns)
        jp_ferrs_add(fe, JP_FERR_FORBIDDEN, path, NULL, "not allowed on this type");
    json_t *labels = json_object_get(meta, "labels");
    jp_strfmt(path, sizeof(path), "%s.labels", field);
    if (json_is_object(labels)) jp_validate_labels(labels, path, fe);
    json_t *ann = json_object_get(meta, "annotations");
    jp_strfmt(path, sizeof(path), "%s.annotations", field);
    if (json_is_object(ann)) jp_validate_annotations(ann, path, fe);
}
