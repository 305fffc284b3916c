/* Discovery (legacy and aggregated v2/v2beta1), /version and OpenAPI. The documents are built
 * once from the kind table; the aggregated form is chosen only when the Accept header asks for
 * it, and v2 is never sent to clients that only accept v2beta1 (kubectl 1.27-1.29). */
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/jsonstr.h"

#include <stdlib.h>
#include <string.h>

#define SERVER_GIT_VERSION "v1.33.0-jobplane"

static const char *const verbs_main =
    "[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\","
    "\"patch\",\"update\",\"watch\"]";
static const char *const verbs_ns = "[\"create\",\"delete\",\"get\",\"list\",\"patch\",\"update\","
                                    "\"watch\"]";

/* The subresources a kind may have, in discovery's order. group NULL: the kind's own group,
 * version and (with kind NULL) kind, which legacy discovery leaves unsaid; a group of its own is
 * said in both forms. */
static const struct subresource {
    unsigned flag;
    const char *name, *group, *version, *kind, *verbs;
} subresources[] = {
    {JP_SUB_STATUS, "status", NULL, NULL, NULL, "[\"get\",\"patch\",\"update\"]"},
    {JP_SUB_SCALE, "scale", "autoscaling", "v1", "Scale", "[\"get\",\"patch\",\"update\"]"},
    {JP_SUB_LOG, "log", NULL, NULL, NULL, "[\"get\"]"},
    {JP_SUB_PORTFORWARD, "portforward", NULL, NULL, "PodPortForwardOptions",
     "[\"create\",\"get\"]"},
    {JP_SUB_EXEC, "exec", NULL, NULL, "PodExecOptions", "[\"create\",\"get\"]"},
    {JP_SUB_EVICTION, "eviction", "policy", "v1", "Eviction", "[\"create\"]"},
    {JP_SUB_FINALIZE, "finalize", NULL, NULL, NULL, "[\"update\"]"},
    {JP_SUB_TOKEN, "token", "authentication.k8s.io", "v1", "TokenRequest", "[\"create\"]"},
};

/* Group-versions in first-appearance order of the kind table: "v1", "apps/v1", "batch/v1". */
static size_t group_versions(const char *out[], size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < jp_nkinds; i++) {
        const char *g = jp_kinds[i].group;
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen |= strcmp(out[j], g) == 0;
        if (!seen && n < max) out[n++] = g;
    }
    return n;
}

static void str_list(struct jp_buf *b, const char *const *items)
{
    jp_buf_appendc(b, '[');
    for (size_t i = 0; items[i]; i++)
        jp_buf_printf(b, "%s\"%s\"", i ? "," : "", items[i]);
    jp_buf_appendc(b, ']');
}

static void legacy_resources(struct jp_buf *b, const char *group)
{
    const char *gv = *group ? NULL : "v1";
    char gvbuf[64];
    if (!gv) {
        snprintf(gvbuf, sizeof(gvbuf), "%s/v1", group);
        gv = gvbuf;
    }
    jp_buf_printf(b,
                  "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"%s\","
                  "\"resources\":[",
                  gv);
    bool first = true;
    for (unsigned i = 0; i < jp_nkinds; i++) {
        const struct jp_kind *k = &jp_kinds[i];
        if (strcmp(k->group, group) != 0) continue;
        bool is_ns = strcmp(k->plural, "namespaces") == 0;
        jp_buf_printf(
            b,
            "%s{\"name\":\"%s\",\"singularName\":\"%s\",\"namespaced\":%s,\"kind\":\"%s\","
            "\"verbs\":%s",
            first ? "" : ",", k->plural, k->singular, k->namespaced ? "true" : "false", k->kind,
            is_ns ? verbs_ns : verbs_main);
        first = false;
        if (k->short_names[0]) {
            jp_buf_printf(b, ",\"shortNames\":");
            str_list(b, k->short_names);
        }
        if (k->categories[0]) {
            jp_buf_printf(b, ",\"categories\":");
            str_list(b, k->categories);
        }
        jp_buf_appendc(b, '}');
        for (size_t j = 0; j < sizeof(subresources) / sizeof(subresources[0]); j++) {
            const struct subresource *sr = &subresources[j];
            if (!(k->subresources & sr->flag)) continue;
            jp_buf_printf(b, ",{\"name\":\"%s/%s\",\"singularName\":\"\",\"namespaced\":%s,",
                          k->plural, sr->name, k->namespaced ? "true" : "false");
            if (sr->group)
                jp_buf_printf(b, "\"group\":\"%s\",\"version\":\"%s\",", sr->group, sr->version);
            jp_buf_printf(b, "\"kind\":\"%s\",\"verbs\":%s}", sr->kind ? sr->kind : k->kind,
                          sr->verbs);
        }
    }
    jp_buf_printf(b, "]}");
}

