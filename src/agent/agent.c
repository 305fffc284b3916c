/* The agent's registry: the pods bound to this node, kept in step with the store through a
 * subscription. Store events only mark pods; a 0 ms timer then syncs the marked pods and writes
 * every changed status once per loop turn, so a burst of exits becomes one batch of writes and
 * no write ever happens inside the store's event dispatch. */
#include "agent/agent-internal.h"
#include "agent/shim.h"
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pod *agent__find(struct jp_agent *a, const char *ns, const char *name)
{
    for (struct pod *p = a->pods; p; p = p->next)
        if (!p->gone && !strcmp(p->ns, ns) && !strcmp(p->name, name)) return p;
    return NULL;
}

/* The uid index: a jansson object as the hash table, the pointer kept as an integer. */
struct pod *agent__find_uid(struct jp_agent *a, const char *uid)
{
    json_t *v = json_object_get(a->by_uid, uid);
    return v ? (struct pod *)(intptr_t)json_integer_value(v) : NULL;
}

void agent__push_pod(struct pod ***v, size_t *n, size_t *cap, struct pod *p)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *v = jp_xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = p;
}

static void queue_pod(struct pod *p)
{
    struct jp_agent *a = p->agent;
    if (p->queued || p->freeing) return;
    agent__push_pod(&a->queue, &a->nqueue, &a->queue_cap, p);
    p->queued = true;
}

static void tick(uv_timer_t *t);

static void arm(struct jp_agent *a)
{
    if (!a->stopping && !uv_is_active((uv_handle_t *)&a->tick))
        uv_timer_start(&a->tick, tick, 0, 0);
}

void agent__wake(struct pod *p)
{
    p->wake = true;
    queue_pod(p);
    arm(p->agent);
}

void agent__dirty(struct pod *p)
{
    p->dirty = true;
    queue_pod(p);
    arm(p->agent);
}

void agent__event(const struct pod *p, const struct container *c, const char *type,
                  const char *reason, const char *fmt, ...)
{
    char msg[1024], path[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c)
        snprintf(path, sizeof(path), "spec.%s{%s}", c->init ? "initContainers" : "containers",
                 c->name);
    struct jp_event_about about = {"Pod", "v1", p->ns, p->name, p->uid, NULL, c ? path : NULL};
    jp_record(p->agent->events, &about, type, reason, "%s", msg);
}

const char *agent__pod_ip(const struct pod *p, char buf[static 16])
{
    /* a settled pod whose sandbox went (to the pool, or away) shows the address it had, as
     * the kubelet keeps a terminated pod's podIPs */
    uint32_t ip = p->ip ? p->ip : p->ip_was;
    return ip ? net__ip_str(ip, buf) : strcpy(buf, "127.0.0.1");
}

static void unlink_pod(struct jp_agent *a, struct pod *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else if (a->pods == p)
        a->pods = p->next;
    if (p->next) p->next->prev = p->prev;
    p->next = p->prev = NULL;
    json_object_del(a->by_uid, p->uid);
    /* woken again during the tick that closed it: it must not be looked at once freed */
    for (size_t i = 0; p->queued && i < a->nqueue; i++) {
        if (a->queue[i] == p) {
            a->queue[i] = a->queue[--a->nqueue];
            p->queued = false;
        }
    }
}

/* The kubelet writes a pod's status when its sync finds it changed, so a container that starts
 * and ends between two syncs is never seen Running. Here status is written the loop turn it
 * changes - unless the node is busy: then a running pod's status waits up to
 * STATUS_COALESCE_MS, and a short container's Pending, Running and end make one write instead
 * of three. Busy: many pods changed in one loop turn, or many pods live on the node (a Job of
 * short pods at parallelism 100 wakes only a few pods per turn, and under that load each step
 * of a pod is tens of ms after the last, so a wait of 10 ms merged nothing). A finished or
 * terminating pod, and any pod of a quiet node, are never delayed. */
