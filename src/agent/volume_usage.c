/* The kubelet's emptyDir sizeLimit eviction. A pod's disk emptyDirs that have a sizeLimit are
 * measured every 10 s (scaled by backoff_scale) by walking them as the kubelet's du does: the
 * st_blocks of every entry, the volume's directory included, hard links counted once, symlinks
 * never followed, other filesystems not entered. A volume over its limit gets the pod evicted
 * with the kubelet's words. A Memory emptyDir needs none of this: its tmpfs is sized to the
 * limit and refuses writes past it (ENOSPC), as on Kubernetes. The walk runs on the loop, a
 * bounded number of entries per turn, so a big volume spreads over many turns. */
#include "agent/agent-internal.h"
#include "api/object.h"
#include "base/alloc.h"
#include "base/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PERIOD_MS     10000.0   /* the kubelet's eviction monitoring interval */
#define STEP_ENTRIES  256       /* entries looked at per turn of the loop */
#define MAX_DEPTH     64        /* directories open at once: deeper ones are not entered */
#define MAX_LINKS     (1 << 20) /* hard-linked inodes remembered per walk */
#define EVICT_GRACE_S 1         /* the kubelet asks for 0; its pod workers never go below 1 s */

struct pod_usage {
    uv_timer_t timer; /* first, so the close callback finds the struct; data: the pod */
    size_t next;      /* the next volume of the pod's spec to look at */
    /* the walk under way; name is NULL between walks */
    const char *name;     /* borrowed from the pod's spec */
    int64_t limit;        /* bytes: a usage above it exceeds the limit */
    char limit_text[128]; /* the limit as Quantity.String() prints it, for the message */
    DIR *stack[MAX_DEPTH];
    int depth;
    dev_t dev;
    int64_t used;
    uint64_t *links; /* inode numbers + 1 of files with several links: a set, 0 is empty */
    size_t nlinks, cap;
    bool deep_told; /* the log has heard about directories nested too deep */
};

/* A volume this file measures: an emptyDir on disk (a Memory one too without root, where it is a
 * plain directory) with a positive sizeLimit. */
static bool limited(const struct pod *p, const json_t *vol, int64_t *limit, char *text, size_t n)
{
    const json_t *ed = json_object_get(vol, "emptyDir");
    if (!json_is_object(ed)) return false;
    const char *medium = jp_json_str(ed, "medium", NULL) ?: "";
    if (*medium && (strcmp(medium, "Memory") || p->agent->netns)) return false;
    struct jp_quantity q;
    char raw[128];
    if (!jp_quantity_json(json_object_get(ed, "sizeLimit"), &q, raw, sizeof(raw)) || q.neg ||
        q.m == 0)
        return false;
    *limit = jp_quantity_trunc(&q); /* usage is whole bytes: above 1.5 means above 1 */
    if (q.cached)
        snprintf(text, n, "%s", raw);
    else
        jp_quantity_format(&q, text, n);
    return true;
}

static uint64_t period_ms(const struct jp_agent *a)
{
    double ms = PERIOD_MS * a->opts.backoff_scale;
    return ms < 1 ? 1 : (uint64_t)ms;
}

static void walk_end(struct pod_usage *u)
{
    while (u->depth > 0)
        closedir(u->stack[--u->depth]);
    free(u->links);
    u->links = NULL;
    u->nlinks = u->cap = 0;
    u->name = NULL;
}

/* True the first time an inode is seen in this walk (or when too many are remembered already:
 * then a link may count twice, which errs toward the limit, never past it unseen). */
static bool first_link(struct pod_usage *u, uint64_t ino)
{
    if (u->nlinks * 2 >= u->cap) {
        if (u->cap >= MAX_LINKS) return true;
        size_t cap = u->cap ? u->cap * 2 : 1024;
        uint64_t *grown = jp_xcalloc(cap, sizeof(uint64_t));
        for (size_t i = 0; i < u->cap; i++) {
            if (u->links[i] == 0) continue;
            size_t j = (size_t)(u->links[i] * 0x9E3779B97F4A7C15ULL) & (cap - 1);
            while (grown[j])
                j = (j + 1) & (cap - 1);
            grown[j] = u->links[i];
        }
        free(u->links);
        u->links = grown;
        u->cap = cap;
    }
    uint64_t key = ino + 1;
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ULL) & (u->cap - 1);
    for (; u->links[j]; j = (j + 1) & (u->cap - 1))
        if (u->links[j] == key) return false;
    u->links[j] = key;
    u->nlinks++;
    return true;
}

/* Enters a subdirectory through its parent, never through a symlink (O_NOFOLLOW: a directory
 * swapped for a link since it was looked at is skipped). */
