/* EndpointSlices (discovery.k8s.io/v1), the addresses behind a Service that `kubectl describe
 * service` lists: defaults, validation and generation as kube-apiserver applies them, and the row
 * `kubectl get endpointslices` prints. */
#include "api/kinds.h"
#include "api/meta.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* kube-apiserver's limits (pkg/apis/discovery/validation) */
#define MAX_ENDPOINTS 1000
#define MAX_ADDRESSES 100
#define MAX_PORTS     20000
/* the Table shows this many ports or addresses, then " + N more..." */
#define ROW_MAX 3

/* Ports without a name or protocol get "" and "TCP", so two unnamed ports are duplicates. */
static void defaults(json_t *obj)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(obj, "ports"), i, p)
    {
        if (!json_is_object(p)) continue;
        if (!json_is_string(json_object_get(p, "name")))
            json_object_set_new(p, "name", json_string(""));
        if (!json_is_string(json_object_get(p, "protocol")))
            json_object_set_new(p, "protocol", json_string("TCP"));
    }
}

/* deprecatedTopology is writable only through v1beta1, which we don't serve; v1 writes of it are
 * dropped silently, as the v1 API documents. */
static void drop_topology(json_t *obj)
{
    size_t i;
    json_t *ep;
    json_array_foreach(json_object_get(obj, "endpoints"), i, ep)
    {
        if (json_is_object(ep)) json_object_del(ep, "deprecatedTopology");
    }
}

static void prepare_create(struct jp_write_ctx *ctx, json_t *obj)
{
    (void)ctx;
    drop_topology(obj);
    json_object_set_new(jp_json_ensure(obj, "metadata", NULL), "generation", json_integer(1));
}

static bool same_outside_metadata(json_t *obj, const json_t *old)
{
    size_t n = json_object_size(obj) - (json_object_get(obj, "metadata") != NULL);
    size_t m = json_object_size(old) - (json_object_get(old, "metadata") != NULL);
    if (n != m) return false;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcmp(k, "metadata") != 0 && !json_equal(v, json_object_get(old, k))) return false;
    }
    return true;
}

/* Without a spec, the generation counts changes to everything outside metadata, and to labels
 * (the service-name label moves a slice between Services); no labels and {} are the same. */
static void prepare_update(struct jp_write_ctx *ctx, json_t *obj, const json_t *old)
{
    (void)ctx;
    drop_topology(obj);
    const json_t *la = jp_json_path(obj, "metadata", "labels", NULL);
    const json_t *lb = jp_json_path(old, "metadata", "labels", NULL);
    bool labels_same = json_object_size(la) == 0 ? json_object_size(lb) == 0 : json_equal(la, lb);
    int64_t gen = jp_json_int(old, 0, "metadata", "generation", NULL);
    if (!same_outside_metadata(obj, old) || !labels_same) gen++;
    json_object_set_new(jp_json_ensure(obj, "metadata", NULL), "generation", json_integer(gen));
}

static void add_invalid(struct jp_ferrs *fe, const char *field, const char *value, const char *msg)
{
    char *q = jp_go_quote(value);
    jp_ferrs_add(fe, JP_FERR_INVALID, field, q, "%s", msg);
    free(q);
}

static void add_too_many(struct jp_ferrs *fe, const char *field, size_t n, size_t max)
{
    char v[32];
    jp_strfmt(v, sizeof(v), "%zu", n);
    jp_ferrs_add(fe, JP_FERR_TOO_MANY, field, v, "must have at most %zu items", max);
}

/* Addresses that make no sense as a destination: unspecified and link-local. kube-apiserver also
 * refuses loopback, but pods without a network namespace of their own share the node's 127.0.0.1
 * and the endpoint-slice controller publishes it, so loopback is allowed here. */