#define STATUS_COALESCE_MS 100
#define STATUS_BUSY_PODS   8  /* changed in one loop turn */
#define STATUS_BUSY_LIVE   32 /* not finished */

static void flush(uv_timer_t *t);

/* Writes the deferred pods whose wait is over (all of them when stopping), oldest first. */
static void write_deferred(struct jp_agent *a, bool all)
{
    uint64_t now = uv_now(a->loop);
    size_t i = 0;
    for (; i < a->ndeferred; i++) {
        struct pod *p = a->deferred[i];
        if (!all && p->deferred_at + STATUS_COALESCE_MS > now) break;
        p->deferred = false;
        if (!p->freeing && p->dirty && !p->gone) status__write(p);
        pod__unref(p);
    }
    if (i > 0) {
        memmove(a->deferred, a->deferred + i, (a->ndeferred - i) * sizeof(*a->deferred));
        a->ndeferred -= i;
    }
    if (a->ndeferred > 0 && !all)
        uv_timer_start(&a->flush, flush, a->deferred[0]->deferred_at + STATUS_COALESCE_MS - now, 0);
}

static void flush(uv_timer_t *t)
{
    write_deferred(t->data, false);
}

static void defer_status(struct jp_agent *a, struct pod *p)
{
    if (p->deferred) return;
    agent__push_pod(&a->deferred, &a->ndeferred, &a->deferred_cap, p);
    p->deferred = true;
    p->deferred_at = uv_now(a->loop);
    p->handles++; /* the pod outlives its place in the list */
    if (!uv_is_active((uv_handle_t *)&a->flush))
        uv_timer_start(&a->flush, flush, STATUS_COALESCE_MS, 0);
}

static void tick(uv_timer_t *t)
{
    struct jp_agent *a = t->data;
    if (a->services_changed && (a->net || a->loopback_names)) {
        a->services_changed = false;
        hosts__refresh(a);
        if (a->net) proxy__sync(a);
    }
    /* this tick's pods; what they wake meanwhile goes to the next tick's queue */
    struct pod **q = a->queue;
    size_t n = a->nqueue;
    a->queue = NULL;
    a->nqueue = a->queue_cap = 0;
    for (size_t i = 0; i < n; i++)
        q[i]->queued = false;
    for (size_t i = 0; i < n; i++) {
        struct pod *p = q[i];
        if (!p->wake || p->freeing) continue;
        p->wake = false;
        pod__sync(p);
    }
    size_t dirty = 0;
    for (size_t i = 0; i < n; i++)
        dirty += q[i]->dirty && !q[i]->freeing;
    for (size_t i = 0; i < n; i++) {
        struct pod *p = q[i];
        if (p->freeing) {
            if (p->next || p->prev || a->pods == p) unlink_pod(a, p);
            continue;
        }
        if (!p->dirty || p->gone) continue;
        bool busy = dirty >= STATUS_BUSY_PODS || a->live_pods >= STATUS_BUSY_LIVE;
        if (busy && !p->finished && !p->terminating && pod__running(p))
            defer_status(a, p);
        else
            status__write(p);
    }
    free(q);
}

static bool on_node(const struct jp_agent *a, const struct jp_obj *o)
{
    return o && strcmp(jp_pod_node_name(o), a->node) == 0;
}

static void add(struct jp_agent *a, const struct jp_obj *o, bool fresh)
{
    /* the agent's own copy (it edits it), of the version its first status write reads too */
    json_t *view = jp_api_view(o);
    struct pod *p = pod__new(a, json_deep_copy(view), fresh);
    json_decref(view);
    p->next = a->pods;
    if (a->pods) a->pods->prev = p;
    a->pods = p;
    json_object_set_new(a->by_uid, p->uid, json_integer((json_int_t)(intptr_t)p));
    agent__wake(p);
}

