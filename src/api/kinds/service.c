/* Services: defaults, cluster IP allocation from 10.96.0.0/12 (kube-apiserver's default range),
 * validation and the Table row. */
#include "api/kinds.h"
#include "api/meta.h"
#include "api/selector.h"
#include "api/write.h"
#include "base/buf.h"
#include "base/rand.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void defaults(json_t *obj)
{
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    if (!json_is_string(json_object_get(spec, "type")))
        json_object_set_new(spec, "type", json_string("ClusterIP"));
    if (!json_is_string(json_object_get(spec, "sessionAffinity")))
        json_object_set_new(spec, "sessionAffinity", json_string("None"));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (!json_is_string(json_object_get(p, "protocol")))
            json_object_set_new(p, "protocol", json_string("TCP"));
        if (!json_object_get(p, "targetPort") && json_is_integer(json_object_get(p, "port")))
            json_object_set_new(p, "targetPort", json_copy(json_object_get(p, "port")));
    }
    const char *type = jp_json_str(spec, "type", NULL);
    if (strcmp(type, "ExternalName") != 0) {
        if (!json_is_string(json_object_get(spec, "internalTrafficPolicy")))
            json_object_set_new(spec, "internalTrafficPolicy", json_string("Cluster"));
        if (!json_is_array(json_object_get(spec, "ipFamilies")))
            json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
        if (!json_is_string(json_object_get(spec, "ipFamilyPolicy")))
            json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
    }
    json_t *status = jp_json_ensure(obj, "status", NULL);
    if (!json_object_get(status, "loadBalancer"))
        json_object_set_new(status, "loadBalancer", json_object());
}

struct ip_search {
    const char *ip;
    bool used;
};

static bool ip_used(const struct jp_obj *o, void *arg)
{
    struct ip_search *s = arg;
    json_t *obj = jp_api_parse(o);
    const char *ip = jp_json_str(obj, "spec", "clusterIP", NULL);
    if (ip && strcmp(ip, s->ip) == 0) s->used = true;
    json_decref(obj);
    return !s->used;
}

struct port_search {
    json_int_t port;
    bool used;
};

static bool node_port_used(const struct jp_obj *o, void *arg)
{
    struct port_search *s = arg;
    json_t *obj = jp_api_parse(o);
    size_t i;
    json_t *p;
    json_array_foreach(jp_json_path(obj, "spec", "ports", NULL), i, p) s->used |=
        jp_json_int(p, 0, "nodePort", NULL) == s->port;
    json_decref(obj);
    return !s->used;
}

/* NodePort and LoadBalancer services get a free port in 30000-32767 for every port without one
 * (kube-apiserver's default node port range). */
static void allocate_node_ports(struct jp_write_ctx *ctx, json_t *spec)
{
    const char *type = jp_json_str(spec, "type", NULL);
    if (type == NULL || (strcmp(type, "NodePort") && strcmp(type, "LoadBalancer"))) return;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (jp_json_int(p, 0, "nodePort", NULL) != 0) continue;
        for (int attempt = 0; attempt < 256; attempt++) {
            uint32_t r;
            jp_rand_bytes(&r, sizeof(r));
            struct port_search s = {30000 + (json_int_t)(r % 2768), false};
            jp_store_scan(ctx->store, (uint16_t)jp_kind_index(ctx->kind), NULL, NULL, NULL,
                          node_port_used, &s);
            size_t j;
            json_t *q;
            json_array_foreach(json_object_get(spec, "ports"), j, q) s.used |=
                jp_json_int(q, 0, "nodePort", NULL) == s.port;
            if (!s.used) {
                json_object_set_new(p, "nodePort", json_integer(s.port));
                break;
            }
        }
    }
}

