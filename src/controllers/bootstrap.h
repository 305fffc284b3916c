/* What a fresh cluster has before anyone asks: the four system namespaces, a "default"
 * ServiceAccount and the kube-root-ca.crt ConfigMap in every namespace (kept up as namespaces are
 * created), this machine's Node object and the API's own Service. */
#ifndef JP_CONTROLLERS_BOOTSTRAP_H
#define JP_CONTROLLERS_BOOTSTRAP_H

#include "base/err.h"
#include "store/store.h"

struct jp_bootstrap;

/* ca: the API's CA certificate (PEM), published in every namespace as kube-root-ca.crt; NULL
 * when the API is not served */
int jp_bootstrap_start(struct jp_store *store, const char *node_name, const char *ca,
                       struct jp_bootstrap **out, struct jp_err **err);
void jp_bootstrap_stop(struct jp_bootstrap *b);
/* The API's own Service, default/kubernetes, as every cluster has it: 10.96.0.1:443 ("https")
 * to the port the API is served on, with Endpoints and an EndpointSlice naming host:port
 * (127.0.0.1 for a wildcard host). Its KUBERNETES_SERVICE_* variables reach every pod. port 0:
 * the API is not served - the Service alone, to 6443. Rewritten at every start (the port may
 * change), as kube-apiserver reconciles it. */
void jp_bootstrap_api_service(struct jp_bootstrap *b, const char *host, int port);

#endif
