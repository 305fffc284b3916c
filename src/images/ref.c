/* Image references, normalized as distribution/reference's ParseNormalizedNamed does for
 * Kubernetes and containerd: "busybox", "busybox:latest", "library/busybox" and
 * "docker.io/library/busybox:latest" are one image. And the store's directory name for one. */
#include "images/images.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_TOTAL 255 /* the grammar's limit on repo names */
#define TAG_MAX        128
#define DIRNAME_MAX    240 /* NAME_MAX less room for the store's own prefixes */

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+ */
static bool path_component(const char *s, size_t n)
{
    if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n;) {
        if (lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !lower_alnum(s[j]))
            j++;
        size_t len = j - i;
        bool dashes = strspn(s + i, "-") >= len;
        bool ok = dashes || (len == 1 && (s[i] == '.' || s[i] == '_')) ||
                  (len == 2 && s[i] == '_' && s[i + 1] == '_');
        if (!ok) return false;
        i = j;
    }
    return true;
}

/* host[:port], host := labels of [A-Za-z0-9-] (not starting or ending with '-') joined by '.' */
static bool domain_ok(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t host = colon ? (size_t)(colon - s) : n;
    if (colon) {
        size_t plen = n - host - 1;
        if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") < plen) return false;
    }
    if (host == 0) return false;
    size_t label = 0;
    for (size_t i = 0; i <= host; i++) {
        char c = i < host ? s[i] : '.';
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') return false;
            label = 0;
        } else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

static bool tag_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TAG_MAX || s[0] == '.' || s[0] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i])) return false;
    return true;
}

/* algorithm ":" hex; sha256 must have 64 hex digits (the only algorithm checked strictly, as
 * in distribution/reference) */
static bool digest_ok(const char *s)
{
    const char *colon = strchr(s, ':');
    if (colon == NULL || colon == s) return false;
    for (const char *p = s; p < colon; p++)
        if (!isalnum((unsigned char)*p) && !strchr("+.-_", *p)) return false;
    if (!isalpha((unsigned char)s[0])) return false;
    size_t hex = strlen(colon + 1);
    if (hex < 32 || strspn(colon + 1, "0123456789abcdefABCDEF") < hex) return false;
    if ((size_t)(colon - s) == 6 && memcmp(s, "sha256", 6) == 0 && hex != 64) return false;
    return true;
}

static int bad(struct jp_err **err, const char *text, const char *why)
{
    return jp_err_set(err, JP_INVALID, 0, "invalid image reference \"%s\": %s", text, why);
}

/* Splits off the domain like splitDockerDomain: the first part is a domain only if it has a
 * '.' or ':', is "localhost", or has upper case; docker.io's one-part names live in library/. */
static void split_domain(const char *name, char **domain, char **rest)
{
    const char *slash = strchr(name, '/');
    bool has_domain = false;
    if (slash) {
        size_t n = (size_t)(slash - name);
        has_domain = memchr(name, '.', n) || memchr(name, ':', n) ||
                     (n == 9 && memcmp(name, "localhost", 9) == 0);
        for (size_t i = 0; i < n && !has_domain; i++)
            has_domain = isupper((unsigned char)name[i]);
    }
    if (has_domain) {
        *domain = jp_xstrndup(name, (size_t)(slash - name));
        *rest = jp_xstrdup(slash + 1);
    } else {
        *domain = jp_xstrdup("docker.io");
        *rest = jp_xstrdup(name);
    }
    if (strcmp(*domain, "index.docker.io") == 0) {
        free(*domain);
        *domain = jp_xstrdup("docker.io");
    }
    if (strcmp(*domain, "docker.io") == 0 && strchr(*rest, '/') == NULL) {
        char *r = jp_xasprintf("library/%s", *rest);
        free(*rest);
        *rest = r;
    }
}

static int check_path(const char *text, const char *path, struct jp_err **err)
{
    for (const char *p = path;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        for (size_t i = 0; i < n; i++)
            if (isupper((unsigned char)p[i]))
                return bad(err, text, "repository name must be lowercase");
        if (!path_component(p, n))
            return bad(err, text,
                       "a repository name part is not [a-z0-9] separated by . _ __ or -");
        if (slash == NULL) return 0;
        p = slash + 1;
    }
}

int jp_image_ref_parse(const char *text, struct jp_image_ref *out, struct jp_err **err)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == '\0') return bad(err, text ? text : "", "it is empty");
    if (strlen(text) == 64 && strspn(text, "0123456789abcdef") == 64)
        return bad(err, text, "cannot be a 64-byte hexadecimal string");
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return bad(err, text, "it has a space or a character that is not ASCII");
    _cleanup_free_ char *name = jp_xstrdup(text);
    char *at = strchr(name, '@');
    if (at) {
        *at = '\0';
        if (!digest_ok(at + 1)) return bad(err, text, "the digest is not ALGORITHM:HEX");
        out->digest = jp_xstrdup(at + 1);
    }
    /* a ':' after the last '/' starts the tag (one before it is a registry's port) */
    char *slash = strrchr(name, '/'), *colon = strrchr(name, ':');
    if (colon && (slash == NULL || colon > slash)) {
        *colon = '\0';
        if (!tag_ok(colon + 1)) {
            jp_image_ref_free(out);
            return bad(err, text,
                       "the tag is not [A-Za-z0-9_.-] (at most 128, not starting with . or -)");
        }
        out->tag = jp_xstrdup(colon + 1);
    }
    _cleanup_free_ char *domain = NULL, *path = NULL;
    split_domain(name, &domain, &path);
    if (!domain_ok(domain, strlen(domain))) {
        jp_image_ref_free(out);
        return bad(err, text, "the registry is not HOST[:PORT]");
    }
    if (check_path(text, path, err) < 0) {
        jp_image_ref_free(out);
        return -1;
    }
    out->repo = jp_xasprintf("%s/%s", domain, path);
    if (strlen(out->repo) > NAME_MAX_TOTAL) {
        jp_image_ref_free(out);
        return bad(err, text, "the repository name is longer than 255 characters");
    }
    if (out->tag == NULL && out->digest == NULL) out->tag = jp_xstrdup("latest");
    out->full = jp_xasprintf("%s%s%s%s%s", out->repo, out->tag ? ":" : "", out->tag ? out->tag : "",
                             out->digest ? "@" : "", out->digest ? out->digest : "");
    return 0;
}

void jp_image_ref_free(struct jp_image_ref *r)
{
    free(r->repo);
    free(r->tag);
    free(r->digest);
    free(r->full);
    memset(r, 0, sizeof(*r));
}

char *jp_image_ref_dirname(const struct jp_image_ref *r)
{
    struct jp_buf b;
    jp_buf_init(&b, DIRNAME_MAX);
    int rc = 0;
    for (const char *p = r->full; *p && rc == 0; p++) {
        if (lower_alnum(*p) || *p == '.' || *p == '_' || *p == '-')
            rc = jp_buf_appendc(&b, *p);
        else if (*p == '/')
            rc = jp_buf_appendc(&b, '+');
        else
            rc = jp_buf_printf(&b, "%%%02X", (unsigned char)*p);
    }
    /* a leading '.' would hide it among the store's temporary entries */
    if (rc < 0 || b.len == 0 || b.data[0] == '.') {
        jp_buf_free(&b);
        return NULL;
    }
    return jp_buf_steal(&b, NULL);
}

bool jp_images_builtin(const char *name)
{
    return strncmp(name, "gcr.io/kuar-demo/kuard-", 23) == 0 || strcmp(name, "kuard") == 0 ||
           strncmp(name, "kuard:", 6) == 0;
}