static void aggregated_resources(struct jp_buf *b, const char *group)
{
    bool first = true;
    for (unsigned i = 0; i < jp_nkinds; i++) {
        const struct jp_kind *k = &jp_kinds[i];
        if (strcmp(k->group, group) != 0) continue;
        bool is_ns = strcmp(k->plural, "namespaces") == 0;
        jp_buf_printf(
            b,
            "%s{\"resource\":\"%s\",\"responseKind\":{\"group\":\"%s\",\"version\":\"%s\","
            "\"kind\":\"%s\"},\"scope\":\"%s\",\"singularResource\":\"%s\",\"verbs\":%s",
            first ? "" : ",", k->plural, k->group, k->version, k->kind,
            k->namespaced ? "Namespaced" : "Cluster", k->singular, is_ns ? verbs_ns : verbs_main);
        first = false;
        if (k->short_names[0]) {
            jp_buf_printf(b, ",\"shortNames\":");
            str_list(b, k->short_names);
        }
        if (k->categories[0]) {
            jp_buf_printf(b, ",\"categories\":");
            str_list(b, k->categories);
        }
        if (k->subresources) {
            jp_buf_printf(b, ",\"subresources\":[");
            const char *sep = "";
            for (size_t j = 0; j < sizeof(subresources) / sizeof(subresources[0]); j++) {
                const struct subresource *sr = &subresources[j];
                if (!(k->subresources & sr->flag)) continue;
                jp_buf_printf(b,
                              "%s{\"subresource\":\"%s\",\"responseKind\":{\"group\":\"%s\","
                              "\"version\":\"%s\",\"kind\":\"%s\"},\"verbs\":%s}",
                              sep, sr->name, sr->group ? sr->group : k->group,
                              sr->group ? sr->version : k->version, sr->kind ? sr->kind : k->kind,
                              sr->verbs);
                sep = ",";
            }
            jp_buf_appendc(b, ']');
        }
        jp_buf_appendc(b, '}');
    }
}

static char *aggregated(bool core, const char *api_version)
{
    const char *groups[8];
    size_t n = group_versions(groups, 8);
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_buf_printf(&b,
                  "{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"%s\",\"metadata\":{},"
                  "\"items\":[",
                  api_version);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        bool is_core = *groups[i] == '\0';
        if (is_core != core) continue;
        jp_buf_printf(&b, "%s{\"metadata\":{", first ? "" : ",");
        if (!is_core) jp_buf_printf(&b, "\"name\":\"%s\",", groups[i]);
        jp_buf_printf(&b, "\"creationTimestamp\":null},\"versions\":[{\"version\":\"v1\","
                          "\"freshness\":\"Current\",\"resources\":[");
        aggregated_resources(&b, groups[i]);
        jp_buf_printf(&b, "]}]}");
        first = false;
    }
    jp_buf_printf(&b, "]}");
    return jp_buf_steal(&b, NULL);
}

void discovery_build(struct jp_apiserver *s)
{
    const char *groups[8];
    size_t n = group_versions(groups, 8);
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_buf_printf(&b,
                  "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
                  "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1:6443\"}]}");
    s->discovery_api = jp_buf_steal(&b, NULL);
    jp_buf_printf(&b, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (*groups[i] == '\0') continue;
        jp_buf_printf(&b,
                      "%s{\"name\":\"%s\",\"versions\":[{\"groupVersion\":\"%s/v1\",\"version\":"
                      "\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"%s/v1\",\"version\":"
                      "\"v1\"}}",
                      first ? "" : ",", groups[i], groups[i], groups[i]);
        first = false;
    }
    jp_buf_printf(&b, "]}");
    s->discovery_apis = jp_buf_steal(&b, NULL);
    s->group_docs = jp_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        legacy_resources(&b, groups[i]);
        s->group_docs[i] = jp_buf_steal(&b, NULL);
    }
    s->discovery_agg_api = aggregated(true, "apidiscovery.k8s.io/v2");
    s->discovery_agg_apis = aggregated(false, "apidiscovery.k8s.io/v2");
    s->discovery_agg_api_b = aggregated(true, "apidiscovery.k8s.io/v2beta1");
    s->discovery_agg_apis_b = aggregated(false, "apidiscovery.k8s.io/v2beta1");
}

