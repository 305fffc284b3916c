/* The kind table. Order matters only for discovery output; the store names kinds by plural. */
#include "api/kinds.h"
#include "api/schema_types_gen.h"

#include <stdio.h>
#include <string.h>

extern const struct jp_kind_ops jp_namespace_ops, jp_node_ops, jp_pod_ops, jp_service_ops,
    jp_endpoints_ops, jp_event_ops, jp_configmap_ops, jp_secret_ops, jp_serviceaccount_ops,
    jp_job_ops, jp_replicaset_ops, jp_endpointslice_ops, jp_role_ops, jp_rolebinding_ops,
    jp_clusterrole_ops, jp_clusterrolebinding_ops;

const struct jp_kind jp_kinds[] = {
    {"",
     "v1",
     "Namespace",
     "namespaces",
     "namespaces",
     "namespace",
     {"ns"},
     {0},
     false,
     true,
     false,
     JP_SUB_STATUS | JP_SUB_FINALIZE,
     JP_T_V1Namespace,
     &jp_namespace_ops},
    {"",
     "v1",
     "Node",
     "nodes",
     "nodes",
     "node",
     {"no"},
     {0},
     false,
     true,
     false,
     JP_SUB_STATUS,
     JP_T_V1Node,
     &jp_node_ops},
    {"",
     "v1",
     "Pod",
     "pods",
     "pods",
     "pod",
     {"po"},
     {"all"},
     true,
     true,
     false,
     JP_SUB_STATUS | JP_SUB_LOG | JP_SUB_PORTFORWARD | JP_SUB_EVICTION | JP_SUB_EXEC,
     JP_T_V1Pod,
     &jp_pod_ops},
    {"",
     "v1",
     "Service",
     "services",
     "services",
     "service",
     {"svc"},
     {"all"},
     true,
     true,
     false,
     JP_SUB_STATUS,
     JP_T_V1Service,
     &jp_service_ops},
    {"",
     "v1",
     "Endpoints",
     "endpoints",
     "endpoints",
     "endpoints",
     {"ep"},
     {0},
     true,
     false,
     false,
     0,
     JP_T_V1Endpoints,
     &jp_endpoints_ops},
    {"",
     "v1",
     "Event",
     "events",
     "events",
     "event",
     {"ev"},
     {0},
     true,
     false,
     false,
     0,
     JP_T_CoreV1Event,
     &jp_event_ops},
    {"",
     "v1",
     "ConfigMap",
     "configmaps",
     "configmaps",
     "configmap",
     {"cm"},
     {0},
     true,
     false,
     false,
     0,
     JP_T_V1ConfigMap,
     &jp_configmap_ops},
    {"",
     "v1",
     "Secret",
     "secrets",
     "secrets",
     "secret",
     {0},
     {0},
     true,
     false,
     false,
     0,
     JP_T_V1Secret,
     &jp_secret_ops},
    {"",
     "v1",
     "ServiceAccount",
     "serviceaccounts",
     "serviceaccounts",
     "serviceaccount",
     {"sa"},
     {0},
     true,
     false,
     false,
     JP_SUB_TOKEN,
     JP_T_V1ServiceAccount,
     &jp_serviceaccount_ops},
    {"apps",
     "v1",
     "ReplicaSet",
     "replicasets",
     "replicasets.apps",
     "replicaset",
     {"rs"},
     {"all"},
     true,
     true,
     true,
     JP_SUB_STATUS | JP_SUB_SCALE,
     JP_T_V1ReplicaSet,
     &jp_replicaset_ops},
    {"batch",
     "v1",
     "Job",
     "jobs",
     "jobs.batch",
     "job",
     {0},
     {"all"},
     true,
     true,
     true,
     JP_SUB_STATUS,
     JP_T_V1Job,
     &jp_job_ops},
    {"rbac.authorization.k8s.io",
     "v1",
     "ClusterRoleBinding",
     "clusterrolebindings",
     "clusterrolebindings.rbac.authorization.k8s.io",
     "clusterrolebinding",
     {0},
     {0},
     false,
     false,
     false,
     0,
     JP_T_V1ClusterRoleBinding,
     &jp_clusterrolebinding_ops},
    {"rbac.authorization.k8s.io",
     "v1",
     "ClusterRole",
     "clusterroles",
     "clusterroles.rbac.authorization.k8s.io",
     "clusterrole",
     {0},
     {0},
     false,
     false,
     false,
     0,
     JP_T_V1ClusterRole,
     &jp_clusterrole_ops},
    {"rbac.authorization.k8s.io",
     "v1",
     "RoleBinding",
     "rolebindings",
     "rolebindings.rbac.authorization.k8s.io",
     "rolebinding",
     {0},
     {0},
     true,
     false,
     false,
     0,
     JP_T_V1RoleBinding,
     &jp_rolebinding_ops},
    {"rbac.authorization.k8s.io",
     "v1",
     "Role",
     "roles",
     "roles.rbac.authorization.k8s.io",
     "role",
     {0},
     {0},
     true,
     false,
     false,
     0,
     JP_T_V1Role,
     &jp_role_ops},
    {"discovery.k8s.io",
     "v1",
     "EndpointSlice",
     "endpointslices",
     "endpointslices.discovery.k8s.io",
     "endpointslice",
     {0},
     {0},
     true,
     false,
     false,
     0,
     JP_T_V1EndpointSlice,
     &jp_endpointslice_ops},
};
const unsigned jp_nkinds = sizeof(jp_kinds) / sizeof(jp_kinds[0]);

const struct jp_kind *jp_kind_by_plural(const char *group, const char *version, const char *plural)
{
    for (unsigned i = 0; i < jp_nkinds; i++) {
        const struct jp_kind *k = &jp_kinds[i];
        if (strcmp(k->group, group) == 0 && strcmp(k->version, version) == 0 &&
            strcmp(k->plural, plural) == 0)
            return k;
    }
    return NULL;
}

int jp_kind_index(const struct jp_kind *k)
{
    return (int)(k - jp_kinds);
}

const char *jp_kind_api_version(const struct jp_kind *k, char *buf, size_t n)
{
    if (*k->group)
        snprintf(buf, n, "%s/%s", k->group, k->version);
    else
        snprintf(buf, n, "%s", k->version);
    return buf;
}

const char *jp_kinds_store_name(uint16_t kind)
{
    /* group-qualified so two groups' plurals can never collide in the database */
    return jp_kinds[kind].resource;
}

int jp_kinds_store_index(const char *name)
{
    for (unsigned i = 0; i < jp_nkinds; i++)
        if (strcmp(jp_kinds_store_name((uint16_t)i), name) == 0) return (int)i;
    return -1;
}

struct jp_obj *jp_kinds_store_load(uint16_t kind, const char *ns, const char *name,
                                   const char *json, size_t len)
{
    if (kind >= jp_nkinds) return NULL;
    return jp_object_load(&jp_kinds[kind], kind, ns, name, json, len);
}
