/* The HTTP front of the API server: TLS and authentication, request bodies (capped at 3 MiB),
 * dispatch by route, and the write acknowledgement dance - a write suspends its connection until
 * the store has committed it, then the prepared response is queued. */
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/timefmt.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bodies larger than the cap are read and dropped up to this size so the client can read the
 * 413; beyond it the server answers at once and closes. */
#define DISCARD_MAX (16u << 20)

const char *req_arg(struct apireq *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct apireq *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

void reply(struct apireq *q, int status, const char *content_type, char *body, size_t len)
{
    free(q->out);
    q->status = status;
    q->content_type = content_type;
    q->out = body;
    q->outlen = len;
    q->ready = true;
}

void reply_json(struct apireq *q, int status, struct jp_buf *body)
{
    size_t len;
    char *data = jp_buf_steal(body, &len);
    reply(q, status, "application/json", data, len);
}

void reply_status(struct apireq *q, struct jp_status *st)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_status_json(st, &b);
    int code = jp_status_code(st);
    jp_status_free(st);
    reply_json(q, code, &b);
}

void reply_not_found(struct apireq *q, const struct jp_kind *k, const char *name)
{
    struct jp_status *st = jp_status_new(JP_NOT_FOUND, "%s \"%s\" not found", k->resource, name);
    jp_status_details(st, name, k->group, k->plural);
    reply_status(q, st);
}

void reply_error(struct apireq *q, enum jp_reason reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = jp_xvasprintf(fmt, ap);
    va_end(ap);
    struct jp_status *st = jp_status_new(reason, "%s", msg);
    free(msg);
    reply_status(q, st);
}

static enum MHD_Result queue(struct apireq *q)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(q->outlen, q->out ? q->out : (void *)"",
                                        q->out ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    q->out = NULL;
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            q->content_type ? q->content_type : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    for (size_t i = 0; i < q->warnings.n; i++) {
        /* RFC 7234 warning: 299 - "text" (quotes and backslashes escaped) */
        struct jp_buf w;
        jp_buf_init(&w, 1 << 16);
        jp_buf_printf(&w, "299 - \"");
        for (const char *p = q->warnings.items[i]; *p; p++) {
            if (*p == '"' || *p == '\\') jp_buf_appendc(&w, '\\');
            jp_buf_appendc(&w, *p);
        }
        jp_buf_appendc(&w, '"');
        MHD_add_response_header(resp, "Warning", w.data);
        jp_buf_free(&w);
    }
    enum MHD_Result ret = MHD_queue_response(q->conn, (unsigned)q->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- authentication ---- */

enum { CERT_UNKNOWN = 0, CERT_OK = 1, CERT_NONE = 2 };

static bool token_matches(const char *have, const char *want)
{
    size_t n = strlen(want), m = strlen(have);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)want[i] ^ (unsigned char)(i < m ? have[i] : 0);
    return diff == 0; /* constant time in the token's length */
}

static int cert_verdict(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci == NULL || ci->tls_session == NULL) return CERT_NONE;
    gnutls_session_t sess = (gnutls_session_t)ci->tls_session;
    unsigned n = 0;
    if (gnutls_certificate_get_peers(sess, &n) == NULL || n == 0) return CERT_NONE;
    /* our CA is the only trust anchor MHD was given; the certificate must be for clients */
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID, (void *)GNUTLS_KP_TLS_WWW_CLIENT,
                                     0};
    unsigned status = 0;
    if (gnutls_certificate_verify_peers(sess, &purpose, 1, &status) != 0 || status != 0)
        return CERT_NONE;
    return CERT_OK;
}

/* Each connection remembers its client-certificate verdict, so verification (a signature check)
 * runs once per connection, not once per request. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls, (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = jp_xcalloc(1, sizeof(int));
    } else {
        free(*socket_context);
        *socket_context = NULL;
    }
}

enum who { NOBODY, ADMIN, ACCOUNT };

/* Who sends the request: the admin (its certificate or token: may do everything), a service
 * account (its token: RBAC decides, authz.c; *sa names it), or nobody known. */
