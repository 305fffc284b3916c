/* One pod's worker. pod__sync is level-triggered: it looks at what the containers are doing now
 * and takes the next step (start the next init container, restart per restartPolicy after the
 * back-off, stop everything on deletion or deadline, settle the phase), so a wake-up from any
 * cause - a container exit, a timer, a change to the object, a restart of the server - is
 * handled the same way. The rules are the kubelet's (reference/job-semantics.md §13). */
#include "agent/agent-internal.h"
#include "api/kinds.h"
#include "api/object.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "images/images.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S         1000000000LL
#define BACKOFF_FIRST_NS (10 * NS_PER_S)
#define BACKOFF_MAX_NS   (300 * NS_PER_S)
#define BACKOFF_RESET_NS (600 * NS_PER_S)
#define KILL_POLL_MS     20
#define DEFAULT_GRACE_S  30
#define MOUNT_RETRY_NS   (2 * NS_PER_S)

static void arm_deadline(struct pod *p);

static const char *restart_policy(const struct pod *p)
{
    const char *r = jp_json_str(p->spec, "restartPolicy", NULL);
    return r ? r : "Always";
}

static void set_reason(struct container *c, const char *reason, const char *message)
{
    snprintf(c->reason, sizeof(c->reason), "%s", reason);
    snprintf(c->message, sizeof(c->message), "%.*s", (int)sizeof(c->message) - 1,
             message ? message : "");
}

/* The highest attempt directory of a container under pod_dir, -1 for none. */
static int newest_attempt(const struct container *c, const char *pod_dir)
{
    char *dir = jp_xasprintf("%s/%s", pod_dir, c->name);
    DIR *d = opendir(dir);
    free(dir);
    if (d == NULL) return -1;
    int best = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long n = strtol(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0' && n >= 0 && n < 1000000 && n > best) best = (int)n;
    }
    closedir(d);
    return best;
}

/* Whether pod_dir holds a running pod's records: its sandbox's, or an attempt's. */
static bool has_records(const struct pod *p, const char *pod_dir)
{
    char *path = jp_xasprintf("%s/netns.json", pod_dir);
    bool yes = access(path, F_OK) == 0;
    free(path);
    for (size_t i = 0; !yes && i < p->n; i++) {
        int n = newest_attempt(&p->c[i], pod_dir);
        path = jp_xasprintf("%s/%s/%d/%s", pod_dir, p->c[i].name, n, JP_SHIM_STATE);
        yes = n >= 0 && access(path, F_OK) == 0;
        free(path);
    }
    return yes;
}

/* After a restart of the server: what the containers did is on disk. A pod that had settled
 * keeps its stored status; only its attempts are found again, for its logs. */
static void recover(struct pod *p)
{
    /* records in the data dir while the runtime dir has none: a server of before the tmpfs (or
     * one that had none) started this pod, and its shims still write there */
    if (pod__records_apart(p) && access(p->dir, F_OK) != 0 && has_records(p, p->disk_dir)) {
        free(p->dir);
        p->dir = jp_xstrdup(p->disk_dir);
    }
    for (size_t i = 0; i < p->n; i++) {
        struct container *c = &p->c[i];
        int n = newest_attempt(c, p->dir);
        /* a log on disk past the runtime records: those went with a restart of the machine */
        int logged = pod__records_apart(p) ? newest_attempt(c, p->disk_dir) : -1;
        if (n < 0 && logged < 0) continue;
        p->started = true;
        c->attempt = n > logged ? n : logged;
        c->restarts = c->attempt;
        if (p->frozen) continue;
        if (logged > n) {
            spawn__lost(c);
            continue;
        }
        if (n > 0) {
            char *prev = spawn__attempt_dir(c, n - 1);
            c->has_last = jp_shim_exit_read(prev, &c->last, NULL) == 0;
            free(prev);
        }
        spawn__adopt(c);
    }
    if (p->frozen) {
        /* how it ended is in the store: records a server left (it stopped before releasing
         * them) are not needed */
        uint32_t ip;
        int holder = spawn__holder_recorded(p->dir, &ip); /* one it had no time to kill */
        if (holder > 0) kill(holder, SIGKILL);
        if (pod__records_apart(p)) jp_remove_tree(p->dir);
        p->records_released = true;
        return;
    }
    if (p->started) {
        int64_t t = jp_json_time(p->obj, "status", "startTime", NULL);
        p->start_ns = t ? t : jp_now_ns();
        spawn__holder_adopt(p);
        net__claim(p->agent, p->ip);
        struct jp_err *err = NULL;
        if (p->netns_pid > 0 && net__attach(p, &err) < 0) {
            jp_log(JP_WARN, "agent", "%s", err->msg);
            jp_err_free(err);
        }
        arm_deadline(p);
        usage__watch(p);
    }
}