static void descend(struct pod *p, struct pod_usage *u, int parent, const char *name)
{
    if (u->depth == MAX_DEPTH) {
        if (!u->deep_told)
            jp_log(JP_WARN, "agent",
                   "pod %s/%s: volume %s has directories nested deeper than %d: what they hold "
                   "is not counted against its sizeLimit",
                   p->ns, p->name, u->name, MAX_DEPTH);
        u->deep_told = true;
        return;
    }
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0) close(fd);
        return; /* gone, or not a directory any more */
    }
    u->stack[u->depth++] = d;
}

/* Starts walking the next measured volume; false when the round is over. */
static bool walk_next(struct pod *p, struct pod_usage *u)
{
    const json_t *vols = json_object_get(p->spec, "volumes");
    for (; u->next < json_array_size(vols); u->next++) {
        const json_t *vol = json_array_get(vols, u->next);
        const char *name = jp_json_str(vol, "name", NULL);
        if (name == NULL || strchr(name, '/') ||
            !limited(p, vol, &u->limit, u->limit_text, sizeof(u->limit_text)))
            continue;
        char *dir = jp_xasprintf("%s/volumes/%s", p->disk_dir, name);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        free(dir);
        struct stat st;
        DIR *d = fd >= 0 && fstat(fd, &st) == 0 ? fdopendir(fd) : NULL;
        if (d == NULL) { /* not made yet */
            if (fd >= 0) close(fd);
            continue;
        }
        u->next++;
        u->name = name;
        u->dev = st.st_dev;
        u->used = (int64_t)st.st_blocks * 512;
        u->stack[0] = d;
        u->depth = 1;
        return true;
    }
    u->next = 0;
    return false;
}

/* Looks at up to *budget entries of the walk; true when the walk is over or over the limit. */
static bool walk_step(struct pod *p, struct pod_usage *u, int *budget)
{
    while (u->depth > 0 && *budget > 0 && u->used <= u->limit) {
        DIR *d = u->stack[u->depth - 1];
        struct dirent *e = readdir(d);
        if (e == NULL) {
            closedir(d);
            u->depth--;
            continue;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        (*budget)--;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != u->dev)
            continue; /* deleted since it was listed, or another filesystem */
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !first_link(u, (uint64_t)st.st_ino))
            continue;
        u->used += (int64_t)st.st_blocks * 512;
        if (S_ISDIR(st.st_mode)) descend(p, u, dirfd(d), e->d_name);
    }
    return u->depth == 0 || u->used > u->limit;
}

/* The kubelet's emptyDirLimitEviction: status, event and message as it writes them. */
static void evict(struct pod *p, struct pod_usage *u)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "Usage of EmptyDir volume \"%s\" exceeds the limit \"%s\". ",
             u->name, u->limit_text);
    jp_log(JP_INFO, "agent", "evicting pod %s/%s: %s", p->ns, p->name, msg);
    walk_end(u);
    agent__event(p, NULL, "Warning", "Evicted", "%s", msg);
    pod__fail(p, "Evicted", msg, EVICT_GRACE_S);
}

static void tick(uv_timer_t *t)
{
    struct pod *p = t->data;
    struct pod_usage *u = p->usage;
    if (p->finished || p->terminating) { /* nothing left to protect: measuring ends */
        walk_end(u);
        return;
    }
    int budget = STEP_ENTRIES;
    while (budget > 0) {
        if (u->name == NULL && !walk_next(p, u)) {
            uv_timer_start(t, tick, period_ms(p->agent), 0);
            return;
        }
        if (!walk_step(p, u, &budget)) continue;
        if (u->used > u->limit) {
            evict(p, u);
            return;
        }
        walk_end(u);
    }
    /* the rest on a later turn: 1 ms, as a 0 ms timer started from a timer callback may run
     * again in the same turn on older libuv */
    uv_timer_start(t, tick, 1, 0);
}

void usage__watch(struct pod *p)
{
    if (p->usage || p->finished) return;
    int64_t limit;
    char text[128];
    bool any = false;
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(p->spec, "volumes"), i, vol)
    {
        any |= limited(p, vol, &limit, text, sizeof(text));
    }
    if (!any) return;
    struct pod_usage *u = jp_xcalloc(1, sizeof(*u));
    uv_timer_init(p->agent->loop, &u->timer);
    u->timer.data = p;
    p->handles++;
    p->usage = u;
    uv_timer_start(&u->timer, tick, period_ms(p->agent), 0);
}

static void usage_closed(uv_handle_t *h)
{
    struct pod *p = h->data;
    free((struct pod_usage *)h);
    pod__unref(p);
}

void usage__close(struct pod *p)
{
    struct pod_usage *u = p->usage;
    if (u == NULL) return;
    p->usage = NULL;
    walk_end(u);
    uv_close((uv_handle_t *)&u->timer, usage_closed);
}
