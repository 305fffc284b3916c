/* REST verbs on resources: get, list (JSON or Table, selectors, paging), create, update, patch,
 * delete, deletecollection and the status, scale and log subresources. Writes go through the
 * api layer's write path and are answered once durable. */
#include "api/selector.h"
#include "api/write.h"
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/parse.h"
#include "base/timefmt.h"
#include "codec/protobuf.h"
#include "codec/yaml.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 0 /* no limit unless the client asks */

static bool is(const struct apireq *q, const char *m)
{
    return strcmp(q->method, m) == 0;
}

static void method_not_allowed(struct apireq *q)
{
    reply_error(q, JP_METHOD_NOT_ALLOWED,
                "the server does not allow this method on the requested resource");
}

static void not_found_path(struct apireq *q)
{
    reply_status(q,
                 jp_status_new(JP_NOT_FOUND, "the server could not find the requested resource"));
}

static void on_durable(int status, void *arg)
{
    struct apireq *q = arg;
    if (status < 0) reply_error(q, JP_INTERNAL, "storage failure: the change was not committed");
    q->suspended = false;
    struct jp_httpd_susp *susp = q->susp;
    q->susp = NULL;
    jp_httpd_resume(susp);
}

/* Answers once every write made so far is committed: a write is acknowledged only after. */
static void answer_when_durable(struct apireq *q)
{
    q->suspended = true;
    q->susp = jp_httpd_suspend(q->srv->httpd, q->conn, NULL, NULL);
    jp_store_when_durable(q->srv->store, on_durable, q);
}

static void reply_object(struct apireq *q, int code, const struct jp_obj *o)
{
    const char *table_type;
    if (wants_table(q, &table_type)) {
        struct jp_buf b;
        jp_buf_init(&b, SIZE_MAX);
        table_begin(&b, &jp_kinds[o->kind], true, o->rv, NULL);
        table_row(&b, o, jp_now_ns(), req_arg(q, "includeObject"), true);
        table_end(&b);
        size_t len;
        char *data = jp_buf_steal(&b, &len);
        reply(q, code, table_type, data, len);
        return;
    }
    reply(q, code, "application/json", jp_xstrndup(o->json, o->len), o->len);
}

static void reply_scale(struct apireq *q, const struct jp_kind *k, const struct jp_obj *o)
{
    json_t *scale = jp_api_scale_of(k, o);
    char *s = json_dumps(scale, JSON_COMPACT);
    json_decref(scale);
    reply(q, 200, "application/json", s, strlen(s));
}

/* ---- list ---- */

struct lister {
    const struct jp_kind *kind;
    struct jp_selector *labels, *fields;
    size_t limit;
    struct jp_obj **items;
    size_t n, cap;
    bool more;
};

static bool list_visit(const struct jp_obj *o, void *arg)
{
    struct lister *l = arg;
    if (!jp_label_selector_matches(l->labels, jp_proj_of(o))) return true;
    if (!jp_field_selector_matches(l->fields, l->kind, o)) return true;
    if (l->limit && l->n == l->limit) {
        l->more = true;
        return false;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = jp_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n++] = jp_obj_ref(o);
    return true;
}

/* Continue tokens: base64 of "<namespace>/<name>" of the last item returned. Names cannot hold
 * '/', so the split is unambiguous. */
static char *encode_continue(const struct jp_obj *last)
{
    char *plain = jp_xasprintf("%s/%s", last->ns, last->name);
    gnutls_datum_t in = {(unsigned char *)plain, (unsigned)strlen(plain)}, out = {NULL, 0};
    if (gnutls_base64_encode2(&in, &out) < 0) abort(); /* only when out of memory: fatal */
    char *token = jp_xstrndup((char *)out.data, out.size);
    gnutls_free(out.data);
    free(plain);
    return token;
}

