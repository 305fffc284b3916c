/* Shared inside src/agent: the agent, its pods and their containers. All loop-thread state. */
#ifndef JP_AGENT_INTERNAL_H
#define JP_AGENT_INTERNAL_H

#include "agent/agent.h"
#include "api/quantity.h"
#include "agent/shim.h"
#include "api/record.h"

#include <jansson.h>
#include <string.h>

enum cstate { C_WAITING, C_RUNNING, C_TERMINATED };

struct container {
    struct pod *pod;
    char *name;
    bool init;
    json_t *spec; /* borrowed from pod->spec */
    enum cstate state;
    char reason[64]; /* waiting reason (ContainerCreating, CrashLoopBackOff, ...) */
    char message[512];
    int restarts; /* restartCount */
    int attempt;  /* the newest attempt directory, -1 before the first */
    int64_t started_ns;
    struct jp_shim_exit term; /* state.terminated (when C_TERMINATED) */
    struct jp_shim_exit last; /* lastState.terminated */
    bool has_last;
    bool fallback;                /* runs on the host filesystem (image not built in) */
    char *image_id, *image_id_of; /* status imageID, and the image it was looked up for */
    bool starting;                /* a start is under way on a worker thread */
    bool restarting;              /* ... and it is a restart: restartCount grows when it starts */
    bool respec;                  /* stopped because its image changed: start it again */
    /* the shim we wait for, through a pidfd: our child, or one re-adopted after a restart */
    uv_poll_t pidfd_poll;
    int pidfd;
    int shim_pid;
    bool poll_open;
    int kill_sig; /* a signal still to deliver once the container's pid is known */
    /* restart back-off */
    uv_timer_t backoff;
    int64_t backoff_ns;      /* the next delay; 0 before the first restart */
    int64_t backoff_step_ns; /* when the delay last grew (monotonic) */
    bool in_backoff;
    /* probes (probe.c): startup, liveness, readiness; NULL when absent */
    struct probe *probes[3];
    bool probe_ready;   /* readiness passed (true without a readiness probe) */
    bool probe_started; /* startup passed (true without a startup probe) */
};

struct pod {
    struct jp_agent *agent;
    char *uid, *ns, *name;
    json_t *obj;         /* the pod as last seen, without status: READ-ONLY below the top (it
                            shares the store's parsed version's nodes) */
    json_t *spec;        /* as first seen: a pod's spec is immutable but for images */
    struct container *c; /* init containers first */
    size_t n, ninit;
    char *dir;      /* the runtime directory: RUN/pods/<uid> (agent.c: run_dir) */
    char *disk_dir; /* DATA/pods/<uid>: volumes, logs, a stored image's writable layer */
    char phase[16];
    char reason[64], message[256];
    int64_t start_ns;
    bool no_token_mounts; /* the kernel refuses mounts without root: run without the token */
    bool started;         /* the pod has been accepted and its containers are being run */
    bool finished;        /* a terminal phase was reached (or found stored): nothing starts again */
    bool records_released; /* its runtime directory goes once its final status is stored */
    bool entered;         /* something ran in its namespaces outside the shims (exec, exec probes, a
                             shim lost with its container): its sandbox is never reused */
    bool frozen;          /* found settled at startup: the stored status stands as it is */
    bool fresh;           /* bound while this agent runs: no records of a server before */
    bool terminating;     /* being deleted (or past its deadline): containers are being stopped */
    bool delete_sent;     /* the final delete was requested */
    bool dirty;           /* status must be written */
    bool wake;            /* must be synced on the next tick */
    bool gone;            /* removed from the store */
    int netns_pid;        /* the pod's network-namespace holder, 0 for none */
    uint64_t netns_start; /* its start time (jp_proc_starttime), 0 when not known */
    bool sandbox_pending; /* its namespaces are being made on a worker thread */
    bool sandbox_queued;  /* waits for a sandbox: a pooled one, or a turn to make one */
    bool sandbox_turn;    /* woken from the line: goes before the pods still in it */
    bool sandbox_mnt;     /* the holder has a mount namespace its plain containers join */
    bool hosts_apart;     /* ... whose /etc/hosts is not this pod's file (a sandbox reused) */
    json_t *volumes;      /* volume name -> its directory (or hostPath) once prepared */
    uint32_t ip;          /* its address on the pod network (host order), 0 for none */
    uint32_t ip_was;      /* the address it had, once its sandbox is gone (its status keeps it) */
    uv_timer_t kill_timer, deadline;
    int64_t kill_at_ns; /* monotonic: SIGKILL what still runs from then on */
    int handles;        /* open uv handles; the pod is freed when the last one closes */
    bool freeing;
    struct pod_usage *usage; /* emptyDir sizeLimits being measured (volume_usage.c) */
    struct pod *next, *prev; /* a->pods, doubly linked: a freed pod leaves it at once */
    bool queued;             /* in a->queue: woken or dirty */
    bool deferred;           /* in a->deferred: a running pod's status waits for the flush */
    bool live;               /* counted in the agent's live_pods: not finished, not freed */
    uint64_t deferred_at;    /* since when (loop time, ms) */
};

