/* The janitor: a thread that removes the runtime records of settled pods, off the loop.
 *
 * A finished pod's records (its directory on the run tmpfs: spec, shim state, exit record, hosts
 * file) go once its final status is durable (status.c). Removing them on the loop was 7% of its
 * time in bench/jobs, on the path every pod's successor waits behind. The loop hands paths over
 * and goes on; jp_agent_stop drains the queue before it tidies the run directory, so nothing is
 * left behind. A removal that arrives after the stop (a commit that was still in flight) is done
 * on the loop, as before. */
#include "agent/agent-internal.h"
#include "base/alloc.h"
#include "base/fsutil.h"

#include <stdlib.h>

struct janitor {
    unsigned refs; /* the agent's, and one per removal still waiting for its commit */
    bool running;  /* the thread takes work (until janitor__stop) */
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    char **q; /* paths, taken */
    size_t n, cap;
    bool stop;
};

static void work(void *arg)
{
    struct janitor *j = arg;
    uv_mutex_lock(&j->mu);
    for (;;) {
        while (j->n == 0 && !j->stop)
            uv_cond_wait(&j->cv, &j->mu);
        if (j->n == 0) break; /* stopping, and nothing left */
        char **batch = j->q;
        size_t n = j->n;
        j->q = NULL;
        j->n = j->cap = 0;
        uv_mutex_unlock(&j->mu);
        for (size_t i = 0; i < n; i++) {
            jp_remove_tree(batch[i]);
            free(batch[i]);
        }
        free(batch);
        uv_mutex_lock(&j->mu);
    }
    uv_mutex_unlock(&j->mu);
}

struct janitor *janitor__start(void)
{
    struct janitor *j = jp_xcalloc(1, sizeof(*j));
    j->refs = 1;
    uv_mutex_init(&j->mu);
    uv_cond_init(&j->cv);
    j->running = uv_thread_create(&j->thread, work, j) == 0; /* else: removals on the loop */
    return j;
}

static void unref(struct janitor *j)
{
    if (--j->refs > 0) return;
    for (size_t i = 0; i < j->n; i++)
        free(j->q[i]);
    free(j->q);
    uv_mutex_destroy(&j->mu);
    uv_cond_destroy(&j->cv);
    free(j);
}

void janitor__stop(struct janitor *j)
{
    if (j == NULL) return;
    if (j->running) {
        uv_mutex_lock(&j->mu);
        j->stop = true;
        uv_cond_signal(&j->cv);
        uv_mutex_unlock(&j->mu);
        uv_thread_join(&j->thread); /* drained: the records of every settled pod are gone */
        j->running = false;
    }
    unref(j);
}

struct removal {
    struct janitor *j;
    char *path;
};

static void durable(int status, void *arg)
{
    struct removal *r = arg;
    struct janitor *j = r->j;
    if (status != 0) {
        free(r->path); /* the final status did not commit: the records stay */
    } else if (j && j->running) {
        uv_mutex_lock(&j->mu);
        if (j->n == j->cap) {
            j->cap = j->cap ? j->cap * 2 : 64;
            j->q = jp_xrealloc(j->q, j->cap * sizeof(*j->q));
        }
        j->q[j->n++] = r->path;
        uv_cond_signal(&j->cv);
        uv_mutex_unlock(&j->mu);
    } else {
        jp_remove_tree(r->path);
        free(r->path);
    }
    free(r);
    if (j) unref(j);
}

void janitor__remove_when_durable(struct janitor *j, struct jp_store *store, const char *path)
{
    struct removal *r = jp_xcalloc(1, sizeof(*r));
    r->j = j; /* NULL (the agent has stopped): removed on the loop */
    r->path = jp_xstrdup(path);
    if (j) j->refs++;
    jp_store_when_durable(store, durable, r);
}