static int decode_continue(const char *token, char **ns, char **name)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(token), body = strspn(token, alphabet);
    /* GnuTLS skips line breaks inside base64; a token has none, and '=' only as padding */
    if (n == 0 || n % 4 || n > 2048 || n - body > 2 || strspn(token + body, "=") != n - body)
        return -1;
    gnutls_datum_t in = {(unsigned char *)token, (unsigned)n}, plain = {NULL, 0};
    if (gnutls_base64_decode2(&in, &plain) < 0) return -1;
    char *s = jp_xstrndup((char *)plain.data, plain.size);
    size_t len = plain.size;
    gnutls_free(plain.data);
    char *slash = strchr(s, '/');
    if (slash == NULL || strlen(s) != len) {
        free(s);
        return -1;
    }
    *slash = '\0';
    *ns = jp_xstrdup(s);
    *name = jp_xstrdup(slash + 1);
    free(s);
    return 0;
}

int parse_selectors(struct apireq *q, const struct jp_kind *k, struct jp_selector **labels,
                    struct jp_selector **fields)
{
    struct jp_status *st = NULL;
    *labels = *fields = NULL;
    if (jp_label_selector_parse(req_arg(q, "labelSelector"), labels, &st) < 0 ||
        jp_field_selector_parse(k, req_arg(q, "fieldSelector"), fields, &st) < 0) {
        jp_selector_free(*labels);
        *labels = NULL;
        reply_status(q, st);
        return -1;
    }
    return 0;
}

static void list(struct apireq *q, const struct route *r)
{
    const struct jp_kind *k = r->kind;
    struct lister l = {.kind = k};
    if (parse_selectors(q, k, &l.labels, &l.fields) < 0) return;
    const char *limit = req_arg(q, "limit");
    int64_t lim = 0;
    if (limit && jp_parse_int(limit, 10, 0, INT64_MAX, &lim, NULL) < 0) {
        reply_error(q, JP_BAD_REQUEST, "limit: invalid value \"%s\"", limit);
        goto out;
    }
    l.limit = (size_t)lim;
    char *after_ns = NULL, *after_name = NULL;
    const char *cont = req_arg(q, "continue");
    if (cont && *cont && decode_continue(cont, &after_ns, &after_name) < 0) {
        reply_error(q, JP_BAD_REQUEST, "continue key is not valid: %s", cont);
        goto out;
    }
    uint64_t rv = jp_store_revision(q->srv->store);
    jp_store_scan(q->srv->store, (uint16_t)jp_kind_index(k), *r->ns ? r->ns : NULL, after_ns,
                  after_name, list_visit, &l);
    free(after_ns);
    free(after_name);
    char *next = l.more && l.n ? encode_continue(l.items[l.n - 1]) : NULL;
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    const char *table_type;
    if (wants_table(q, &table_type)) {
        table_begin(&b, k, true, rv, next);
        int64_t now = jp_now_ns();
        for (size_t i = 0; i < l.n; i++)
            table_row(&b, l.items[i], now, req_arg(q, "includeObject"), i == 0);
        table_end(&b);
        size_t len;
        char *data = jp_buf_steal(&b, &len);
        reply(q, 200, table_type, data, len);
    } else {
        char av[64];
        jp_buf_printf(
            &b,
            "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
            "\"%llu\"",
            k->kind, jp_kind_api_version(k, av, sizeof(av)), (unsigned long long)rv);
        if (next) jp_buf_printf(&b, ",\"continue\":\"%s\"", next);
        jp_buf_printf(&b, "},\"items\":[");
        for (size_t i = 0; i < l.n; i++) {
            if (i) jp_buf_appendc(&b, ',');
            jp_buf_append(&b, l.items[i]->json, l.items[i]->len);
        }
        jp_buf_printf(&b, "]}");
        reply_json(q, 200, &b);
    }
    free(next);
out:
    for (size_t i = 0; i < l.n; i++)
        jp_obj_unref(l.items[i]);
    free(l.items);
    jp_selector_free(l.labels);
    jp_selector_free(l.fields);
}

/* ---- writes ---- */