struct pod *pod__new(struct jp_agent *a, json_t *obj, bool fresh)
{
    struct pod *p = jp_xcalloc(1, sizeof(*p));
    p->agent = a;
    p->obj = obj;
    p->spec = json_incref(json_object_get(obj, "spec"));
    if (p->spec == NULL) p->spec = json_object();
    p->uid = jp_xstrdup(jp_json_str(obj, "metadata", "uid", NULL) ?: "");
    p->ns = jp_xstrdup(jp_json_str(obj, "metadata", "namespace", NULL) ?: "");
    p->name = jp_xstrdup(jp_json_str(obj, "metadata", "name", NULL) ?: "");
    p->dir = jp_xasprintf("%s/%s", a->run_pods_dir, p->uid);
    p->disk_dir = jp_xasprintf("%s/%s", a->pods_dir, p->uid);
    snprintf(p->phase, sizeof(p->phase), "Pending");
    json_t *inits = json_object_get(p->spec, "initContainers");
    json_t *apps = json_object_get(p->spec, "containers");
    p->ninit = json_array_size(inits);
    p->n = p->ninit + json_array_size(apps);
    p->c = jp_xcalloc(p->n ? p->n : 1, sizeof(*p->c));
    for (size_t i = 0; i < p->n; i++) {
        struct container *c = &p->c[i];
        c->pod = p;
        c->init = i < p->ninit;
        c->spec = json_array_get(c->init ? inits : apps, c->init ? i : i - p->ninit);
        c->name = jp_xstrdup(jp_json_str(c->spec, "name", NULL) ?: "");
        c->attempt = -1;
        c->pidfd = -1;
        c->state = C_WAITING;
        set_reason(c, p->ninit ? "PodInitializing" : "ContainerCreating", NULL);
        uv_timer_init(a->loop, &c->backoff);
        c->backoff.data = c;
        p->handles++;
    }
    uv_timer_init(a->loop, &p->kill_timer);
    uv_timer_init(a->loop, &p->deadline);
    p->kill_timer.data = p->deadline.data = p;
    p->handles += 2;
    const char *phase = jp_json_str(obj, "status", "phase", NULL);
    if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))) {
        /* settled before: never run again, whatever is (or is not) on disk */
        p->finished = p->started = p->frozen = true;
        snprintf(p->phase, sizeof(p->phase), "%s", phase);
    }
    /* a pod bound to the node while this agent runs has nothing on disk to find: its records
     * are named by its uid, new to every server (looking was 2% of the loop's time in a Job) */
    p->fresh = fresh;
    if (!fresh) recover(p);
    json_object_del(p->obj, "status");
    if (!p->finished) {
        p->live = true;
        a->live_pods++;
    }
    return p;
}

/* The pod no longer counts among the node's live ones (agent.c: busy). */
static void not_live(struct pod *p)
{
    if (!p->live) return;
    p->live = false;
    p->agent->live_pods--;
}

/* The pod as the agent keeps it: metadata and spec. The stored status is the agent's own
 * writing, never read back while the pod lives; a big part of the object, it is dropped. */
