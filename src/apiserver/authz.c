/* What a user other than the admin may do - a service account by its token, or whoever the
 * admin impersonates: RBAC, as kube-apiserver's authorizer decides it, from the Roles,
 * ClusterRoles and their bindings in the store. The admin's certificate and token may do
 * everything (system:masters); anyone else nothing but discovery until a binding grants more -
 * as on a cluster, where the default account has no permissions. cluster-admin, admin, edit
 * and view are there without being stored (kube-apiserver writes them at start; see
 * builtin_allows). Also kubectl auth can-i's SelfSubjectAccessReview. */
#include "api/kinds.h"
#include "api/schema_types_gen.h"
#include "api/write.h"
#include "apiserver/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define RBAC "rbac.authorization.k8s.io"

struct attrs {
    const struct jp_user *who;
    const char *verb, *group, *resource, *sub, *ns, *name;
    bool namespaced;  /* the resource lives in namespaces */
    const char *path; /* non-resource requests: the URL path */
};

static bool has(const json_t *list, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *s = json_string_value(x);
        if (s && (strcmp(s, "*") == 0 || strcmp(s, v) == 0)) return true;
    }
    return false;
}

/* "pods" or "pods/log", as rules and messages name a resource */
static const char *full_resource(const struct attrs *a, char buf[160])
{
    snprintf(buf, 160, "%s%s%s", a->resource, *a->sub ? "/" : "", a->sub);
    return buf;
}

/* A rule's resources: "*", the resource, "resource/sub", or "*\/sub". */
static bool resource_matches(const json_t *list, const struct attrs *a)
{
    char full[160];
    full_resource(a, full);
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *s = json_string_value(x);
        if (s == NULL) continue;
        if (strcmp(s, "*") == 0 || strcmp(s, full) == 0) return true;
        if (*a->sub && s[0] == '*' && s[1] == '/' && strcmp(s + 2, a->sub) == 0) return true;
    }
    return false;
}

static bool url_matches(const json_t *list, const char *path)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *s = json_string_value(x);
        if (s == NULL) continue;
        size_t n = strlen(s);
        if (strcmp(s, path) == 0 || (n && s[n - 1] == '*' && strncmp(s, path, n - 1) == 0))
            return true;
    }
    return false;
}

/* resourceNames are names, "*" included: no wildcard there */
static bool names(const json_t *list, const char *name)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), name) == 0) return true;
    }
    return false;
}

static bool rule_allows(const json_t *rule, const struct attrs *a)
{
    if (!has(json_object_get(rule, "verbs"), a->verb)) return false;
    if (a->path) return url_matches(json_object_get(rule, "nonResourceURLs"), a->path);
    const json_t *listed = json_object_get(rule, "resourceNames");
    return has(json_object_get(rule, "apiGroups"), a->group) &&
           resource_matches(json_object_get(rule, "resources"), a) &&
           (json_array_size(listed) == 0 || (*a->name && names(listed, a->name)));
}

/* The default ClusterRoles, when no stored one has the name (any other name grants nothing).
 * admin, edit and view are about what lives in namespaces (bound cluster-wide: in every
 * namespace), as kube-apiserver's are: never namespaces, nodes or cluster-wide RBAC. admin
 * grants every verb there, edit every one but on RBAC objects. */
static bool builtin_allows(const char *role, const struct attrs *a)
{
    bool read = !strcmp(a->verb, "get") || !strcmp(a->verb, "list") || !strcmp(a->verb, "watch");
    if (strcmp(role, "cluster-admin") == 0) return true;
    bool admin = !strcmp(role, "admin"), edit = !strcmp(role, "edit"), view = !strcmp(role, "view");
    if ((!admin && !edit && !view) || a->path || !a->namespaced) return false;
    bool rbac = strcmp(a->group, RBAC) == 0;
    if (admin) return true;
    if (edit) return !rbac;
    /* view: reads, not Secrets nor RBAC; of subresources, logs and status */
    return read && strcmp(a->resource, "secrets") != 0 && !rbac &&
           (!*a->sub || !strcmp(a->sub, "log") || !strcmp(a->sub, "status"));
}