void discovery_free(struct jp_apiserver *s)
{
    free(s->discovery_api);
    free(s->discovery_apis);
    free(s->discovery_agg_api);
    free(s->discovery_agg_apis);
    free(s->discovery_agg_api_b);
    free(s->discovery_agg_apis_b);
    for (size_t i = 0; s->group_docs && s->group_docs[i]; i++)
        free(s->group_docs[i]);
    free(s->group_docs);
}

static void send_copy(struct apireq *q, const char *doc, const char *content_type)
{
    reply(q, 200, content_type, jp_xstrdup(doc), strlen(doc));
}

/* Which aggregated version the Accept header asks for: "v2", "v2beta1" or NULL (legacy). */
static const char *aggregated_wanted(struct apireq *q)
{
    const char *accept = req_header(q, "Accept");
    if (accept == NULL || strstr(accept, "as=APIGroupDiscoveryList") == NULL) return NULL;
    /* look at each media range separately: "v=v2;" must not match "v=v2beta1" */
    const char *want = NULL;
    char *copy = jp_xstrdup(accept), *save = NULL;
    for (char *range = strtok_r(copy, ",", &save); range; range = strtok_r(NULL, ",", &save)) {
        if (!strstr(range, "as=APIGroupDiscoveryList") || !strstr(range, "g=apidiscovery.k8s.io"))
            continue;
        char *v = strstr(range, "v=v2");
        if (v == NULL) continue;
        bool beta = strncmp(v, "v=v2beta1", 9) == 0;
        if (!beta) {
            want = "v2";
            break;
        }
        if (want == NULL) want = "v2beta1";
    }
    free(copy);
    return want;
}

void serve_discovery(struct apireq *q, const struct route *r)
{
    struct jp_apiserver *s = q->srv;
    const char *groups[8];
    size_t n = group_versions(groups, 8);
    if (r->type == R_API || r->type == R_APIS) {
        const char *agg = aggregated_wanted(q);
        bool core = r->type == R_API;
        if (agg && strcmp(agg, "v2") == 0)
            send_copy(q, core ? s->discovery_agg_api : s->discovery_agg_apis,
                      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        else if (agg)
            send_copy(q, core ? s->discovery_agg_api_b : s->discovery_agg_apis_b,
                      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
        else
            send_copy(q, core ? s->discovery_api : s->discovery_apis, "application/json");
        return;
    }
    if (r->type == R_ROOT) {
        struct jp_buf b;
        jp_buf_init(&b, 1 << 16);
        jp_buf_printf(&b, "{\"paths\":[\"/api\",\"/api/v1\",\"/apis\"");
        for (size_t i = 0; i < n; i++)
            if (*groups[i])
                jp_buf_printf(&b, ",\"/apis/%s\",\"/apis/%s/v1\"", groups[i], groups[i]);
        jp_buf_printf(&b, ",\"/healthz\",\"/livez\",\"/metrics\",\"/openapi/v2\",\"/openapi/v3\","
                          "\"/readyz\",\"/version\"]}");
        reply_json(q, 200, &b);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char gv[64];
        if (*groups[i])
            snprintf(gv, sizeof(gv), "%s/v1", groups[i]);
        else
            snprintf(gv, sizeof(gv), "v1");
        if (r->type == R_GROUP_VER && strcmp(r->gv, gv) == 0) {
            send_copy(q, s->group_docs[i], "application/json");
            return;
        }
        if (r->type == R_GROUP && *groups[i] && strcmp(r->gv, groups[i]) == 0) {
            char *doc = jp_xasprintf("{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"%s\","
                                     "\"versions\":[{\"groupVersion\":\"%s\",\"version\":\"v1\"}],"
                                     "\"preferredVersion\":{\"groupVersion\":\"%s\",\"version\":"
                                     "\"v1\"}}",
                                     groups[i], gv, gv);
            reply(q, 200, "application/json", doc, strlen(doc));
            return;
        }
    }
    reply_status(q,
                 jp_status_new(JP_NOT_FOUND, "the server could not find the requested resource"));
}

void serve_version(struct apireq *q)
{
    static const char doc[] =
        "{\"major\":\"1\",\"minor\":\"33\",\"gitVersion\":\"" SERVER_GIT_VERSION
        "\",\"gitCommit\":\"0000000000000000000000000000000000000000\","
        "\"gitTreeState\":\"clean\",\"buildDate\":\"2026-11-28T00:00:00Z\","
        "\"goVersion\":\"go1.24.0\",\"compiler\":\"gc\",\"platform\":"
        "\"linux/amd64\"}";
    send_copy(q, doc, "application/json");
}
