/* What a service account may do: RBAC, as kube-apiserver's authorizer decides it, from the
 * Roles, ClusterRoles and their bindings in the store. The admin's certificate and token may do
 * everything (system:masters); an account may do nothing but discovery until a binding grants
 * it more - as on a cluster, where the default account has no permissions. cluster-admin,
 * admin, edit and view are there without being stored (kube-apiserver writes them at start):
 * admin and edit grant every verb (edit: not on RBAC objects), view reads all but Secrets. */
#include "api/kinds.h"
#include "api/write.h"
#include "codec/protobuf.h"
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "pki/satoken.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define RBAC "rbac.authorization.k8s.io"

struct attrs {
    const struct jp_sa_identity *who;
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

/* A rule's resources: "*", the resource, "resource/sub", or "*\/sub". */
static bool resource_matches(const json_t *list, const struct attrs *a)
{
    char full[160];
    snprintf(full, sizeof(full), "%s%s%s", a->resource, *a->sub ? "/" : "", a->sub);
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

/* The default ClusterRoles, when no stored one has the name. -1: not one of them. admin, edit
 * and view are about what lives in namespaces (bound cluster-wide: in every namespace), as
 * kube-apiserver's are: never namespaces, nodes or cluster-wide RBAC themselves. */
static int builtin_allows(const char *role, const struct attrs *a)
{
    bool read = !strcmp(a->verb, "get") || !strcmp(a->verb, "list") || !strcmp(a->verb, "watch");
    if (strcmp(role, "cluster-admin") == 0) return 1;
    bool admin = !strcmp(role, "admin"), edit = !strcmp(role, "edit"), view = !strcmp(role, "view");
    if (!admin && !edit && !view) return -1;
    if (a->path || !a->namespaced) return 0;
    bool rbac = strcmp(a->group, RBAC) == 0;
    if (admin) return 1;
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
    if (o == NULL) return strcmp(plural, "clusterroles") == 0 && builtin_allows(name, a) == 1;
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

/* A binding's subject names the account: itself, its user name, or one of its groups. */
static bool names_account(const json_t *binding, const char *binding_ns, const struct attrs *a)
{
    char user[600], ns_group[300];
    jp_sa_username(a->who, user, sizeof(user));
    snprintf(ns_group, sizeof(ns_group), "system:serviceaccounts:%s", a->who->ns);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(binding, "subjects"), i, s)
    {
        const char *kind = jp_json_str(s, "kind", NULL) ?: "";
        const char *name = jp_json_str(s, "name", NULL) ?: "";
        const char *ns = jp_json_str(s, "namespace", NULL) ?: "";
        if (strcmp(kind, "ServiceAccount") == 0 && strcmp(name, a->who->sa_name) == 0 &&
            strcmp(*ns ? ns : binding_ns, a->who->ns) == 0)
            return true;
        if (strcmp(kind, "User") == 0 && strcmp(name, user) == 0) return true;
        if (strcmp(kind, "Group") == 0 &&
            (!strcmp(name, "system:serviceaccounts") || !strcmp(name, ns_group) ||
             !strcmp(name, "system:authenticated")))
            return true;
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
    if (names_account(b, o->ns, sc->a)) {
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
    need.sub = "";
    need.verb = binding ? "bind" : "escalate";
    if (!binding) {
        need.resource = a->resource; /* roles or clusterroles, the one written */
        return allowed(q->srv->store, &need);
    }
    /* the role the binding names: from the body on create; fixed afterwards (immutable) */
    const struct jp_obj *cur =
        *r->name ? jp_store_get(q->srv->store, (uint16_t)jp_kind_index(r->kind), r->ns, r->name)
                 : NULL;
    json_t *doc = cur ? jp_api_parse(cur) : NULL;
    if (doc == NULL) {
        const char *ct = req_header(q, "Content-Type");
        const char *data = q->body.data ? q->body.data : "";
        if (ct && !strncmp(ct, JP_PROTO_MEDIA_TYPE, strlen(JP_PROTO_MEDIA_TYPE))) {
            struct jp_err *err = NULL;
            if (jp_proto_decode_object(data, q->body.len, r->kind->schema_type, &doc, NULL, NULL,
                                       &err) < 0)
                jp_err_free(err);
        } else {
            doc = json_loadb(data, q->body.len, 0, NULL);
        }
    }
    const char *kind = jp_json_str(doc, "roleRef", "kind", NULL) ?: "";
    need.resource = !strcmp(kind, "Role") ? "roles" : "clusterroles";
    need.namespaced = !strcmp(kind, "Role");
    need.name = jp_json_str(doc, "roleRef", "name", NULL) ?: "";
    bool ok = allowed(q->srv->store, &need);
    json_decref(doc);
    return ok;
}

bool authorize_sa(struct apireq *q, const struct route *r, const struct jp_sa_identity *who,
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
    if (allowed(q->srv->store, &a)) {
        if (!resource || escalation_allowed(q, r, &a)) return true;
        char user[600];
        jp_sa_username(who, user, sizeof(user));
        const char *verb = strstr(a.resource, "bindings") ? "bind" : "escalate";
        struct jp_status *st =
            *a.name ? jp_status_new(JP_FORBIDDEN,
                                    "%s \"%s\" is forbidden: user \"%s\" is attempting to grant "
                                    "RBAC permissions not currently held (no %s on the role)",
                                    r->kind->resource, a.name, user, verb)
                    : jp_status_new(JP_FORBIDDEN,
                                    "%s is forbidden: user \"%s\" is attempting to grant RBAC "
                                    "permissions not currently held (no %s on the role)",
                                    r->kind->resource, user, verb);
        jp_status_details(st, a.name, r->kind->group, r->kind->plural);
        reply_status(q, st);
        return false;
    }
    char user[600], why[1200];
    jp_sa_username(who, user, sizeof(user));
    if (!resource) {
        reply_error(q, JP_FORBIDDEN, "forbidden: User \"%s\" cannot %s path \"%s\"", user, a.verb,
                    path);
        return false;
    }
    char res[160];
    snprintf(res, sizeof(res), "%s%s%s", a.resource, *a.sub ? "/" : "", a.sub);
    if (*a.ns)
        snprintf(why, sizeof(why),
                 "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" in the namespace "
                 "\"%s\"",
                 user, a.verb, res, a.group, a.ns);
    else
        snprintf(why, sizeof(why),
                 "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" at the cluster scope",
                 user, a.verb, res, a.group);
    struct jp_status *st =
        *a.name ? jp_status_new(JP_FORBIDDEN, "%s \"%s\" is forbidden: %s", r->kind->resource,
                                a.name, why)
                : jp_status_new(JP_FORBIDDEN, "%s is forbidden: %s", r->kind->resource, why);
    jp_status_details(st, a.name, r->kind->group, r->kind->plural);
    reply_status(q, st);
    return false;
}