static bool role_allows(struct jp_store *store, const char *plural, const char *ns,
                        const char *name, const struct attrs *a)
{
    const struct jp_kind *k = jp_kind_by_plural(RBAC, "v1", plural);
    const struct jp_obj *o = jp_store_get(store, (uint16_t)jp_kind_index(k), ns, name);
    if (o == NULL) return strcmp(plural, "clusterroles") == 0 && builtin_allows(name, a);
    json_t *role = jp_api_parse(o);
    bool ok = false;
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(role, "rules"), i, rule)
    {
        if ((ok = rule_allows(rule, a))) break;
    }
    json_decref(role);
    return ok;
}

/* A binding's subject names the user: as a service account, by name, or by one of its groups. */
static bool names_user(const json_t *binding, const char *binding_ns, const struct attrs *a)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(binding, "subjects"), i, s)
    {
        const char *kind = jp_json_str(s, "kind", NULL) ?: "";
        const char *name = jp_json_str(s, "name", NULL) ?: "";
        const char *ns = jp_json_str(s, "namespace", NULL) ?: "";
        if (strcmp(kind, "ServiceAccount") == 0) {
            char sa[600];
            snprintf(sa, sizeof(sa), "system:serviceaccount:%s:%s", *ns ? ns : binding_ns, name);
            if (strcmp(sa, a->who->name) == 0) return true;
        } else if (strcmp(kind, "User") == 0 && strcmp(name, a->who->name) == 0) {
            return true;
        } else if (strcmp(kind, "Group") == 0) {
            for (int g = 0; g < a->who->ngroups; g++)
                if (strcmp(name, a->who->groups[g]) == 0) return true;
        }
    }
    return false;
}

struct scan {
    struct jp_store *store;
    const struct attrs *a;
    bool allowed;
};

static bool check_binding(const struct jp_obj *o, void *arg)
{
    struct scan *sc = arg;
    json_t *b = jp_api_parse(o);
    if (names_user(b, o->ns, sc->a)) {
        const char *kind = jp_json_str(b, "roleRef", "kind", NULL) ?: "";
        const char *name = jp_json_str(b, "roleRef", "name", NULL) ?: "";
        bool cluster_role = strcmp(kind, "ClusterRole") == 0;
        sc->allowed = role_allows(sc->store, cluster_role ? "clusterroles" : "roles",
                                  cluster_role ? "" : o->ns, name, sc->a);
    }
    json_decref(b);
    return !sc->allowed;
}

static bool allowed(struct jp_store *store, const struct attrs *a)
{
    struct scan sc = {store, a, false};
    const struct jp_kind *crb = jp_kind_by_plural(RBAC, "v1", "clusterrolebindings");
    jp_store_scan(store, (uint16_t)jp_kind_index(crb), NULL, NULL, NULL, check_binding, &sc);
    if (sc.allowed || a->path || !*a->ns) return sc.allowed;
    const struct jp_kind *rb = jp_kind_by_plural(RBAC, "v1", "rolebindings");
    jp_store_scan(store, (uint16_t)jp_kind_index(rb), a->ns, NULL, NULL, check_binding, &sc);
    return sc.allowed;
}

static const char *verb_of(struct apireq *q, const struct route *r)
{
    const char *m = q->method;
    if (!strcmp(r->sub, "exec") || !strcmp(r->sub, "portforward") || !strcmp(r->sub, "attach"))
        return "create"; /* the WebSocket GET too, as kube-apiserver >= 1.31 asks */
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) /* ?watch on one object is still a get */
        return r->type != R_COLLECTION ? "get" : watch_requested(q) ? "watch" : "list";
    if (!strcmp(m, "POST")) return "create";
    if (!strcmp(m, "PUT")) return "update";
    if (!strcmp(m, "PATCH")) return "patch";
    if (!strcmp(m, "DELETE")) return r->type == R_COLLECTION ? "deletecollection" : "delete";
    return m;
}

