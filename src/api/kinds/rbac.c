/* rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding. Stored,
 * defaulted and validated as kube-apiserver does, so manifests that bundle them with their Jobs
 * apply unchanged; nothing enforces them (every authenticated client may do everything, as
 * docs/server.md says). */
#include "api/kinds.h"
#include "api/meta.h"
#include "api/podspec.h"
#include "api/selector.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

#define RBAC_GROUP "rbac.authorization.k8s.io"

static size_t count(const json_t *rule, const char *key)
{
    return json_array_size(json_object_get(rule, key));
}

static void validate_rule(const json_t *rule, bool namespaced, const char *field,
                          struct jp_ferrs *fe)
{
    char path[96];
    if (count(rule, "verbs") == 0) {
        jp_strfmt(path, sizeof(path), "%s.verbs", field);
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, "verbs must contain at least one value");
    }
    if (count(rule, "nonResourceURLs") > 0) {
        jp_strfmt(path, sizeof(path), "%s.nonResourceURLs", field);
        char *urls = jp_go_slice("string", json_object_get(rule, "nonResourceURLs"));
        if (namespaced)
            jp_ferrs_add(fe, JP_FERR_INVALID, path, urls,
                         "namespaced rules cannot apply to non-resource URLs");
        if (count(rule, "apiGroups") || count(rule, "resources") || count(rule, "resourceNames"))
            jp_ferrs_add(fe, JP_FERR_INVALID, path, urls,
                         "rules cannot apply to both regular resources and non-resource URLs");
        free(urls);
        return;
    }
    if (count(rule, "apiGroups") == 0) {
        jp_strfmt(path, sizeof(path), "%s.apiGroups", field);
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL,
                     "resource rules must supply at least one api group");
    }
    if (count(rule, "resources") == 0) {
        jp_strfmt(path, sizeof(path), "%s.resources", field);
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL,
                     "resource rules must supply at least one resource");
    }
}

static void validate_rules(const json_t *obj, bool namespaced, struct jp_ferrs *fe)
{
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(obj, "rules"), i, rule)
    {
        char field[32];
        jp_strfmt(field, sizeof(field), "rules[%zu]", i);
        validate_rule(rule, namespaced, field, fe);
    }
}

static void validate_role(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    (void)old;
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_PATH_SEGMENT, true,
                            "metadata", fe);
    validate_rules(obj, true, fe);
}

static void validate_clusterrole(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    (void)old;
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_PATH_SEGMENT, false,
                            "metadata", fe);
    validate_rules(obj, false, fe);
    const json_t *agg = json_object_get(obj, "aggregationRule");
    if (!json_is_object(agg)) return;
    const json_t *sels = json_object_get(agg, "clusterRoleSelectors");
    if (json_array_size(sels) == 0)
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "aggregationRule.clusterRoleSelectors", NULL,
                     "at least one clusterRoleSelector required if aggregationRule is non-nil");
    size_t i;
    json_t *sel;
    json_array_foreach(sels, i, sel)
    {
        struct jp_selector *s = NULL;
        struct jp_status *st = NULL;
        if (jp_label_selector_from_json(sel, &s, &st) < 0) {
            char path[64];
            jp_strfmt(path, sizeof(path), "aggregationRule.clusterRoleSelectors[%zu]", i);
            char *dump = jp_go_dump("&v1.LabelSelector", sel);
            jp_ferrs_add(fe, JP_FERR_INVALID, path, dump, "invalid label selector.");
            free(dump);
        }
        jp_selector_free(s);
        jp_status_free(st);
    }
}

/* ---- bindings ---- */

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The v1 defaults: the roleRef's group, and a subject's group by its kind. */
static void binding_defaults(json_t *obj)
{
    json_t *ref = json_object_get(obj, "roleRef");
    if (json_is_object(ref) && *str(ref, "apiGroup") == '\0')
        json_object_set_new(ref, "apiGroup", json_string(RBAC_GROUP));
    size_t i;
    json_t *sub;
    json_array_foreach(json_object_get(obj, "subjects"), i, sub)
    {
        if (!json_is_object(sub) || *str(sub, "apiGroup")) continue;
        const char *kind = str(sub, "kind");
        if (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0)
            json_object_set_new(sub, "apiGroup", json_string(RBAC_GROUP));
    }
}

