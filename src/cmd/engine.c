/* The engine's wiring, shared by `jobplane server` and `jobplane run`. */
#include "cmd/engine.h"
#include "api/kinds.h"
#include "apiserver/apiserver.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/parse.h"
#include "controllers/bootstrap.h"
#include "controllers/endpoints.h"
#include "controllers/eventttl.h"
#include "controllers/gc.h"
#include "controllers/job.h"
#include "controllers/replicaset.h"
#include "controllers/scheduler.h"
#include "controllers/ttl.h"
#include "pki/pki.h"
#include "pki/satoken.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct jp_engine {
    bool have_pki;
    struct jp_pki pki;
    struct jp_sa_signer *sa; /* service account tokens, with the pki */
    struct jp_store *store;
    struct jp_bootstrap *boot;
    struct jp_gc *gc;
    struct jp_jobctl *jobs;
    struct jp_ttlctl *ttl;
    struct jp_rsctl *rs;
    struct jp_epctl *ep;
    struct jp_eventttl *event_ttl;
    struct jp_metrics *metrics;
    struct jp_scheduler *sched;
    struct jp_agent *agent;
    struct jp_apiserver *api;
    char *url;
    int lock_fd; /* DATA/lock, held while the engine lives */
};

static const char *const known[] = {"endpoint", "garbagecollector", "job", "replicaset",
                                    "ttl-after-finished"};

/* kube-controller-manager's --controllers: "*" is every controller, "name" adds one, "-name"
 * removes one; the last word about a name wins. */
static bool controller_on(const char *list, const char *name)
{
    bool on = false;
    char *copy = jp_xstrdup(list ? list : "*"), *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (!strcmp(w, "*"))
            on = true;
        else if (w[0] == '-' && !strcmp(w + 1, name))
            on = false;
        else if (!strcmp(w, name))
            on = true;
    }
    free(copy);
    return on;
}

bool jp_engine_known_controllers(const char *list)
{
    char *copy = jp_xstrdup(list), *save = NULL;
    bool ok = true;
    for (char *w = strtok_r(copy, ",", &save); w && ok; w = strtok_r(NULL, ",", &save)) {
        const char *n = w[0] == '-' ? w + 1 : w;
        bool found = !strcmp(n, "*");
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            found |= !strcmp(n, known[i]);
        ok = found;
    }
    free(copy);
    return ok;
}

const char jp_engine_flags_help[] =
    "  --backoff-scale F         multiply the kubelet's restart and image-pull back-offs and the "
    "Job back-off by F, e.g. 0.01 for quick local loops (default 1)\n"
    "  --job-backoff-base D      the Job pod re-creation back-off's first wait (default 10s), "
    "doubling per failure...\n"
    "  --job-backoff-max D       ...up to this (default 10m)\n"
    "  --no-host-fallback        images other than the built-in ones fail to pull instead of "
    "running their command on the host filesystem\n"
    "  --no-pod-network          no pod addresses or Service routing: each pod (as root) gets a "
    "network namespace with loopback only\n"
    "  --event-ttl D             how long an Event lives after its last write (default 1h)\n"
    "  --kuard PATH              the program behind the built-in kuard image (default: kuard "
    "beside this binary)\n";