/* 403 for resource (its Status name: "pods", "jobs.batch") and name ("": none), with why. */
static void forbid(struct apireq *q, const char *resource, const char *group, const char *plural,
                   const char *name, const char *why)
{
    struct jp_status *st =
        *name ? jp_status_new(JP_FORBIDDEN, "%s \"%s\" is forbidden: %s", resource, name, why)
              : jp_status_new(JP_FORBIDDEN, "%s is forbidden: %s", resource, why);
    jp_status_details(st, name, group, plural);
    reply_status(q, st);
}

bool authorize_impersonation(struct apireq *q, const struct jp_user *who, const char *resource,
                             const char *name)
{
    struct attrs a = {.who = who,
                      .verb = "impersonate",
                      .group = "",
                      .resource = resource,
                      .sub = "",
                      .ns = "",
                      .name = name};
    if (allowed(q->srv->store, &a)) return true;
    char why[1200];
    snprintf(
        why, sizeof(why),
        "User \"%s\" cannot impersonate resource \"%s\" in API group \"\" at the cluster scope",
        who->name, resource);
    forbid(q, resource, "", resource, name, why);
    return false;
}

/* Discovery, OpenAPI, health and the version: everyone authenticated's (system:discovery). */
static bool discovery(enum route_type t)
{
    return t == R_ROOT || t == R_API || t == R_APIS || t == R_GROUP || t == R_GROUP_VER ||
           t == R_OPENAPI_V2 || t == R_OPENAPI_V3 || t == R_HEALTH || t == R_VERSION;
}

/* Writing RBAC cannot grant what the writer lacks: kube-apiserver lets a role be written by
 * whoever may `escalate` it or already holds all it grants, and a binding by whoever may `bind`
 * its role or holds all of it. Here only the verbs count (holding it all is not worked out):
 * stricter, never looser. */
static bool escalation_allowed(struct apireq *q, const struct route *r, struct attrs *a)
{
    if (strcmp(a->group, RBAC) != 0 || *a->sub ||
        (strcmp(a->verb, "create") && strcmp(a->verb, "update") && strcmp(a->verb, "patch")))
        return true;
    bool binding = strstr(a->resource, "bindings") != NULL;
    struct attrs need = *a;
    need.verb = binding ? "bind" : "escalate";
    if (!binding) return allowed(q->srv->store, &need); /* on the role written */
    /* the role the binding names: from the body on create; fixed afterwards (immutable) */
    const struct jp_obj *cur =
        *r->name ? jp_store_get(q->srv->store, (uint16_t)jp_kind_index(r->kind), r->ns, r->name)
                 : NULL;
    json_t *doc = cur ? jp_api_parse(cur) : body_object(q, r->kind->schema_type);
    const char *kind = jp_json_str(doc, "roleRef", "kind", NULL) ?: "";
    need.resource = !strcmp(kind, "Role") ? "roles" : "clusterroles";
    need.namespaced = !strcmp(kind, "Role");
    need.name = jp_json_str(doc, "roleRef", "name", NULL) ?: "";
    bool ok = allowed(q->srv->store, &need);
    json_decref(doc);
    return ok;
}

