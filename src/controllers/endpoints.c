/* The endpoints controllers: for every Service with a selector, the pods it selects become an
 * Endpoints object named after the Service (what kubectl 1.27 reads) and EndpointSlices labelled
 * kubernetes.io/service-name (what kubectl 1.28+ and kube-proxy-like readers use). Each sync
 * recomputes both from the store and writes only what differs, so its own write events end in
 * a no-op sync. A pod counts once it has an IP and is not finished; a Ready pod is an address,
 * one that is not is a notReadyAddress (ready=false in a slice); a pod being deleted leaves the
 * Endpoints and stays in slices as terminating. Service ports resolve their targetPort, by name
 * through the pod's container ports; a pod lacking a named port is left out of that port's set,
 * so pods group into subsets (and slices) by the ports they resolve to. */
#include "controllers/endpoints.h"
#include "controllers/endpoints-internal.h"
#include "api/kinds.h"
#include "api/selector.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "controllers/workqueue.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct jp_write_ctx endpoints__ctx(struct jp_epctl *e, uint16_t kind, const char *ns)
{
    return (struct jp_write_ctx){.store = e->store, .kind = &jp_kinds[kind], .ns = ns};
}

void endpoints__log_failure(const char *what, const char *ns, const char *name,
                            struct jp_status *st)
{
    jp_log(JP_WARN, COMPONENT, "%s %s/%s: %s", what, ns, name, st ? st->message : "failed");
    jp_status_free(st);
}

/* The container port named `name` (with the Service port's protocol), or -1. */
static json_int_t named_port(const json_t *pod, const char *name, const char *protocol)
{
    size_t i, j;
    json_t *c, *p;
    json_array_foreach(jp_json_path(pod, "spec", "containers", NULL), i, c)
    {
        json_array_foreach(json_object_get(c, "ports"), j, p)
        {
            const char *proto = jp_json_str(p, "protocol", NULL) ?: "TCP";
            if (!strcmp(jp_json_str(p, "name", NULL) ?: "", name) && !strcmp(proto, protocol))
                return jp_json_int(p, -1, "containerPort", NULL);
        }
    }
    return -1;
}

/* The Service's ports as this pod serves them. OUT: caller decrefs. */
static json_t *resolve_ports(const json_t *svc, const json_t *pod)
{
    json_t *out = json_array();
    size_t i;
    json_t *sp;
    json_array_foreach(jp_json_path(svc, "spec", "ports", NULL), i, sp)
    {
        const char *protocol = jp_json_str(sp, "protocol", NULL) ?: "TCP";
        const json_t *target = json_object_get(sp, "targetPort");
        json_int_t port = json_is_integer(target) ? json_integer_value(target)
                          : json_is_string(target)
                              ? named_port(pod, json_string_value(target), protocol)
                              : jp_json_int(sp, -1, "port", NULL);
        if (port <= 0) continue;
        json_t *p = json_pack("{s:I,s:s}", "port", (json_int_t)port, "protocol", protocol);
        const char *name = jp_json_str(sp, "name", NULL);
        if (name && *name) json_object_set_new(p, "name", json_string(name));
        const char *app = jp_json_str(sp, "appProtocol", NULL);
        if (app) json_object_set_new(p, "appProtocol", json_string(app));
        json_array_append_new(out, p);
    }
    return out;
}

static json_t *target_ref(const json_t *pod)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "kind", "Pod", "namespace",
                     jp_json_str(pod, "metadata", "namespace", NULL) ?: "", "name",
                     jp_json_str(pod, "metadata", "name", NULL) ?: "", "uid",
                     jp_json_str(pod, "metadata", "uid", NULL) ?: "");
}

static struct group *group_for(struct collect *c, json_t *ports /* taken */)
{
    char *key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *at = json_object_get(c->groups, key);
    struct group *g;
    if (at) {
        g = &c->v[json_integer_value(at)];
        json_decref(ports);
    } else {
        c->v = jp_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
        g = &c->v[c->n];
        *g = (struct group){ports, json_array(), json_array(), json_array()};
        json_object_set_new(c->groups, key, json_integer((json_int_t)c->n++));
    }
    free(key);
    return g;
}

