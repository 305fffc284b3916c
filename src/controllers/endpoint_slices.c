/* EndpointSlices of a Service: its pods' endpoints grouped by resolved ports, at most 100 per
 * slice as upstream's default, named <service>-<random>, owned by the Service (the garbage
 * collector removes them with it). A Service that selects no pod keeps one empty slice, as
 * upstream's placeholder. Existing slices are updated in name order, surplus ones deleted. */
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "controllers/endpoints-internal.h"

#include <stdlib.h>
#include <string.h>

#define ENDPOINTS_PER_SLICE 100

struct existing {
    const char *uid;
    const struct jp_obj **v;
    size_t n;
};

static bool find_slice(const struct jp_obj *o, void *arg)
{
    struct existing *x = arg;
    const struct jp_proj *p = jp_proj_of(o);
    const struct jp_owner *ctl = jp_proj_controller(p);
    const char *mgr = jp_proj_label(p, LABEL_MANAGED_BY);
    if (ctl && !strcmp(ctl->uid, x->uid) && mgr && !strcmp(mgr, SLICE_MANAGER)) {
        x->v = jp_xrealloc(x->v, (x->n + 1) * sizeof(*x->v));
        x->v[x->n++] = o;
    }
    return true;
}

/* Slice ports always carry a name, "" when the Service port has none. */
static json_t *slice_ports(const json_t *ports)
{
    json_t *out = json_deep_copy(ports);
    size_t i;
    json_t *p;
    json_array_foreach(out, i, p) if (!json_object_get(p, "name"))
        json_object_set_new(p, "name", json_string(""));
    return out;
}

/* Stored lists may come back without a key for an empty list. */
static bool same_list(const json_t *a, const json_t *b)
{
    if (json_array_size(a) == 0 && json_array_size(b) == 0) return true;
    return a && b && json_equal(a, b);
}

static void write_one(struct jp_epctl *e, const char *ns, const json_t *svc,
                      const struct jp_obj *cur, json_t *ports, json_t *endpoints,
                      const json_t *labels)
{
    json_t *doc;
    if (cur) {
        doc = jp_api_parse(cur);
        if (same_list(json_object_get(doc, "ports"), ports) &&
            same_list(json_object_get(doc, "endpoints"), endpoints) &&
            json_equal(jp_json_path(doc, "metadata", "labels", NULL), labels)) {
            json_decref(doc);
            return;
        }
    } else {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%.57s-",
                 jp_json_str(svc, "metadata", "name", NULL) ?: "");
        doc = json_pack("{s:s,s:s,s:{s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:b,s:b}]},s:s}", "apiVersion",
                        "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "generateName",
                        prefix, "namespace", ns, "ownerReferences", "apiVersion", "v1", "kind",
                        "Service", "name", jp_json_str(svc, "metadata", "name", NULL) ?: "", "uid",
                        jp_json_str(svc, "metadata", "uid", NULL) ?: "", "controller", 1,
                        "blockOwnerDeletion", 1, "addressType", "IPv4");
    }
    json_object_set(json_object_get(doc, "metadata"), "labels", (json_t *)labels);
    json_object_set(doc, "ports", ports);
    json_object_set(doc, "endpoints", endpoints);
    struct jp_write_ctx w = endpoints__ctx(e, (uint16_t)e->kind_slices, ns);
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    int rc = cur ? jp_api_replace(&w, cur, doc, &r, &st) : jp_api_create(&w, doc, &r, &st);
    if (rc < 0)
        endpoints__log_failure("writing an endpoint slice of service", ns,
                               jp_json_str(svc, "metadata", "name", NULL), st);
    jp_write_result_free(&r);
    jp_write_ctx_free(&w);
}

void endpoints__write_slices(struct jp_epctl *e, const char *ns, const char *name,
                             const json_t *svc, const struct collect *c)
{
    struct existing x = {.uid = jp_json_str(svc, "metadata", "uid", NULL) ?: ""};
    jp_store_scan(e->store, (uint16_t)e->kind_slices, ns, NULL, NULL, find_slice, &x);
    json_t *labels = endpoints__labels_of(svc);
    json_object_set_new(labels, LABEL_SERVICE, json_string(name));
    json_object_set_new(labels, LABEL_MANAGED_BY, json_string(SLICE_MANAGER));

    size_t used = 0;
    for (size_t i = 0; i < c->n; i++) {
        json_t *all = endpoints__sorted(c->v[i].slice_endpoints);
        json_t *ports = slice_ports(c->v[i].ports);
        for (size_t at = 0; at < json_array_size(all); at += ENDPOINTS_PER_SLICE) {
            json_t *chunk = json_array();
            for (size_t k = at; k < at + ENDPOINTS_PER_SLICE && k < json_array_size(all); k++)
                json_array_append(chunk, json_array_get(all, k));
            write_one(e, ns, svc, used < x.n ? x.v[used] : NULL, ports, chunk, labels);
            used++;
            json_decref(chunk);
        }
        json_decref(ports);
        json_decref(all);
    }
    if (used == 0) { /* the placeholder */
        json_t *none = json_array();
        write_one(e, ns, svc, x.n ? x.v[0] : NULL, none, none, labels);
        json_decref(none);
        used = 1;
    }
    for (size_t i = used; i < x.n; i++) {
        struct jp_write_ctx w = endpoints__ctx(e, (uint16_t)e->kind_slices, ns);
        struct jp_write_result r = {0};
        struct jp_status *st = NULL;
        if (jp_api_delete(&w, x.v[i]->name, NULL, &r, &st) < 0)
            endpoints__log_failure("deleting endpoint slice", ns, x.v[i]->name, st);
        jp_write_result_free(&r);
        jp_write_ctx_free(&w);
    }
    free(x.v);
    json_decref(labels);
}
