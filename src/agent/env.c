/* A container's environment, built as the kubelet builds it: defaults, service links for the
 * namespace's services, then the container's env (values with $(VAR) references, fieldRef,
 * secretKeyRef, configMapKeyRef) and envFrom. */
#include "agent/agent-internal.h"
#include "api/object.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <ctype.h>
#include <stdarg.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct envlist {
    char **v;
    size_t n;
};

static void env_set(struct envlist *e, const char *name, const char *value)
{
    size_t len = strlen(name);
    char *entry = jp_xasprintf("%s=%s", name, value ? value : "");
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=') {
            free(e->v[i]);
            e->v[i] = entry;
            return;
        }
    }
    e->v = jp_xrealloc(e->v, (e->n + 2) * sizeof(char *));
    e->v[e->n++] = entry;
    e->v[e->n] = NULL;
}

static const char *env_get(char **env, const char *name, size_t len)
{
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') return env[i] + len + 1;
    return NULL;
}

char *env__expand(const char *s, char **env)
{
    /* $(VAR) becomes its value when VAR is defined; $$ escapes; anything else stays */
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    for (const char *p = s; *p; p++) {
        if (p[0] == '$' && p[1] == '$') {
            jp_buf_appendc(&b, '$');
            p++;
        } else if (p[0] == '$' && p[1] == '(') {
            const char *close = strchr(p + 2, ')');
            const char *v = close ? env_get(env, p + 2, (size_t)(close - p - 2)) : NULL;
            if (v) {
                jp_buf_append(&b, v, strlen(v));
                p = close;
            } else {
                jp_buf_appendc(&b, *p);
            }
        } else {
            jp_buf_appendc(&b, *p);
        }
    }
    return jp_buf_steal(&b, NULL);
}

static void __attribute__((format(printf, 3, 4)))
setf(struct envlist *e, const char *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *key;
    if (vasprintf(&key, fmt, ap) < 0) abort();
    va_end(ap);
    env_set(e, key, value);
    free(key);
}

/* A service or port name as a variable name: upper case, '-' as '_'. */
static void upper_name(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; in && in[k] && k + 1 < n; k++)
        out[k] = in[k] == '-' ? '_' : (char)toupper((unsigned char)in[k]);
    out[k] = '\0';
}

static void lower_proto(const char *in, char out[8])
{
    size_t k = 0;
    for (; in && in[k] && k < 7; k++)
        out[k] = (char)tolower((unsigned char)in[k]);
    out[k] = '\0';
    if (k == 0) snprintf(out, 8, "tcp");
}

static bool collect(const struct jp_obj *o, void *arg)
{
    json_array_append_new(arg, json_loadb(o->json, o->len, 0, NULL));
    return true;
}

/* {NAME}_SERVICE_HOST and the docker-link variables for every service of the namespace. */
static void service_links(struct jp_agent *a, const struct pod *p, struct envlist *e)
{
    json_t *svcs = json_array();
    /* the API's own service reaches every namespace (KUBERNETES_SERVICE_HOST...) */
    const struct jp_obj *api = jp_store_get(a->store, a->kind_services, "default", "kubernetes");
    if (api && strcmp(p->ns, "default") != 0) collect(api, svcs);
    jp_store_scan(a->store, a->kind_services, p->ns, NULL, NULL, collect, svcs);
    size_t i;
    json_t *svc;
    json_array_foreach(svcs, i, svc)
    {
        const char *ip = jp_json_str(svc, "spec", "clusterIP", NULL);
        json_t *ports = jp_json_path(svc, "spec", "ports", NULL);
        if (ip == NULL || strcmp(ip, "None") == 0 || json_array_size(ports) == 0) continue;
        char name[256], lower0[8];
        upper_name(jp_json_str(svc, "metadata", "name", NULL), name, sizeof(name));
        json_t *first = json_array_get(ports, 0);
        long long port0 = jp_json_int(first, 0, "port", NULL);
        lower_proto(jp_json_str(first, "protocol", NULL), lower0);
        setf(e, ip, "%s_SERVICE_HOST", name);
        setf(e, jp_strfmt((char[32]){0}, 32, "%lld", port0), "%s_SERVICE_PORT", name);
        char *url = jp_xasprintf("%s://%s:%lld", lower0, ip, port0);
        setf(e, url, "%s_PORT", name);
        free(url);
        size_t j;
        json_t *port;
        json_array_foreach(ports, j, port)
        {
            long long pn = jp_json_int(port, 0, "port", NULL);
            const char *proto = jp_json_str(port, "protocol", NULL) ?: "TCP";
            char lower[8], num[32], pname[256];
            lower_proto(proto, lower);
            snprintf(num, sizeof(num), "%lld", pn);
            upper_name(jp_json_str(port, "name", NULL), pname, sizeof(pname));
            if (*pname) setf(e, num, "%s_SERVICE_PORT_%s", name, pname);
            url = jp_xasprintf("%s://%s:%lld", lower, ip, pn);
            setf(e, url, "%s_PORT_%lld_%s", name, pn, proto);
            free(url);
            setf(e, lower, "%s_PORT_%lld_%s_PROTO", name, pn, proto);
            setf(e, num, "%s_PORT_%lld_%s_PORT", name, pn, proto);
            setf(e, ip, "%s_PORT_%lld_%s_ADDR", name, pn, proto);
        }
    }
    json_decref(svcs);
}