static void respec_kill(uv_timer_t *t)
{
    struct container *c = t->data;
    if (c->respec && c->state == C_RUNNING) spawn__kill(c, SIGKILL);
}

void pod__update(struct pod *p, json_t *obj)
{
    json_decref(p->obj);
    json_object_del(obj, "status");
    p->obj = obj;
    /* the one mutable part of a pod's spec: a container's image. As the kubelet, a running
     * container with a new image is stopped and started again, whatever the restartPolicy. */
    static const char *const lists[] = {"initContainers", "containers"};
    for (size_t i = 0; i < p->n; i++) {
        struct container *c = &p->c[i];
        const json_t *now = json_array_get(jp_json_path(obj, "spec", lists[!c->init], NULL),
                                           c->init ? i : i - p->ninit);
        const char *image = jp_json_str(now, "image", NULL);
        if (image == NULL || !strcmp(image, jp_json_str(c->spec, "image", NULL) ?: "")) continue;
        json_object_set_new(c->spec, "image", json_string(image));
        if (c->state != C_RUNNING || p->terminating || p->finished) continue;
        agent__event(p, c, "Normal", "Killing",
                     "Container %s definition changed, will be restarted", c->name);
        c->respec = true;
        spawn__kill(c, SIGTERM);
        /* the back-off timer is idle while the container runs: it brings the SIGKILL */
        int64_t grace =
            jp_json_int(p->spec, DEFAULT_GRACE_S, "terminationGracePeriodSeconds", NULL);
        uv_timer_start(&c->backoff, respec_kill, (uint64_t)(grace > 0 ? grace : 0) * 1000, 0);
    }
}

bool pod__running(const struct pod *p)
{
    if (p->sandbox_pending) return true; /* its holder may be running already */
    for (size_t i = 0; i < p->n; i++)
        if (p->c[i].poll_open || p->c[i].starting) return true;
    return false;
}

/* ---- starting ---- */

static void start_failed(struct container *c, const char *why)
{
    memset(&c->term, 0, sizeof(c->term));
    c->term.exit_code = 128;
    snprintf(c->term.reason, sizeof(c->term.reason), "StartError");
    snprintf(c->term.message, sizeof(c->term.message), "%s", why);
    c->term.started_ns = c->term.finished_ns = jp_now_ns();
    c->state = C_TERMINATED;
    agent__event(c->pod, c, "Warning", "Failed", "Error: %s", why);
    agent__wake(c->pod); /* the restart policy decides on the next step */
}

static void backoff_fired(uv_timer_t *t)
{
    struct container *c = t->data;
    c->in_backoff = false;
    agent__wake(c->pod);
}

static void backoff_start(struct container *c, int64_t delay_ns)
{
    double scaled = (double)delay_ns / 1e6 * c->pod->agent->opts.backoff_scale;
    c->in_backoff = true;
    uv_timer_start(&c->backoff, backoff_fired, scaled < 1 ? 1 : (uint64_t)scaled, 0);
}

/* Whether the container mounts volumes of its own, and the account token. */
static void mounts_of(const struct container *c, bool *mounts, bool *tokens)
{
    *mounts = *tokens = false;
    size_t i;
    json_t *vm;
    json_array_foreach(json_object_get(c->spec, "volumeMounts"), i, vm)
    {
        bool t = volumes__is_token_mount(vm);
        *tokens |= t;
        *mounts |= !t;
    }
}