int jp_engine_flag(struct jp_engine_flags *f, int ch, const char *arg, const char *verb)
{
    switch (ch) {
    case 'b': {
        char *end;
        double v = strtod(arg, &end);
        if (*arg == '\0' || *end != '\0' || !(v > 0 && v <= 100)) {
            fprintf(stderr, "jobplane %s: --backoff-scale wants a number in (0, 100]\n", verb);
            return -1;
        }
        f->backoff_scale = v;
        return 1;
    }
    case 'J':
    case 'M': {
        int64_t ns;
        struct jp_err *err = NULL;
        if (jp_parse_duration(arg, &ns, &err) < 0 || ns == 0) {
            fprintf(stderr, "jobplane %s: --%s wants a duration like 10s or 6m%s%s\n", verb,
                    ch == 'J' ? "job-backoff-base" : "job-backoff-max", err ? ": " : "",
                    err ? err->msg : "");
            jp_err_free(err);
            return -1;
        }
        *(ch == 'J' ? &f->job_backoff_base_ns : &f->job_backoff_max_ns) = ns;
        return 1;
    }
    case 'n':
        f->no_host_fallback = true;
        return 1;
    case 'P':
        f->no_pod_network = true;
        return 1;
    case 'E': {
        int64_t ns;
        struct jp_err *err = NULL;
        if (jp_parse_duration(arg, &ns, &err) < 0 || ns <= 0) {
            fprintf(stderr, "jobplane %s: --event-ttl wants a duration like 1h or 30m%s%s\n", verb,
                    err ? ": " : "", err ? err->msg : "");
            jp_err_free(err);
            return -1;
        }
        f->event_ttl_ns = ns;
        return 1;
    }
    case 'k':
        f->kuard = arg;
        return 1;
    default:
        return 0;
    }
}

static int start_node(uv_loop_t *loop, struct jp_engine *e, const struct jp_engine_opts *o,
                      const char *host, struct jp_err **err)
{
    e->sched = jp_scheduler_start(loop, e->store, host);
    char *self = jp_self_exe();
    char *shim = jp_sibling_exe(self, "jobplane-shim");
    if (access(shim, X_OK) == 0) { /* the small one; else this binary's own `shim` verb */
        free(self);
        self = shim;
    } else {
        free(shim);
    }
    const struct jp_engine_flags *f = &o->flags;
    char *kuard = f->kuard ? jp_xstrdup(f->kuard) : jp_sibling_exe(self, "kuard");
    struct jp_agent_opts go = {.node_name = host,
                               .data_dir = o->data_dir,
                               .images_from = o->images_from,
                               .self_exe = self,
                               .kuard_exe = kuard,
                               .backoff_scale = f->backoff_scale > 0 ? f->backoff_scale : 1.0,
                               .host_fallback = !f->no_host_fallback,
                               .pod_network = !f->no_pod_network,
                               .release_network = o->temporary,
                               .sa = e->sa};
    int rc = jp_agent_start(loop, e->store, &go, &e->agent, err);
    free(self);
    free(kuard);
    return rc;
}

static int serve(uv_loop_t *loop, struct jp_engine *e, const struct jp_engine_opts *o,
                 struct jp_err **err)
{
    struct jp_apiserver_opts ao = {.host = o->host,
                                   .port = o->port,
                                   .pki = &e->pki,
                                   .agent = e->agent,
                                   .metrics = e->metrics,
                                   .sa = e->sa};
    if (jp_apiserver_start(loop, e->store, &ao, &e->api, err) < 0) return -1;
    bool v6 = strchr(o->host, ':') != NULL;
    e->url = jp_xasprintf("https://%s%s%s:%u", v6 ? "[" : "", o->host, v6 ? "]" : "",
                          jp_apiserver_port(e->api));
    return jp_pki_write_kubeconfig(&e->pki, o->data_dir, e->url, err);
}

