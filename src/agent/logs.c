/* pods/NAME/log: the CRI-format files the shims write (DIR/log, and DIR/log.1 after a
 * rotation), turned back into the container's output with the API's options. Only the files of
 * an attempt directory the agent created are read, by fixed names, without following symlinks.
 * A follower polls its file: cheap for the handful of `kubectl logs -f` a machine has, and it
 * survives rotation and restarts of the server alike. */
#include "agent/agent-internal.h"
#include "agent/cri.h"
#include "base/alloc.h"
#include "base/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLLOW_POLL_MS 50
#define READ_MAX       (4 * JP_SHIM_LOG_MAX)

static int read_all(int fd, struct jp_buf *b)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return (int)n;
        if (jp_buf_append(b, buf, (size_t)n) < 0) return -1;
    }
}

static int open_log(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Finds the container and the attempt the options mean, or explains why there is none. */
const struct container *agent__pick(struct jp_agent *a, const char *ns, const char *pod,
                                    const struct jp_log_opts *o, int *attempt,
                                    struct jp_status **st)
{
    struct pod *p = agent__find(a, ns, pod);
    const char *want = o->container;
    if (p == NULL) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "container \"%s\" in pod \"%s\" is waiting to start: "
                            "ContainerCreating",
                            want ? want : "", pod);
        return NULL;
    }
    const struct container *c = NULL;
    if (want == NULL && p->n - p->ninit == 1) c = &p->c[p->ninit];
    for (size_t i = 0; want && i < p->n; i++)
        if (!strcmp(p->c[i].name, want)) c = &p->c[i];
    if (c == NULL && want == NULL) {
        struct jp_buf names;
        jp_buf_init(&names, 1 << 16);
        for (size_t i = p->ninit; i < p->n; i++)
            jp_buf_printf(&names, "%s%s", i > p->ninit ? " " : "", p->c[i].name);
        jp_buf_appendc(&names, '\0');
        *st = jp_status_new(JP_BAD_REQUEST,
                            "a container name must be specified for pod %s, choose one of: [%s]",
                            pod, names.data);
        jp_buf_free(&names);
        return NULL;
    }
    if (c == NULL) {
        *st = jp_status_new(JP_BAD_REQUEST, "container %s is not valid for pod %s", want, pod);
        return NULL;
    }
    *attempt = o->previous ? c->attempt - 1 : c->attempt;
    if (*attempt < 0 && o->previous) {
        *st = jp_status_new(JP_BAD_REQUEST,
                            "previous terminated container \"%s\" in pod \"%s\" not found", c->name,
                            pod);
        return NULL;
    }
    if (*attempt < 0) {
        *st =
            jp_status_new(JP_BAD_REQUEST, "container \"%s\" in pod \"%s\" is waiting to start: %s",
                          c->name, pod, c->reason[0] ? c->reason : "ContainerCreating");
        return NULL;
    }
    return c;
}

/* Renders what the attempt logged so far; *fd_out keeps the current file open at its end. */
static int render_existing(const char *dir, struct jp_cri_render *r, struct jp_buf *out,
                           int *fd_out, struct jp_buf *rest)
{
    struct jp_buf raw;
    jp_buf_init(&raw, READ_MAX);
    int old = open_log(dir, JP_SHIM_LOG ".1");
    if (old >= 0) {
        read_all(old, &raw);
        close(old);
    }
    int fd = open_log(dir, JP_SHIM_LOG);
    if (fd >= 0) read_all(fd, &raw);
    size_t used = jp_cri_render(r, raw.data, raw.len, out);
    if (rest) jp_buf_append(rest, raw.data + used, raw.len - used);
    jp_buf_free(&raw);
    if (fd_out)
        *fd_out = fd;
    else if (fd >= 0)
        close(fd);
    return 0;
}

static void limit(struct jp_buf *b, int64_t max)
{
    if (max > 0 && b->len > (size_t)max) b->len = (size_t)max;
}

int jp_agent_log(struct jp_agent *a, const char *ns, const char *pod, const struct jp_log_opts *o,
                 struct jp_buf *out, struct jp_status **st)
{
    int attempt;
    const struct container *c = agent__pick(a, ns, pod, o, &attempt, st);
    if (c == NULL) return -1;
    char *dir = spawn__log_dir(c, attempt);
    struct jp_cri_render r = {o, false};
    struct jp_buf text;
    jp_buf_init(&text, SIZE_MAX);
    render_existing(dir, &r, &text, NULL, NULL);
    free(dir);
    jp_cri_tail(&text, o->tail_lines);
    limit(&text, o->limit_bytes);
    jp_buf_append(out, text.data, text.len);
    jp_buf_free(&text);
    return 0;
}

/* ---- following ---- */