static bool collect_pod(const struct jp_obj *o, void *arg)
{
    struct collect *c = arg;
    if (!jp_label_selector_matches(c->sel, jp_proj_of(o)) || jp_pod_finished(o)) return true;
    json_t *pod = jp_api_parse(o);
    const char *ip = jp_json_str(pod, "status", "podIP", NULL);
    if (ip == NULL || *ip == '\0') goto done;
    bool terminating = jp_proj_of(o)->deleted_ns != 0;
    bool ready = jp_json_condition_true(json_object_get(pod, "status"), "Ready");
    struct group *g = group_for(c, resolve_ports(c->svc, pod));
    const char *node = jp_json_str(pod, "spec", "nodeName", NULL);
    /* a pod's own DNS name under the Service: spec.hostname when spec.subdomain names it */
    const char *host = jp_json_str(pod, "spec", "hostname", NULL);
    const char *sub = jp_json_str(pod, "spec", "subdomain", NULL);
    const char *svc_name = jp_json_str(c->svc, "metadata", "name", NULL);
    bool named = host && *host && sub && !strcmp(sub, svc_name);

    if (!terminating || c->publish_not_ready) {
        json_t *addr = json_pack("{s:s,s:o}", "ip", ip, "targetRef", target_ref(pod));
        if (named) json_object_set_new(addr, "hostname", json_string(host));
        if (node && *node) json_object_set_new(addr, "nodeName", json_string(node));
        json_array_append_new(ready || c->publish_not_ready ? g->ready : g->not_ready, addr);
    }
    json_t *ep = json_pack("{s:[s],s:{s:b,s:b,s:b},s:o}", "addresses", ip, "conditions", "ready",
                           (ready || c->publish_not_ready) && !terminating, "serving", ready,
                           "terminating", terminating, "targetRef", target_ref(pod));
    if (named) json_object_set_new(ep, "hostname", json_string(host));
    if (node && *node) json_object_set_new(ep, "nodeName", json_string(node));
    json_array_append_new(g->slice_endpoints, ep);
done:
    json_decref(pod);
    return true;
}

/* An address's IP: "ip" in Endpoints, the first of "addresses" in a slice's endpoint. */
static const char *ip_of(const json_t *addr)
{
    const char *ip = jp_json_str(addr, "ip", NULL);
    return ip ? ip : json_string_value(json_array_get(json_object_get(addr, "addresses"), 0)) ?: "";
}

static int by_ip(const void *a, const void *b)
{
    json_t *const *x = a, *const *y = b;
    int d = strcmp(ip_of(*x), ip_of(*y));
    return d ? d
             : strcmp(jp_json_str(*x, "targetRef", "name", NULL) ?: "",
                      jp_json_str(*y, "targetRef", "name", NULL) ?: "");
}

/* Sorted, so the same pods always give the same object and a resync writes nothing. */
json_t *endpoints__sorted(const json_t *list)
{
    size_t n = json_array_size(list);
    json_t **v = jp_xcalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(list, i);
    qsort(v, n, sizeof(*v), by_ip);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

json_t *endpoints__labels_of(const json_t *svc)
{
    const json_t *l = jp_json_path(svc, "metadata", "labels", NULL);
    json_t *out = json_is_object(l) ? json_deep_copy(l) : json_object();
    const char *cip = jp_json_str(svc, "spec", "clusterIP", NULL);
    if (cip && !strcmp(cip, "None"))
        json_object_set_new(out, "service.kubernetes.io/headless", json_string(""));
    return out;
}

static void write_endpoints(struct jp_epctl *e, const char *ns, const char *name, const json_t *svc,
                            struct collect *c)
{
    json_t *subsets = json_array();
    for (size_t i = 0; i < c->n; i++) {
        struct group *g = &c->v[i];
        if (json_array_size(g->ready) + json_array_size(g->not_ready) == 0) continue;
        json_t *s = json_object();
        if (json_array_size(g->ready))
            json_object_set_new(s, "addresses", endpoints__sorted(g->ready));
        if (json_array_size(g->not_ready))
            json_object_set_new(s, "notReadyAddresses", endpoints__sorted(g->not_ready));
        if (json_array_size(g->ports)) json_object_set(s, "ports", g->ports);
        json_array_append_new(subsets, s);
    }
    json_t *labels = endpoints__labels_of(svc);
    const struct jp_obj *cur = jp_store_get(e->store, e->kind_ep, ns, name);
    json_t *doc = cur ? jp_api_parse(cur) : NULL;
    if (doc) {
        const json_t *old = json_object_get(doc, "subsets");
        const json_t *old_labels = jp_json_path(doc, "metadata", "labels", NULL);
        bool same_subsets = old ? json_equal(old, subsets) : json_array_size(subsets) == 0;
        bool same_labels =
            old_labels ? json_equal(old_labels, labels) : json_object_size(labels) == 0;
        if (same_subsets && same_labels) goto out;
    } else {
        doc = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind", "Endpoints",
                        "metadata", "name", name, "namespace", ns);
    }
    if (json_object_size(labels))
        json_object_set(json_object_get(doc, "metadata"), "labels", labels);
    else
        json_object_del(json_object_get(doc, "metadata"), "labels");
    if (json_array_size(subsets))
        json_object_set(doc, "subsets", subsets);
    else
        json_object_del(doc, "subsets");
    struct jp_write_ctx w = endpoints__ctx(e, e->kind_ep, ns);
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    int rc = cur ? jp_api_replace(&w, cur, json_incref(doc), &r, &st)
                 : jp_api_create(&w, json_incref(doc), &r, &st);
    if (rc < 0) endpoints__log_failure("writing endpoints", ns, name, st);
    jp_write_result_free(&r);
    jp_write_ctx_free(&w);
out:
    json_decref(doc);
    json_decref(labels);
    json_decref(subsets);
}

