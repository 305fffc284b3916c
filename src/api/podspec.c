/* Pod spec defaults and validation. Messages follow pkg/apis/core/validation. */
#include "api/podspec.h"
#include "api/quantity.h"
#include "api/meta.h"
#include "api/object.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "pki/satoken.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_default_str(json_t *obj, const char *key, const char *value)
{
    if (!json_is_string(json_object_get(obj, key)))
        json_object_set_new(obj, key, json_string(value));
}

static void set_default_int(json_t *obj, const char *key, json_int_t value)
{
    if (!json_is_integer(json_object_get(obj, key)))
        json_object_set_new(obj, key, json_integer(value));
}

/* imagePullPolicy: Always for ":latest" or no tag, else IfNotPresent (SetDefaults_Container). */
static const char *pull_policy_for(const char *image)
{
    if (image == NULL || strchr(image, '@')) return "IfNotPresent";
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    if (colon == NULL || strcmp(colon, ":latest") == 0) return "Always";
    return "IfNotPresent";
}

static void container_defaults(json_t *c)
{
    set_default_str(c, "terminationMessagePath", "/dev/termination-log");
    set_default_str(c, "terminationMessagePolicy", "File");
    set_default_str(c, "imagePullPolicy", pull_policy_for(jp_json_str(c, "image", NULL)));
    if (!json_is_object(json_object_get(c, "resources")))
        json_object_set_new(c, "resources", json_object());
    size_t i;
    json_t *port;
    json_array_foreach(json_object_get(c, "ports"), i, port)
        set_default_str(port, "protocol", "TCP");
}

/* A projected volume's serviceAccountToken sources: an hour unless told. */
static void token_defaults(json_t *spec)
{
    size_t i, j;
    json_t *v, *src;
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
    {
        json_array_foreach(jp_json_path(v, "projected", "sources", NULL), j, src)
        {
            json_t *t = json_object_get(src, "serviceAccountToken");
            if (json_is_object(t)) set_default_int(t, "expirationSeconds", JP_SA_DEFAULT_SECONDS);
        }
    }
}

/* ...and what TokenRequest would refuse of them. */
static void validate_tokens(const json_t *v, const char *vpath, struct jp_ferrs *fe)
{
    char path[600];
    size_t j;
    json_t *src;
    json_array_foreach(jp_json_path(v, "projected", "sources", NULL), j, src)
    {
        const json_t *t = json_object_get(src, "serviceAccountToken");
        if (!json_is_object(t)) continue;
        json_int_t secs = json_integer_value(json_object_get(t, "expirationSeconds"));
        char text[32];
        snprintf(text, sizeof(text), "%lld", (long long)secs);
        jp_strfmt(path, sizeof(path),
                  "%s.projected.sources[%zu].serviceAccountToken.expirationSeconds", vpath, j);
        const char *problem = jp_sa_lifetime_problem(secs);
        if (problem) jp_ferrs_add(fe, JP_FERR_INVALID, path, text, "%s", problem);
        const char *p = jp_json_str(t, "path", NULL);
        jp_strfmt(path, sizeof(path), "%s.projected.sources[%zu].serviceAccountToken.path", vpath,
                  j);
        if (p == NULL || *p == '\0') {
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
            continue;
        }
        char *q = jp_go_quote(p);
        if (p[0] == '/') jp_ferrs_add(fe, JP_FERR_INVALID, path, q, "must be a relative path");
        bool back = false; /* a ".." element */
        for (const char *e = p; *e; e += strcspn(e, "/"), e += *e == '/')
            back |= strncmp(e, "..", 2) == 0 && (e[2] == '/' || e[2] == '\0');
        if (back) jp_ferrs_add(fe, JP_FERR_INVALID, path, q, "must not contain '..'");
        free(q);
    }
}

void jp_podspec_defaults(json_t *spec)
{
    if (!json_is_object(spec)) return;
    token_defaults(spec);
    set_default_str(spec, "restartPolicy", "Always");
    set_default_int(spec, "terminationGracePeriodSeconds", 30);
    set_default_str(spec, "dnsPolicy", "ClusterFirst");
    set_default_str(spec, "schedulerName", "default-scheduler");
    if (!json_is_object(json_object_get(spec, "securityContext")))
        json_object_set_new(spec, "securityContext", json_object());
    static const char *const lists[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c) container_defaults(c);
    }
}