static void start(struct container *c)
{
    struct pod *p = c->pod;
    struct jp_agent *a = p->agent;
    char **argv = NULL, *path = NULL, why[512];
    bool fallback;
    /* not root, a container mounts in a user namespace of its own: unless the kernel refuses.
     * Then the token admission mounts everywhere is left out, as before there were tokens:
     * only the user's own volumes are worth a FailedMount */
    bool mounts, tokens;
    mounts_of(c, &mounts, &tokens);
    char cause[160];
    bool refused = (mounts || tokens) && !a->netns && jp_userns_refused(cause, sizeof(cause));
    if (refused && !mounts) {
        refused = false;
        p->no_token_mounts = true;
    }
    if (refused)
        snprintf(why, sizeof(why),
                 "MountVolume.SetUp failed: volumes need jobplane to run as root or in a user "
                 "namespace, and %s",
                 cause);
    if (refused || volumes__prepare(p, why, sizeof(why)) < 0) {
        /* the kubelet's FailedMount, retried */
        agent__event(p, NULL, "Warning", "FailedMount", "%s", why);
        set_reason(c, "ContainerCreating", NULL);
        backoff_start(c, MOUNT_RETRY_NS);
        agent__dirty(p);
        return;
    }
    const char *image = jp_json_str(c->spec, "image", NULL) ?: "";
    struct jp_image *img;
    int rc = image__resolve(a, c->spec, &argv, &path, &fallback, &img, why, sizeof(why));
    if (rc == -1) { /* unknown image, no fallback: the kubelet's pull failure, retried */
        bool first = strcmp(c->reason, "ErrImagePull") && strcmp(c->reason, "ImagePullBackOff");
        if (first) {
            agent__event(p, c, "Normal", "Pulling", "Pulling image \"%s\"", image);
            agent__event(p, c, "Warning", "Failed", "%s", why);
            agent__event(p, c, "Warning", "Failed", "Error: ErrImagePull");
            set_reason(c, "ErrImagePull", why);
        } else {
            char msg[600];
            snprintf(msg, sizeof(msg), "Back-off pulling image \"%s\"", image);
            agent__event(p, c, "Normal", "BackOff", "%s", msg);
            agent__event(p, c, "Warning", "Failed", "Error: ImagePullBackOff");
            set_reason(c, "ImagePullBackOff", msg);
        }
        int64_t d = c->backoff_ns ? c->backoff_ns : BACKOFF_FIRST_NS;
        c->backoff_ns = d * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : d * 2;
        backoff_start(c, d);
        agent__dirty(p);
        return;
    }
    if (rc == -2) {
        start_failed(c, why);
        agent__dirty(p);
        return;
    }
    if (fallback && c->attempt < 0)
        agent__event(p, c, "Normal", "HostImageFallback",
                     "Image \"%s\" is not in the image store: running its command on the host "
                     "filesystem",
                     image);
    else if (!fallback)
        agent__event(p, c, "Normal", "Pulled", "Container image \"%s\" already present on machine",
                     image);
    c->restarting = c->attempt >= 0 || c->state == C_TERMINATED;
    c->state = C_WAITING;
    c->starting = true;
    struct jp_err *err = NULL;
    if (spawn__start(c, argv, path, img, &err) < 0) {
        c->starting = false;
        start_failed(c, err->msg);
        jp_err_free(err);
    }
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
    free(path);
    jp_image_free(img);
    agent__dirty(p);
}

/* ---- restarts ---- */

/* Go's time.Duration text for whole seconds: 10s, 1m20s, 5m0s. */
static void go_duration(char *buf, size_t n, int64_t ns)
{
    int64_t s = ns / NS_PER_S;
    if (s < 60)
        snprintf(buf, n, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, n, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, n, "%lldh%lldm%llds", (long long)(s / 3600), (long long)(s % 3600 / 60),
                 (long long)(s % 60));
}

static void restart(struct container *c)
{
    struct pod *p = c->pod;
    c->last = c->term;
    c->has_last = true;
    int64_t now = jp_mono_ns();
    if (c->backoff_step_ns && now - c->backoff_step_ns >= BACKOFF_RESET_NS) c->backoff_ns = 0;
    int64_t delay = c->backoff_ns;
    c->backoff_ns =
        delay == 0 ? BACKOFF_FIRST_NS : (delay * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : delay * 2);
    c->backoff_step_ns = now;
    if (delay == 0) {
        start(c);
        return;
    }
    char d[32], msg[512];
    go_duration(d, sizeof(d), delay);
    snprintf(msg, sizeof(msg), "back-off %s restarting failed container=%s pod=%s_%s(%s)", d,
             c->name, p->name, p->ns, p->uid);
    c->state = C_WAITING;
    set_reason(c, "CrashLoopBackOff", msg);
    agent__event(p, c, "Warning", "BackOff",
                 "Back-off restarting failed container %s in pod %s_%s(%s)", c->name, p->name,
                 p->ns, p->uid);
    backoff_start(c, delay);
    agent__dirty(p);
}