int jp_engine_start(uv_loop_t *loop, const struct jp_engine_opts *o, struct jp_engine **out,
                    struct jp_err **err)
{
    struct jp_engine *e = jp_xcalloc(1, sizeof(*e));
    *out = e;
    e->lock_fd = -1;
    e->metrics = jp_metrics_new();
    int rc;
    if (jp_mkdir_private(o->data_dir, err) < 0) return -1;
    /* two engines on one data directory would each run, adopt and write the same pods */
    if ((e->lock_fd = jp_lock_dir(o->data_dir, err)) < 0) return -1;
    if (o->serve) {
        /* pods reach the API as the kubernetes Service (jp_bootstrap_api_service): its names */
        static const char *const cluster[] = {"10.96.0.1", "kubernetes", "kubernetes.default",
                                              "kubernetes.default.svc",
                                              "kubernetes.default.svc.cluster.local"};
        enum { NCLUSTER = sizeof(cluster) / sizeof(cluster[0]) };
        size_t n = 0;
        while (o->sans && o->sans[n])
            n++;
        const char **sans = jp_xcalloc(n + NCLUSTER + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            sans[i] = o->sans[i];
        for (size_t i = 0; i < NCLUSTER; i++)
            sans[n + i] = cluster[i];
        rc = jp_pki_ensure(o->data_dir, sans, &e->pki, err);
        free(sans);
        if (rc < 0) return -1;
        e->have_pki = true;
        if (jp_sa_signer_new(e->pki.sa_key, &e->sa, err) < 0) return -1;
        jp_pod_admission_mount_tokens(true); /* pods can reach this API: give them its token */
    }
    char *db = jp_xasprintf("%s/state.db", o->data_dir);
    struct jp_store_opts so = {.path = db, .sync_full = o->sync_full};
    struct jp_store_hooks hooks = {jp_nkinds, jp_kinds_store_name, jp_kinds_store_index,
                                   jp_kinds_store_load};
    rc = jp_store_open(loop, &so, &hooks, &e->store, err);
    free(db);
    if (rc < 0) return -1;
    char host[256] = "jobplane";
    gethostname(host, sizeof(host) - 1);
    if (jp_bootstrap_start(e->store, host, e->have_pki ? e->pki.ca_crt : NULL, &e->boot, err) < 0)
        return -1;
    if (controller_on(o->controllers, "garbagecollector") &&
        jp_gc_start(loop, e->store, &e->gc, err) < 0)
        return -1;
    if (controller_on(o->controllers, "job"))
        e->jobs = jp_jobctl_start(loop, e->store,
                                  &(struct jp_jobctl_opts){o->flags.job_backoff_base_ns,
                                                           o->flags.job_backoff_max_ns,
                                                           o->flags.backoff_scale, e->metrics});
    if (controller_on(o->controllers, "replicaset")) e->rs = jp_rsctl_start(loop, e->store);
    if (controller_on(o->controllers, "endpoint")) e->ep = jp_epctl_start(loop, e->store);
    e->event_ttl = jp_eventttl_start(
        loop, e->store, o->flags.event_ttl_ns ? o->flags.event_ttl_ns : 3600 * 1000000000LL);
    if (controller_on(o->controllers, "ttl-after-finished"))
        e->ttl = jp_ttlctl_start(loop, e->store);
    if (!o->no_node && start_node(loop, e, o, host, err) < 0) return -1;
    if (o->serve && serve(loop, e, o, err) < 0) return -1;
    jp_bootstrap_api_service(e->boot, o->host, o->serve ? jp_apiserver_port(e->api) : 0);
    return 0;
}

void jp_engine_stop_controllers(struct jp_engine *e)
{
    jp_jobctl_stop(e->jobs);
    e->jobs = NULL;
    jp_ttlctl_stop(e->ttl);
    e->ttl = NULL;
    jp_rsctl_stop(e->rs);
    e->rs = NULL;
    jp_epctl_stop(e->ep);
    e->ep = NULL;
}

void jp_engine_stop(struct jp_engine *e)
{
    if (e == NULL) return;
    jp_process_ending(); /* the commands end right after this: see base/alloc.h */
    if (e->api) jp_apiserver_close(e->api); /* before the agent: its log streams hold followers */
    jp_agent_stop(e->agent);
    jp_scheduler_stop(e->sched);
    jp_jobctl_stop(e->jobs);
    jp_ttlctl_stop(e->ttl);
    jp_rsctl_stop(e->rs);
    jp_epctl_stop(e->ep);
    jp_eventttl_stop(e->event_ttl);
    jp_gc_stop(e->gc);
    jp_bootstrap_stop(e->boot);
    jp_store_close(e->store);
    jp_sa_signer_free(e->sa);
    if (e->have_pki) jp_pki_free(&e->pki);
    free(e->url);
    jp_metrics_free(e->metrics);
    if (e->lock_fd >= 0) close(e->lock_fd);
    free(e);
}

struct jp_store *jp_engine_store(struct jp_engine *e)
{
    return e->store;
}
struct jp_agent *jp_engine_agent(struct jp_engine *e)
{
    return e->agent;
}
const char *jp_engine_url(struct jp_engine *e)
{
    return e->url;
}