static void prepare_create(struct jp_write_ctx *ctx, json_t *obj)
{
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    const char *type = jp_json_str(spec, "type", NULL);
    if (type && strcmp(type, "ExternalName") == 0) return;
    if (!json_is_string(json_object_get(spec, "clusterIP"))) {
        /* random free address in 10.96.0.0/12, skipping .0 and 10.96.0.1 (the kubernetes svc) */
        for (int attempt = 0; attempt < 64; attempt++) {
            uint32_t r;
            jp_rand_bytes(&r, sizeof(r));
            uint32_t host = 2 + r % ((1u << 20) - 3);
            struct in_addr a = {htonl((10u << 24) | (96u << 16) | host)};
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &a, ip, sizeof(ip));
            struct ip_search s = {ip, false};
            jp_store_scan(ctx->store, (uint16_t)jp_kind_index(ctx->kind), NULL, NULL, NULL, ip_used,
                          &s);
            if (!s.used) {
                json_object_set_new(spec, "clusterIP", json_string(ip));
                break;
            }
        }
    }
    const char *ip = jp_json_str(spec, "clusterIP", NULL);
    if (ip && !json_is_array(json_object_get(spec, "clusterIPs")))
        json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
    allocate_node_ports(ctx, spec);
}

/* An update that leaves out what the server assigned keeps it (kube-apiserver does the same). */
static void prepare_update(struct jp_write_ctx *ctx, json_t *obj, const json_t *old)
{
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    const json_t *ospec = json_object_get(old, "spec");
    static const char *const keep[] = {"clusterIP", "clusterIPs"};
    for (int i = 0; i < 2; i++)
        if (!json_object_get(spec, keep[i]) && json_object_get(ospec, keep[i]))
            json_object_set_new(spec, keep[i], json_deep_copy(json_object_get(ospec, keep[i])));
    size_t i, j;
    json_t *p, *op;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (json_object_get(p, "nodePort")) continue;
        json_array_foreach(json_object_get(ospec, "ports"), j, op)
        {
            if (json_equal(json_object_get(p, "port"), json_object_get(op, "port")) &&
                json_object_get(op, "nodePort"))
                json_object_set(p, "nodePort", json_object_get(op, "nodePort"));
        }
    }
    allocate_node_ports(ctx, spec);
}

static void validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_DNS1035, true, "metadata",
                            fe);
    const json_t *spec = json_object_get(obj, "spec");
    const char *type = jp_json_str(spec, "type", NULL);
    static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"};
    bool known = false;
    for (int i = 0; i < 4; i++)
        known |= type && strcmp(type, types[i]) == 0;
    if (!known) {
        char *q = jp_go_quote(type ? type : "");
        jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, "spec.type", q,
                     "supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", "
                     "\"NodePort\"");
        free(q);
    }
    json_t *ports = json_object_get(spec, "ports");
    const char *cip = jp_json_str(spec, "clusterIP", NULL);
    bool headless = cip && strcmp(cip, "None") == 0;
    if (json_array_size(ports) == 0 && !headless && !(type && strcmp(type, "ExternalName") == 0))
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "spec.ports", NULL, NULL);
    json_t *names = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p)
    {
        char path[64];
        json_int_t port = jp_json_int(p, 0, "port", NULL);
        jp_strfmt(path, sizeof(path), "spec.ports[%zu].port", i);
        if (port < 1 || port > 65535) {
            char v[32];
            snprintf(v, sizeof(v), "%lld", (long long)port);
            jp_ferrs_add(fe, JP_FERR_INVALID, path, v, "must be between 1 and 65535, inclusive");
        }
        const char *n = jp_json_str(p, "name", NULL);
        jp_strfmt(path, sizeof(path), "spec.ports[%zu].name", i);
        if (json_array_size(ports) > 1 && (n == NULL || *n == '\0'))
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
        if (n && *n) {
            char *q = jp_go_quote(n);
            if (json_object_get(names, n)) jp_ferrs_add(fe, JP_FERR_DUPLICATE, path, q, NULL);
            json_object_set_new(names, n, json_true());
            free(q);
        }
    }
    json_decref(names);
    if (old) {
        const char *oip = jp_json_str(old, "spec", "clusterIP", NULL);
        if (oip && cip && strcmp(oip, cip) != 0) {
            char *q = jp_go_quote(cip);
            jp_ferrs_add(fe, JP_FERR_INVALID, "spec.clusterIPs[0]", q, "may not change once set");
            free(q);
        }
    }
}

