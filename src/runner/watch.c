/* A run's Jobs, followed to their end: a progress line per Job (printed when it changes, or a
 * status block redrawn in place on a terminal), then describe's status lines as the summary. */
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/timefmt.h"
#include "runner/runner-internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S    1000000000LL
#define TICK_MS     100
#define DRAIN_MAX_S 5 /* how long finished Jobs wait for their last log lines */

/* The condition of that type if it holds (status True), else NULL. */
static const json_t *condition(const json_t *st, const char *type)
{
    return jp_json_condition_true(st, type) ? jp_json_condition(st, type) : NULL;
}

/* kubectl's duration format, as in its DURATION column: 21s, 2m3s, 1h2m. */
static void duration(int64_t ns, char *buf, size_t n)
{
    long long s = ns / NS_PER_S;
    if (s < 0) s = 0;
    if (s < 120)
        snprintf(buf, n, "%llds", s);
    else if (s < 3600)
        snprintf(buf, n, "%lldm%llds", s / 60, s % 60);
    else
        snprintf(buf, n, "%lldh%lldm", s / 3600, s % 3600 / 60);
}

/* The Job's state in one line; *terminal tells whether it has finished. */
static char *progress(struct jp_run *r, const json_t *entry, bool with_time, bool *terminal)
{
    const char *ns = jp_json_str(entry, "ns", NULL), *name = jp_json_str(entry, "name", NULL);
    const struct jp_obj *o = jp_store_get(r->store, r->kind_jobs, ns, name);
    *terminal = true;
    if (o == NULL) return jp_xasprintf("job.batch/%s: deleted", name);
    json_t *job = jp_api_parse(o);
    const json_t *st = json_object_get(job, "status");
    const json_t *comp = jp_json_path(job, "spec", "completions", NULL);
    const json_t *done = condition(st, "Complete"), *failed = condition(st, "Failed");
    *terminal = done || failed;
    char want[32] = "", took[32] = "";
    if (json_is_integer(comp)) snprintf(want, sizeof(want), "/%lld", json_integer_value(comp));
    int64_t start = jp_json_time(st, "startTime", NULL);
    int64_t end = jp_json_time(st, done ? "completionTime" : "startTime", NULL);
    if (failed) end = jp_json_time(failed, "lastTransitionTime", NULL);
    if (with_time || *terminal)
        duration((*terminal ? end : jp_now_ns()) - (start ? start : r->start_ns), took,
                 sizeof(took));
    const char *state = done                                  ? "Complete"
                        : failed                              ? "Failed"
                        : condition(st, "Suspended")          ? "Suspended"
                        : condition(st, "FailureTarget")      ? "FailureTarget"
                        : condition(st, "SuccessCriteriaMet") ? "SuccessCriteriaMet"
                                                              : "Running";
    char *line = jp_xasprintf("job.batch/%s: %s, %lld%s succeeded, %lld active, %lld failed%s%s%s",
                              name, state, (long long)jp_json_int(st, 0, "succeeded", NULL), want,
                              (long long)jp_json_int(st, 0, "active", NULL),
                              (long long)jp_json_int(st, 0, "failed", NULL), *took ? " (" : "",
                              took, *took ? ")" : "");
    if (failed) {
        char *more = jp_xasprintf("%s: %s: %s", line, jp_json_str(failed, "reason", NULL) ?: "",
                                  jp_json_str(failed, "message", NULL) ?: "");
        free(line);
        line = more;
    }
    json_decref(job);
    return line;
}

static void erase_block(struct jp_run *r)
{
    if (r->drawn) fprintf(r->opts.out, "\033[%dF\033[J", r->drawn);
    r->drawn = 0;
}

static void draw_block(struct jp_run *r)
{
    size_t i;
    json_t *e;
    json_array_foreach(r->jobs, i, e)
    {
        bool terminal;
        char *line = progress(r, e, true, &terminal);
        fprintf(r->opts.out, "%s\n", line);
        free(line);
        r->drawn++;
    }
}

void run__print(struct jp_run *r, const char *text, size_t n)
{
    if (r->opts.tty) erase_block(r);
    fwrite(text, 1, n, r->opts.out);
    if (r->opts.tty && !r->frozen) draw_block(r);
    fflush(r->opts.out);
}

/* Prints what changed (lines mode) and says whether every Job has finished. hold: the last log
 * lines of finished pods are still coming, so a Job's final line waits for them - "Complete"
 * then more of its pods' output would read as if the pod ran on. */
static bool refresh(struct jp_run *r, bool hold)
{
    bool all = true;
    size_t i;
    json_t *e;
    if (r->opts.tty) {
        erase_block(r);
        draw_block(r);
    }
    json_array_foreach(r->jobs, i, e)
    {
        bool terminal;
        char *line = progress(r, e, false, &terminal);
        all &= terminal;
        if (terminal && hold) {
            free(line);
            continue;
        }
        if (!r->opts.tty && strcmp(line, jp_json_str(e, "line", NULL) ?: "") != 0)
            fprintf(r->opts.out, "%s\n", line);
        json_object_set_new(e, "line", json_string(line));
        free(line);
    }
    fflush(r->opts.out);
    return all;
}

