/* A pod's /etc/hosts (on the pod network): localhost, the pod's own name, and every Service with
 * a ClusterIP under the names cluster DNS would answer from the pod's namespace ("queue",
 * "queue.default", "queue.default.svc", "queue.default.svc.cluster.local"). Containers see it
 * bind-mounted over /etc/hosts: in the sandbox's mount namespace, which plain containers share,
 * or in a container's own. The file is rewritten in place when Services come and go: a bind
 * mount follows the inode, not the name.
 *
 * Without root there is no pod network: pods share the host's, where every pod's address is
 * 127.0.0.1. The same names then say 127.0.0.1 (a.loopback_names), bound in each container's
 * user namespace, so a consumer finds its queue by name as on a cluster; there is no proxy in
 * between, so the Service's port must be the one the pods listen on. */
#include "agent/agent-internal.h"
#include "agent/shim.h"
#include "api/kinds.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLUSTER_DOMAIN "cluster.local"

struct render {
    const struct pod *p;
    struct jp_buf *b;
    const char *at; /* every Service's address, or NULL: its ClusterIP */
};

static bool add_service(const struct jp_obj *o, void *arg)
{
    struct render *r = arg;
    json_t *svc = json_loadb(o->json, o->len, 0, NULL);
    const char *ip = jp_json_str(svc, "spec", "clusterIP", NULL);
    if (ip && *ip && strcmp(ip, "None") != 0) {
        jp_buf_printf(r->b, "%s\t", r->at ? r->at : ip);
        if (!strcmp(o->ns, r->p->ns)) jp_buf_printf(r->b, "%s ", o->name);
        jp_buf_printf(r->b, "%s.%s %s.%s.svc %s.%s.svc.%s\n", o->name, o->ns, o->name, o->ns,
                      o->name, o->ns, CLUSTER_DOMAIN);
    }
    json_decref(svc);
    return true;
}

/* A sandbox made for an earlier pod binds that pod's file over /etc/hosts in its mount
 * namespace (jp_shim_sandbox_mounts), and the containers that join it see that file: it gets
 * this pod's hosts, in place, reached through the holder's root. The file opened must be one of
 * the run directory's, never the host's /etc/hosts (a holder that died and whose pid went to
 * a process of the host's mount namespace). */
static void sandbox_hosts(const struct pod *p, const struct jp_buf *b)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/root/etc/hosts", p->netns_pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat got, host, run;
    bool ours =
        fd >= 0 && fstat(fd, &got) == 0 && S_ISREG(got.st_mode) && stat(p->dir, &run) == 0 &&
        got.st_dev == run.st_dev &&
        (stat("/etc/hosts", &host) < 0 || got.st_dev != host.st_dev || got.st_ino != host.st_ino);
    if (!ours || ftruncate(fd, 0) < 0 || write(fd, b->data, b->len) != (ssize_t)b->len)
        jp_log(JP_WARN, "agent", "writing the /etc/hosts of %s/%s's sandbox: %s", p->ns, p->name,
               ours ? strerror(errno) : "not the sandbox's own file");
    if (fd >= 0) close(fd);
}

char *hosts__path(const struct pod *p)
{
    return jp_xasprintf("%s/%s", p->dir, JP_POD_HOSTS);
}

bool hosts__wanted(const struct pod *p)
{
    return p->ip != 0 ||
           (p->agent->loopback_names && !json_is_true(json_object_get(p->spec, "hostNetwork")));
}

void hosts__write(struct pod *p)
{
    if (!hosts__wanted(p)) return;
    struct jp_err *err = NULL;
    if (p->ip == 0 && jp_mkdir_private(p->dir, &err) < 0) { /* before its first container */
        jp_log(JP_WARN, "agent", "the hosts file of %s/%s: %s", p->ns, p->name, err->msg);
        jp_err_free(err);
        return;
    }
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    char ip[16];
    const char *host = jp_json_str(p->spec, "hostname", NULL);
    const char *sub = jp_json_str(p->spec, "subdomain", NULL);
    jp_buf_printf(&b, "# Kubernetes-managed hosts file (jobplane).\n127.0.0.1\tlocalhost\n"
                      "::1\tlocalhost ip6-localhost ip6-loopback\n");
    jp_buf_printf(&b, "%s\t", p->ip ? net__ip_str(p->ip, ip) : "127.0.0.1");
    if (sub && *sub)
        jp_buf_printf(&b, "%.63s.%s.%s.svc.%s\t", host && *host ? host : p->name, sub, p->ns,
                      CLUSTER_DOMAIN);
    jp_buf_printf(&b, "%.63s\n", host && *host ? host : p->name);
    struct render r = {p, &b, p->ip ? NULL : "127.0.0.1"};
    jp_store_scan(p->agent->store, p->agent->kind_services, NULL, NULL, NULL, add_service, &r);
    char *path = hosts__path(p);
    /* O_NOFOLLOW: the pod directory is ours, but never write through a link */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || ftruncate(fd, 0) < 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
        jp_log(JP_WARN, "agent", "writing %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    if (p->sandbox_mnt && p->hosts_apart && p->netns_pid > 0) sandbox_hosts(p, &b);
    free(path);
    jp_buf_free(&b);
}

void hosts__refresh(struct jp_agent *a)
{
    for (struct pod *p = a->pods; p; p = p->next)
        /* a settled pod's directory may be going (janitor.c): not made again for a file */
        if (hosts__wanted(p) && !p->gone && (p->ip || (p->started && !p->finished)))
            hosts__write(p);
}