static void row(const json_t *obj, struct jp_cells *c)
{
    const json_t *spec = json_object_get(obj, "spec");
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
    const char *type = jp_json_str(spec, "type", NULL);
    jp_cells_str(c, "%s", type ? type : "");
    const char *cip = jp_json_str(json_object_get(spec, "clusterIPs"), NULL);
    json_t *ips = json_object_get(spec, "clusterIPs");
    cip = json_array_size(ips) ? json_string_value(json_array_get(ips, 0))
                               : jp_json_str(spec, "clusterIP", NULL);
    jp_cells_str(c, "%s", cip && *cip ? cip : "<none>");
    struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "externalIPs"), i, v)
        jp_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v) ? json_string_value(v) : "");
    if (type && strcmp(type, "LoadBalancer") == 0) {
        size_t n = b.len;
        json_array_foreach(jp_json_path(obj, "status", "loadBalancer", "ingress", NULL), i, v)
        {
            const char *ip = jp_json_str(v, "ip", NULL), *host = jp_json_str(v, "hostname", NULL);
            jp_buf_printf(&b, "%s%s", b.len ? "," : "", ip ? ip : host ? host : "");
        }
        if (b.len == n && n == 0) jp_buf_printf(&b, "<pending>");
    } else if (type && strcmp(type, "ExternalName") == 0) {
        const char *en = jp_json_str(spec, "externalName", NULL);
        jp_buf_printf(&b, "%s", en ? en : "");
    }
    jp_cells_str(c, "%s", b.len ? b.data : "<none>");
    jp_buf_reset(&b);
    json_array_foreach(json_object_get(spec, "ports"), i, v)
    {
        const char *proto = jp_json_str(v, "protocol", NULL);
        json_int_t node_port = jp_json_int(v, 0, "nodePort", NULL);
        if (node_port)
            jp_buf_printf(&b, "%s%lld:%lld/%s", i ? "," : "",
                          (long long)jp_json_int(v, 0, "port", NULL), (long long)node_port,
                          proto ? proto : "TCP");
        else
            jp_buf_printf(&b, "%s%lld/%s", i ? "," : "", (long long)jp_json_int(v, 0, "port", NULL),
                          proto ? proto : "TCP");
    }
    jp_cells_str(c, "%s", b.len ? b.data : "<none>");
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
    jp_buf_reset(&b);
    struct jp_selector *sel = NULL;
    struct jp_status *err = NULL;
    json_t *sel_labels = json_object_get(spec, "selector");
    json_t *wrapped = json_pack("{s:O}", "matchLabels", sel_labels ? sel_labels : json_null());
    if (!sel_labels) json_object_set_new(wrapped, "matchLabels", json_object());
    if (jp_label_selector_from_json(wrapped, &sel, &err) == 0) jp_label_selector_string(sel, &b);
    json_decref(wrapped);
    jp_selector_free(sel);
    jp_status_free(err);
    jp_cells_str(c, "%s", b.len ? b.data : "<none>");
    jp_buf_free(&b);
}

static const struct jp_column columns[] = {
    JP_COLUMN_NAME,
    {"Type", "string", "", "The type of the service.", 0},
    {"Cluster-IP", "string", "", "The cluster IP of the service.", 0},
    {"External-IP", "string", "", "The external IP of the service.", 0},
    {"Port(s)", "string", "", "The ports of the service.", 0},
    JP_COLUMN_AGE,
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching this selector.", 1},
    JP_COLUMN_END,
};

const struct jp_kind_ops jp_service_ops = {
    .defaults = defaults,
    .prepare_create = prepare_create,
    .prepare_update = prepare_update,
    .validate = validate,
    .row = row,
    .columns = columns,
};