static void on_tick(uv_timer_t *t)
{
    struct jp_run *r = t->data;
    bool busy = run__streams_busy(r, r->drained == NULL);
    if (r->drained && (!busy || jp_mono_ns() > r->drain_until)) {
        void (*cb)(void *) = r->drained;
        r->drained = NULL;
        uv_timer_stop(&r->tick);
        cb(r->drain_arg);
        return;
    }
    if (r->frozen) return;
    int64_t now = jp_mono_ns();
    bool all =
        refresh(r, busy && (!r->finishing || now - r->finishing_since < DRAIN_MAX_S * NS_PER_S));
    if (!all || r->stopped) return;
    if (!r->finishing) {
        r->finishing = true;
        r->finishing_since = now;
    }
    if (busy && now - r->finishing_since < DRAIN_MAX_S * NS_PER_S) return;
    r->stopped = true;
    uv_timer_stop(&r->tick);
    r->finished(r->arg);
}

static bool tracked_job(const struct jp_run *r, const char *ns, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(r->jobs, i, e)
    {
        if (!strcmp(jp_json_str(e, "ns", NULL), ns) && !strcmp(jp_json_str(e, "name", NULL), name))
            return true;
    }
    return false;
}

/* A Warning event about one of the run's Jobs or pods, printed as it is first recorded (a
 * repeat only counts up): why a Job makes no pods, why a container cannot start - what the
 * run would otherwise only show as a Job that never moves. A Job's own warnings beyond
 * FailedCreate/FailedDelete say how it failed, which its progress line says already. */
static void print_warning(struct jp_run *r, const struct jp_obj *o)
{
    json_t *ev = jp_api_parse(o);
    const char *kind = jp_json_str(ev, "involvedObject", "kind", NULL);
    const char *ns = jp_json_str(ev, "involvedObject", "namespace", NULL) ?: "default";
    const char *name = jp_json_str(ev, "involvedObject", "name", NULL);
    const char *type = jp_json_str(ev, "type", NULL);
    const char *reason = jp_json_str(ev, "reason", NULL) ?: "";
    bool job = kind && !strcmp(kind, "Job") &&
               (!strcmp(reason, "FailedCreate") || !strcmp(reason, "FailedDelete"));
    bool pod = kind && !strcmp(kind, "Pod");
    char *key = jp_xasprintf("%s/%s", ns, name ? name : "");
    if (type && !strcmp(type, "Warning") && name &&
        ((job && tracked_job(r, ns, name)) || (pod && json_object_get(r->pods, key)))) {
        char *line = jp_xasprintf("%s/%s: Warning %s: %s\n", job ? "job.batch" : "pod", name,
                                  reason, jp_json_str(ev, "message", NULL) ?: "");
        run__print(r, line, strlen(line));
        free(line);
    }
    free(key);
    json_decref(ev);
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_run *r = arg;
    const struct jp_obj *o = ev->obj;
    if (o->kind == r->kind_events && ev->type == JP_EV_ADDED && !r->stopped) print_warning(r, o);
    if (o->kind != r->kind_pods || ev->type == JP_EV_DELETED) return;
    char *key = jp_xasprintf("%s/%s", o->ns, o->name);
    if (ev->type == JP_EV_ADDED) json_object_set_new(r->pods, key, json_true());
    if (json_object_get(r->pods, key)) run__pod_changed(r, o);
    free(key);
}

struct jp_run *jp_run_start(uv_loop_t *loop, struct jp_store *store, struct jp_agent *agent,
                            const struct jp_run_opts *o, void (*finished)(void *arg), void *arg)
{
    struct jp_run *r = jp_xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->store = store;
    r->agent = agent;
    r->opts = *o;
    r->kind_jobs = (uint16_t)jp_kind_index(jp_kind_by_plural("batch", "v1", "jobs"));
    r->kind_pods = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "pods"));
    r->kind_events = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "events"));
    r->jobs = json_array();
    r->pods = json_object();
    r->start_ns = jp_now_ns();
    r->finished = finished;
    r->arg = arg;
    r->sub = jp_store_subscribe(store, on_event, r);
    uv_timer_init(loop, &r->tick);
    r->tick.data = r;
    return r;
}

void jp_run_track(struct jp_run *r, const json_t *created)
{
    size_t i;
    json_t *c;
    json_array_foreach(created, i, c)
    {
        if (strcmp(jp_json_str(c, "kind", NULL), "Job") == 0)
            json_array_append_new(r->jobs, json_pack("{s:s,s:s}", "ns", jp_json_str(c, "ns", NULL),
                                                     "name", jp_json_str(c, "name", NULL)));
    }
    uv_timer_start(&r->tick, on_tick, 0, TICK_MS);
}

