/* A pod's status as the kubelet writes it: phase, the five conditions in the kubelet's order
 * (keeping lastTransitionTime while a condition holds), addresses, startTime, and a status per
 * container with state, lastState, restartCount and ids. Written through the status
 * subresource, so it passes the same checks as any client's write; no-op writes keep the
 * resourceVersion. */
#include "agent/agent-internal.h"
#include "api/object.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_IP "127.0.0.1" /* the node's address as pods on the host network see it */

static json_t *time_json(int64_t ns)
{
    if (ns == 0) return json_null();
    char ts[JP_TIME_BUFLEN];
    jp_time_format(ts, ns, JP_TIME_SECONDS);
    return json_string(ts);
}

static char *container_id(const struct container *c, int attempt)
{
    return jp_xasprintf("jobplane://%s/%s/%d", c->pod->uid, c->name, attempt);
}

static json_t *terminated(const struct container *c, const struct jp_shim_exit *t, int attempt)
{
    json_t *o = json_pack("{s:i}", "exitCode", t->exit_code);
    if (t->signal) json_object_set_new(o, "signal", json_integer(t->signal));
    json_object_set_new(o, "reason", json_string(t->reason[0] ? t->reason : "Error"));
    if (t->message[0]) json_object_set_new(o, "message", json_string(t->message));
    json_object_set_new(o, "startedAt", time_json(t->started_ns));
    json_object_set_new(o, "finishedAt", time_json(t->finished_ns));
    if (attempt >= 0) {
        char *id = container_id(c, attempt);
        json_object_set_new(o, "containerID", json_string(id));
        free(id);
    }
    return o;
}

/* Running, and past its startup and readiness probes (if it has them). */
static bool ready(const struct container *c)
{
    return c->state == C_RUNNING && c->probe_ready && c->probe_started;
}

static json_t *container_status(const struct container *c)
{
    const char *image = jp_json_str(c->spec, "image", NULL) ?: "";
    json_t *state;
    if (c->state == C_RUNNING) {
        state = json_pack("{s:{s:o}}", "running", "startedAt", time_json(c->started_ns));
    } else if (c->state == C_TERMINATED) {
        state = json_pack("{s:o}", "terminated", terminated(c, &c->term, c->attempt));
    } else {
        json_t *w = json_pack("{s:s}", "reason", c->reason[0] ? c->reason : "ContainerCreating");
        if (c->message[0]) json_object_set_new(w, "message", json_string(c->message));
        state = json_pack("{s:o}", "waiting", w);
    }
    json_t *last = json_object();
    if (c->has_last)
        json_object_set_new(last, "terminated",
                            terminated(c, &c->last, c->attempt > 0 ? c->attempt - 1 : -1));
    bool running = c->state == C_RUNNING;
    struct container *m = (struct container *)c; /* the lookup's cache only */
    if (m->image_id_of == NULL || strcmp(m->image_id_of, image) != 0) {
        /* looked up once per image, not on every status write (the store is a file read) */
        char id[512];
        image__id(c->pod->agent, image, id, sizeof(id));
        free(m->image_id), free(m->image_id_of);
        m->image_id = jp_xstrdup(id);
        m->image_id_of = jp_xstrdup(image);
    }
    const char *image_id = c->image_id;
    json_t *s = json_pack("{s:s,s:o,s:o,s:b,s:i,s:s,s:s}", "name", c->name, "state", state,
                          "lastState", last, "ready", ready(c), "restartCount", c->restarts,
                          "image", image, "imageID", c->attempt >= 0 ? image_id : "");
    if (c->attempt >= 0) {
        char *id = container_id(c, c->attempt);
        json_object_set_new(s, "containerID", json_string(id));
        free(id);
    }
    json_object_set_new(s, "started", json_boolean(running && c->probe_started));
    return s;
}

static const json_t *old_condition(const json_t *old_status, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(old_status, "conditions"), i, c)
    {
        const char *t = jp_json_str(c, "type", NULL);
        if (t && strcmp(t, type) == 0) return c;
    }
    return NULL;
}

static void condition(json_t *list, const json_t *old_status, const char *type, bool ok,
                      const char *reason, const char *message)
{
    const json_t *prev = old_condition(old_status, type);
    const char *status = ok ? "True" : "False";
    const char *prev_status = jp_json_str(prev, "status", NULL);
    json_t *c = json_pack("{s:s,s:s,s:n}", "type", type, "status", status, "lastProbeTime");
    const json_t *since = prev_status && strcmp(prev_status, status) == 0
                              ? json_object_get(prev, "lastTransitionTime")
                              : NULL;
    json_object_set_new(c, "lastTransitionTime",
                        since ? json_incref((json_t *)since) : time_json(jp_now_ns()));
    if (reason) json_object_set_new(c, "reason", json_string(reason));
    if (message) json_object_set_new(c, "message", json_string(message));
    json_array_append_new(list, c);
}

/* "containers with unready status: [a b]" */
static char *names_where(const struct pod *p, size_t from, size_t to,
                         bool (*pred)(const struct container *))
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    for (size_t i = from; i < to; i++) {
        if (!pred(&p->c[i])) continue;
        jp_buf_printf(&b, "%s%s", b.len ? " " : "", p->c[i].name);
    }
    return jp_buf_steal(&b, NULL);
}

static bool unready(const struct container *c)
{
    return !ready(c);
}

