/* System namespaces, default service accounts, the node and the kubernetes Service, written
 * through the api write path like any client's objects. */
#include "controllers/bootstrap.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

struct jp_bootstrap {
    struct jp_store *store;
    struct jp_store_sub *sub;
    char *ca; /* the API's CA (PEM), NULL when it is not served */
};

/* Creates obj, or replaces the one there (a no-op when equal). OUT: obj is taken. 0 or -1
 * (logged). */
static int put(struct jp_store *s, const char *group, const char *plural, const char *ns,
               json_t *obj)
{
    const char *name = jp_json_str(obj, "metadata", "name", NULL);
    struct jp_write_ctx c = {
        .store = s, .kind = jp_kind_by_plural(group, "v1", plural), .ns = ns, .fv = JP_FV_STRICT};
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    int rc = jp_store_get(s, (uint16_t)jp_kind_index(c.kind), ns, name)
                 ? jp_api_update(&c, name, obj, &r, &st)
                 : jp_api_create(&c, obj, &r, &st);
    if (rc == 0) jp_write_result_free(&r);
    if (rc < 0) jp_log(JP_WARN, "bootstrap", "%s %s/%s: %s", plural, ns, name, st->message);
    jp_status_free(st);
    jp_write_ctx_free(&c);
    return rc;
}

static void ensure_service_account(struct jp_store *s, const char *ns)
{
    const struct jp_kind *sa = jp_kind_by_plural("", "v1", "serviceaccounts");
    if (jp_store_get(s, (uint16_t)jp_kind_index(sa), ns, "default")) return;
    put(s, "", "serviceaccounts", ns,
        json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata",
                  "name", "default"));
}

/* kube-root-ca.crt, as the root CA publisher keeps it in every namespace: what a pod verifies
 * the API with at kubernetes.default.svc */
static void publish_root_ca(struct jp_bootstrap *b, const char *ns)
{
    if (b->ca == NULL) return;
    put(b->store, "", "configmaps", ns,
        json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                  "metadata", "name", "kube-root-ca.crt", "annotations",
                  "kubernetes.io/description",
                  "Contains a CA bundle that can be used to verify the kube-apiserver when using "
                  "internal endpoints such as the internal service IP or kubernetes.default.svc. "
                  "No other usage is guaranteed across distributions of Kubernetes clusters.",
                  "data", "ca.crt", b->ca));
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_bootstrap *b = arg;
    static const char *ns_kind = "namespaces";
    if (ev->type != JP_EV_ADDED || strcmp(jp_kinds[ev->obj->kind].plural, ns_kind) != 0) return;
    ensure_service_account(b->store, ev->obj->name);
    publish_root_ca(b, ev->obj->name);
}

/* every namespace there already (a data dir from before, or one made while we were down) */
static bool each_namespace(const struct jp_obj *o, void *arg)
{
    if (!jp_proj_of(o)->deleted_ns) publish_root_ca(arg, o->name);
    return true;
}

static char *now_rfc3339(void)
{
    char ts[JP_TIME_BUFLEN];
    jp_time_format(ts, jp_now_ns(), JP_TIME_SECONDS);
    return jp_xstrdup(ts);
}

static json_t *node_object(const char *name)
{
    struct utsname u;
    uname(&u);
    struct sysinfo si;
    sysinfo(&si);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char mem[32], cpu[32];
    snprintf(mem, sizeof(mem), "%lluKi", (unsigned long long)si.totalram * si.mem_unit / 1024);
    snprintf(cpu, sizeof(cpu), "%ld", cpus > 0 ? cpus : 1);
    json_t *res = json_pack("{s:s,s:s,s:s,s:s}", "cpu", cpu, "memory", mem, "pods", "110",
                            "ephemeral-storage", "10Gi");
    char *now = now_rfc3339();
    json_t *node = json_pack(
        "{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s,s:s}},s:{},s:{s:O,s:o,s:[{s:s,s:s,s:s,s:s,s:s,s:s}],"
        "s:[{s:s,s:s}],s:{s:s,s:s,s:s,s:s,s:s,s:s}}}",
        "apiVersion", "v1", "kind", "Node", "metadata", "name", name, "labels",
        "kubernetes.io/hostname", name, "kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64",
        "node-role.kubernetes.io/control-plane", "", "spec", "status", "capacity", res,
        "allocatable", res, "conditions", "type", "Ready", "status", "True", "reason",
        "KubeletReady", "message", "jobplane is posting ready status", "lastHeartbeatTime", now,
        "lastTransitionTime", now, "addresses", "type", "InternalIP", "address", "127.0.0.1",
        "nodeInfo", "kubeletVersion", "v1.33.0-jobplane", "osImage", "Linux", "kernelVersion",
        u.release, "containerRuntimeVersion", "jobplane://0.1", "operatingSystem", "linux",
        "architecture", "amd64");
    free(now);
    return node;
}