static void not_supported(struct jp_ferrs *fe, const char *path, const char *value,
                          const char *supported)
{
    char *q = jp_go_quote(value);
    jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, path, q, "supported values: %s", supported);
    free(q);
}

static void validate_subject(const json_t *sub, bool namespaced, size_t i, struct jp_ferrs *fe)
{
    char path[64];
    const char *name = str(sub, "name"), *kind = str(sub, "kind"), *group = str(sub, "apiGroup");
    if (*name == '\0') {
        jp_strfmt(path, sizeof(path), "subjects[%zu].name", i);
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
    }
    jp_strfmt(path, sizeof(path), "subjects[%zu].apiGroup", i);
    if (strcmp(kind, "ServiceAccount") == 0) {
        const char *m = *name ? jp_check_dns1123_subdomain(name) : NULL;
        if (m) {
            char name_path[64];
            jp_strfmt(name_path, sizeof(name_path), "subjects[%zu].name", i);
            char *q = jp_go_quote(name);
            jp_ferrs_add(fe, JP_FERR_INVALID, name_path, q, "%s", m);
            free(q);
        }
        if (*group) not_supported(fe, path, group, "\"\"");
        if (!namespaced && *str(sub, "namespace") == '\0') {
            jp_strfmt(path, sizeof(path), "subjects[%zu].namespace", i);
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
        }
    } else if (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0) {
        if (strcmp(group, RBAC_GROUP) != 0) not_supported(fe, path, group, "\"" RBAC_GROUP "\"");
    } else {
        jp_strfmt(path, sizeof(path), "subjects[%zu].kind", i);
        not_supported(fe, path, kind, "\"ServiceAccount\", \"User\", \"Group\"");
    }
}

/* rbac.RoleRef{APIGroup:"...", Kind:"...", Name:"..."}, Go's %#v of the struct */
static char *go_role_ref(const json_t *ref)
{
    char *g = jp_go_quote(str(ref, "apiGroup")), *k = jp_go_quote(str(ref, "kind")),
         *n = jp_go_quote(str(ref, "name"));
    char *out = jp_xasprintf("rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}", g, k, n);
    free(g), free(k), free(n);
    return out;
}

static void validate_binding(const json_t *obj, const json_t *old, bool namespaced,
                             struct jp_ferrs *fe)
{
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_PATH_SEGMENT, namespaced,
                            "metadata", fe);
    const json_t *ref = json_object_get(obj, "roleRef");
    if (strcmp(str(ref, "apiGroup"), RBAC_GROUP) != 0)
        not_supported(fe, "roleRef.apiGroup", str(ref, "apiGroup"), "\"" RBAC_GROUP "\"");
    const char *kind = str(ref, "kind");
    if (strcmp(kind, "ClusterRole") != 0 && (!namespaced || strcmp(kind, "Role") != 0))
        not_supported(fe, "roleRef.kind", kind,
                      namespaced ? "\"Role\", \"ClusterRole\"" : "\"ClusterRole\"");
    const char *name = str(ref, "name");
    const char *m = *name ? jp_check_path_segment(name) : NULL;
    if (*name == '\0') {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "roleRef.name", NULL, NULL);
    } else if (m) {
        char *q = jp_go_quote(name);
        jp_ferrs_add(fe, JP_FERR_INVALID, "roleRef.name", q, "%s", m);
        free(q);
    }
    size_t i;
    json_t *sub;
    json_array_foreach(json_object_get(obj, "subjects"), i, sub)
        validate_subject(sub, namespaced, i, fe);
    /* what a binding grants is fixed: another role takes a new binding */
    const json_t *old_ref = old ? json_object_get(old, "roleRef") : NULL;
    if (old &&
        (strcmp(str(ref, "apiGroup"), str(old_ref, "apiGroup")) != 0 ||
         strcmp(kind, str(old_ref, "kind")) != 0 || strcmp(name, str(old_ref, "name")) != 0)) {
        char *dump = go_role_ref(ref);
        jp_ferrs_add(fe, JP_FERR_INVALID, "roleRef", dump, "cannot change roleRef");
        free(dump);
    }
}

