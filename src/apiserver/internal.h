/* Shared inside src/apiserver: the request being served, the route it resolved to, and the
 * response helpers. One struct apireq lives from the first MHD callback to request completion. */
#ifndef JP_APISERVER_INTERNAL_H
#define JP_APISERVER_INTERNAL_H

#include "api/decode.h"
#include "api/kinds.h"
#include "api/status.h"
#include "apiserver/apiserver.h"
#include "base/buf.h"
#include "base/httpd.h"

#include <microhttpd.h>

struct watch;
struct jp_agent;
struct spdy_session;
struct spdy_session_ops;

struct jp_apiserver {
    uv_loop_t *loop;
    struct jp_store *store;
    struct jp_httpd *httpd;
    const struct jp_pki *pki;
    const struct jp_sa_signer *sa; /* verifies and mints service account tokens; may be NULL */
    char *discovery_api, *discovery_apis;             /* legacy /api and /apis */
    char *discovery_agg_api, *discovery_agg_apis;     /* aggregated v2 */
    char *discovery_agg_api_b, *discovery_agg_apis_b; /* aggregated v2beta1 */
    char **group_docs; /* legacy APIResourceList per group-version, see discovery.c */
    struct watch *watches;
    uv_timer_t watch_flush;       /* wakes watchers with new events once per commit batch */
    struct metric_series *series; /* metrics.c */
    size_t nseries, cseries;
    struct jp_agent *agent;             /* pods/log, portforward and exec; NULL without a node */
    const struct jp_metrics *metrics;   /* the controllers' series, rendered after ours */
    struct spdy_session *spdy_sessions; /* open port-forward and exec sessions (spdysess.c) */
    bool stopping;
};

enum route_type {
    R_NONE,
    R_ROOT,      /* / */
    R_HEALTH,    /* /healthz /livez /readyz */
    R_VERSION,   /* /version */
    R_API,       /* /api */
    R_APIS,      /* /apis */
    R_GROUP,     /* /apis/{g} */
    R_GROUP_VER, /* /api/v1, /apis/{g}/{v}: resource lists */
    R_OPENAPI_V2,
    R_OPENAPI_V3, /* index, or one group-version with gv set */
    R_METRICS,
    R_COLLECTION, /* .../{plural} */
    R_OBJECT,     /* .../{plural}/{name}[/{sub}] */
};

struct route {
    enum route_type type;
    const struct jp_kind *kind;
    char ns[256]; /* "" = all namespaces (collection) or cluster scope */
    char name[256];
    char sub[32]; /* "", "status", "scale", "log", ... */
    char gv[64];  /* for R_GROUP_VER / R_OPENAPI_V3: "v1" or "batch/v1" */
};

/* Parses a URL path; a path that names nothing known gives R_NONE. */
void route_parse(const char *path, struct route *r);

struct apireq {
    struct jp_apiserver *srv;
    struct MHD_Connection *conn;
    const char *method;
    struct jp_buf body;
    bool too_large;
    bool suspended;
    struct jp_httpd_susp *susp;
    bool ready; /* a response is prepared: queue it on the next call */
    int status;
    char *out;
    size_t outlen;
    const char *content_type;
    struct jp_warnings warnings;
    struct watch *watch;
    bool streaming; /* a streamed response (log follow) is queued */
    int64_t start_ns;
    /* metric labels, filled in by dispatch */
    const char *m_verb, *m_group, *m_version, *m_resource, *m_scope;
    char m_subresource[32]; /* copied: the route lives on the stack */
    bool dry_run;
    /* pods/portforward, pods/exec: the session the upgraded connection will run (spdysess.c) */
    const struct spdy_session_ops *upg_ops;
    void *upg_app;
    char *upg_label;
};

const char *req_arg(struct apireq *q, const char *name);
const char *req_header(struct apireq *q, const char *name);