static bool env_name_ok(const char *s)
{
    if (*s == '\0' || isdigit((unsigned char)*s)) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.", *s)) return false;
    return true;
}

static void one_of(struct jp_ferrs *fe, const char *field, const char *value,
                   const char *const *allowed, const char *supported)
{
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, value) == 0) return;
    char *q = jp_go_quote(value);
    jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, field, q, "supported values: %s", supported);
    free(q);
}

/* A resource.Quantity as a number for comparisons; false when it is not one we can read. */
static bool quantity_value(const json_t *q, long double *out)
{
    struct jp_quantity v;
    char text[64];
    if (!jp_quantity_json(q, &v, text, sizeof(text))) return false;
    *out = jp_quantity_approx(&v);
    return true;
}

/* requests must not exceed limits; neither may be negative (ValidateResourceRequirements). */
static void validate_resources(const json_t *res, const char *field, struct jp_ferrs *fe)
{
    json_t *req = json_object_get(res, "requests"), *lim = json_object_get(res, "limits");
    static const char *const parts[] = {"limits", "requests"};
    for (int i = 0; i < 2; i++) {
        const char *name;
        json_t *q;
        json_object_foreach(json_object_get(res, parts[i]), name, q)
        {
            long double v;
            if (quantity_value(q, &v) && v < 0) {
                char path[600];
                jp_strfmt(path, sizeof(path), "%s.%s[%s]", field, parts[i], name);
                char *val = json_is_string(q) ? jp_go_quote(json_string_value(q)) : jp_xstrdup("-");
                jp_ferrs_add(fe, JP_FERR_INVALID, path, val, "must be greater than or equal to 0");
                free(val);
            }
        }
    }
    const char *name;
    json_t *q;
    json_object_foreach(req, name, q)
    {
        json_t *l = json_object_get(lim, name);
        long double rv, lv;
        if (l == NULL || !quantity_value(q, &rv) || !quantity_value(l, &lv) || rv <= lv) continue;
        char path[600];
        jp_strfmt(path, sizeof(path), "%s.requests[%s]", field, name);
        char *val =
            json_is_string(q) ? jp_go_quote(json_string_value(q)) : json_dumps(q, JSON_ENCODE_ANY);
        char *limit =
            json_is_string(l) ? jp_xstrdup(json_string_value(l)) : json_dumps(l, JSON_ENCODE_ANY);
        jp_ferrs_add(fe, JP_FERR_INVALID, path, val, "must be less than or equal to %s limit of %s",
                     name, limit);
        free(val);
        free(limit);
    }
}

/* A user or group id of a securityContext (IsValidUserID / IsValidGroupID). */
static void valid_id(const json_t *v, const char *path, struct jp_ferrs *fe)
{
    if (!json_is_integer(v) || (json_integer_value(v) >= 0 && json_integer_value(v) <= INT32_MAX))
        return;
    char val[32];
    snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
    jp_ferrs_add(fe, JP_FERR_INVALID, path, val, "must be between 0 and 2147483647, inclusive");
}

/* runAsUser and runAsGroup; at the pod's level also fsGroup and supplementalGroups */
static void validate_ids(const json_t *sc, const char *field, bool pod, struct jp_ferrs *fe)
{
    char path[600];
    static const char *const ids[] = {"fsGroup", "runAsUser", "runAsGroup"};
    for (size_t k = pod ? 0 : 1; k < sizeof(ids) / sizeof(ids[0]); k++) {
        jp_strfmt(path, sizeof(path), "%s.%s", field, ids[k]);
        valid_id(json_object_get(sc, ids[k]), path, fe);
    }
    size_t i;
    json_t *g;
    json_array_foreach(pod ? json_object_get(sc, "supplementalGroups") : NULL, i, g)
    {
        jp_strfmt(path, sizeof(path), "%s.supplementalGroups[%zu]", field, i);
        valid_id(g, path, fe);
    }
}