static enum who authenticated(struct apireq *q, struct jp_sa_identity *sa)
{
    const struct jp_pki *pki = q->srv->pki;
    if (pki == NULL) return ADMIN;
    const char *auth = req_header(q, "Authorization");
    /* the scheme in any case, as RFC 7235 and kube-apiserver take it: the Python client's
     * in-cluster configuration sends "bearer" */
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        if (token_matches(auth + 7, pki->token)) return ADMIN;
        if (sa_token_authenticates(q, auth + 7, sa)) return ACCOUNT;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    int *verdict = ci ? ci->socket_context : NULL;
    if (verdict == NULL) return cert_verdict(q->conn) == CERT_OK ? ADMIN : NOBODY;
    if (*verdict == CERT_UNKNOWN) *verdict = cert_verdict(q->conn);
    return *verdict == CERT_OK ? ADMIN : NOBODY;
}

static void add_group(struct jp_user *u, const char *g)
{
    if (u->ngroups < JP_USER_GROUPS)
        jp_strfmt(u->groups[u->ngroups++], sizeof(u->groups[0]), "%s", g);
}

/* A service account's groups, as kube-apiserver gives them. */
static void account_groups(struct jp_user *u, const char *ns)
{
    char g[300];
    snprintf(g, sizeof(g), "system:serviceaccounts:%s", ns);
    add_group(u, "system:serviceaccounts");
    add_group(u, g);
}

static enum MHD_Result impersonated_group(void *cls, enum MHD_ValueKind kind, const char *key,
                                          const char *value)
{
    (void)kind;
    if (key && value && strcasecmp(key, "Impersonate-Group") == 0) add_group(cls, value);
    return MHD_YES;
}

/* kubectl --as / --as-group: the request is then that user's. The admin may impersonate anyone;
 * an account as RBAC lets it (verb impersonate on users and groups). -1 with the reply sent;
 * else 1 when the one impersonated is system:masters (the admin again), 0 otherwise. */
static int impersonate(struct apireq *q, struct jp_user *u, bool admin)
{
    const char *name = req_header(q, "Impersonate-User");
    if (name == NULL || *name == '\0') return admin ? 1 : 0;
    struct jp_user as = {0};
    snprintf(as.name, sizeof(as.name), "%s", name);
    MHD_get_connection_values(q->conn, MHD_HEADER_KIND, impersonated_group, &as);
    if (!admin) {
        if (!authorize_impersonation(q, u, "users", as.name)) return -1;
        for (int g = 0; g < as.ngroups; g++)
            if (!authorize_impersonation(q, u, "groups", as.groups[g])) return -1;
    }
    char ns[256], sa[256];
    if (sscanf(name, "system:serviceaccount:%255[^:]:%255s", ns, sa) == 2) account_groups(&as, ns);
    add_group(&as, "system:authenticated");
    for (int g = 0; g < as.ngroups; g++)
        if (strcmp(as.groups[g], "system:masters") == 0) return 1;
    *u = as;
    return 0;
}

/* ---- dispatch ---- */