static void on_event(const struct jp_event *ev, void *arg)
{
    struct jp_agent *a = arg;
    if (ev->obj->kind == a->kind_services || ev->obj->kind == a->kind_endpoints) {
        a->services_changed = true;
        arm(a);
        return;
    }
    if (ev->obj->kind != a->kind_pods || !on_node(a, ev->obj)) return;
    struct pod *p = agent__find_uid(a, jp_proj_of(ev->obj)->uid);
    if (ev->type == JP_EV_DELETED) {
        if (p) {
            p->gone = true;
            agent__wake(p);
        }
        return;
    }
    if (p == NULL) {
        add(a, ev->obj, true); /* bound since the start: the start's scan saw every pod before */
        return;
    }
    /* a settled pod's versions (its tracking finalizer gone, its labels edited) matter to the
     * agent only when its deletion begins: none of the rest is read again, and a Job's
     * finished pods were a parse each */
    if (p->finished && !pod__running(p) &&
        (jp_proj_of(ev->obj)->deleted_ns != 0) ==
            (jp_json_path(p->obj, "metadata", "deletionTimestamp", NULL) != NULL)) {
        agent__wake(p);
        return;
    }
    /* the shared parsed version, not parsed again. The agent's copy differs only at the top
     * (its status is dropped): below that it shares the view's nodes, which nothing changes -
     * a deep copy of every pod event was a seventh of the loop's time */
    json_t *view = jp_api_view(ev->obj);
    pod__update(p, json_copy(view));
    json_decref(view);
    agent__wake(p);
}

static bool scan_pod(const struct jp_obj *o, void *arg)
{
    struct jp_agent *a = arg;
    if (on_node(a, o)) add(a, o, false);
    return true;
}

int jp_agent_start(uv_loop_t *loop, struct jp_store *store, const struct jp_agent_opts *opts,
                   struct jp_agent **out, struct jp_err **err)
{
    char *pods_dir = jp_xasprintf("%s/pods", opts->data_dir);
    if (jp_mkdir_private(pods_dir, err) < 0) {
        free(pods_dir);
        return -1;
    }
    struct jp_agent *a = jp_xcalloc(1, sizeof(*a));
    a->loop = loop;
    a->store = store;
    a->opts = *opts;
    a->node = jp_xstrdup(opts->node_name);
    a->pods_dir = pods_dir;
    a->run_dir = agent__choose_run_dir(opts->data_dir);
    a->run_pods_dir = jp_xasprintf("%s/pods", a->run_dir);
    if (strcmp(a->run_pods_dir, pods_dir) && jp_mkdir_private(a->run_pods_dir, NULL) < 0) {
        free(a->run_dir), free(a->run_pods_dir);
        a->run_dir = jp_xstrdup(opts->data_dir);
        a->run_pods_dir = jp_xstrdup(pods_dir);
    }
    a->self_exe = jp_xstrdup(opts->self_exe);
    a->kuard_exe = jp_xstrdup(opts->kuard_exe);
    a->images_from = jp_xstrdup(opts->images_from ? opts->images_from : opts->data_dir);
    a->opts.node_name = a->node;
    char *shims_log = jp_xasprintf("%s/shims.log", opts->data_dir);
    launcher__configure(shims_log);
    free(shims_log);
    a->opts.data_dir = NULL;
    a->opts.self_exe = a->self_exe;
    a->opts.kuard_exe = a->kuard_exe;
    if (a->opts.backoff_scale <= 0) a->opts.backoff_scale = 1.0;
    a->netns = geteuid() == 0;
    char refused[160];
    a->loopback_names = !a->netns && !jp_userns_refused(refused, sizeof(refused));
    a->by_uid = json_object();
    a->kind_pods = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "pods"));
    a->kind_services = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "services"));
    a->kind_secrets = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "secrets"));
    a->kind_configmaps = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "configmaps"));
    a->kind_serviceaccounts =
        (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "serviceaccounts"));
    a->kind_endpoints = (uint16_t)jp_kind_index(jp_kind_by_plural("", "v1", "endpoints"));
    if (a->netns && opts->pod_network) {
        struct jp_err *e = NULL;
        if (net__start(a, opts->data_dir, &e) < 0) {
            jp_log(JP_WARN, "agent", "%s: pods get no network beyond their own loopback", e->msg);
            jp_err_free(e);
        }
    }
    if (a->net) proxy__start(a);
    if (a->netns) pool__start(a, a->run_dir);
    a->events = jp_recorder_new(store, "kubelet", a->node);
    a->janitor = janitor__start();
    uv_timer_init(loop, &a->tick);
    uv_timer_init(loop, &a->flush);
    a->flush.data = a;
    a->tick.data = a;
    jp_store_scan(store, a->kind_pods, NULL, NULL, NULL, scan_pod, a);
    agent__reap_orphans(a);
    a->sub = jp_store_subscribe(store, on_event, a);
    jp_log(JP_INFO, "agent", "node %s: process runtime, %s, images: built-in kuard%s", a->node,
           a->net     ? "a pod network (10.244.0.0/16, Services on 10.96.0.0/12)"
           : a->netns ? "a network namespace per pod"
           : a->loopback_names
               ? "pods share the host network (not root), Service names on 127.0.0.1"
               : "pods share the host network (not root)",
           a->opts.host_fallback ? ", others run on the host filesystem" : "");
    *out = a;
    return 0;
}