static int write_ctx(struct apireq *q, const struct route *r, struct jp_write_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->store = q->srv->store;
    c->kind = r->kind;
    c->ns = r->ns;
    c->subresource = *r->sub ? r->sub : NULL;
    const char *dry = req_arg(q, "dryRun");
    if (dry) {
        if (strcmp(dry, "All") != 0) {
            reply_error(q, JP_BAD_REQUEST, "Invalid dry run value: %s", dry);
            return -1;
        }
        c->dry_run = true;
    }
    const char *fv = req_arg(q, "fieldValidation");
    c->fv = JP_FV_WARN; /* the apiserver's default when the client says nothing */
    if (fv) {
        if (strcmp(fv, "Strict") == 0)
            c->fv = JP_FV_STRICT;
        else if (strcmp(fv, "Warn") == 0)
            c->fv = JP_FV_WARN;
        else if (strcmp(fv, "Ignore") == 0)
            c->fv = JP_FV_IGNORE;
        else {
            reply_error(q, JP_BAD_REQUEST,
                        "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\"");
            return -1;
        }
    }
    return 0;
}

enum body_format { BODY_JSON, BODY_YAML, BODY_PROTOBUF, BODY_UNSUPPORTED };

static enum body_format body_format(struct apireq *q)
{
    const char *ct = req_header(q, "Content-Type");
    if (ct == NULL || strncmp(ct, "application/json", 16) == 0) return BODY_JSON;
    if (strncmp(ct, "application/yaml", 16) == 0) return BODY_YAML;
    /* kubectl >= 1.32's typed clients (create namespace|job|configmap|secret ...) */
    if (strncmp(ct, JP_PROTO_MEDIA_TYPE, strlen(JP_PROTO_MEDIA_TYPE)) == 0) return BODY_PROTOBUF;
    reply_error(q, JP_UNSUPPORTED_MEDIA_TYPE,
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml, application/vnd.kubernetes.protobuf");
    return BODY_UNSUPPORTED;
}

json_t *body_object(struct apireq *q, int schema_type)
{
    const char *data = q->body.data ? q->body.data : "";
    const char *ct = req_header(q, "Content-Type");
    if (ct && strncmp(ct, JP_PROTO_MEDIA_TYPE, strlen(JP_PROTO_MEDIA_TYPE)) == 0) {
        json_t *doc = NULL;
        struct jp_err *err = NULL;
        if (jp_proto_decode_object(data, q->body.len, schema_type, &doc, NULL, NULL, &err) < 0)
            jp_err_free(err);
        return doc;
    }
    return json_loadb(data, q->body.len, 0, NULL);
}

void reply_json_object(struct apireq *q, int status, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_buf_printf(&b, "%s", text ? text : "{}");
    free(text);
    reply_json(q, status, &b);
}

/* The request body as an object of kind: JSON, or YAML converted the way clients convert
 * manifests, then checked against the schema either way. */
static int decode_body(struct apireq *q, const struct jp_kind *k, enum body_format fmt,
                       struct jp_write_ctx *c, json_t **out, struct jp_status **st)
{
    const char *data = q->body.data ? q->body.data : "";
    if (fmt == BODY_JSON)
        return jp_decode_object(k, data, q->body.len, c->fv, out, &c->warnings, st);
    json_t *doc = NULL;
    struct jp_err *err = NULL;
    if (fmt == BODY_PROTOBUF) {
        if (jp_proto_decode_object(data, q->body.len, k->schema_type, &doc, NULL, NULL, &err) < 0) {
            *st = jp_status_new(err->reason, "%s", err->msg);
            jp_err_free(err);
            return -1;
        }
        if (jp_decode_check(k, doc, c->fv, &c->warnings, st) < 0) {
            json_decref(doc);
            return -1;
        }
        *out = doc;
        return 0;
    }
    if (jp_yaml_load_one(data, q->body.len, &doc, &err) < 0) {
        *st = jp_status_new(JP_BAD_REQUEST, "%s", err->msg);
        jp_err_free(err);
        return -1;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        *st = jp_status_new(JP_BAD_REQUEST, "the YAML body is not an object");
        return -1;
    }
    if (jp_decode_check(k, doc, c->fv, &c->warnings, st) < 0) {
        json_decref(doc);
        return -1;
    }
    *out = doc;
    return 0;
}

static void finish_write(struct apireq *q, struct jp_write_ctx *c, int rc,
                         struct jp_write_result *res, struct jp_status *st, bool scale_view)
{
    q->warnings = c->warnings;
    memset(&c->warnings, 0, sizeof(c->warnings));
    if (rc < 0) {
        reply_status(q, st);
        return;
    }
    (void)scale_view; /* a scale write's result is already the Scale view */
    reply(q, res->code, "application/json", jp_xstrndup(res->obj->json, res->obj->len),
          res->obj->len);
    bool changed = res->changed;
    jp_write_result_free(res);
    if (changed) answer_when_durable(q);
}

static void create(struct apireq *q, const struct route *r)
{
    if (r->kind->namespaced && *r->ns == '\0') {
        not_found_path(q);
        return;
    }
    struct jp_write_ctx c;
    enum body_format fmt = body_format(q);
    if (fmt == BODY_UNSUPPORTED || write_ctx(q, r, &c) < 0) return;
    json_t *body = NULL;
    struct jp_status *st = NULL;
    struct jp_write_result res = {0};
    int rc = decode_body(q, r->kind, fmt, &c, &body, &st);
    if (rc == 0) rc = jp_api_create(&c, body, &res, &st);
    finish_write(q, &c, rc, &res, st, false);
    jp_write_ctx_free(&c);
}

static void update(struct apireq *q, const struct route *r)
{
    struct jp_write_ctx c;
    enum body_format fmt = body_format(q);
    if (fmt == BODY_UNSUPPORTED || write_ctx(q, r, &c) < 0) return;
    json_t *body = NULL;
    struct jp_status *st = NULL;
    struct jp_write_result res = {0};
    bool scale = strcmp(r->sub, "scale") == 0;
    int rc;
    if (scale) {
        json_error_t jerr;
        body = json_loadb(q->body.data ? q->body.data : "", q->body.len, 0, &jerr);
        rc = body ? 0 : -1;
        if (!body) st = jp_status_new(JP_BAD_REQUEST, "couldn't decode the Scale: %s", jerr.text);
    } else {
        rc = decode_body(q, r->kind, fmt, &c, &body, &st);
    }
    if (rc == 0) rc = jp_api_update(&c, r->name, body, &res, &st);
    finish_write(q, &c, rc, &res, st, scale);
    jp_write_ctx_free(&c);
}

static void patch(struct apireq *q, const struct route *r)
{
    struct jp_write_ctx c;
    if (write_ctx(q, r, &c) < 0) return;
    const char *ct = req_header(q, "Content-Type");
    char type[128] = "";
    if (ct) snprintf(type, sizeof(type), "%.*s", (int)strcspn(ct, "; "), ct);
    struct jp_status *st = NULL;
    struct jp_write_result res = {0};
    const char *force = req_arg(q, "force");
    const char *text = q->body.data ? q->body.data : "";
    size_t len = q->body.len;
    char *converted = NULL;
    if (strcmp(type, "application/apply-patch+yaml") == 0) {
        /* an apply body is YAML (JSON is YAML too): hand the patch code JSON */
        json_t *doc = NULL;
        struct jp_err *err = NULL;
        if (jp_yaml_load_one(text, len, &doc, &err) < 0) {
            reply_error(q, JP_BAD_REQUEST, "%s", err->msg);
            jp_err_free(err);
            jp_write_ctx_free(&c);
            return;
        }
        converted = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(doc);
        text = converted ? converted : "null";
        len = strlen(text);
    }
    int rc = jp_api_patch(&c, r->name, type, text, len, req_arg(q, "fieldManager"),
                          force && strcmp(force, "true") == 0, &res, &st);
    free(converted);
    finish_write(q, &c, rc, &res, st, strcmp(r->sub, "scale") == 0);
    jp_write_ctx_free(&c);
}

static json_t *delete_options(struct apireq *q, struct jp_status **st)
{
    json_t *opts = NULL;
    if (q->body.len > 0) {
        json_error_t jerr;
        opts = json_loadb(q->body.data, q->body.len, 0, &jerr);
        if (!json_is_object(opts)) {
            json_decref(opts);
            *st = jp_status_new(JP_BAD_REQUEST, "couldn't decode DeleteOptions: %s", jerr.text);
            return NULL;
        }
    } else {
        opts = json_object();
    }
    /* query parameters other clients use instead of a body */
    const char *pp = req_arg(q, "propagationPolicy"), *gp = req_arg(q, "gracePeriodSeconds");
    if (pp && !json_object_get(opts, "propagationPolicy"))
        json_object_set_new(opts, "propagationPolicy", json_string(pp));
    int64_t g;
    if (gp && jp_parse_int(gp, 10, 0, INT64_MAX, &g, NULL) == 0)
        json_object_set_new(opts, "gracePeriodSeconds", json_integer(g));
    const char *orphan = req_arg(q, "orphanDependents");
    if (orphan)
        json_object_set_new(opts, "orphanDependents", json_boolean(strcmp(orphan, "true") == 0));
    return opts;
}

static void delete (struct apireq *q, const struct route *r)
{
    struct jp_write_ctx c;
    if (write_ctx(q, r, &c) < 0) return;
    struct jp_status *st = NULL;
    json_t *opts = delete_options(q, &st);
    struct jp_write_result res = {0};
    int rc = opts ? jp_api_delete(&c, r->name, opts, &res, &st) : -1;
    json_decref(opts);
    finish_write(q, &c, rc, &res, st, false);
    jp_write_ctx_free(&c);
}

static void delete_collection(struct apireq *q, const struct route *r)
{
    const struct jp_kind *k = r->kind;
    struct lister l = {.kind = k};
    if (parse_selectors(q, k, &l.labels, &l.fields) < 0) return;
    struct jp_write_ctx c;
    if (write_ctx(q, r, &c) < 0) goto out;
    struct jp_status *st = NULL;
    json_t *opts = delete_options(q, &st);
    if (opts == NULL) {
        reply_status(q, st);
        jp_write_ctx_free(&c);
        goto out;
    }
    jp_store_scan(q->srv->store, (uint16_t)jp_kind_index(k), *r->ns ? r->ns : NULL, NULL, NULL,
                  list_visit, &l);
    char av[64];
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_buf_printf(&b, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{},\"items\":[",
                  k->kind, jp_kind_api_version(k, av, sizeof(av)));
    bool changed = false, first = true;
    for (size_t i = 0; i < l.n; i++) {
        struct jp_write_result res = {0};
        struct jp_status *est = NULL;
        c.ns = l.items[i]->ns;
        if (jp_api_delete(&c, l.items[i]->name, opts, &res, &est) == 0) {
            if (!first) jp_buf_appendc(&b, ',');
            first = false;
            jp_buf_append(&b, res.obj->json, res.obj->len);
            changed |= res.changed;
            jp_write_result_free(&res);
        }
        jp_status_free(est);
    }
    jp_buf_printf(&b, "]}");
    json_decref(opts);
    reply_json(q, 200, &b);
    jp_write_ctx_free(&c);
    if (changed) answer_when_durable(q);
out:
    for (size_t i = 0; i < l.n; i++)
        jp_obj_unref(l.items[i]);
    free(l.items);
    jp_selector_free(l.labels);
    jp_selector_free(l.fields);
}

/* pods/{name}/log without a node agent (API-only tests): the answers Kubernetes gives for a pod
 * whose container has not started. */
static void pod_log(struct apireq *q, const struct route *r, const struct jp_obj *o)
{
    json_t *pod = jp_api_parse(o);
    const char *want = req_arg(q, "container");
    json_t *containers = jp_json_path(pod, "spec", "containers", NULL);
    const char *name = want;
    if (name == NULL) {
        if (json_array_size(containers) != 1) {
            reply_error(q, JP_BAD_REQUEST,
                        "a container name must be specified for pod %s, choose one of: [...]",
                        r->name);
            json_decref(pod);
            return;
        }
        name = jp_json_str(json_array_get(containers, 0), "name", NULL);
    }
    bool known = false;
    size_t i;
    json_t *c;
    json_array_foreach(containers, i, c)
    {
        const char *n = jp_json_str(c, "name", NULL);
        known |= n && name && strcmp(n, name) == 0;
    }
    if (!known)
        reply_error(q, JP_BAD_REQUEST, "container %s is not valid for pod %s", name ? name : "",
                    r->name);
    else
        reply_error(q, JP_BAD_REQUEST,
                    "container \"%s\" in pod \"%s\" is waiting to start: ContainerCreating", name,
                    r->name);
    json_decref(pod);
}

static void object(struct apireq *q, const struct route *r)
{
    const struct jp_kind *k = r->kind;
    bool get = is(q, "GET") || is(q, "HEAD");
    const char *sub = r->sub;
    if (*sub) {
        bool ok = (!strcmp(sub, "status") && (k->subresources & JP_SUB_STATUS)) ||
                  (!strcmp(sub, "scale") && (k->subresources & JP_SUB_SCALE)) ||
                  (!strcmp(sub, "log") && (k->subresources & JP_SUB_LOG)) ||
                  (!strcmp(sub, "portforward") && (k->subresources & JP_SUB_PORTFORWARD)) ||
                  (!strcmp(sub, "eviction") && (k->subresources & JP_SUB_EVICTION)) ||
                  (!strcmp(sub, "exec") && (k->subresources & JP_SUB_EXEC)) ||
                  (!strcmp(sub, "token") && (k->subresources & JP_SUB_TOKEN)) ||
                  (!strcmp(sub, "finalize") && (k->subresources & JP_SUB_FINALIZE));
        if (!ok) {
            not_found_path(q);
            return;
        }
    }
    if (!strcmp(sub, "portforward")) {
        serve_portforward(q, r);
        return;
    }
    if (!strcmp(sub, "exec")) {
        serve_exec(q, r);
        return;
    }
    if (!strcmp(sub, "token")) {
        if (is(q, "POST") && q->srv->sa)
            serve_token_request(q, r);
        else
            method_not_allowed(q);
        return;
    }
    if (!strcmp(sub, "eviction")) {
        if (is(q, "POST"))
            serve_eviction(q, r);
        else
            method_not_allowed(q);
        return;
    }
    if (get) {
        const struct jp_obj *o =
            jp_store_get(q->srv->store, (uint16_t)jp_kind_index(k), r->ns, r->name);
        if (o == NULL) {
            reply_not_found(q, k, r->name);
        } else if (!strcmp(sub, "scale")) {
            reply_scale(q, k, o);
        } else if (!strcmp(sub, "log") && q->srv->agent) {
            serve_pod_log(q, r);
        } else if (!strcmp(sub, "log")) {
            pod_log(q, r, o);
        } else if (!strcmp(sub, "finalize")) {
            method_not_allowed(q);
        } else {
            reply_object(q, 200, o);
        }
        return;
    }
    if (!strcmp(sub, "log")) {
        method_not_allowed(q);
        return;
    }
    if (is(q, "PUT"))
        update(q, r);
    else if (is(q, "PATCH") && strcmp(sub, "finalize"))
        patch(q, r);
    else if (is(q, "DELETE") && *sub == '\0')
        delete (q, r);
    else
        method_not_allowed(q);
}

bool watch_requested(struct apireq *q)
{
    const char *watch = req_arg(q, "watch");
    bool on = false;
    /* Go's strconv.ParseBool spellings: the Python client sends "True" */
    return watch && jp_parse_bool(watch, &on, NULL) == 0 && on;
}

void serve_resource(struct apireq *q, const struct route *r)
{
    if (r->type == R_OBJECT) {
        object(q, r);
        return;
    }
    if (is(q, "GET") || is(q, "HEAD")) {
        if (watch_requested(q))
            serve_watch(q, r);
        else
            list(q, r);
    } else if (is(q, "POST")) {
        create(q, r);
    } else if (is(q, "DELETE") && strcmp(r->kind->plural, "namespaces") != 0) {
        /* namespaces have no deletecollection (discovery does not list it) */
        delete_collection(q, r);
    } else {
        method_not_allowed(q);
    }
}