/* Prepares a response (takes body). */
void reply(struct apireq *q, int status, const char *content_type, char *body, size_t len);
void reply_json(struct apireq *q, int status, struct jp_buf *body /* stolen */);
/* A Status error (takes st). */
void reply_status(struct apireq *q, struct jp_status *st);
/* 404 `<resource> "<name>" not found`, with the details kubectl reads. */
void reply_not_found(struct apireq *q, const struct jp_kind *k, const char *name);
void reply_error(struct apireq *q, enum jp_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* logs.c */
void serve_pod_log(struct apireq *q, const struct route *r);

/* upgrade.c: the byte stream of a connection MHD has upgraded, driven on the loop (TLS included,
 * see upgrade.c for why MHD's own relay is bypassed). cb(arg, events) reports UV_READABLE, and
 * UV_WRITABLE after queued bytes went out, or UPGRADE_ERROR once the connection failed. */
#define UPGRADE_READ_MIN (16384 + 256) /* reads must have room for a whole TLS record */
#define UPGRADE_ERROR    0x100
struct upgrade;
struct jp_httpd;
/* NULL on failure (the caller then closes the upgrade with MHD_upgrade_action). */
struct upgrade *upgrade_open(uv_loop_t *loop, struct MHD_Connection *conn, MHD_socket sock,
                             struct MHD_UpgradeResponseHandle *urh,
                             void (*cb)(void *arg, int events), void *arg);
/* > 0 bytes read, 0 at the end of the stream, UV_EAGAIN, or another negative error. */
ssize_t upgrade_read(struct upgrade *u, void *buf, size_t n);
/* Queues a then b (copied) and sends what the socket takes now; failures come through cb. */
void upgrade_write(struct upgrade *u, const void *a, size_t an, const void *b, size_t bn);
size_t upgrade_queued(const struct upgrade *u);
void upgrade_read_start(struct upgrade *u, bool on);
/* Hands the connection back to MHD to close and frees u; kick: run MHD now (NULL from inside
 * an MHD callback or while the server stops). */
void upgrade_close(struct upgrade *u, struct jp_httpd *kick);

/* portforward.c */
void serve_portforward(struct apireq *q, const struct route *r);
/* exec.c: pods/NAME/exec */
void serve_exec(struct apireq *q, const struct route *r);
/* eviction.c: POST pods/NAME/eviction */
void serve_eviction(struct apireq *q, const struct route *r);
/* token.c: POST serviceaccounts/NAME/token; whether a bearer token is a live account's (who it
 * names into who) */
void serve_token_request(struct apireq *q, const struct route *r);
struct jp_sa_identity;
bool sa_token_authenticates(struct apireq *q, const char *token, struct jp_sa_identity *who);
/* Who a request is from, when not the admin: a service account (its token), or whoever the
 * admin impersonates (kubectl --as, --as-group). */
#define JP_USER_GROUPS 8
struct jp_user {
    char name[600];
    char groups[JP_USER_GROUPS][256];
    int ngroups;
};
/* authz.c: RBAC for the user's request (path: the URL's, for non-resource requests); false
 * when refused, with the 403 sent */
bool authorize_user(struct apireq *q, const struct route *r, const struct jp_user *who,
                    const char *path);
/* whether who may impersonate the user or group (resource "users" or "groups") name; false
 * with the 403 sent */
bool authorize_impersonation(struct apireq *q, const struct jp_user *who, const char *resource,
                             const char *name);
/* POST .../selfsubjectaccessreviews (kubectl auth can-i), anyone's to ask; who NULL: the admin */
void serve_self_access_review(struct apireq *q, const struct jp_user *who);
/* spdysess.c: the request ends without an upgrade; every session ends (before the HTTP server
 * stops: MHD still owns their connections). */
void spdy_pending_free(struct apireq *q);
void spdy_session_close_all(struct jp_apiserver *srv);

/* discovery.c */
void discovery_build(struct jp_apiserver *s);
void discovery_free(struct jp_apiserver *s);
void serve_discovery(struct apireq *q, const struct route *r);
void serve_version(struct apireq *q);
void serve_openapi(struct apireq *q, const struct route *r);

/* rest.c */
/* The request body as an object: JSON, or protobuf (kubectl >= 1.32's typed clients) of the
 * schema type given. NULL when it is neither. Not checked against the schema, as the write
 * path checks a stored kind's. */
json_t *body_object(struct apireq *q, int schema_type);
/* Replies with obj (taken) as JSON. */
void reply_json_object(struct apireq *q, int status, json_t *obj);
void serve_resource(struct apireq *q, const struct route *r);
bool watch_requested(struct apireq *q);
struct jp_selector;
/* labelSelector and fieldSelector of the request; on error the reply is already prepared. */
int parse_selectors(struct apireq *q, const struct jp_kind *k, struct jp_selector **labels,
                    struct jp_selector **fields);
/* table.c */
bool wants_table(struct apireq *q, const char **content_type);
void table_begin(struct jp_buf *b, const struct jp_kind *k, bool columns, uint64_t rv,
                 const char *cont);
void table_row(struct jp_buf *b, const struct jp_obj *o, int64_t now, const char *include,
               bool first);
void table_end(struct jp_buf *b);

/* watch.c */
void serve_watch(struct apireq *q, const struct route *r);
void watch_close_all(struct jp_apiserver *s);

/* metrics.c */
void metrics_label(struct apireq *q, const struct route *r);
void metrics_observe(struct apireq *q);
void serve_metrics(struct apireq *q);
void metrics_free(struct jp_apiserver *s);

#endif