static void validate_container(const json_t *c, const char *field, const json_t *volumes,
                               json_t *names, struct jp_ferrs *fe)
{
    char path[512];
    const char *name = jp_json_str(c, "name", NULL);
    jp_strfmt(path, sizeof(path), "%s.name", field);
    if (name == NULL || *name == '\0') {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
    } else {
        const char *m = jp_check_dns1123_label(name);
        char *q = jp_go_quote(name);
        if (m) jp_ferrs_add(fe, JP_FERR_INVALID, path, q, "%s", m);
        if (json_object_get(names, name)) jp_ferrs_add(fe, JP_FERR_DUPLICATE, path, q, NULL);
        json_object_set_new(names, name, json_true());
        free(q);
    }
    jp_strfmt(path, sizeof(path), "%s.resources", field);
    validate_resources(json_object_get(c, "resources"), path, fe);
    const char *image = jp_json_str(c, "image", NULL);
    jp_strfmt(path, sizeof(path), "%s.image", field);
    if (image == NULL || *image == '\0') jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
    const char *pull = jp_json_str(c, "imagePullPolicy", NULL);
    static const char *const pulls[] = {"Always", "IfNotPresent", "Never", NULL};
    jp_strfmt(path, sizeof(path), "%s.imagePullPolicy", field);
    if (pull) one_of(fe, path, pull, pulls, "\"Always\", \"IfNotPresent\", \"Never\"");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c, "ports"), i, p)
    {
        json_int_t port = jp_json_int(p, 0, "containerPort", NULL);
        jp_strfmt(path, sizeof(path), "%s.ports[%zu].containerPort", field, i);
        if (port < 1 || port > 65535) {
            char v[32];
            snprintf(v, sizeof(v), "%lld", (long long)port);
            jp_ferrs_add(fe, JP_FERR_INVALID, path, v, "must be between 1 and 65535, inclusive");
        }
        const char *proto = jp_json_str(p, "protocol", NULL);
        static const char *const protos[] = {"TCP", "UDP", "SCTP", NULL};
        jp_strfmt(path, sizeof(path), "%s.ports[%zu].protocol", field, i);
        if (proto) one_of(fe, path, proto, protos, "\"SCTP\", \"TCP\", \"UDP\"");
    }
    json_t *e;
    json_array_foreach(json_object_get(c, "env"), i, e)
    {
        const char *n = jp_json_str(e, "name", NULL);
        jp_strfmt(path, sizeof(path), "%s.env[%zu].name", field, i);
        if (n == NULL || *n == '\0') {
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
        } else if (!env_name_ok(n)) {
            char *q = jp_go_quote(n);
            jp_ferrs_add(fe, JP_FERR_INVALID, path, q,
                         "a valid environment variable name must consist of alphabetic "
                         "characters, digits, '_', '-', or '.', and must not start with a digit "
                         "(e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used "
                         "for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')");
            free(q);
        }
    }
    json_t *m;
    json_array_foreach(json_object_get(c, "volumeMounts"), i, m)
    {
        const char *vn = jp_json_str(m, "name", NULL);
        jp_strfmt(path, sizeof(path), "%s.volumeMounts[%zu].name", field, i);
        if (vn == NULL || *vn == '\0') {
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
        } else if (!json_object_get(volumes, vn)) {
            char *q = jp_go_quote(vn);
            jp_ferrs_add(fe, JP_FERR_NOT_FOUND, path, q, NULL);
            free(q);
        }
        const char *mp = jp_json_str(m, "mountPath", NULL);
        jp_strfmt(path, sizeof(path), "%s.volumeMounts[%zu].mountPath", field, i);
        if (mp == NULL || *mp == '\0') jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
    }
    jp_strfmt(path, sizeof(path), "%s.securityContext", field);
    validate_ids(json_object_get(c, "securityContext"), path, false, fe);
}

