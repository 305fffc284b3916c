/* Pod logs during a run: one agent log follower per container instance, its text cut into lines
 * prefixed the way `kubectl logs --prefix` does ("[pod/NAME/CONTAINER] "). A restarted container
 * gets a new follower once the previous one has drained. */
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "runner/runner-internal.h"

#include <stdlib.h>
#include <string.h>

struct stream {
    struct jp_run *run;
    char *ns, *pod, *container;
    int64_t instance; /* restartCount followed; -1 before the first */
    struct jp_log_follow *f;
    bool done;
    struct jp_buf partial; /* text after the last newline */
    struct stream *next;
};

static void emit(struct stream *s, const char *text, size_t n)
{
    char *prefix = jp_xasprintf("[pod/%s/%s] ", s->pod, s->container);
    struct jp_buf out;
    jp_buf_init(&out, SIZE_MAX);
    jp_buf_append(&s->partial, text, n);
    size_t start = 0;
    for (size_t i = 0; i < s->partial.len; i++) {
        if (s->partial.data[i] != '\n') continue;
        jp_buf_printf(&out, "%s", prefix);
        jp_buf_append(&out, s->partial.data + start, i + 1 - start);
        start = i + 1;
    }
    if (start) {
        memmove(s->partial.data, s->partial.data + start, s->partial.len - start);
        s->partial.len -= start;
    }
    if (out.len) run__print(s->run, out.data, out.len);
    jp_buf_free(&out);
    free(prefix);
}

static void on_text(const char *text, size_t n, bool done, void *arg)
{
    struct stream *s = arg;
    if (n) emit(s, text, n);
    if (done) {
        if (s->partial.len) emit(s, "\n", 1); /* a last line without its newline */
        s->done = true;
    }
}

static struct stream *find(struct jp_run *r, const char *ns, const char *pod, const char *c)
{
    for (struct stream *s = r->streams; s; s = s->next)
        if (!strcmp(s->ns, ns) && !strcmp(s->pod, pod) && !strcmp(s->container, c)) return s;
    return NULL;
}

static void follow(struct jp_run *r, const char *ns, const char *pod, const json_t *cs)
{
    const char *name = jp_json_str(cs, "name", NULL);
    int64_t instance = jp_json_int(cs, 0, "restartCount", NULL);
    bool started =
        jp_json_path(cs, "state", "running", NULL) || jp_json_path(cs, "state", "terminated", NULL);
    if (name == NULL || !started) return;
    struct stream *s = find(r, ns, pod, name);
    if (s == NULL) {
        s = jp_xcalloc(1, sizeof(*s));
        s->run = r;
        s->ns = jp_xstrdup(ns);
        s->pod = jp_xstrdup(pod);
        s->container = jp_xstrdup(name);
        s->instance = -1;
        jp_buf_init(&s->partial, 1 << 20);
        s->next = r->streams;
        r->streams = s;
    }
    if (s->f || instance <= s->instance) return; /* still draining, or already shown */
    struct jp_log_opts o = {.container = name, .follow = true, .tail_lines = -1};
    struct jp_status *st = NULL;
    s->done = false;
    s->instance = instance;
    s->f = jp_agent_log_follow(r->agent, ns, pod, &o, on_text, s, &st);
    if (s->f == NULL) {
        jp_log(JP_DEBUG, "run", "no log for %s/%s/%s yet: %s", ns, pod, name, st->message);
        jp_status_free(st);
        s->instance = instance - 1;
    }
}

void run__pod_changed(struct jp_run *r, const struct jp_obj *pod)
{
    if (!r->opts.logs || r->agent == NULL) return;
    json_t *obj = jp_api_parse(pod);
    static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *cs;
        json_array_foreach(jp_json_path(obj, "status", lists[l], NULL), i, cs)
            follow(r, pod->ns, pod->name, cs);
    }
    json_decref(obj);
}

bool run__streams_busy(struct jp_run *r, bool finished_pods_only)
{
    bool busy = false;
    for (struct stream *s = r->streams; s; s = s->next) {
        const struct jp_obj *pod = jp_store_get(r->store, r->kind_pods, s->ns, s->pod);
        if (s->f && s->done) {
            jp_agent_log_follow_stop(s->f);
            s->f = NULL;
            /* the container may have restarted while this instance drained */
            if (pod) run__pod_changed(r, pod);
        }
        /* a pod that still runs (a ReplicaSet's server) has no last line to wait for */
        if (finished_pods_only && pod && !jp_pod_finished(pod)) continue;
        busy |= s->f != NULL;
    }
    return busy;
}

void run__streams_stop(struct jp_run *r)
{
    while (r->streams) {
        struct stream *s = r->streams;
        r->streams = s->next;
        if (s->f) jp_agent_log_follow_stop(s->f);
        jp_buf_free(&s->partial);
        free(s->ns);
        free(s->pod);
        free(s->container);
        free(s);
    }
}
