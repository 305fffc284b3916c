/* What a service account may do: RBAC, as kube-apiserver's authorizer decides it, from the
 * Roles, ClusterRoles and their bindings in the store. The admin's certificate and token may do
 * everything (system:masters); an account may do nothing but discovery until a binding grants
 * it more - as on a cluster, where the default account has no permissions. cluster-admin,
 * admin, edit and view are there without being stored (kube-apiserver writes them at start):
 * admin and edit grant every verb (edit: not on RBAC objects), view reads all but Secrets. */
#include "api/kinds.h"
#include "api/write.h"
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

static bool rule_allows(const json_t *rule, const struct attrs *a)
{
    if (!has(json_object_get(rule, "verbs"), a->verb)) return false;
    if (a->path) return url_matches(json_object_get(rule, "nonResourceURLs"), a->path);
    const json_t *names = json_object_get(rule, "resourceNames");
    return has(json_object_get(rule, "apiGroups"), a->group) &&
           resource_matches(json_object_get(rule, "resources"), a) &&
           (json_array_size(names) == 0 || (*a->name && has(names, a->name)));
}

/* The default ClusterRoles, when no stored one has the name. -1: not one of them. */
static int builtin_allows(const char *role, const struct attrs *a)
{
    bool read = !strcmp(a->verb, "get") || !strcmp(a->verb, "list") || !strcmp(a->verb, "watch");
    if (strcmp(role, "cluster-admin") == 0) return 1;
    if (a->path) return 0;
    if (strcmp(role, "admin") == 0) return 1;
    if (strcmp(role, "edit") == 0) return strcmp(a->group, RBAC) != 0;
    if (strcmp(role, "view") == 0)
        return read && strcmp(a->resource, "secrets") != 0 && strcmp(a->group, RBAC) != 0 &&
               !*a->sub;
    return -1;
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
    /* discovery and the version, for everyone authenticated (system:discovery) */
    if (a->path && strcmp(a->path, "/metrics") != 0) return true;
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
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
        return watch_requested(q) ? "watch" : r->type == R_COLLECTION ? "list" : "get";
    if (!strcmp(m, "POST")) return "create";
    if (!strcmp(m, "PUT")) return "update";
    if (!strcmp(m, "PATCH")) return "patch";
    if (!strcmp(m, "DELETE")) return r->type == R_COLLECTION ? "deletecollection" : "delete";
    return m;
}

bool authorize_sa(struct apireq *q, const struct route *r, const struct jp_sa_identity *who,
                  const char *path)
{
    bool resource = r->type == R_COLLECTION || r->type == R_OBJECT;
    struct attrs a = {.who = who,
                      .verb = verb_of(q, r),
                      .group = resource ? r->kind->group : "",
                      .resource = resource ? r->kind->plural : "",
                      .sub = resource ? r->sub : "",
                      .ns = resource ? r->ns : "",
                      .name = resource ? r->name : "",
                      .path = resource ? NULL : path};
    if (!strcmp(a.verb, "HEAD")) a.verb = "get";
    if (allowed(q->srv->store, &a)) return true;
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