static bool wants_restart(const struct pod *p, const struct container *c)
{
    const char *policy = restart_policy(p);
    if (!strcmp(policy, "Always")) return true;
    return !strcmp(policy, "OnFailure") && c->term.exit_code != 0;
}

static void kill_tick(uv_timer_t *t);

void pod__container_started(struct container *c, const char *err)
{
    struct pod *p = c->pod;
    c->starting = false;
    if (err) {
        start_failed(c, err);
        agent__dirty(p);
        return;
    }
    if (c->restarting) c->restarts++;
    c->state = C_RUNNING;
    c->started_ns = jp_now_ns();
    c->reason[0] = c->message[0] = '\0';
    agent__event(p, c, "Normal", "Created", "Created container: %s", c->name);
    agent__event(p, c, "Normal", "Started", "Started container %s", c->name);
    probe__start(c);
    if (p->terminating) { /* deleted while it was starting */
        c->kill_sig = jp_mono_ns() >= p->kill_at_ns ? SIGKILL : SIGTERM;
        if (!uv_is_active((uv_handle_t *)&p->kill_timer))
            uv_timer_start(&p->kill_timer, kill_tick, 0, KILL_POLL_MS);
    }
    agent__wake(p);
    agent__dirty(p);
}

void pod__container_exited(struct container *c)
{
    probe__stop(c);
    c->state = C_TERMINATED;
    c->kill_sig = 0;
    agent__wake(c->pod);
    agent__dirty(c->pod);
}

/* ---- stopping ---- */

static void kill_tick(uv_timer_t *t)
{
    struct pod *p = t->data;
    bool hard = jp_mono_ns() >= p->kill_at_ns;
    for (size_t i = 0; i < p->n; i++) {
        struct container *c = &p->c[i];
        if (c->state != C_RUNNING) continue;
        if (hard)
            spawn__kill(c, SIGKILL);
        else if (c->kill_sig)
            spawn__kill(c, c->kill_sig);
    }
    if (!pod__running(p)) uv_timer_stop(t);
}

static void stop_all(struct pod *p, int64_t grace_s)
{
    p->terminating = true;
    p->kill_at_ns = jp_mono_ns() + grace_s * NS_PER_S;
    for (size_t i = 0; i < p->n; i++) {
        struct container *c = &p->c[i];
        uv_timer_stop(&c->backoff);
        c->in_backoff = false;
        if (c->state != C_RUNNING) continue;
        agent__event(p, c, "Normal", "Killing", "Stopping container %s", c->name);
        spawn__kill(c, grace_s > 0 ? SIGTERM : SIGKILL);
    }
    uv_timer_stop(&p->deadline);
    if (pod__running(p)) uv_timer_start(&p->kill_timer, kill_tick, KILL_POLL_MS, KILL_POLL_MS);
}

static void deadline_fired(uv_timer_t *t)
{
    struct pod *p = t->data;
    if (p->finished || p->terminating) return;
    snprintf(p->reason, sizeof(p->reason), "DeadlineExceeded");
    snprintf(p->message, sizeof(p->message),
             "Pod was active on the node longer than the specified deadline");
    agent__event(p, NULL, "Normal", "DeadlineExceeded", "%s", p->message);
    stop_all(p, jp_json_int(p->spec, DEFAULT_GRACE_S, "terminationGracePeriodSeconds", NULL));
    agent__wake(p);
}