static void sync_service(void *arg, const char *ns, const char *name)
{
    struct jp_epctl *e = arg;
    const struct jp_obj *o = jp_store_get(e->store, e->kind_svc, ns, name);
    json_t *svc = o && jp_proj_of(o)->deleted_ns == 0 ? jp_api_parse(o) : NULL;
    const json_t *selector = jp_json_path(svc, "spec", "selector", NULL);
    const char *type = jp_json_str(svc, "spec", "type", NULL);
    if (svc == NULL || json_object_size(selector) == 0 || (type && !strcmp(type, "ExternalName"))) {
        /* no selector: the Endpoints are the user's to write; a gone Service takes its own */
        if (svc == NULL && jp_store_get(e->store, e->kind_ep, ns, name)) {
            struct jp_write_ctx w = endpoints__ctx(e, e->kind_ep, ns);
            struct jp_write_result r = {0};
            struct jp_status *st = NULL;
            if (jp_api_delete(&w, name, NULL, &r, &st) < 0)
                endpoints__log_failure("deleting endpoints", ns, name, st);
            jp_write_result_free(&r);
            jp_write_ctx_free(&w);
        }
        json_decref(svc);
        return;
    }
    struct collect c = {.e = e, .svc = svc, .groups = json_object()};
    json_t *wrapped = json_pack("{s:O}", "matchLabels", selector);
    struct jp_status *st = NULL;
    if (jp_label_selector_from_json(wrapped, &c.sel, &st) < 0) {
        endpoints__log_failure("reading the selector of service", ns, name, st);
    } else {
        c.publish_not_ready =
            json_is_true(jp_json_path(svc, "spec", "publishNotReadyAddresses", NULL));
        jp_store_scan(e->store, e->kind_pods, ns, NULL, NULL, collect_pod, &c);
        write_endpoints(e, ns, name, svc, &c);
        if (e->kind_slices >= 0) endpoints__write_slices(e, ns, name, svc, &c);
    }
    for (size_t i = 0; i < c.n; i++) {
        json_decref(c.v[i].ports);
        json_decref(c.v[i].ready);
        json_decref(c.v[i].not_ready);
        json_decref(c.v[i].slice_endpoints);
    }
    free(c.v);
    json_decref(c.groups);
    json_decref(wrapped);
    jp_selector_free(c.sel);
    json_decref(svc);
}

struct pod_change {
    struct jp_epctl *e;
    const struct jp_obj *pod, *old;
};

/* A pod event concerns every Service of its namespace that selects it now or selected it. */
static bool offer_pod(const struct jp_obj *so, void *arg)
{
    struct pod_change *pc = arg;
    json_t *svc = jp_api_parse(so);
    const json_t *selector = jp_json_path(svc, "spec", "selector", NULL);
    if (json_object_size(selector)) {
        const struct jp_obj *both[] = {pc->pod, pc->old};
        for (int i = 0; i < 2; i++) {
            if (both[i] == NULL) continue;
            bool all = true;
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)selector, k, v)
            {
                const char *have = jp_proj_label(jp_proj_of(both[i]), k);
                all &= have && !strcmp(have, json_string_value(v) ?: "");
            }
            if (all) {
                jp_workqueue_add(pc->e->queue, so->ns, so->name);
                break;
            }
        }
    }
    json_decref(svc);
    return true;
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_epctl *e = arg;
    const struct jp_obj *o = ev->obj;
    if (o->kind == e->kind_svc || o->kind == e->kind_ep) {
        jp_workqueue_add(e->queue, o->ns, o->name); /* a deleted Endpoints is written again */
    } else if ((int)o->kind == e->kind_slices) {
        const char *svc = jp_proj_label(jp_proj_of(o), LABEL_SERVICE);
        if (svc) jp_workqueue_add(e->queue, o->ns, svc);
    } else if (o->kind == e->kind_pods) {
        struct pod_change pc = {e, o, ev->old};
        jp_store_scan(e->store, e->kind_svc, o->ns, NULL, NULL, offer_pod, &pc);
    }
}

static bool queue_service(const struct jp_obj *o, void *arg)
{
    struct jp_epctl *e = arg;
    jp_workqueue_add(e->queue, o->ns, o->name);
    return true;
}

struct jp_epctl *jp_epctl_start(uv_loop_t *loop, struct jp_store *store)
{
    struct jp_epctl *e = jp_xcalloc(1, sizeof(*e));
    e->store = store;
    e->kind_svc = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "services"));
    e->kind_ep = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "endpoints"));
    e->kind_pods = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "pods"));
    const struct jp_kind *slices = jp_kind_by_plural("discovery.k8s.io", "v1", "endpointslices");
    e->kind_slices = slices ? jp_kind_index(slices) : -1;
    e->queue = jp_workqueue_new(loop, sync_service, e);
    jp_store_scan(store, e->kind_svc, NULL, NULL, NULL, queue_service, e);
    e->sub = jp_store_subscribe(store, on_event, e);
    return e;
}

void jp_epctl_stop(struct jp_epctl *e)
{
    if (e == NULL) return;
    jp_store_unsubscribe(e->store, e->sub);
    jp_workqueue_close(e->queue);
    free(e);
}