bool authorize_user(struct apireq *q, const struct route *r, const struct jp_user *who,
                    const char *path)
{
    if (discovery(r->type)) return true;
    bool resource = r->type == R_COLLECTION || r->type == R_OBJECT;
    /* a namespace's own requests are in that namespace, as kube-apiserver's request info says */
    bool ns_itself = resource && !strcmp(r->kind->plural, "namespaces") && *r->name;
    struct attrs a = {.who = who,
                      .verb = verb_of(q, r),
                      .group = resource ? r->kind->group : "",
                      .resource = resource ? r->kind->plural : "",
                      .sub = resource ? r->sub : "",
                      .ns = ns_itself  ? r->name
                            : resource ? r->ns
                                       : "",
                      .name = resource ? r->name : "",
                      .namespaced = resource && r->kind->namespaced,
                      /* anything else (/metrics, a path naming nothing) by its path */
                      .path = resource               ? NULL
                              : r->type == R_METRICS ? "/metrics"
                                                     : path};
    const char *user = who->name;
    char why[1200];
    if (allowed(q->srv->store, &a)) {
        if (!resource || escalation_allowed(q, r, &a)) return true;
        snprintf(why, sizeof(why),
                 "user \"%s\" is attempting to grant RBAC permissions not currently held (no %s "
                 "on the role)",
                 user, strstr(a.resource, "bindings") ? "bind" : "escalate");
    } else if (!resource) {
        reply_error(q, JP_FORBIDDEN, "forbidden: User \"%s\" cannot %s path \"%s\"", user, a.verb,
                    path);
        return false;
    } else {
        char res[160], where[300];
        if (*a.ns)
            snprintf(where, sizeof(where), "in the namespace \"%s\"", a.ns);
        else
            snprintf(where, sizeof(where), "at the cluster scope");
        snprintf(why, sizeof(why), "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
                 user, a.verb, full_resource(&a, res), a.group, where);
    }
    forbid(q, r->kind->resource, r->kind->group, r->kind->plural, a.name, why);
    return false;
}

/* ---- SelfSubjectAccessReview: kubectl auth can-i ---- */

static bool namespaced_resource(const char *group, const char *resource)
{
    for (unsigned i = 0; i < jp_nkinds; i++)
        if (!strcmp(jp_kinds[i].group, group) && !strcmp(jp_kinds[i].plural, resource))
            return jp_kinds[i].namespaced;
    return true; /* a kind not served here: as most are */
}

void serve_self_access_review(struct apireq *q, const struct jp_user *who)
{
    json_t *doc = body_object(q, JP_T_V1SelfSubjectAccessReview);
    const json_t *spec = json_object_get(doc, "spec");
    const json_t *ra = json_object_get(spec, "resourceAttributes");
    const json_t *na = json_object_get(spec, "nonResourceAttributes");
    if (!json_is_object(doc) || (!json_is_object(ra)) == (!json_is_object(na))) {
        reply_error(q, JP_INVALID,
                    "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec: Invalid "
                    "value: exactly one of nonResourceAttributes or resourceAttributes must be "
                    "specified");
        json_decref(doc);
        return;
    }
    const json_t *at = ra ? ra : na;
    struct attrs a = {.who = who,
                      .verb = jp_json_str(at, "verb", NULL) ?: "",
                      .group = jp_json_str(at, "group", NULL) ?: "",
                      .resource = jp_json_str(at, "resource", NULL) ?: "",
                      .sub = jp_json_str(at, "subresource", NULL) ?: "",
                      .ns = jp_json_str(at, "namespace", NULL) ?: "",
                      .name = jp_json_str(at, "name", NULL) ?: "",
                      .path = na ? jp_json_str(na, "path", NULL) ?: "" : NULL};
    a.namespaced = ra && namespaced_resource(a.group, a.resource);
    /* the admin, or the caller's discovery: always; anyone else as RBAC says */
    bool ok =
        who == NULL ||
        (na && a.path &&
         (!strcmp(a.path, "/api") || !strcmp(a.path, "/apis") || !strcmp(a.path, "/version"))) ||
        allowed(q->srv->store, &a);
    json_t *out = json_pack("{s:s,s:s,s:{s:n},s:O,s:{s:b}}", "kind", "SelfSubjectAccessReview",
                            "apiVersion", "authorization.k8s.io/v1", "metadata",
                            "creationTimestamp", "spec", spec, "status", "allowed", ok);
    json_decref(doc);
    reply_json_object(q, 201, out);
}
