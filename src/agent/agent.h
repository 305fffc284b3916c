/* The node agent: runs the pods bound to this node as Linux processes, each container under a
 * shim, restarts them per restartPolicy with the kubelet's back-off, terminates them gracefully
 * on deletion, reports their status through the API, serves their logs, and re-adopts running
 * containers after a restart of the server. See docs/internals/agent.md. */
#ifndef JP_AGENT_H
#define JP_AGENT_H

#include "api/status.h"
#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <uv.h>

struct jp_agent_opts {
    const char *node_name;
    const char *data_dir;    /* containers live under DATA/pods */
    const char *images_from; /* the data dir whose image store is used; NULL: data_dir */
    const char *self_exe;    /* runs "<self_exe> shim ...": jobplane-shim or jobplane */
    const char *kuard_exe;   /* the built-in kuard image's /kuard */
    double backoff_scale;    /* 1.0: the kubelet's 10 s doubling to 300 s; tests use less */
    bool host_fallback;      /* run unknown images' commands on the host filesystem */
    bool pod_network;        /* as root: pods get addresses on a network of the node's own */
    bool release_network;    /* stopping takes that network down even under running pods */
    const struct jp_sa_signer
        *sa; /* mints the tokens of serviceAccountToken volumes; may be NULL */
};

struct jp_agent;
struct jp_sa_signer; /* pki/satoken.h */

int jp_agent_start(uv_loop_t *loop, struct jp_store *store, const struct jp_agent_opts *opts,
                   struct jp_agent **out, struct jp_err **err);
void jp_agent_stop(struct jp_agent *a);
/* How pods reach Services by name. */
enum jp_agent_services {
    JP_SERVICES_UNREACHABLE, /* root with --no-pod-network, or user namespaces refused */
    JP_SERVICES_ON_LOOPBACK, /* not root: pods share the host network, and each container's
                                /etc/hosts (in a user namespace) names every Service 127.0.0.1:
                                no proxy, so a Service's port must be the one its pods listen on */
    JP_SERVICES_PROXIED,     /* root: the pod network, ClusterIPs proxied to the pods */
};
enum jp_agent_services jp_agent_services(const struct jp_agent *a);

/* pods/NAME/portforward: a new TCP socket (non-blocking, close-on-exec, not yet connected) in
 * the pod's network namespace, and the address to connect it to (its 127.0.0.1:port, as the
 * kubelet forwards). A pod on the host network gets one in the server's own namespace. -1 with
 * a Status: 404 for no such pod on this node, 400 for a pod that is not running. */
int jp_agent_pod_socket(struct jp_agent *a, const char *ns, const char *pod, uint16_t port,
                        struct sockaddr_in *to, struct jp_status **st);

/* pods/NAME/exec: the process a command joins - the running container's main process, whose
 * network, UTS and mount namespaces, working directory and environment
 * `SHIM_EXE shim --exec PID -- CMD...` takes - and that shim program. container NULL: the only
 * app container. -1 with a Status (400) when the container is not running. */
int jp_agent_exec_target(struct jp_agent *a, const char *ns, const char *pod, const char *container,
                         int *pid, const char **shim_exe, struct jp_status **st);

/* pods/NAME/log: options as the API takes them. */
struct jp_log_opts {
    const char *container; /* NULL: the only (or first) container */
    bool previous, timestamps, follow;
    int64_t tail_lines;  /* -1: all */
    int64_t since_ns;    /* 0: from the start; an absolute time otherwise */
    int64_t limit_bytes; /* 0: no limit */
};

/* Appends the log text; 0, or -1 with a Status (404 pod, 400 container/previous). */
int jp_agent_log(struct jp_agent *a, const char *ns, const char *pod, const struct jp_log_opts *o,
                 struct jp_buf *out, struct jp_status **st);

/* A follower for `kubectl logs -f`: called with new text as it is written; ends (done=true)
 * when the container has exited and its output is drained. */
struct jp_log_follow;
struct jp_log_follow *jp_agent_log_follow(
    struct jp_agent *a, const char *ns, const char *pod, const struct jp_log_opts *o,
    void (*fn)(const char *text, size_t n, bool done, void *arg), void *arg, struct jp_status **st);
void jp_agent_log_follow_stop(struct jp_log_follow *f);

#endif