struct jp_image; /* images/images.h */
struct jp_log_follow;

struct jp_agent {
    uv_loop_t *loop;
    struct jp_store *store;
    struct jp_agent_opts opts;
    char *node, *pods_dir, *self_exe, *kuard_exe;
    /* where pods' runtime records go (shim state, exit records, sandbox records, hosts): a
     * tmpfs when there is one, as /run is containerd's, else pods_dir itself */
    char *run_dir, *run_pods_dir; /* RUN and RUN/pods */
    char *images_from;            /* the data dir whose image store (DATA/images) pods use */
    struct jp_store_sub *sub;
    struct jp_recorder *events;
    struct pod *pods;
    json_t *by_uid; /* pod uid -> its struct pod, as an integer (agent.c) */
    /* the pods the next tick looks at: a tick walks these, never every pod the node has (a
     * Job's thousands of finished ones) */
    struct pod **queue;
    size_t nqueue, queue_cap;
    struct jp_log_follow *follows;
    uv_timer_t tick; /* syncs woken pods and writes dirty status once per loop turn */
    /* when busy, running pods' status waits up to STATUS_COALESCE_MS: a short container's
     * Pending, Running and end then make one write (agent.c) */
    uv_timer_t flush;
    struct pod **deferred;
    size_t ndeferred, deferred_cap;
    size_t live_pods;           /* pods not finished (agent.c: busy) */
    bool netns;                 /* pods get their own network namespace (needs root) */
    bool loopback_names;        /* not root: hosts files name every Service 127.0.0.1 (hosts.c) */
    struct agent_net *net;      /* the pod network, NULL without one */
    struct sandbox_pool *pool;  /* finished pods' sandboxes for the next ones (NULL: none) */
    unsigned sandboxes_making;  /* namespaces being made now (spawn.c: SANDBOXES_AT_ONCE) */
    struct pod **sandbox_queue; /* pods waiting for a sandbox, first come first served */
    size_t nsandbox_queue, sandbox_queue_cap;
    struct janitor *janitor; /* removes settled pods' records off the loop (janitor.c) */
    struct agent_proxy *proxy;
    bool services_changed; /* hosts files and proxy listeners to bring up to date */
    bool stopping;
    uint16_t kind_pods, kind_services, kind_secrets, kind_configmaps, kind_endpoints,
        kind_serviceaccounts;
};

/* agent.c */
struct pod *agent__find(struct jp_agent *a, const char *ns, const char *name);
struct pod *agent__find_uid(struct jp_agent *a, const char *uid);
/* Appends p to a growing list of pods (the tick's queue, the deferred status writes, the pods
 * waiting for a sandbox). */