int jp_bootstrap_start(struct jp_store *store, const char *node_name, const char *ca,
                       struct jp_bootstrap **out, struct jp_err **err)
{
    (void)err;
    struct jp_bootstrap *b = jp_xcalloc(1, sizeof(*b));
    b->store = store;
    b->ca = ca ? jp_xstrdup(ca) : NULL;
    b->sub = jp_store_subscribe(store, on_event, b);
    static const char *const system_ns[] = {"default", "kube-system", "kube-public",
                                            "kube-node-lease"};
    const struct jp_kind *nsk = jp_kind_by_plural("", "v1", "namespaces");
    for (size_t i = 0; i < 4; i++) {
        if (!jp_store_get(store, (uint16_t)jp_kind_index(nsk), "", system_ns[i]))
            put(store, "", "namespaces", "",
                json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                          "name", system_ns[i]));
        ensure_service_account(store, system_ns[i]);
    }
    jp_store_scan(store, (uint16_t)jp_kind_index(nsk), NULL, NULL, NULL, each_namespace, b);
    const struct jp_kind *nodek = jp_kind_by_plural("", "v1", "nodes");
    if (!jp_store_get(store, (uint16_t)jp_kind_index(nodek), "", node_name)) {
        /* a create drops status (as for any client): the node reports it through /status */
        json_t *node = node_object(node_name);
        json_t *status = json_incref(json_object_get(node, "status"));
        if (put(store, "", "nodes", "", node) == 0) {
            struct jp_write_ctx c = {.store = store,
                                     .kind = nodek,
                                     .ns = "",
                                     .subresource = "status",
                                     .fv = JP_FV_STRICT};
            json_t *body = json_pack("{s:s,s:s,s:{s:s},s:O}", "apiVersion", "v1", "kind", "Node",
                                     "metadata", "name", node_name, "status", status);
            struct jp_write_result r;
            struct jp_status *st = NULL;
            if (jp_api_update(&c, node_name, body, &r, &st) == 0) jp_write_result_free(&r);
            if (st) jp_log(JP_WARN, "bootstrap", "node status: %s", st->message);
            jp_status_free(st);
            jp_write_ctx_free(&c);
        }
        json_decref(status);
    }
    *out = b;
    return 0;
}

void jp_bootstrap_api_service(struct jp_bootstrap *b, const char *host, int port)
{
    int target = port > 0 ? port : 6443;
    put(b->store, "", "services", "default",
        json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}},s:{s:s,s:[s],s:s,s:s,s:[s],s:s,s:s,"
                  "s:[{s:s,s:i,s:s,s:i}]}}",
                  "apiVersion", "v1", "kind", "Service", "metadata", "name", "kubernetes", "labels",
                  "component", "apiserver", "provider", "kubernetes", "spec", "clusterIP",
                  "10.96.0.1", "clusterIPs", "10.96.0.1", "type", "ClusterIP", "sessionAffinity",
                  "None", "ipFamilies", "IPv4", "ipFamilyPolicy", "SingleStack",
                  "internalTrafficPolicy", "Cluster", "ports", "name", "https", "port", 443,
                  "protocol", "TCP", "targetPort", target));
    if (port <= 0) { /* not served: what an earlier, served start wrote leads nowhere now */
        static const char *const kinds[][2] = {{"", "endpoints"},
                                               {"discovery.k8s.io", "endpointslices"}};
        for (size_t i = 0; i < 2; i++) {
            struct jp_write_ctx c = {.store = b->store,
                                     .kind = jp_kind_by_plural(kinds[i][0], "v1", kinds[i][1]),
                                     .ns = "default"};
            struct jp_write_result r = {0};
            struct jp_status *st = NULL;
            if (jp_store_get(b->store, (uint16_t)jp_kind_index(c.kind), "default", "kubernetes") &&
                jp_api_delete(&c, "kubernetes", NULL, &r, &st) == 0)
                jp_write_result_free(&r);
            jp_status_free(st);
            jp_write_ctx_free(&c);
        }
        return;
    }
    /* the address pods are sent to: the one served on, or loopback for a wildcard */
    struct in_addr a;
    const char *ip = host && inet_pton(AF_INET, host, &a) == 1 && a.s_addr != htonl(INADDR_ANY)
                         ? host
                         : "127.0.0.1";
    put(b->store, "", "endpoints", "default",
        json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:[{s:[{s:s}],s:[{s:s,s:i,s:s}]}]}", "apiVersion", "v1",
                  "kind", "Endpoints", "metadata", "name", "kubernetes", "labels",
                  "endpointslice.kubernetes.io/skip-mirror", "true", "subsets", "addresses", "ip",
                  ip, "ports", "name", "https", "port", port, "protocol", "TCP"));
    put(b->store, "discovery.k8s.io", "endpointslices", "default",
        json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:s,s:[{s:[s],s:{s:b}}],s:[{s:s,s:i,s:s}]}",
                  "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "name",
                  "kubernetes", "labels", "kubernetes.io/service-name", "kubernetes", "addressType",
                  "IPv4", "endpoints", "addresses", ip, "conditions", "ready", 1, "ports", "name",
                  "https", "port", port, "protocol", "TCP"));
}

void jp_bootstrap_stop(struct jp_bootstrap *b)
{
    if (b == NULL) return;
    jp_store_unsubscribe(b->store, b->sub);
    free(b->ca);
    free(b);
}