void pod__fail(struct pod *p, const char *reason, const char *message, int64_t grace_s)
{
    if (p->finished || p->terminating) return;
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
    snprintf(p->message, sizeof(p->message), "%s", message);
    stop_all(p, grace_s);
    agent__wake(p);
}

static void arm_deadline(struct pod *p)
{
    int64_t ads = jp_json_int(p->spec, -1, "activeDeadlineSeconds", NULL);
    if (ads < 0) return;
    int64_t left_ms = (p->start_ns + ads * NS_PER_S - jp_now_ns()) / 1000000;
    uv_timer_start(&p->deadline, deadline_fired, left_ms > 0 ? (uint64_t)left_ms : 0, 0);
}

static void settle(struct pod *p, const char *phase)
{
    p->finished = true;
    not_live(p);
    snprintf(p->phase, sizeof(p->phase), "%s", phase);
    uv_timer_stop(&p->deadline);
    if (!pod__running(p)) { /* the sandbox goes, and a Memory emptyDir's tmpfs; logs stay */
        spawn__netns_release(p);
        volumes__unmount(p->disk_dir);
    }
    agent__dirty(p);
}

static bool all_apps_succeeded(const struct pod *p)
{
    for (size_t i = p->ninit; i < p->n; i++)
        if (p->c[i].state != C_TERMINATED || p->c[i].term.exit_code != 0) return false;
    return true;
}

/* The final steps of a pod being deleted (or past its deadline) once nothing runs. */
static void finish_termination(struct pod *p)
{
    if (!p->finished)
        settle(p, p->reason[0] == '\0' && all_apps_succeeded(p) ? "Succeeded" : "Failed");
    spawn__netns_release(p);
    if (jp_json_path(p->obj, "metadata", "deletionTimestamp", NULL) == NULL || p->delete_sent)
        return;
    /* the terminal status lands before the object goes */
    status__write(p);
    p->delete_sent = true;
    const struct jp_kind *k = &jp_kinds[p->agent->kind_pods];
    struct jp_write_ctx ctx = {.store = p->agent->store, .kind = k, .ns = p->ns};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    json_t *opts =
        json_pack("{s:i,s:{s:s}}", "gracePeriodSeconds", 0, "preconditions", "uid", p->uid);
    if (jp_api_delete(&ctx, p->name, opts, &res, &st) < 0) {
        jp_log(JP_WARN, "agent", "deleting pod %s/%s: %s", p->ns, p->name, st->message);
        jp_status_free(st);
    }
    json_decref(opts);
    jp_write_result_free(&res);
    jp_write_ctx_free(&ctx);
}

/* ---- the step ---- */

/* The pod's sandbox, or its place in line for one; without either it shares the host's
 * network. */
static void sandbox(struct pod *p)
{
    struct jp_err *err = NULL;
    if (spawn__sandbox(p, &err) < 0) {
        jp_log(JP_WARN, "agent", "%s: the pod shares the host network", err->msg);
        jp_err_free(err);
    }
}

static void begin(struct pod *p)
{
    p->started = true;
    p->start_ns = jp_now_ns();
    sandbox(p);
    arm_deadline(p);
    agent__dirty(p);
}

/* Runs the init containers in order; true once all have succeeded. */
static bool step_init(struct pod *p)
{
    for (size_t i = 0; i < p->ninit; i++) {
        struct container *c = &p->c[i];
        if (c->state == C_RUNNING || c->in_backoff || c->starting) return false;
        if (c->state == C_WAITING) {
            set_reason(c, "PodInitializing", NULL);
            start(c);
            return false;
        }
        if (c->term.exit_code == 0) continue;
        if (!strcmp(restart_policy(p), "Never"))
            settle(p, "Failed");
        else
            restart(c);
        return false;
    }
    return true;
}

static void set_phase(struct pod *p, const char *phase)
{
    if (strcmp(p->phase, phase) == 0) return;
    snprintf(p->phase, sizeof(p->phase), "%s", phase);
    agent__dirty(p);
}

