/* Finished pods' sandboxes, kept for a moment for the next pod. Making a network namespace,
 * its veth and address costs the kernel more than anything else a pod start does (~3 ms of
 * CPU: setup_net, the device's sysfs and sysctl entries, and their teardown on a kworker), and
 * a Job starts a new pod as each one ends. A sandbox is only kept when nothing of its pod can
 * be left in it: every container has ended (the shim kills what a container leaves behind),
 * nothing ran there outside a shim (kubectl exec, an exec probe, a container whose shim was
 * lost), no container held a capability beyond the default set (NET_ADMIN, SYS_ADMIN,
 * SYS_PTRACE on the holder...; /proc/sys is read-only to them), the pod set no sysctls, and no
 * socket is left (a TIME_WAIT one would keep the next pod from binding its port). The next pod
 * gets the namespace and its address; its containers give the UTS namespace the pod's hostname.
 * Idle ones are killed after POOL_IDLE_MS; their records wait in RUN/sandboxes/PID.json, so a
 * server killed meanwhile kills them on its next start. */
#include "agent/agent-internal.h"
#include "agent/shim.h"
#include "api/object.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_MAX     128
#define POOL_IDLE_MS 2000

struct idle_sandbox {
    int pid;
    uint64_t start;
    uint32_t ip;
    uint64_t since_ms;
    bool mnt; /* a mount namespace of its own (pod->sandbox_mnt) */
};

struct sandbox_pool {
    struct idle_sandbox *v; /* oldest first */
    size_t n, cap;
    char *dir;
    uv_timer_t expiry;
};

static char *record_path(const struct sandbox_pool *pool, int pid)
{
    return jp_xasprintf("%s/%d.json", pool->dir, pid);
}

static void drop(struct jp_agent *a, const struct idle_sandbox *s)
{
    if (jp_proc_starttime(s->pid) == s->start) kill(s->pid, SIGKILL);
    char *rec = record_path(a->pool, s->pid);
    unlink(rec);
    free(rec);
    net__free_ip(a, s->ip);
}

static void expire(uv_timer_t *t)
{
    struct jp_agent *a = t->data;
    struct sandbox_pool *pool = a->pool;
    uint64_t now = uv_now(a->loop);
    size_t k = 0;
    while (k < pool->n && now - pool->v[k].since_ms >= POOL_IDLE_MS)
        drop(a, &pool->v[k++]);
    memmove(pool->v, pool->v + k, (pool->n - k) * sizeof(*pool->v));
    pool->n -= k;
    if (pool->n == 0) uv_timer_stop(t);
}

/* Holders a killed server left idle: their pods are long gone, and so is any claim on them. */
static void kill_recorded(struct sandbox_pool *pool)
{
    DIR *d = opendir(pool->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        uint32_t ip;
        int pid = spawn__holder_record_read(pool->dir, e->d_name, &ip);
        if (pid > 0) kill(pid, SIGKILL);
        unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d) closedir(d);
}

void pool__start(struct jp_agent *a, const char *data_dir)
{
    struct sandbox_pool *pool = jp_xcalloc(1, sizeof(*pool));
    pool->dir = jp_xasprintf("%s/sandboxes", data_dir);
    struct jp_err *err = NULL;
    if (jp_mkdir_private(pool->dir, &err) < 0) {
        jp_log(JP_WARN, "agent", "no sandbox reuse: %s", err->msg);
        jp_err_free(err);
        free(pool->dir);
        free(pool);
        return;
    }
    kill_recorded(pool);
    uv_timer_init(a->loop, &pool->expiry);
    pool->expiry.data = a;
    a->pool = pool;
}

static void pool_closed(uv_handle_t *h)
{
    struct sandbox_pool *pool = h->data;
    free(pool->v);
    free(pool->dir);
    free(pool);
}

void pool__stop(struct jp_agent *a)
{
    struct sandbox_pool *pool = a->pool;
    if (pool == NULL) return;
    for (size_t i = 0; i < pool->n; i++)
        drop(a, &pool->v[i]);
    a->pool = NULL;
    pool->expiry.data = pool;
    uv_close((uv_handle_t *)&pool->expiry, pool_closed);
}

/* Whether every "inuse" count in text is 0. */
static bool none_in_use(const char *text)
{
    for (const char *at = strstr(text, "inuse "); at; at = strstr(at + 6, "inuse "))
        if (strtol(at + 6, NULL, 10) != 0) return false;
    return true;
}