void agent__push_pod(struct pod ***v, size_t *n, size_t *cap, struct pod *p);
/* Whether runtime records go to a directory of their own (the tmpfs), not DATA/pods. */
static inline bool agent__records_apart(const struct jp_agent *a)
{
    return strcmp(a->run_pods_dir, a->pods_dir) != 0;
}
void agent__wake(struct pod *p);
void agent__dirty(struct pod *p);
/* The pod's address: its own on the pod network, else the node's loopback it shares. */
const char *agent__pod_ip(const struct pod *p, char buf[static 16]);
void agent__event(const struct pod *p, const struct container *c, const char *type,
                  const char *reason, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* pod.c */
/* fresh: bound to the node since the agent started (no records of a server before to adopt) */
struct pod *pod__new(struct jp_agent *a, json_t *obj /* taken */, bool fresh);
void pod__update(struct pod *p, json_t *obj /* taken */);
void pod__sync(struct pod *p);
void pod__container_exited(struct container *c);
/* A start finished: err is NULL, or why the container could not start. */
void pod__container_started(struct container *c, const char *err);
void pod__unref(struct pod *p); /* drops a reference taken by counting it in handles */
/* Stops the pod's timers and frees it once they are closed (it is already unlinked). */
void pod__close(struct pod *p);
void pod__handle_closed(uv_handle_t *h); /* close callback for every handle of a pod */
bool pod__running(const struct pod *p);  /* any shim still watched */
/* Whether the pod's runtime records are kept apart from its disk directory (on the tmpfs). */
static inline bool pod__records_apart(const struct pod *p)
{
    return strcmp(p->dir, p->disk_dir) != 0;
}
/* runtime/spawn.c */
char *spawn__attempt_dir(const struct container *c, int attempt);
/* Where that attempt's log (and a stored image's writable layer) goes: on disk. */
char *spawn__log_dir(const struct container *c, int attempt);
/* The container's attempt was started, then its records were lost (the machine restarted). */
void spawn__lost(struct container *c);
int spawn__start(struct container *c, char **argv, const char *path, const struct jp_image *img,
                 struct jp_err **err);
void spawn__adopt(struct container *c);
void spawn__kill(struct container *c, int sig);
/* The running container's main process, from its shim's record; 0 until the shim has started
 * it (or when it is not running). */
int spawn__container_pid(const struct container *c);
int spawn__sandbox(struct pod *p, struct jp_err **err);
/* A live namespace holder recorded in dir (or 0), and the address recorded with it (0: none). */
int spawn__holder_recorded(const char *dir, uint32_t *ip);
/* p takes the holder a server before recorded for it (after a restart), with its address:
 * netns_pid and ip (0: none), and what is known of the sandbox. Returns netns_pid. */
int spawn__holder_adopt(struct pod *p);
/* The launcher (runtime/launcher.c) forks them; 0 or an errno. Any thread. */
void launcher__configure(const char *log_path); /* where shims complain (before any launch) */
int launcher__shim(const char *exe, const char *dir, int *pid, int *pidfd);
int launcher__holder(const char *exe, const char *dir, const char *host, int ns_flags, int *pid);
int spawn__holder(const char *self_exe, const char *dir, const char *hostname, int clone_flags,
                  uint32_t ip, int *pid, uint64_t *started /* or NULL */, struct jp_err **err);
void spawn__netns_release(struct pod *p);
/* A sandbox was freed or made: the first pod waiting for one tries again. */
void spawn__sandbox_next(struct jp_agent *a);
/* At the agent's stop: the waiting pods are let go. */
void spawn__sandbox_queue_free(struct jp_agent *a);
/* The pid of the holder recorded in dir/name (its address in *ip), if it still runs. */
int spawn__holder_record_read(const char *dir, const char *name, uint32_t *ip);

/* dirs.c */
char *agent__choose_run_dir(const char *data_dir); /* RUN: a tmpfs's, or data_dir itself */
void agent__tidy_run_dir(const char *dir);         /* removes RUN and its parents as far as empty */
void agent__reap_orphans(struct jp_agent *a);      /* what pods gone meanwhile left behind */

/* runtime/sandbox_pool.c */
void pool__start(struct jp_agent *a, const char *data_dir);
void pool__stop(struct jp_agent *a); /* kills the idle sandboxes */
/* A finished pod's sandbox kept for another (p loses it); false if it may not be. */
bool pool__put(struct pod *p);
/* An idle sandbox for p, with its hostname set; false if none is. */
bool pool__take(struct pod *p);
/* network/net.c: the pod network (a node namespace with a bridge; a veth and an address per pod) */
int net__start(struct jp_agent *a, const char *data_dir, struct jp_err **err);
void net__stop(struct jp_agent *a, bool release); /* release: tear the node namespace down */
void net__free(struct agent_net *net);
uint32_t net__alloc(struct jp_agent *a); /* a free pod address, 0 when none is */
void net__claim(struct jp_agent *a, uint32_t ip);
void net__free_ip(struct jp_agent *a, uint32_t ip);
int net__attach(struct pod *p, struct jp_err **err); /* idempotent */
/* The same for a holder's pid and an address: safe on a worker thread. */
int net__connect(struct agent_net *net, int pid, uint32_t ip, bool fresh, const char *what,
                 struct jp_err **err);
int net__socket(struct jp_agent *a, int type); /* a socket in the node's namespace */
const char *net__ip_str(uint32_t ip, char buf[static 16]);
uint32_t net__node_ip(void);
/* volumes.c: the pod's volumes under DIR/volumes, and each container's mounts of them */
int volumes__prepare(struct pod *p, char *why, size_t n); /* 0, or -1 with why (FailedMount) */
json_t *volumes__mounts(struct pod *p, const struct container *c, char *why, size_t n);
/* A volumeMount of the account token admission added (api/kinds/pod_admission.c). */
bool volumes__is_token_mount(const json_t *volume_mount);
/* probe.c */
void probe__start(struct container *c); /* the container is running */
void probe__stop(struct container *c);  /* it stopped, or the pod goes */
/* A socket to probe the pod's port from, and the address to connect it to. */
int agent__probe_socket(const struct pod *p, uint16_t port, struct sockaddr_in *to);
/* network/hosts.c: the pod's /etc/hosts naming Services */
char *hosts__path(const struct pod *p);
bool hosts__wanted(const struct pod *p); /* whether its containers get its hosts file */
void hosts__write(struct pod *p);
void hosts__refresh(struct jp_agent *a); /* every pod's, after Services changed */
/* network/proxy.c: Services' ClusterIP:port forwarded to their endpoints */
void proxy__start(struct jp_agent *a);
void proxy__sync(struct jp_agent *a); /* after Services or Endpoints changed */
void proxy__stop(struct jp_agent *a);
/* logs.c */
/* The container (named, or the only app container) and attempt that log options mean; NULL
 * with a Status (400, kubectl's texts) when there is none. */
const struct container *agent__pick(struct jp_agent *a, const char *ns, const char *pod,
                                    const struct jp_log_opts *o, int *attempt,
                                    struct jp_status **st);
void agent__logs_stop(struct jp_agent *a);
/* janitor.c */
struct janitor *janitor__start(void);
void janitor__stop(struct janitor *j); /* after the removals handed over so far are done */
/* Removes PATH (a settled pod's records) once every write made so far has committed. */
void janitor__remove_when_durable(struct janitor *j, struct jp_store *store, const char *path);

/* status.c */
json_t *status__build(const struct pod *p, const json_t *old_status);
void status__write(struct pod *p);
/* image.c */
/* argv (and path) of a container; *stored: its image from the local store, or NULL (caller
 * frees with jp_image_free). 0; -1 for an image that fails to pull; -2 for one that cannot run,
 * with why. */
int image__resolve(struct jp_agent *a, const json_t *container, char ***argv, char **path,
                   bool *fallback, struct jp_image **stored, char *why, size_t n);
/* What a stored image adds to a start (all unset for other images). */
struct image_run {
    char *rootfs;     /* its root filesystem (real path) */
    char *workdir;    /* its working directory, NULL for none */
    int64_t uid, gid; /* its user, -1 for none */
};
/* Fills run for a stored image (NULL: none) and puts its environment under env (the container's
 * entries win). -1 with err when the image cannot be used. */
int image__prepare(const struct jp_image *img, const json_t *container, char ***env,
                   struct image_run *run, struct jp_err **err);
void image__user(const struct image_run *run, int64_t *uid, int64_t *gid); /* runAsUser wins */
void image__run_free(struct image_run *run);
/* status imageID: sha256:<digest> for a stored image */
void image__id(struct jp_agent *a, const char *image, char *out, size_t n);
/* env.c */
char **env__build(struct jp_agent *a, const struct pod *p, const json_t *container);
char *env__expand(const char *s, char **env);
/* A fieldRef's value (metadata.name, metadata.labels['k'], status.podIP, ...). */
char *env__field_ref(const struct pod *p, const char *path);
void env__free(char **env);

/* ---- emptyDir media and sizeLimit: volumes.c, volume_usage.c ---- */
/* Detaches whatever is mounted on DIR/volumes/NAME (a Memory emptyDir's tmpfs) so that the pod
 * directory DIR can go without leaving a mount behind or emptying a live one. */
void volumes__unmount(const char *pod_dir);
/* Starts measuring the pod's disk emptyDirs that have a sizeLimit, every 10 s (scaled by
 * backoff_scale); a volume over its limit gets the pod evicted, as the kubelet does. */
void usage__watch(struct pod *p);
void usage__close(struct pod *p); /* from pod__close: stops measuring and frees */
/* pod.c: stops every container (SIGTERM, SIGKILL after grace_s) and fails the pod for good with
 * status reason and message (the caller records the event). */
void pod__fail(struct pod *p, const char *reason, const char *message, int64_t grace_s);
#endif
