/* The engine: store, bootstrap objects, controllers, scheduler, node agent and (optionally) the
 * API server, wired on one loop. `jobplane server` runs it until a signal; `jobplane run` embeds
 * it for one run. */
#ifndef JP_CMD_ENGINE_H
#define JP_CMD_ENGINE_H

#include "agent/agent.h"
#include "base/err.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct jp_engine_opts {
    const char *data_dir;
    bool sync_full;
    double backoff_scale; /* the kubelet's and the job controller's back-offs, multiplied */
    int64_t job_backoff_base_ns, job_backoff_max_ns; /* 0: upstream's 10 s and 10 min */
    bool host_fallback;
    bool no_node;            /* no scheduler, no agent */
    const char *kuard;       /* NULL: kuard beside this binary */
    const char *controllers; /* kube-controller-manager syntax; NULL: all */
    bool serve;              /* serve the API on host:port and write DATA/kubeconfig */
    const char *host;
    uint16_t port;
    const char *const *sans; /* NULL-terminated extra certificate names */
};

struct jp_engine;

int jp_engine_start(uv_loop_t *loop, const struct jp_engine_opts *o, struct jp_engine **out,
                    struct jp_err **err);
/* Stops the controllers only: nothing creates pods any more (for a clean teardown). */
void jp_engine_stop_controllers(struct jp_engine *e);
/* Closes everything; the caller then runs the loop until the handles have closed. */
void jp_engine_stop(struct jp_engine *e);

struct jp_store *jp_engine_store(struct jp_engine *e);
struct jp_agent *jp_engine_agent(struct jp_engine *e); /* NULL with no_node */
const char *jp_engine_url(struct jp_engine *e);        /* NULL unless serving */

/* Whether every name in a --controllers list is known. */
bool jp_engine_known_controllers(const char *list);
#define JP_ENGINE_CONTROLLERS "garbagecollector, job, replicaset, ttl-after-finished"

#endif