struct jp_log_follow {
    struct jp_agent *agent;
    char *dir;     /* the attempt's records: its exit record says the log is complete */
    char *log_dir; /* its log */
    struct jp_log_opts opts;
    struct jp_cri_render r;
    int fd;
    struct jp_buf pending; /* an incomplete record */
    int64_t left;          /* limitBytes still allowed, -1 for no limit */
    uv_timer_t timer;
    void (*fn)(const char *text, size_t n, bool done, void *arg);
    void *arg;
    bool done;
    struct jp_log_follow *next;
};

static void deliver(struct jp_log_follow *f, struct jp_buf *text, bool done)
{
    if (f->left >= 0 && (int64_t)text->len > f->left) {
        text->len = (size_t)f->left;
        done = true;
    }
    if (f->left >= 0) f->left -= (int64_t)text->len;
    if (text->len || done) f->fn(text->data, text->len, done, f->arg);
    f->done |= done;
}

static bool exited(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, JP_SHIM_EXIT);
    return access(path, F_OK) == 0;
}

/* The shim rotated the file: the open one is finished, read on in the new one. */
static bool rotated(struct jp_log_follow *f)
{
    struct stat now, open_st;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", f->log_dir, JP_SHIM_LOG);
    if (stat(path, &now) < 0) return false;
    if (f->fd >= 0 && fstat(f->fd, &open_st) == 0 && open_st.st_ino == now.st_ino) return false;
    return true;
}

static void poll_cb(uv_timer_t *t)
{
    struct jp_log_follow *f = t->data;
    if (f->done) return;
    /* checked before reading: no output is missed. A directory gone with its pod has ended
     * too: what the open file still holds is read below. */
    bool was_done = exited(f->dir) || access(f->dir, F_OK) != 0;
    struct jp_buf text;
    jp_buf_init(&text, SIZE_MAX);
    for (int round = 0; round < 2; round++) {
        if (f->fd < 0) f->fd = open_log(f->log_dir, JP_SHIM_LOG);
        if (f->fd >= 0) read_all(f->fd, &f->pending);
        size_t used = jp_cri_render(&f->r, f->pending.data, f->pending.len, &text);
        if (used > 0) memmove(f->pending.data, f->pending.data + used, f->pending.len - used);
        f->pending.len -= used;
        if (!rotated(f)) break;
        if (f->fd >= 0) close(f->fd);
        f->fd = -1;
    }
    deliver(f, &text, was_done);
    jp_buf_free(&text);
    if (f->done) uv_timer_stop(t);
}

struct jp_log_follow *jp_agent_log_follow(
    struct jp_agent *a, const char *ns, const char *pod, const struct jp_log_opts *o,
    void (*fn)(const char *text, size_t n, bool done, void *arg), void *arg, struct jp_status **st)
{
    int attempt;
    const struct container *c = agent__pick(a, ns, pod, o, &attempt, st);
    if (c == NULL) return NULL;
    struct jp_log_follow *f = jp_xcalloc(1, sizeof(*f));
    f->agent = a;
    f->dir = spawn__attempt_dir(c, attempt);
    f->log_dir = spawn__log_dir(c, attempt);
    f->opts = *o;
    f->opts.container = NULL;
    f->r = (struct jp_cri_render){&f->opts, false};
    f->fn = fn;
    f->arg = arg;
    f->left = o->limit_bytes > 0 ? o->limit_bytes : -1;
    jp_buf_init(&f->pending, READ_MAX);
    struct jp_buf text;
    jp_buf_init(&text, SIZE_MAX);
    render_existing(f->log_dir, &f->r, &text, &f->fd, &f->pending);
    jp_cri_tail(&text, o->tail_lines);
    f->next = a->follows;
    a->follows = f;
    uv_timer_init(a->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, poll_cb, FOLLOW_POLL_MS, FOLLOW_POLL_MS);
    /* a previous instance has ended: what it logged is all there is */
    deliver(f, &text, o->previous);
    jp_buf_free(&text);
    return f;
}

static void follow_closed(uv_handle_t *h)
{
    struct jp_log_follow *f = h->data;
    jp_buf_free(&f->pending);
    free(f->dir);
    free(f->log_dir);
    free(f);
}

void jp_agent_log_follow_stop(struct jp_log_follow *f)
{
    if (f == NULL) return;
    for (struct jp_log_follow **pp = &f->agent->follows; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    if (f->fd >= 0) close(f->fd);
    uv_close((uv_handle_t *)&f->timer, follow_closed);
}

/* At shutdown every follower ends its stream; the API server then stops it. */
void agent__logs_stop(struct jp_agent *a)
{
    for (struct jp_log_follow *f = a->follows; f; f = f->next) {
        uv_timer_stop(&f->timer);
        if (!f->done) {
            f->done = true;
            f->fn("", 0, true, f->arg);
        }
    }
}