static void summary_line(FILE *out, const char *label, const char *value)
{
    fprintf(out, "  %-16s%s%s\n", label, strlen(label) >= 16 ? "  " : "", value);
}

static void when(int64_t ns, char *buf, size_t n)
{
    time_t s = (time_t)(ns / NS_PER_S);
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(buf, n, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

bool jp_run_finished(struct jp_run *r)
{
    size_t i;
    json_t *e;
    json_array_foreach(r->jobs, i, e)
    {
        bool terminal;
        free(progress(r, e, false, &terminal));
        if (!terminal) return false;
    }
    return true;
}

void jp_run_drain(struct jp_run *r, void (*done)(void *arg), void *arg)
{
    r->drained = done;
    r->drain_arg = arg;
    r->drain_until = jp_mono_ns() + DRAIN_MAX_S * NS_PER_S;
    uv_timer_start(&r->tick, on_tick, 0, TICK_MS);
}

void jp_run_freeze(struct jp_run *r)
{
    if (r->opts.tty) erase_block(r);
    r->frozen = true;
}

int jp_run_summary(struct jp_run *r, FILE *out)
{
    if (r->opts.tty) erase_block(r);
    int rc = 0;
    size_t i;
    json_t *e;
    json_array_foreach(r->jobs, i, e)
    {
        const char *ns = jp_json_str(e, "ns", NULL), *name = jp_json_str(e, "name", NULL);
        const struct jp_obj *o = jp_store_get(r->store, r->kind_jobs, ns, name);
        if (o == NULL) {
            fprintf(out, "job.batch/%s: deleted before it finished\n", name);
            rc = 1;
            continue;
        }
        json_t *job = jp_api_parse(o);
        const json_t *st = json_object_get(job, "status"), *spec = json_object_get(job, "spec");
        const json_t *done = condition(st, "Complete"), *failed = condition(st, "Failed");
        if (!done) rc = 1;
        fprintf(out, "job.batch/%s %s\n", name,
                done     ? "completed"
                : failed ? "failed"
                         : "did not finish");
        char buf[96];
        snprintf(buf, sizeof(buf), "%lld", (long long)jp_json_int(spec, 1, "parallelism", NULL));
        summary_line(out, "Parallelism:", buf);
        const json_t *comp = json_object_get(spec, "completions");
        if (json_is_integer(comp))
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(comp));
        else
            snprintf(buf, sizeof(buf), "<unset>");
        summary_line(out, "Completions:", buf);
        int64_t start = jp_json_time(st, "startTime", NULL);
        int64_t end = done     ? jp_json_time(st, "completionTime", NULL)
                      : failed ? jp_json_time(failed, "lastTransitionTime", NULL)
                               : jp_now_ns();
        if (start) {
            when(start, buf, sizeof(buf));
            summary_line(out, "Start Time:", buf);
        }
        if (done) {
            when(end, buf, sizeof(buf));
            summary_line(out, "Completed At:", buf);
        }
        if (start) {
            duration(end - start, buf, sizeof(buf));
            summary_line(out, "Duration:", buf);
        }
        if (failed) {
            char *why = jp_xasprintf("%s: %s", jp_json_str(failed, "reason", NULL) ?: "",
                                     jp_json_str(failed, "message", NULL) ?: "");
            summary_line(out, "Failed:", why);
            free(why);
        }
        const char *mode = jp_json_str(spec, "completionMode", NULL);
        if (mode && !strcmp(mode, "Indexed")) {
            const char *ci = jp_json_str(st, "completedIndexes", NULL);
            summary_line(out, "Completed Indexes:", ci && *ci ? ci : "<none>");
        }
        char *pods = jp_xasprintf("%lld Active (%lld Ready) / %lld Succeeded / %lld Failed",
                                  (long long)jp_json_int(st, 0, "active", NULL),
                                  (long long)jp_json_int(st, 0, "ready", NULL),
                                  (long long)jp_json_int(st, 0, "succeeded", NULL),
                                  (long long)jp_json_int(st, 0, "failed", NULL));
        summary_line(out, "Pods Statuses:", pods);
        free(pods);
        json_decref(job);
    }
    fflush(out);
    return rc;
}

static void tick_closed(uv_handle_t *h)
{
    struct jp_run *r = h->data;
    json_decref(r->jobs);
    json_decref(r->pods);
    free(r);
}

void jp_run_stop(struct jp_run *r)
{
    if (r == NULL) return;
    r->stopped = true;
    jp_store_unsubscribe(r->store, r->sub);
    run__streams_stop(r);
    uv_close((uv_handle_t *)&r->tick, tick_closed);
}
