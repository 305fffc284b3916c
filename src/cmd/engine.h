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

/* The node's and controllers' flags, shared by server and run (jp_engine_flag parses them).
 * Zero values are the defaults. */
struct jp_engine_flags {
    double backoff_scale; /* the kubelet's and the job controller's back-offs, multiplied; 0: 1 */
    int64_t job_backoff_base_ns, job_backoff_max_ns; /* 0: upstream's 10 s and 10 min */
    bool no_host_fallback;
    bool no_pod_network;
    int64_t event_ttl_ns; /* 0: kube-apiserver's 1 h */
    const char *kuard;    /* NULL: kuard beside this binary */
};

/* getopt_long entries for those flags (short codes 'b', 'J', 'M', 'n', 'P', 'E', 'k'). */
#define JP_ENGINE_LONG_OPTIONS                                                                     \
    {"backoff-scale", required_argument, NULL, 'b'},                                               \
        {"job-backoff-base", required_argument, NULL, 'J'},                                        \
        {"job-backoff-max", required_argument, NULL, 'M'},                                         \
        {"no-host-fallback", no_argument, NULL, 'n'}, {"no-pod-network", no_argument, NULL, 'P'},  \
        {"event-ttl", required_argument, NULL, 'E'},                                               \
    {                                                                                              \
        "kuard", required_argument, NULL, 'k'                                                      \
    }

/* Their lines for a verb's --help. */
extern const char jp_engine_flags_help[];

/* 1: CH was one of those flags and is applied to F; 0: not one of them; -1: a bad value, said
 * on stderr after "jobplane VERB: ". */
int jp_engine_flag(struct jp_engine_flags *f, int ch, const char *arg, const char *verb);

struct jp_engine_opts {
    const char *data_dir;
    const char *images_from; /* the data dir whose image store pods use; NULL: data_dir */
    bool temporary;          /* the data dir goes with the run: so does the pod network */
    bool sync_full;
    struct jp_engine_flags flags;
    bool no_node;            /* no scheduler, no agent */
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
/* Closes everything; the caller then runs the loop until the handles have closed, and ends:
 * what lives as long as the store is left to the process's end (base/alloc.h). */
void jp_engine_stop(struct jp_engine *e);

struct jp_store *jp_engine_store(struct jp_engine *e);
struct jp_agent *jp_engine_agent(struct jp_engine *e); /* NULL with no_node */
const char *jp_engine_url(struct jp_engine *e);        /* NULL unless serving */

/* Whether every name in a --controllers list is known. */
bool jp_engine_known_controllers(const char *list);
#define JP_ENGINE_CONTROLLERS "garbagecollector, job, replicaset, ttl-after-finished"

#endif
