/* jobplane's Kubernetes API over HTTPS: discovery, OpenAPI, REST verbs for every kind of the kind
 * table, watches, Tables and Status errors, authenticated by client certificate or bearer token.
 * Runs on the caller's loop; writes are acknowledged only once the store has committed them. */
#ifndef JP_APISERVER_H
#define JP_APISERVER_H

#include "agent/agent.h"
#include "base/err.h"
#include "pki/pki.h"
#include "pki/satoken.h"
#include "base/metrics.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct jp_apiserver_opts {
    const char *host;         /* 127.0.0.1 unless told otherwise */
    uint16_t port;            /* 6443; 0 picks a free one */
    const struct jp_pki *pki; /* NULL serves plain HTTP without authentication (tests only) */
    struct jp_agent *agent;   /* the node agent for pods/log; NULL: containers never start */
    const struct jp_metrics *metrics; /* the controllers' series for /metrics; may be NULL */
    const struct jp_sa_signer *sa;    /* service account tokens (pki/satoken.h); may be NULL */
};

struct jp_apiserver;

int jp_apiserver_start(uv_loop_t *loop, struct jp_store *store,
                       const struct jp_apiserver_opts *opts, struct jp_apiserver **out,
                       struct jp_err **err);
uint16_t jp_apiserver_port(const struct jp_apiserver *s);
void jp_apiserver_close(struct jp_apiserver *s);

#endif