static void validate_rolebinding(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    validate_binding(obj, old, true, fe);
}

static void validate_clusterrolebinding(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    validate_binding(obj, old, false, fe);
}

/* ---- Tables ---- */

static void nothing(json_t *obj)
{
    (void)obj;
}

static void name_cell(const json_t *obj, struct jp_cells *c)
{
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
}

/* Roles have no printer of their own upstream: the default Table, creation time in RFC 3339 */
static void role_row(const json_t *obj, struct jp_cells *c)
{
    name_cell(obj, c);
    const char *t = jp_json_str(obj, "metadata", "creationTimestamp", NULL);
    jp_cells_str(c, "%s", t ? t : "");
}

static const struct jp_column role_columns[] = {
    JP_COLUMN_NAME,
    {"Created At", "date", "",
     "CreationTimestamp is a timestamp representing the server time when this object was "
     "created. It is not guaranteed to be set in happens-before order across separate "
     "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
     "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
     "https://git.k8s.io/community/contributors/devel/sig-architecture/"
     "api-conventions.md#metadata",
     0},
    JP_COLUMN_END};

/* -o wide: users, groups and service accounts (namespace/name), each joined by ", " */
static void binding_row(const json_t *obj, struct jp_cells *c)
{
    name_cell(obj, c);
    const json_t *ref = json_object_get(obj, "roleRef");
    jp_cells_str(c, "%s/%s", str(ref, "kind"), str(ref, "name"));
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
    struct jp_buf who[3];
    static const char *const kinds[3] = {"User", "Group", "ServiceAccount"};
    for (int k = 0; k < 3; k++)
        jp_buf_init(&who[k], 1 << 20);
    size_t i;
    json_t *sub;
    json_array_foreach(json_object_get(obj, "subjects"), i, sub)
    {
        for (int k = 0; k < 3; k++) {
            if (strcmp(str(sub, "kind"), kinds[k]) != 0) continue;
            jp_buf_printf(&who[k], "%s", who[k].len ? ", " : "");
            if (k == 2) jp_buf_printf(&who[k], "%s/", str(sub, "namespace"));
            jp_buf_printf(&who[k], "%s", str(sub, "name"));
        }
    }
    for (int k = 0; k < 3; k++) {
        jp_cells_str(c, "%s", who[k].data ? who[k].data : "");
        jp_buf_free(&who[k]);
    }
}

#define BINDING_COLUMNS(what, role_doc)                                                            \
    JP_COLUMN_NAME, {"Role", "string", "", role_doc, 0}, JP_COLUMN_AGE,                            \
        {"Users", "string", "", "Users in the " what, 1},                                          \
        {"Groups", "string", "", "Groups in the " what, 1},                                        \
        {"ServiceAccounts", "string", "", "ServiceAccounts in the " what, 1}, JP_COLUMN_END

static const struct jp_column rolebinding_columns[] = {BINDING_COLUMNS(
    "roleBinding", "RoleRef can reference a Role in the current namespace or a ClusterRole in "
                   "the global namespace. If the RoleRef cannot be resolved, the Authorizer must "
                   "return an error.")};

static const struct jp_column clusterrolebinding_columns[] = {BINDING_COLUMNS(
    "clusterRoleBinding", "RoleRef can only reference a ClusterRole in the global namespace. If "
                          "the RoleRef cannot be resolved, the Authorizer must return an error.")};

const struct jp_kind_ops jp_role_ops = {
    .defaults = nothing,
    .validate = validate_role,
    .row = role_row,
    .columns = role_columns,
};

const struct jp_kind_ops jp_clusterrole_ops = {
    .defaults = nothing,
    .validate = validate_clusterrole,
    .row = role_row,
    .columns = role_columns,
};

const struct jp_kind_ops jp_rolebinding_ops = {
    .defaults = binding_defaults,
    .validate = validate_rolebinding,
    .row = binding_row,
    .columns = rolebinding_columns,
};

const struct jp_kind_ops jp_clusterrolebinding_ops = {
    .defaults = binding_defaults,
    .validate = validate_clusterrolebinding,
    .row = binding_row,
    .columns = clusterrolebinding_columns,
};