static void check_endpoint_ip(const unsigned char *a, bool v4, const char *value, const char *field,
                              struct jp_ferrs *fe)
{
    static const unsigned char zero[16];
    if (v4 ? memcmp(a, zero, 4) == 0 : memcmp(a, zero, 16) == 0) {
        char *msg = jp_xasprintf("may not be unspecified (%s)", value);
        add_invalid(fe, field, value, msg);
        free(msg);
    }
    if (v4 ? a[0] == 169 && a[1] == 254 : a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        add_invalid(fe, field, value,
                    "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    if (v4 ? a[0] == 224 && a[1] == 0 && a[2] == 0 : a[0] == 0xff && (a[1] & 0x0f) == 0x02)
        add_invalid(fe, field, value,
                    "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
}

/* A DNS subdomain of two or more labels, with an optional trailing dot. */
static void check_fqdn(const char *value, const char *field, struct jp_ferrs *fe)
{
    if (*value == '\0') {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, field, NULL, NULL);
        return;
    }
    size_t n = strlen(value);
    char *name = jp_xstrndup(value, value[n - 1] == '.' ? n - 1 : n);
    const char *msg = jp_check_dns1123_subdomain(name);
    if (msg) {
        add_invalid(fe, field, name, msg);
    } else if (strchr(name, '.') == NULL) {
        add_invalid(fe, field, name,
                    "should be a domain with at least two segments separated by dots");
    } else {
        /* the subdomain rule leaves only each label's length to check */
        for (char *label = name, *dot; label; label = dot ? dot + 1 : NULL) {
            dot = strchr(label, '.');
            if (dot) *dot = '\0';
            if ((msg = jp_check_dns1123_label(label)) != NULL) {
                add_invalid(fe, field, label, msg);
                break;
            }
        }
    }
    free(name);
}

static void check_address(const char *type, const char *value, const char *field,
                          struct jp_ferrs *fe)
{
    unsigned char a[16];
    if (strcmp(type, "IPv4") == 0) {
        if (inet_pton(AF_INET, value, a) != 1)
            add_invalid(fe, field, value, "must be a valid IPv4 address");
        else
            check_endpoint_ip(a, true, value, field, fe);
    } else if (strcmp(type, "IPv6") == 0) {
        if (inet_pton(AF_INET6, value, a) != 1)
            add_invalid(fe, field, value, "must be a valid IPv6 address");
        else
            check_endpoint_ip(a, false, value, field, fe);
    } else if (strcmp(type, "FQDN") == 0) {
        check_fqdn(value, field, fe);
    }
}

static void validate_endpoint(const json_t *ep, size_t i, const char *type, struct jp_ferrs *fe)
{
    char path[96];
    const json_t *addrs = json_object_get(ep, "addresses");
    jp_strfmt(path, sizeof(path), "endpoints[%zu].addresses", i);
    if (json_array_size(addrs) == 0)
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, "must contain at least 1 address");
    else if (json_array_size(addrs) > MAX_ADDRESSES)
        add_too_many(fe, path, json_array_size(addrs), MAX_ADDRESSES);
    size_t j;
    json_t *addr;
    json_array_foreach(addrs, j, addr)
    {
        jp_strfmt(path, sizeof(path), "endpoints[%zu].addresses[%zu]", i, j);
        check_address(type, json_string_value(addr) ? json_string_value(addr) : "", path, fe);
    }
    const char *node = jp_json_str(ep, "nodeName", NULL);
    const char *msg = node ? jp_check_dns1123_subdomain(node) : NULL;
    jp_strfmt(path, sizeof(path), "endpoints[%zu].nodeName", i);
    if (msg) add_invalid(fe, path, node, msg);
    const char *host = jp_json_str(ep, "hostname", NULL);
    msg = host ? jp_check_dns1123_label(host) : NULL;
    jp_strfmt(path, sizeof(path), "endpoints[%zu].hostname", i);
    if (msg) add_invalid(fe, path, host, msg);
}

static void validate_ports(const json_t *ports, struct jp_ferrs *fe)
{
    if (json_array_size(ports) > MAX_PORTS) {
        add_too_many(fe, "ports", json_array_size(ports), MAX_PORTS);
        return;
    }
    json_t *names = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p)
    {
        char path[64];
        const char *name = jp_json_str(p, "name", NULL);
        name = name ? name : "";
        jp_strfmt(path, sizeof(path), "ports[%zu].name", i);
        const char *msg = *name ? jp_check_dns1123_label(name) : NULL;
        if (msg) add_invalid(fe, path, name, msg);
        if (json_object_get(names, name)) {
            char *q = jp_go_quote(name);
            jp_ferrs_add(fe, JP_FERR_DUPLICATE, path, q, NULL);
            free(q);
        }
        json_object_set_new(names, name, json_true());
        const char *proto = jp_json_str(p, "protocol", NULL);
        jp_strfmt(path, sizeof(path), "ports[%zu].protocol", i);
        if (proto == NULL) {
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
        } else if (strcmp(proto, "TCP") && strcmp(proto, "UDP") && strcmp(proto, "SCTP")) {
            char *q = jp_go_quote(proto);
            jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, path, q,
                         "supported values: \"SCTP\", \"TCP\", \"UDP\"");
            free(q);
        }
        const char *app = jp_json_str(p, "appProtocol", NULL);
        jp_strfmt(path, sizeof(path), "ports[%zu].appProtocol", i);
        if (app) jp_validate_label_key(app, path, fe); /* a qualified name, as label keys are */
    }
    json_decref(names);
}

