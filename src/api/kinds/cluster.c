/* Cluster-scoped kinds: Namespace and Node. */
#include "api/kinds.h"
#include "api/meta.h"
#include "base/buf.h"

#include <stdio.h>
#include <string.h>

/* ---- Namespace ---- */

static void namespace_defaults(json_t *obj)
{
    json_t *status = jp_json_ensure(obj, "status", NULL);
    if (!json_is_string(json_object_get(status, "phase")))
        json_object_set_new(status, "phase", json_string("Active"));
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    if (!json_is_array(json_object_get(spec, "finalizers")))
        json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
    /* the apiserver labels every namespace with its own name */
    json_t *labels = jp_json_ensure(obj, "metadata", "labels", NULL);
    const char *name = jp_json_str(obj, "metadata", "name", NULL);
    if (name) json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
}

static void namespace_validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    (void)old;
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_DNS_LABEL, false, "metadata",
                            fe);
}

static void namespace_row(const json_t *obj, struct jp_cells *c)
{
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
    const char *phase = jp_json_str(obj, "status", "phase", NULL);
    jp_cells_str(c, "%s", phase ? phase : "");
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
}

static const struct jp_column namespace_columns[] = {
    JP_COLUMN_NAME,
    {"Status", "string", "", "The status of the namespace", 0},
    JP_COLUMN_AGE,
    JP_COLUMN_END};

static const char *const namespace_fields[] = {"status.phase", NULL};

static const char *namespace_field(const json_t *obj, const char *label, char *buf, size_t n)
{
    (void)label, (void)buf, (void)n;
    return jp_json_str(obj, "status", "phase", NULL);
}

const struct jp_kind_ops jp_namespace_ops = {
    .defaults = namespace_defaults,
    .validate = namespace_validate,
    .row = namespace_row,
    .columns = namespace_columns,
    .field_labels = namespace_fields,
    .field_value = namespace_field,
};

/* ---- Node ---- */

static void node_defaults(json_t *obj)
{
    (void)obj;
}

static void node_validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    (void)old;
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_SUBDOMAIN, false, "metadata",
                            fe);
}

static void node_row(const json_t *obj, struct jp_cells *c)
{
    const json_t *status = json_object_get(obj, "status");
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
    const char *ready = "Unknown";
    size_t i;
    json_t *cond;
    json_array_foreach(json_object_get(status, "conditions"), i, cond)
    {
        const char *t = jp_json_str(cond, "type", NULL), *s = jp_json_str(cond, "status", NULL);
        if (t && s && strcmp(t, "Ready") == 0)
            ready = strcmp(s, "True") == 0 ? "Ready" : "NotReady";
    }
    bool unsched = json_is_true(jp_json_path(obj, "spec", "unschedulable", NULL));
    jp_cells_str(c, "%s%s", ready, unsched ? ",SchedulingDisabled" : "");
    /* ROLES: node-role.kubernetes.io/<role> labels and kubernetes.io/role, sorted, joined */
    struct jp_buf roles;
    jp_buf_init(&roles, 4096);
    const char *k;
    json_t *v;
    json_t *sorted = json_array();
    json_object_foreach(jp_json_path(obj, "metadata", "labels", NULL), k, v)
    {
        if (strncmp(k, "node-role.kubernetes.io/", 24) == 0 && k[24])
            json_array_append_new(sorted, json_string(k + 24));
        else if (strcmp(k, "kubernetes.io/role") == 0 && json_string_length(v))
            json_array_append_new(sorted, json_string(json_string_value(v)));
    }
    for (size_t a = 0; a < json_array_size(sorted); a++) /* few roles: insertion sort */
        for (size_t b = a + 1; b < json_array_size(sorted); b++)
            if (strcmp(json_string_value(json_array_get(sorted, b)),
                       json_string_value(json_array_get(sorted, a))) < 0) {
                json_t *t = json_incref(json_array_get(sorted, a));
                json_array_set(sorted, a, json_array_get(sorted, b));
                json_array_set_new(sorted, b, t);
            }
    for (size_t a = 0; a < json_array_size(sorted); a++)
        jp_buf_printf(&roles, "%s%s", a ? "," : "", json_string_value(json_array_get(sorted, a)));
    json_decref(sorted);
    jp_cells_str(c, "%s", roles.len ? roles.data : "<none>");
    jp_buf_free(&roles);
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
    const char *ver = jp_json_str(status, "nodeInfo", "kubeletVersion", NULL);
    jp_cells_str(c, "%s", ver ? ver : "");
    const char *internal = "<none>", *external = "<none>";
    json_t *addr;
    json_array_foreach(json_object_get(status, "addresses"), i, addr)
    {
        const char *t = jp_json_str(addr, "type", NULL), *a = jp_json_str(addr, "address", NULL);
        if (t && a && strcmp(t, "InternalIP") == 0) internal = a;
        if (t && a && strcmp(t, "ExternalIP") == 0) external = a;
    }
    jp_cells_str(c, "%s", internal);
    jp_cells_str(c, "%s", external);
    const char *os = jp_json_str(status, "nodeInfo", "osImage", NULL);
    const char *kernel = jp_json_str(status, "nodeInfo", "kernelVersion", NULL);
    const char *rt = jp_json_str(status, "nodeInfo", "containerRuntimeVersion", NULL);
    jp_cells_str(c, "%s", os ? os : "<unknown>");
    jp_cells_str(c, "%s", kernel ? kernel : "<unknown>");
    jp_cells_str(c, "%s", rt ? rt : "<unknown>");
}

static const struct jp_column node_columns[] = {
    JP_COLUMN_NAME,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    JP_COLUMN_AGE,
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", "List of internal IPs.", 1},
    {"External-IP", "string", "", "List of external IPs.", 1},
    {"OS-Image", "string", "", "OS Image reported by the node from /etc/os-release.", 1},
    {"Kernel-Version", "string", "", "Kernel Version reported by the node.", 1},
    {"Container-Runtime", "string", "", "Container Runtime Version reported by the node.", 1},
    JP_COLUMN_END};

static const char *const node_fields[] = {"spec.unschedulable", NULL};

static const char *node_field(const json_t *obj, const char *label, char *buf, size_t n)
{
    (void)label, (void)buf, (void)n;
    return json_is_true(jp_json_path(obj, "spec", "unschedulable", NULL)) ? "true" : "false";
}

const struct jp_kind_ops jp_node_ops = {
    .defaults = node_defaults,
    .validate = node_validate,
    .row = node_row,
    .columns = node_columns,
    .field_labels = node_fields,
    .field_value = node_field,
};