static bool incomplete(const struct container *c)
{
    return c->state != C_TERMINATED || c->term.exit_code != 0;
}

static void conditions(const struct pod *p, const json_t *old_status, json_t *list)
{
    bool done = !strcmp(p->phase, "Succeeded") || !strcmp(p->phase, "Failed");
    condition(list, old_status, "PodReadyToStartContainers", p->started && !done, NULL, NULL);
    char *inc = names_where(p, 0, p->ninit, incomplete);
    if (*inc && !(done && !strcmp(p->phase, "Succeeded"))) {
        char *msg = jp_xasprintf("containers with incomplete status: [%s]", inc);
        condition(list, old_status, "Initialized", false, "ContainersNotInitialized", msg);
        free(msg);
    } else {
        condition(list, old_status, "Initialized", true, NULL, NULL);
    }
    free(inc);
    char *unr = names_where(p, p->ninit, p->n, unready);
    static const char *const ready_types[] = {"Ready", "ContainersReady"};
    for (int i = 0; i < 2; i++) {
        if (done) {
            condition(list, old_status, ready_types[i], false, "PodCompleted", NULL);
        } else if (*unr) {
            char *msg = jp_xasprintf("containers with unready status: [%s]", unr);
            condition(list, old_status, ready_types[i], false, "ContainersNotReady", msg);
            free(msg);
        } else {
            condition(list, old_status, ready_types[i], true, NULL, NULL);
        }
    }
    free(unr);
    const json_t *sched = old_condition(old_status, "PodScheduled");
    if (sched)
        json_array_append_new(list, json_deep_copy(sched));
    else
        condition(list, old_status, "PodScheduled", true, NULL, NULL);
    /* conditions others own (DisruptionTarget, readiness gates) are kept */
    size_t i;
    json_t *c;
    static const char *const ours[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                       "ContainersReady", "PodScheduled"};
    json_array_foreach(json_object_get(old_status, "conditions"), i, c)
    {
        const char *t = jp_json_str(c, "type", NULL);
        bool mine = false;
        for (size_t k = 0; t && k < sizeof(ours) / sizeof(ours[0]); k++)
            mine |= !strcmp(t, ours[k]);
        if (!mine) json_array_append_new(list, json_deep_copy(c));
    }
}

json_t *status__build(const struct pod *p, const json_t *old_status)
{
    json_t *st = json_pack("{s:s}", "phase", p->phase);
    json_t *conds = json_array();
    conditions(p, old_status, conds);
    json_object_set_new(st, "conditions", conds);
    if (p->reason[0]) json_object_set_new(st, "reason", json_string(p->reason));
    if (p->message[0]) json_object_set_new(st, "message", json_string(p->message));
    json_object_set_new(st, "hostIP", json_string(HOST_IP));
    json_object_set_new(st, "hostIPs", json_pack("[{s:s}]", "ip", HOST_IP));
    if (p->started) {
        char ip[16];
        agent__pod_ip(p, ip);
        json_object_set_new(st, "podIP", json_string(ip));
        json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", ip));
        json_object_set_new(st, "startTime", time_json(p->start_ns));
    }
    if (p->ninit) {
        json_t *l = json_array();
        for (size_t i = 0; i < p->ninit; i++)
            json_array_append_new(l, container_status(&p->c[i]));
        json_object_set_new(st, "initContainerStatuses", l);
    }
    json_t *l = json_array();
    for (size_t i = p->ninit; i < p->n; i++)
        json_array_append_new(l, container_status(&p->c[i]));
    json_object_set_new(st, "containerStatuses", l);
    const json_t *qos = json_object_get(old_status, "qosClass");
    if (qos) json_object_set_new(st, "qosClass", json_incref((json_t *)qos));
    return st;
}

void status__write(struct pod *p)
{
    struct jp_agent *a = p->agent;
    p->dirty = false;
    const struct jp_obj *cur = jp_store_get(a->store, a->kind_pods, p->ns, p->name);
    if (cur == NULL || strcmp(jp_proj_of(cur)->uid, p->uid) != 0) return;
    if (p->frozen) return; /* settled before this server started: leave it be */
    /* a shallow copy of the shared parsed pod: only its status is replaced, and the status
     * write keeps nothing else of it */
    json_t *view = jp_api_view(cur);
    if (view == NULL) return;
    json_t *obj = json_copy(view);
    json_object_set_new(obj, "status", status__build(p, json_object_get(view, "status")));
    json_decref(view);
    struct jp_write_ctx ctx = {.store = a->store,
                               .kind = &jp_kinds[a->kind_pods],
                               .ns = p->ns,
                               .subresource = "status",
                               .fv = JP_FV_IGNORE,
                               .keep_view = p->finished && !pod__running(p)};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    if (jp_api_replace(&ctx, cur, obj, &res, &st) < 0) {
        jp_log(JP_WARN, "agent", "writing the status of pod %s/%s: %s", p->ns, p->name,
               st->message);
        jp_status_free(st);
    } else if (p->finished && !pod__running(p) && !p->records_released && pod__records_apart(p)) {
        /* how the pod ended is in the store once this commits: its runtime records (a tmpfs's
         * memory) are not needed after that */
        p->records_released = true;
        janitor__remove_when_durable(a->janitor, a->store, p->dir);
    }
    jp_write_result_free(&res);
    jp_write_ctx_free(&ctx);
}