static void validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_SUBDOMAIN, true, "metadata",
                            fe);
    const char *type = jp_json_str(obj, "addressType", NULL);
    if (type == NULL || *type == '\0') {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "addressType", NULL, NULL);
    } else if (strcmp(type, "IPv4") && strcmp(type, "IPv6") && strcmp(type, "FQDN")) {
        char *q = jp_go_quote(type);
        jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, "addressType", q,
                     "supported values: \"FQDN\", \"IPv4\", \"IPv6\"");
        free(q);
    }
    const json_t *eps = json_object_get(obj, "endpoints");
    if (json_array_size(eps) > MAX_ENDPOINTS) {
        add_too_many(fe, "endpoints", json_array_size(eps), MAX_ENDPOINTS);
    } else {
        size_t i;
        json_t *ep;
        json_array_foreach(eps, i, ep) validate_endpoint(ep, i, type ? type : "", fe);
    }
    validate_ports(json_object_get(obj, "ports"), fe);
    if (old) {
        const char *was = jp_json_str(old, "addressType", NULL);
        if (strcmp(was ? was : "", type ? type : "") != 0)
            add_invalid(fe, "addressType", type ? type : "", "field is immutable");
    }
}

/* Up to ROW_MAX items joined by ",", then " + N more...", or "<unset>" for none. */
static void list_cell(struct jp_cells *c, struct jp_buf *b, size_t shown, size_t total)
{
    if (total > shown)
        jp_cells_str(c, "%s + %zu more...", b->data, total - shown);
    else
        jp_cells_str(c, "%s", b->len ? b->data : "<unset>");
}

/* A port shows its number, else its name, else "*" (all ports). */
static void ports_cell(const json_t *obj, struct jp_cells *c)
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    size_t i, shown = 0;
    json_t *p;
    const json_t *ports = json_object_get(obj, "ports");
    json_array_foreach(ports, i, p)
    {
        if (shown == ROW_MAX) break;
        const char *sep = shown++ ? "," : "";
        const char *name = jp_json_str(p, "name", NULL);
        if (json_is_integer(json_object_get(p, "port")))
            jp_buf_printf(&b, "%s%lld", sep, (long long)jp_json_int(p, 0, "port", NULL));
        else
            jp_buf_printf(&b, "%s%s", sep, name ? name : "*");
    }
    list_cell(c, &b, shown, json_array_size(ports));
    jp_buf_free(&b);
}

static void endpoints_cell(const json_t *obj, struct jp_cells *c)
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    size_t i, j, shown = 0, total = 0;
    json_t *ep, *addr;
    json_array_foreach(json_object_get(obj, "endpoints"), i, ep)
    {
        json_array_foreach(json_object_get(ep, "addresses"), j, addr)
        {
            total++;
            if (shown == ROW_MAX) continue;
            const char *s = json_string_value(addr);
            jp_buf_printf(&b, "%s%s", shown++ ? "," : "", s ? s : "");
        }
    }
    list_cell(c, &b, shown, total);
    jp_buf_free(&b);
}

static void row(const json_t *obj, struct jp_cells *c)
{
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
    const char *type = jp_json_str(obj, "addressType", NULL);
    jp_cells_str(c, "%s", type ? type : "");
    ports_cell(obj, c);
    endpoints_cell(obj, c);
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
}

static const struct jp_column columns[] = {
    JP_COLUMN_NAME,
    {"AddressType", "string", "", "The type of address the endpoints carry.", 0},
    {"Ports", "string", "", "The ports the endpoints serve.", 0},
    {"Endpoints", "string", "", "Addresses of the endpoints.", 0},
    JP_COLUMN_AGE,
    JP_COLUMN_END,
};

const struct jp_kind_ops jp_endpointslice_ops = {
    .defaults = defaults,
    .prepare_create = prepare_create,
    .prepare_update = prepare_update,
    .validate = validate,
    .row = row,
    .columns = columns,
};