static void dispatch(struct apireq *q, const char *url)
{
    struct route r;
    route_parse(url, &r);
    metrics_label(q, &r);
    bool open_route = r.type == R_HEALTH || r.type == R_VERSION;
    struct jp_sa_identity sa;
    enum who who = open_route ? ADMIN : authenticated(q, &sa);
    if (who == NOBODY) {
        reply_error(q, JP_UNAUTHORIZED, "Unauthorized");
        return;
    }
    struct jp_user user = {0};
    if (who == ACCOUNT) {
        jp_sa_username(&sa, user.name, sizeof(user.name));
        account_groups(&user, sa.ns);
        add_group(&user, "system:authenticated");
    }
    if (!open_route) {
        int masters = impersonate(q, &user, who == ADMIN);
        if (masters < 0) return;
        /* asking what one may do is everyone's (system:basic-user) */
        if (!strcmp(url, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")) {
            if (strcmp(q->method, "POST") != 0)
                reply_error(q, JP_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
            else
                serve_self_access_review(q, masters ? NULL : &user);
            return;
        }
        if (!masters && !authorize_user(q, &r, &user, url)) return;
    }
    bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    switch (r.type) {
    case R_HEALTH:
        if (req_arg(q, "verbose")) {
            const char *name = strstr(url, "readyz")  ? "readyz"
                               : strstr(url, "livez") ? "livez"
                                                      : "healthz";
            char *body = jp_xasprintf("[+]ping ok\n[+]log ok\n[+]etcd ok\n%s check passed\n", name);
            reply(q, 200, "text/plain; charset=utf-8", body, strlen(body));
        } else {
            reply(q, 200, "text/plain; charset=utf-8", jp_xstrdup("ok"), 2);
        }
        return;
    case R_VERSION:
        serve_version(q);
        return;
    case R_METRICS:
        serve_metrics(q);
        return;
    case R_OPENAPI_V2:
    case R_OPENAPI_V3:
        serve_openapi(q, &r);
        return;
    case R_ROOT:
    case R_API:
    case R_APIS:
    case R_GROUP:
    case R_GROUP_VER:
        if (!get) {
            reply_error(q, JP_METHOD_NOT_ALLOWED,
                        "the server does not allow this method on the requested resource");
            return;
        }
        serve_discovery(q, &r);
        return;
    case R_COLLECTION:
    case R_OBJECT:
        serve_resource(q, &r);
        return;
    case R_NONE:
        break;
    }
    struct jp_status *st =
        jp_status_new(JP_NOT_FOUND, "the server could not find the requested resource");
    reply_status(q, st);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_size, void **con_cls)
{
    (void)version;
    struct jp_apiserver *s = cls;
    struct apireq *q = *con_cls;
    if (q == NULL) {
        q = jp_xcalloc(1, sizeof(*q));
        q->srv = s;
        q->conn = conn;
        q->method = method;
        q->start_ns = jp_mono_ns();
        jp_buf_init(&q->body, JP_MAX_BODY);
        *con_cls = q;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
        int64_t n;
        if (cl && jp_parse_int(cl, 10, 0, INT64_MAX, &n, NULL) == 0 && n > JP_MAX_BODY &&
            (expect || n > DISCARD_MAX)) {
            reply_error(q, JP_TOO_LARGE, "the request is too large");
            return queue(q);
        }
        return MHD_YES;
    }
    if (*data_size > 0) {
        if (!q->too_large && jp_buf_append(&q->body, data, *data_size) < 0) {
            q->too_large = true;
            jp_buf_free(&q->body);
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (q->ready) return q->suspended ? MHD_YES : queue(q);
    if (q->watch || q->streaming || q->suspended) return MHD_YES;
    if (q->too_large) {
        reply_error(q, JP_TOO_LARGE, "the request is too large");
        return queue(q);
    }
    dispatch(q, url);
    if (q->watch || q->streaming) return MHD_YES;
    if (q->ready && !q->suspended) return queue(q);
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct apireq *q = *con_cls;
    if (q == NULL) return;
    metrics_observe(q);
    jp_buf_free(&q->body);
    jp_warnings_free(&q->warnings);
    spdy_pending_free(q);
    free(q->out);
    free(q);
    *con_cls = NULL;
}

int jp_apiserver_start(uv_loop_t *loop, struct jp_store *store,
                       const struct jp_apiserver_opts *opts, struct jp_apiserver **out,
                       struct jp_err **err)
{
    struct jp_apiserver *s = jp_xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->store = store;
    s->pki = opts->pki;
    s->sa = opts->sa;
    s->agent = opts->agent;
    s->metrics = opts->metrics;
    discovery_build(s);
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, opts->pki ? opts->pki->server_crt : NULL},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, opts->pki ? opts->pki->server_key : NULL},
        {MHD_OPTION_HTTPS_MEM_TRUST, 0, opts->pki ? opts->pki->ca_crt : NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem plain[] = {{MHD_OPTION_END, 0, NULL}};
    struct jp_httpd_opts ho = {
        .host = opts->host ? opts->host : "127.0.0.1",
        .port = opts->port,
        .handler = handler,
        .handler_cls = s,
        .completed = completed,
        .completed_cls = s,
        .connection_limit = 4096,
        .connection_timeout = 600,
        .extra_flags = (opts->pki ? MHD_USE_TLS : 0) | MHD_ALLOW_UPGRADE, /* port-forward, exec */
        .extra_options = opts->pki ? tls : plain,
    };
    if (jp_httpd_start(loop, &ho, &s->httpd, err) < 0) {
        discovery_free(s);
        free(s);
        return jp_err_wrap(err, "apiserver");
    }
    uv_timer_init(loop, &s->watch_flush);
    s->watch_flush.data = s;
    *out = s;
    return 0;
}

uint16_t jp_apiserver_port(const struct jp_apiserver *s)
{
    return jp_httpd_port(s->httpd);
}

static void server_closed(uv_handle_t *h)
{
    free(h->data);
}

void jp_apiserver_close(struct jp_apiserver *s)
{
    s->stopping = true;
    watch_close_all(s);
    spdy_session_close_all(s);
    jp_httpd_close(s->httpd);
    discovery_free(s);
    metrics_free(s);
    uv_close((uv_handle_t *)&s->watch_flush, server_closed);
}