void jp_podspec_validate(const json_t *spec, const char *field, struct jp_ferrs *fe)
{
    char path[512];
    json_t *volumes = json_object(), *names = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
    {
        const char *n = jp_json_str(v, "name", NULL);
        jp_strfmt(path, sizeof(path), "%s.volumes[%zu].name", field, i);
        if (n == NULL || *n == '\0') {
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
            continue;
        }
        char *q = jp_go_quote(n);
        const char *m = jp_check_dns1123_label(n);
        if (m) jp_ferrs_add(fe, JP_FERR_INVALID, path, q, "%s", m);
        if (json_object_get(volumes, n)) jp_ferrs_add(fe, JP_FERR_DUPLICATE, path, q, NULL);
        json_object_set_new(volumes, n, json_true());
        free(q);
        jp_strfmt(path, sizeof(path), "%s.volumes[%zu]", field, i);
        validate_tokens(v, path, fe);
        long double size;
        if (quantity_value(jp_json_path(v, "emptyDir", "sizeLimit", NULL), &size) && size < 0) {
            jp_strfmt(path, sizeof(path), "%s.volumes[%zu].emptyDir.sizeLimit", field, i);
            jp_ferrs_add(fe, JP_FERR_FORBIDDEN, path, NULL,
                         "SizeLimit field must be a valid resource quantity");
        }
    }
    json_t *containers = json_object_get(spec, "containers");
    jp_strfmt(path, sizeof(path), "%s.containers", field);
    if (!json_is_array(containers) || json_array_size(containers) == 0)
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
    static const char *const lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            jp_strfmt(path, sizeof(path), "%s.%s[%zu]", field, lists[l], i);
            validate_container(c, path, volumes, names, fe);
        }
    }
    const char *rp = jp_json_str(spec, "restartPolicy", NULL);
    static const char *const policies[] = {"Always", "OnFailure", "Never", NULL};
    jp_strfmt(path, sizeof(path), "%s.restartPolicy", field);
    if (rp) one_of(fe, path, rp, policies, "\"Always\", \"OnFailure\", \"Never\"");
    const char *dns = jp_json_str(spec, "dnsPolicy", NULL);
    static const char *const dnses[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                        "None", NULL};
    jp_strfmt(path, sizeof(path), "%s.dnsPolicy", field);
    if (dns)
        one_of(fe, path, dns, dnses,
               "\"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\"");
    jp_strfmt(path, sizeof(path), "%s.securityContext", field);
    validate_ids(json_object_get(spec, "securityContext"), path, true, fe);
    json_int_t ads = jp_json_int(spec, 1, "activeDeadlineSeconds", NULL);
    jp_strfmt(path, sizeof(path), "%s.activeDeadlineSeconds", field);
    if (ads < 1) {
        char val[32];
        snprintf(val, sizeof(val), "%lld", (long long)ads);
        jp_ferrs_add(fe, JP_FERR_INVALID, path, val, "must be between 1 and 2147483647, inclusive");
    }
    json_decref(volumes);
    json_decref(names);
}

void jp_podtemplate_validate(const json_t *tmpl, const char *field, struct jp_ferrs *fe)
{
    char path[256];
    json_t *labels = jp_json_path(tmpl, "metadata", "labels", NULL);
    jp_strfmt(path, sizeof(path), "%s.labels", field);
    if (json_is_object(labels)) jp_validate_labels(labels, path, fe);
    json_t *ann = jp_json_path(tmpl, "metadata", "annotations", NULL);
    jp_strfmt(path, sizeof(path), "%s.annotations", field);
    if (json_is_object(ann)) jp_validate_annotations(ann, path, fe);
    jp_strfmt(path, sizeof(path), "%s.spec", field);
    jp_podspec_validate(json_object_get(tmpl, "spec"), path, fe);
}

char *jp_go_slice(const char *elem_type, const json_t *arr)
{
    bool strings = strcmp(elem_type, "string") == 0;
    struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    jp_buf_printf(&b, "[]%s{", elem_type);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strings) {
            char *q = jp_go_quote(json_string_value(v) ? json_string_value(v) : "");
            jp_buf_printf(&b, "%s%s", i ? ", " : "", q);
            free(q);
        } else {
            jp_buf_printf(&b, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
        }
    }
    jp_buf_appendc(&b, '}');
    return jp_buf_steal(&b, NULL);
}

char *jp_go_dump(const char *go_type, const json_t *v)
{
    /* Kubernetes prints a %#v dump of its internal struct; we print the type and the object's
     * JSON, which carries the same information in a form users can read. */
    char *json = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    char *out = jp_xasprintf("%s%s", go_type, json ? json : "{}");
    free(json);
    return out;
}
