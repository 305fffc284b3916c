/* The keygen manager on the loop thread: starts and cancels workload threads, receives their
 * output through a mutex-protected list and a uv_async, and keeps kuard's 20-line history. */
#include "kuard/keygen/keygen.h"
#include "base/alloc.h"
#include "base/jsonstr.h"
#include "base/log.h"
#include "kuard/keygen/keygen-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct event {
    struct event *next;
    struct workload *w;
    enum workload_event type;
    int code;
    char text[];
};

struct keygen {
    uv_loop_t *loop;
    struct keygen_opts opts;
    struct keygen_config config;
    struct workload *workloads; /* running or finishing */
    int next_workload_id;
    bool exited; /* like os.Exit: nothing is reported after an exit request */
    bool closed; /* keygen_close has reaped every workload: events only need freeing */
    uv_async_t async;
    uv_mutex_t mu; /* guards the event list, written by worker threads */
    struct event *head, **tail;
    struct {
        int id;
        char *data;
    } history[KEYGEN_MAX_HISTORY];
    int history_len, next_history_id;
};

void workload_post(struct workload *w, enum workload_event type, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = jp_xvasprintf(fmt, ap);
    va_end(ap);
    size_t len = strlen(text);
    struct event *e = jp_xmalloc(sizeof(*e) + len + 1);
    e->next = NULL;
    e->w = w;
    e->type = type;
    e->code = code;
    memcpy(e->text, text, len + 1);
    free(text);
    struct keygen *kg = w->kg;
    uv_mutex_lock(&kg->mu);
    *kg->tail = e;
    kg->tail = &e->next;
    uv_mutex_unlock(&kg->mu);
    uv_async_send(&kg->async);
}

void workload_sleep(struct workload *w, unsigned ms)
{
    uv_mutex_lock(&w->sleep_mu);
    if (!atomic_load(&w->cancel)) uv_cond_timedwait(&w->sleep_cv, &w->sleep_mu, ms * 1000000ull);
    uv_mutex_unlock(&w->sleep_mu);
}

static void add_history(struct keygen *kg, const char *line)
{
    if (kg->history_len == KEYGEN_MAX_HISTORY) {
        free(kg->history[0].data);
        memmove(&kg->history[0], &kg->history[1],
                sizeof(kg->history[0]) * (KEYGEN_MAX_HISTORY - 1));
        kg->history_len--;
    }
    kg->history[kg->history_len].id = kg->next_history_id++;
    kg->history[kg->history_len].data = jp_xstrdup(line);
    kg->history_len++;
}

static void cancel(struct workload *w)
{
    uv_mutex_lock(&w->sleep_mu);
    atomic_store(&w->cancel, true);
    uv_cond_signal(&w->sleep_cv);
    uv_mutex_unlock(&w->sleep_mu);
}

static void reap(struct keygen *kg, struct workload *w)
{
    uv_thread_join(&w->thread);
    for (struct workload **p = &kg->workloads; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    keygen_config_free(&w->c);
    uv_cond_destroy(&w->sleep_cv);
    uv_mutex_destroy(&w->sleep_mu);
    free(w);
}

static void async_cb(uv_async_t *a)
{
    struct keygen *kg = a->data;
    uv_mutex_lock(&kg->mu);
    struct event *e = kg->head;
    kg->head = NULL;
    kg->tail = &kg->head;
    uv_mutex_unlock(&kg->mu);
    while (e) {
        struct event *next = e->next;
        if (kg->closed) {
            /* closed by a callback below (exit-on-complete): workloads are already reaped */
        } else if (e->type == WL_FINISHED) {
            reap(kg, e->w);
        } else if (!kg->exited) {
            if (e->type == WL_LINE) {
                jp_log(JP_INFO, "keygen", "%s", e->text);
                add_history(kg, e->text);
            } else {
                kg->exited = true;
                if (kg->opts.on_exit) kg->opts.on_exit(e->code, kg->opts.arg);
            }
        }
        free(e);
        e = next;
    }
}

struct keygen *keygen_new(uv_loop_t *loop, const struct keygen_opts *opts)
{
    struct keygen *kg = jp_xcalloc(1, sizeof(*kg));
    kg->loop = loop;
    kg->opts = *opts;
    kg->tail = &kg->head;
    uv_mutex_init(&kg->mu);
    uv_async_init(loop, &kg->async, async_cb);
    kg->async.data = kg;
    return kg;
}

void keygen_load(struct keygen *kg, const struct keygen_config *c)
{
    for (struct workload *w = kg->workloads; w; w = w->next)
        cancel(w);
    keygen_config_free(&kg->config);
    keygen_config_copy(&kg->config, c);
    if (!c->enable || kg->exited) return;

    struct workload *w = jp_xcalloc(1, sizeof(*w));
    w->kg = kg;
    w->rsa_bits = kg->opts.rsa_bits;
    keygen_config_copy(&w->c, c);
    atomic_init(&w->cancel, false);
    uv_mutex_init(&w->sleep_mu);
    uv_cond_init(&w->sleep_cv);
    bool memq = keygen_config_uses_memq(c);
    if (!memq) w->id = kg->next_workload_id++; /* kuard numbers only key-count workloads */
    w->next = kg->workloads;
    kg->workloads = w;
    int rc = uv_thread_create(&w->thread, memq ? workload_run_memq : workload_run_keys, w);
    if (rc != 0) {
        jp_log(JP_ERROR, "keygen", "cannot start workload thread: %s", uv_strerror(rc));
        kg->workloads = w->next;
        keygen_config_free(&w->c);
        free(w);
    }
}

int keygen_status_json(const struct keygen *kg, struct jp_buf *out)
{
    int rc = jp_buf_printf(out, "{\"config\":");
    rc |= keygen_config_json(&kg->config, out);
    rc |= jp_buf_printf(out, ",\"history\":[");
    for (int i = 0; i < kg->history_len; i++) {
        rc |= jp_buf_printf(out, "%s{\"id\":%d,\"data\":", i ? "," : "", kg->history[i].id);
        rc |= jp_json_quote(out, kg->history[i].data, strlen(kg->history[i].data),
                            JP_JSON_HTML_ESCAPE);
        rc |= jp_buf_appendc(out, '}');
    }
    rc |= jp_buf_printf(out, "]}\n");
    return rc ? -1 : 0;
}

void keygen_foreach_line(const struct keygen *kg, void (*fn)(int id, const char *line, void *arg),
                         void *arg)
{
    for (int i = 0; i < kg->history_len; i++)
        fn(kg->history[i].id, kg->history[i].data, arg);
}

static void closed(uv_handle_t *h)
{
    struct keygen *kg = h->data;
    while (kg->head) {
        struct event *next = kg->head->next;
        free(kg->head);
        kg->head = next;
    }
    for (int i = 0; i < kg->history_len; i++)
        free(kg->history[i].data);
    keygen_config_free(&kg->config);
    uv_mutex_destroy(&kg->mu);
    free(kg);
}

void keygen_close(struct keygen *kg)
{
    kg->exited = true;
    kg->closed = true;
    for (struct workload *w = kg->workloads; w; w = w->next)
        cancel(w);
    /* Generation aborts on cancel, so these joins take milliseconds. */
    while (kg->workloads)
        reap(kg, kg->workloads);
    uv_close((uv_handle_t *)&kg->async, closed);
}