/* Starts and restarts the app containers, then the phase by the kubelet's counting: a container
 * that has never run keeps the pod Pending; one in back-off after a run counts as stopped. */
static void step_apps(struct pod *p)
{
    int waiting = 0, running = 0, restarting = 0;
    for (size_t i = p->ninit; i < p->n; i++) {
        struct container *c = &p->c[i];
        if (c->starting) {
            c->has_last ? restarting++ : waiting++;
            continue;
        }
        if (c->state == C_WAITING && !c->in_backoff && !strcmp(c->reason, "PodInitializing"))
            set_reason(c, "ContainerCreating", NULL);
        if (c->state == C_WAITING && !c->in_backoff) start(c);
        if (c->state == C_TERMINATED && c->respec) {
            c->respec = false; /* stopped for its new image: started again at once */
            c->last = c->term;
            c->has_last = true;
            start(c);
        } else if (c->state == C_TERMINATED && wants_restart(p, c)) {
            restart(c);
        }
        if (c->state == C_RUNNING)
            running++;
        else if (c->state == C_WAITING && c->has_last)
            restarting++;
        else if (c->state == C_WAITING)
            waiting++;
    }
    if (waiting > 0) return; /* Pending */
    if (running > 0 || restarting > 0)
        set_phase(p, "Running");
    else
        settle(p, all_apps_succeeded(p) ? "Succeeded" : "Failed");
}

void pod__sync(struct pod *p)
{
    if (p->gone) {
        if (!p->terminating) stop_all(p, 0);
        if (!pod__running(p)) {
            spawn__netns_release(p);
            volumes__unmount(p->disk_dir);
            jp_remove_tree(p->disk_dir);
            if (pod__records_apart(p)) jp_remove_tree(p->dir);
            pod__close(p);
        }
        return;
    }
    if (!p->terminating && jp_json_path(p->obj, "metadata", "deletionTimestamp", NULL)) {
        int64_t grace = jp_json_int(p->obj, -1, "metadata", "deletionGracePeriodSeconds", NULL);
        if (grace < 0)
            grace = jp_json_int(p->spec, DEFAULT_GRACE_S, "terminationGracePeriodSeconds", NULL);
        stop_all(p, grace);
    }
    if (p->terminating) {
        if (!pod__running(p)) finish_termination(p);
        return;
    }
    if (p->finished) return;
    if (!p->started)
        begin(p);
    else if (p->sandbox_queued)
        sandbox(p);
    /* sandbox_done (or the sandbox the pod waits for) wakes it */
    if (p->sandbox_pending || p->sandbox_queued) return;
    if (p->ninit && !step_init(p)) return;
    if (!p->finished) step_apps(p);
}

/* ---- freeing ---- */

void pod__handle_closed(uv_handle_t *h)
{
    pod__unref(h->data);
}

void pod__unref(struct pod *p)
{
    if (--p->handles > 0 || !p->freeing) return;
    /* the process is ending (base/alloc.h): each pod's trees, freed one by one, were a third of
     * a second of the exit after a Job of 10,000 pods */
    if (!jp_free_at_stop()) return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->c[i].name);
        free(p->c[i].image_id);
        free(p->c[i].image_id_of);
    }
    free(p->c);
    json_decref(p->obj);
    json_decref(p->spec);
    json_decref(p->volumes);
    free(p->uid);
    free(p->ns);
    free(p->name);
    free(p->dir);
    free(p->disk_dir);
    free(p);
}

void pod__close(struct pod *p)
{
    p->freeing = true;
    not_live(p);
    for (size_t i = 0; i < p->n; i++) {
        probe__stop(&p->c[i]);
        p->c[i].backoff.data = p;
        uv_close((uv_handle_t *)&p->c[i].backoff, pod__handle_closed);
    }
    uv_close((uv_handle_t *)&p->kill_timer, pod__handle_closed);
    uv_close((uv_handle_t *)&p->deadline, pod__handle_closed);
    usage__close(p);
}