enum jp_agent_services jp_agent_services(const struct jp_agent *a)
{
    return a == NULL           ? JP_SERVICES_UNREACHABLE
           : a->net            ? JP_SERVICES_PROXIED
           : a->loopback_names ? JP_SERVICES_ON_LOOPBACK
                               : JP_SERVICES_UNREACHABLE;
}

static void tick_closed(uv_handle_t *h)
{
    struct jp_agent *a = h->data;
    free(a->node);
    free(a->pods_dir);
    free(a->run_pods_dir);
    free(a->run_dir);
    free(a->self_exe);
    free(a->kuard_exe);
    free(a->images_from);
    if (jp_free_at_stop())
        json_decref(a->by_uid);
    else /* it still points at every pod left to the process's end (pod__unref) */
        jp_keep_until_exit(a->by_uid);
    free(a->queue);
    free(a->deferred);
    free(a);
}

static void flush_closed(uv_handle_t *h)
{
    struct jp_agent *a = h->data;
    uv_close((uv_handle_t *)&a->tick, tick_closed);
}

/* Containers keep running: they belong to the shims, and the next server re-adopts them. */
void jp_agent_stop(struct jp_agent *a)
{
    if (a == NULL) return;
    a->stopping = true;
    write_deferred(a, true); /* what waited is written now */
    jp_store_unsubscribe(a->store, a->sub);
    /* the node's network outlives the server only for pods that do */
    bool sandboxes = false;
    for (struct pod *p = a->pods; p; p = p->next)
        sandboxes |= p->netns_pid > 0;
    agent__logs_stop(a);
    for (struct pod *p = a->pods, *next; p; p = next) {
        next = p->next;
        for (size_t i = 0; i < p->n; i++) {
            struct container *c = &p->c[i];
            if (c->poll_open) {
                c->poll_open = false;
                c->pidfd_poll.data = p;
                uv_close((uv_handle_t *)&c->pidfd_poll, pod__handle_closed);
                close(c->pidfd);
            }
        }
        if (!p->freeing) pod__close(p);
    }
    spawn__sandbox_queue_free(a);
    a->pods = NULL;
    if (jp_free_at_stop()) json_object_clear(a->by_uid); /* else the process's end frees them */
    a->nqueue = 0;
    proxy__stop(a);
    pool__stop(a);
    net__stop(a, a->opts.release_network || !sandboxes);
    janitor__stop(a->janitor);
    a->janitor = NULL;
    if (agent__records_apart(a)) {
        if (a->opts.release_network) jp_remove_tree(a->run_pods_dir); /* a temporary data dir's */
        agent__tidy_run_dir(a->run_dir);
    }
    jp_recorder_free(a->events);
    /* the agent is freed when its last handle has closed: tick after flush */
    uv_close((uv_handle_t *)&a->flush, flush_closed);
}
