/* Shared between endpoints.c (the Endpoints object) and endpoint_slices.c (EndpointSlices). */
#ifndef JP_CONTROLLERS_ENDPOINTS_INTERNAL_H
#define JP_CONTROLLERS_ENDPOINTS_INTERNAL_H

#include "api/status.h"
#include "api/write.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

#define COMPONENT        "endpoints-controller"
#define SLICE_MANAGER    "endpointslice-controller.k8s.io"
#define LABEL_SERVICE    "kubernetes.io/service-name"
#define LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"

struct jp_epctl {
    struct jp_store *store;
    struct jp_store_sub *sub;
    struct jp_workqueue *queue;
    uint16_t kind_svc, kind_ep, kind_pods;
    int kind_slices; /* -1 when the API has no EndpointSlice */
};

/* The pods that share one resolved port list. */
struct group {
    json_t *ports;             /* [{name?, port, protocol, appProtocol?}] */
    json_t *ready, *not_ready; /* Endpoints addresses */
    json_t *slice_endpoints;   /* EndpointSlice endpoints */
};

/* One sync's view of a Service and the pods it selects. */
struct collect {
    struct jp_epctl *e;
    const json_t *svc;
    struct jp_selector *sel;
    bool publish_not_ready;
    json_t *groups; /* port-list JSON -> index into v */
    struct group *v;
    size_t n;
};

struct jp_write_ctx endpoints__ctx(struct jp_epctl *e, uint16_t kind, const char *ns);
void endpoints__log_failure(const char *what, const char *ns, const char *name,
                            struct jp_status *st /* freed */);
/* A copy of a list of addresses or slice endpoints in IP order. OUT: caller decrefs. */
json_t *endpoints__sorted(const json_t *list);
/* The Service's labels (and the headless marker) that its Endpoints and slices carry. */
json_t *endpoints__labels_of(const json_t *svc);
void endpoints__write_slices(struct jp_epctl *e, const char *ns, const char *name,
                             const json_t *svc, const struct collect *c);

#endif