/* The whole of a small file (NUL-terminated) in buf: 0, or -errno. */
static int read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t got = read(fd, buf, size - 1);
    int e = got < 0 ? -errno : 0;
    close(fd);
    buf[got > 0 ? got : 0] = '\0';
    return e;
}

/* Whether process pid's network namespace has no socket left: TCP (TIME_WAIT included), UDP,
 * raw, over IPv4 and IPv6. Its sockstat counts them per namespace; /proc/PID/net/tcp would walk
 * the host's whole connection table (a third of all CPU at a hundred pods a second). */
static bool no_sockets(int pid)
{
    /* a procfs file read at once into the stack: each is under 1 KB */
    char path[64], text[4096];
    snprintf(path, sizeof(path), "/proc/%d/net/sockstat", pid);
    if (read_small(path, text, sizeof(text)) < 0) return false;
    const char *tw = strstr(text, " tw ");
    if (!none_in_use(text) || !tw || strtol(tw + 4, NULL, 10) != 0) return false;
    snprintf(path, sizeof(path), "/proc/%d/net/sockstat6", pid);
    int e = read_small(path, text, sizeof(text));
    if (e < 0) return e == -ENOENT; /* a kernel without IPv6 */
    return none_in_use(text);
}

/* Whether nothing any container of p could have done outlives it in its sandbox. */
static bool reusable(const struct pod *p)
{
    if (p->entered || jp_json_path(p->spec, "securityContext", "sysctls", NULL)) return false;
    if (geteuid() == 0) /* else no container could change a namespace the server made */
        for (size_t i = 0; i < p->n; i++) {
            /* beyond the default set (NET_ADMIN, SYS_ADMIN, SYS_PTRACE on the holder...) a
             * container may have changed what the next pod would inherit */
            const json_t *sc = json_object_get(p->c[i].spec, "securityContext");
            if (jp_caps_for(sc) & ~JP_CAPS_DEFAULT) return false;
        }
    return no_sockets(p->netns_pid);
}

bool pool__put(struct pod *p)
{
    struct jp_agent *a = p->agent;
    struct sandbox_pool *pool = a->pool;
    if (pool == NULL || a->stopping || p->netns_pid <= 0 || pool->n >= POOL_MAX || !reusable(p))
        return false;
    uint64_t start = p->netns_start ? p->netns_start : jp_proc_starttime(p->netns_pid);
    char *from = jp_xasprintf("%s/netns.json", p->dir), *to = record_path(pool, p->netns_pid);
    int rc = start ? rename(from, to) : -1;
    free(from);
    free(to);
    if (rc < 0) return false;
    if (pool->n == pool->cap) {
        pool->cap = pool->cap ? pool->cap * 2 : 16;
        pool->v = jp_xrealloc(pool->v, pool->cap * sizeof(*pool->v));
    }
    pool->v[pool->n++] =
        (struct idle_sandbox){p->netns_pid, start, p->ip, uv_now(a->loop), p->sandbox_mnt};
    p->sandbox_mnt = false;
    if (!uv_is_active((uv_handle_t *)&pool->expiry))
        uv_timer_start(&pool->expiry, expire, POOL_IDLE_MS, POOL_IDLE_MS / 2);
    p->netns_pid = 0;
    p->netns_start = 0;
    p->ip = 0;
    return true;
}

bool pool__take(struct pod *p)
{
    struct jp_agent *a = p->agent;
    struct sandbox_pool *pool = a->pool;
    while (pool && pool->n > 0) {
        struct idle_sandbox s = pool->v[--pool->n]; /* the newest: its memory is warm */
        char *from = record_path(pool, s.pid), *to = jp_xasprintf("%s/netns.json", p->dir);
        struct jp_err *err = NULL;
        /* the holder is still the one recorded (its pid not reused since). The pod's hostname
         * is set in its UTS namespace by each container as it joins it (the spec's) */
        bool ok = jp_mkdir_private(p->dir, &err) == 0 && jp_proc_starttime(s.pid) == s.start &&
                  rename(from, to) == 0;
        jp_err_free(err);
        free(from);
        free(to);
        if (ok) {
            p->netns_pid = s.pid;
            p->netns_start = s.start;
            p->ip = s.ip;
            p->sandbox_mnt = s.mnt;
            p->hosts_apart = true; /* its /etc/hosts is the first pod's file: hosts__write */
            return true;
        }
        drop(a, &s);
    }
    return false;
}