/* metadata.labels['k'] and friends */
char *env__field_ref(const struct pod *p, const char *path)
{
    const json_t *obj = p->obj;
    if (strcmp(path, "metadata.name") == 0) return jp_xstrdup(p->name);
    if (strcmp(path, "metadata.namespace") == 0) return jp_xstrdup(p->ns);
    if (strcmp(path, "metadata.uid") == 0) return jp_xstrdup(p->uid);
    if (strcmp(path, "spec.nodeName") == 0)
        return jp_xstrdup(jp_json_str(obj, "spec", "nodeName", NULL) ?: "");
    if (strcmp(path, "spec.serviceAccountName") == 0)
        return jp_xstrdup(jp_json_str(obj, "spec", "serviceAccountName", NULL) ?: "");
    char ip[16];
    if (strcmp(path, "status.podIP") == 0 || strcmp(path, "status.podIPs") == 0)
        return jp_xstrdup(agent__pod_ip(p, ip));
    if (strcmp(path, "status.hostIP") == 0 || strcmp(path, "status.hostIPs") == 0)
        return jp_xstrdup("127.0.0.1");
    static const char *const maps[] = {"metadata.labels['", "metadata.annotations['"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(maps[i]);
        if (strncmp(path, maps[i], n) != 0) continue;
        const char *end = strstr(path + n, "']");
        if (end == NULL) break;
        char *key = jp_xstrndup(path + n, (size_t)(end - path - n));
        const char *v = jp_json_str(obj, "metadata", i ? "annotations" : "labels", key, NULL);
        free(key);
        return jp_xstrdup(v ? v : "");
    }
    return jp_xstrdup("");
}

static json_t *load(struct jp_agent *a, uint16_t kind, const char *ns, const char *name)
{
    const struct jp_obj *o = name ? jp_store_get(a->store, kind, ns, name) : NULL;
    return o ? json_loadb(o->json, o->len, 0, NULL) : NULL;
}

static char *secret_value(const char *b64)
{
    gnutls_datum_t in = {(unsigned char *)b64, (unsigned)strlen(b64)}, out = {NULL, 0};
    if (gnutls_base64_decode2(&in, &out) < 0) return jp_xstrdup("");
    char *s = jp_xstrndup((char *)out.data, out.size);
    gnutls_free(out.data);
    return s;
}

static char *key_ref(struct jp_agent *a, const struct pod *p, const json_t *ref, bool secret)
{
    json_t *obj = load(a, secret ? a->kind_secrets : a->kind_configmaps, p->ns,
                       jp_json_str(ref, "name", NULL));
    const char *key = jp_json_str(ref, "key", NULL);
    const char *v = key ? jp_json_str(obj, "data", key, NULL) : NULL;
    char *out = v ? (secret ? secret_value(v) : jp_xstrdup(v)) : NULL;
    if (out == NULL && !secret && key) { /* binaryData is served as base64 like secrets */
        const char *b = jp_json_str(obj, "binaryData", key, NULL);
        if (b) out = secret_value(b);
    }
    json_decref(obj);
    return out;
}

static void env_from(struct jp_agent *a, const struct pod *p, const json_t *from, struct envlist *e)
{
    bool secret = json_object_get(from, "secretRef") != NULL;
    const json_t *ref = json_object_get(from, secret ? "secretRef" : "configMapRef");
    const char *prefix = jp_json_str(from, "prefix", NULL) ?: "";
    json_t *obj = load(a, secret ? a->kind_secrets : a->kind_configmaps, p->ns,
                       jp_json_str(ref, "name", NULL));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(obj, "data"), k, v)
    {
        char *name = jp_xasprintf("%s%s", prefix, k);
        char *val = secret ? secret_value(json_string_value(v) ?: "")
                           : jp_xstrdup(json_string_value(v) ?: "");
        env_set(e, name, val);
        free(name);
        free(val);
    }
    json_decref(obj);
}

char **env__build(struct jp_agent *a, const struct pod *p, const json_t *container)
{
    struct envlist e = {jp_xcalloc(1, sizeof(char *)), 0};
    env_set(&e, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    /* the pod's hostname: spec.hostname when set (Indexed Job pods: <job>-<index>) */
    const char *host = jp_json_str(p->spec, "hostname", NULL);
    env_set(&e, "HOSTNAME", host && *host ? host : p->name);
    const json_t *links = jp_json_path(p->spec, "enableServiceLinks", NULL);
    if (!json_is_false(links)) service_links(a, p, &e);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(container, "envFrom"), i, f) env_from(a, p, f, &e);
    json_t *var;
    json_array_foreach(json_object_get(container, "env"), i, var)
    {
        const char *name = jp_json_str(var, "name", NULL);
        if (name == NULL) continue;
        const json_t *vf = json_object_get(var, "valueFrom");
        char *value = NULL;
        if (vf == NULL) {
            value = env__expand(jp_json_str(var, "value", NULL) ?: "", e.v);
        } else if (json_object_get(vf, "fieldRef")) {
            value = env__field_ref(p, jp_json_str(vf, "fieldRef", "fieldPath", NULL) ?: "");
        } else if (json_object_get(vf, "secretKeyRef")) {
            value = key_ref(a, p, json_object_get(vf, "secretKeyRef"), true);
        } else if (json_object_get(vf, "configMapKeyRef")) {
            value = key_ref(a, p, json_object_get(vf, "configMapKeyRef"), false);
        } else if (json_object_get(vf, "resourceFieldRef")) {
            value = jp_xstrdup("0");
        }
        if (value) env_set(&e, name, value);
        free(value);
    }
    return e.v;
}

void env__free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}
