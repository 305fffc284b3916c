/* URL paths of the Kubernetes API into routes:
 *   /api, /api/v1, /apis, /apis/{g}, /apis/{g}/{v}          discovery
 *   /api/v1/{plural}[/{name}[/{sub}]]                        cluster scope, or all namespaces
 *   /api/v1/namespaces/{ns}/{plural}[/{name}[/{sub}]]        namespaced
 *   /apis/{g}/{v}/... the same under a group                 */
#include "apiserver/internal.h"
#include "base/buf.h"

#include <stdio.h>
#include <string.h>

#define MAX_SEGS 10

static int split(const char *path, char segs[MAX_SEGS][256])
{
    int n = 0;
    const char *p = path;
    while (*p == '/')
        p++;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (n == MAX_SEGS || len >= 256) return -1;
        memcpy(segs[n], p, len);
        segs[n][len] = '\0';
        n++;
        p += len;
        while (*p == '/')
            p++;
    }
    return n;
}

static void copy(char *dst, const char *src, size_t n)
{
    jp_strfmt(dst, n, "%s", src);
}

/* segs[i..] after /api/v1 or /apis/g/v */
static void resource(struct route *r, const char *group, const char *version,
                     char segs[MAX_SEGS][256], int i, int n)
{
    if (i == n) {
        r->type = R_GROUP_VER;
        return;
    }
    /* /namespaces/{ns}/{plural}... unless {plural} is a namespace subresource */
    if (strcmp(segs[i], "namespaces") == 0 && *group == '\0' && n - i >= 3 &&
        strcmp(segs[i + 2], "status") != 0 && strcmp(segs[i + 2], "finalize") != 0) {
        const struct jp_kind *k = jp_kind_by_plural(group, version, segs[i + 2]);
        if (k == NULL || !k->namespaced || n - i > 5) return;
        r->kind = k;
        copy(r->ns, segs[i + 1], sizeof(r->ns));
        i += 3;
    } else if (strcmp(segs[i], "namespaces") == 0 && *group && n - i >= 3) {
        const struct jp_kind *k = jp_kind_by_plural(group, version, segs[i + 2]);
        if (k == NULL || !k->namespaced || n - i > 5) return;
        r->kind = k;
        copy(r->ns, segs[i + 1], sizeof(r->ns));
        i += 3;
    } else {
        const struct jp_kind *k = jp_kind_by_plural(group, version, segs[i]);
        if (k == NULL || n - i > 3) return;
        r->kind = k;
        i += 1;
        /* a namespaced kind without /namespaces/ is the all-namespaces collection only */
        if (k->namespaced && i < n) return;
    }
    if (i == n) {
        r->type = R_COLLECTION;
        return;
    }
    copy(r->name, segs[i], sizeof(r->name));
    r->type = R_OBJECT;
    if (i + 1 < n) copy(r->sub, segs[i + 1], sizeof(r->sub));
}

void route_parse(const char *path, struct route *r)
{
    memset(r, 0, sizeof(*r));
    char segs[MAX_SEGS][256];
    int n = split(path, segs);
    if (n < 0) return;
    if (n == 0) {
        r->type = R_ROOT;
        return;
    }
    if (n == 1) {
        if (!strcmp(segs[0], "healthz") || !strcmp(segs[0], "livez") || !strcmp(segs[0], "readyz"))
            r->type = R_HEALTH;
        else if (!strcmp(segs[0], "version"))
            r->type = R_VERSION;
        else if (!strcmp(segs[0], "api"))
            r->type = R_API;
        else if (!strcmp(segs[0], "apis"))
            r->type = R_APIS;
        else if (!strcmp(segs[0], "metrics"))
            r->type = R_METRICS;
        return;
    }
    if (!strcmp(segs[0], "healthz") || !strcmp(segs[0], "livez") || !strcmp(segs[0], "readyz")) {
        if (n == 2) r->type = R_HEALTH; /* /healthz/ping and friends */
        return;
    }
    if (!strcmp(segs[0], "openapi")) {
        if (n == 2 && !strcmp(segs[1], "v2")) r->type = R_OPENAPI_V2;
        if (!strcmp(segs[1], "v3")) {
            if (n == 2) {
                r->type = R_OPENAPI_V3;
            } else if (n == 4 && !strcmp(segs[2], "api")) {
                r->type = R_OPENAPI_V3;
                copy(r->gv, segs[3], sizeof(r->gv));
            } else if (n == 5 && !strcmp(segs[2], "apis")) {
                r->type = R_OPENAPI_V3;
                snprintf(r->gv, sizeof(r->gv), "%.30s/%.30s", segs[3], segs[4]);
            }
        }
        return;
    }
    if (!strcmp(segs[0], "api")) {
        if (strcmp(segs[1], "v1") != 0) return;
        copy(r->gv, "v1", sizeof(r->gv));
        resource(r, "", "v1", segs, 2, n);
        return;
    }
    if (!strcmp(segs[0], "apis")) {
        if (n == 2) {
            r->type = R_GROUP;
            copy(r->gv, segs[1], sizeof(r->gv));
            return;
        }
        snprintf(r->gv, sizeof(r->gv), "%.30s/%.30s", segs[1], segs[2]);
        bool known = false;
        for (unsigned i = 0; i < jp_nkinds; i++)
            known |= !strcmp(jp_kinds[i].group, segs[1]) && !strcmp(jp_kinds[i].version, segs[2]);
        if (!known) return;
        resource(r, segs[1], segs[2], segs, 3, n);
    }
}
