/* Starting, watching, signalling and re-adopting containers. Every start is a new attempt
 * directory DATA/pods/<uid>/<container>/<attempt>, created with mkdir (which fails if it exists),
 * so no attempt - and so no container instance - ever runs twice, even across a crash. The shim
 * is our child while this server runs; after a restart it is found again from the files it and
 * we left (state.json, shim.json) and watched through a pidfd. */
#include "agent/agent-internal.h"
#include "api/object.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SHIM_RECORD  "shim.json" /* the agent's own note of the shim it started */
#define NETNS_RECORD "netns.json"

char *spawn__attempt_dir(const struct container *c, int attempt)
{
    return jp_xasprintf("%s/%s/%d", c->pod->dir, c->name, attempt);
}

char *spawn__log_dir(const struct container *c, int attempt)
{
    return jp_xasprintf("%s/%s/%d", c->pod->disk_dir, c->name, attempt);
}

/* The shim has gone: what it recorded is how the container ended. */
static void shim_gone(struct container *c)
{
    char *dir = spawn__attempt_dir(c, c->attempt);
    struct jp_err *err = NULL;
    struct jp_shim_exit ex;
    if (jp_shim_exit_read(dir, &ex, &err) < 0) {
        jp_err_free(err);
        /* the shim died without a record (killed by hand?): its container may live on */
        struct jp_shim_state st;
        if (jp_shim_state_read(dir, &st, NULL) == 0 && st.pid > 0 && getpgid(st.pid) == st.pid)
            kill(-st.pid, SIGKILL);
        c->pod->entered = true; /* the container's own children may live on */
        memset(&ex, 0, sizeof(ex));
        ex.exit_code = 137;
        snprintf(ex.reason, sizeof(ex.reason), "ContainerStatusUnknown");
        snprintf(ex.message, sizeof(ex.message),
                 "The container's monitor ended without recording how the container exited");
        ex.started_ns = c->started_ns;
        ex.finished_ns = jp_now_ns();
    }
    free(dir);
    c->term = ex;
    pod__container_exited(c);
}

static void on_pidfd(uv_poll_t *h, int status, int events)
{
    (void)status, (void)events;
    struct container *c = h->data;
    c->poll_open = false;
    h->data = c->pod;
    uv_close((uv_handle_t *)h, pod__handle_closed);
    close(c->pidfd);
    c->pidfd = -1;
    c->shim_pid = 0;
    shim_gone(c);
}

/* Watches a shim through a pidfd (fd, or one opened here when fd < 0); false if it cannot be
 * watched (it is gone already). */
static bool watch_shim(struct container *c, int pid, int fd)
{
    if (fd < 0) fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return false;
    if (uv_poll_init(c->pod->agent->loop, &c->pidfd_poll, fd) < 0) {
        close(fd);
        return false;
    }
    c->pidfd = fd;
    c->shim_pid = pid;
    c->pidfd_poll.data = c;
    c->pod->handles++;
    c->poll_open = true;
    uv_poll_start(&c->pidfd_poll, UV_READABLE, on_pidfd);
    return true;
}

static int64_t security_id(const struct pod *p, const json_t *spec, const char *field)
{
    if (geteuid() != 0) return -1; /* only root can become someone else */
    int64_t v = jp_json_int(spec, -1, "securityContext", field, NULL);
    if (v < 0) v = jp_json_int(p->spec, -1, "securityContext", field, NULL);
    return v;
}

/* fsGroup and supplementalGroups, the groups a kubelet gives every container of the pod beside
 * its own gid (root only; NULL when there are none). OUT: the caller frees. The ownership of
 * volumes that fsGroup also asks for is not changed. */
static json_t *pod_groups(const struct pod *p)
{
    int64_t fs = jp_json_int(p->spec, -1, "securityContext", "fsGroup", NULL);
    const json_t *more = jp_json_path(p->spec, "securityContext", "supplementalGroups", NULL);
    if (geteuid() != 0 || (fs < 0 && json_array_size(more) == 0)) return NULL; /* most pods */
    json_t *out = json_array();
    if (fs >= 0) json_array_append_new(out, json_integer(fs));
    size_t i;
    json_t *g;
    json_array_foreach(more, i, g)
    {
        if (json_is_integer(g) && json_integer_value(g) >= 0 && json_integer_value(g) != fs)
            json_array_append_new(out, json_integer(json_integer_value(g)));
    }
    if (json_array_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static void write_shim_record(const char *dir, int pid)
{
    char text[96];
    int n = snprintf(text, sizeof(text), "{\"shimPid\":%d,\"shimStart\":%llu}", pid,
                     (unsigned long long)jp_proc_starttime(pid));
    struct jp_err *err = NULL;
    /* a failure only costs re-adoption in the moment before the shim writes state.json */
    if (jp_replace_file(dir, SHIM_RECORD, text, (size_t)n, &err) < 0) jp_err_free(err);
}

/* A start, prepared on the loop (everything that reads the store), carried out on a worker
 * thread (directories, files, the launch: the blocking part), finished on the loop. */
struct start_job {
    uv_work_t req;
    struct container *c;
    char *self_exe, *pod_dir, *cdir, *spec;
    int first; /* the first attempt number to try */
    int attempt, pid, pidfd;
    struct jp_err *err;
};

static int unrecorded_shim(const char *dir);

static void start_work(uv_work_t *r)
{
    struct start_job *j = r->data;
    if (jp_mkdir_private(j->pod_dir, &j->err) < 0 || jp_mkdir_private(j->cdir, &j->err) < 0) return;
    char *dir = NULL;
    for (int attempt = j->first;; attempt++) {
        dir = jp_xasprintf("%s/%d", j->cdir, attempt);
        if (mkdir(dir, 0700) == 0) { /* fails if it exists: no attempt runs twice */
            j->attempt = attempt;
            break;
        }
        int e = errno;
        free(dir);
        if (e != EEXIST) {
            jp_err_set(&j->err, JP_INTERNAL, e, "creating attempt %d: %s", attempt, strerror(e));
            return;
        }
    }
    int pid, e;
    if (jp_replace_file(dir, JP_SHIM_SPEC, j->spec, strlen(j->spec), &j->err) < 0) goto out;
    e = launcher__shim(j->self_exe, dir, &pid, &j->pidfd);
    /* the launcher died after the request: the shim it may have forked is found by its title */
    if (e == EINPROGRESS && (pid = unrecorded_shim(dir)) > 0) e = 0;
    if (e != 0) {
        jp_err_set(&j->err, JP_INTERNAL, e, "starting the container's monitor: %s", strerror(e));
        goto out;
    }
    /* no record of the pid: until the shim writes state.json, a restarted agent finds it by
     * its command line (unrecorded_shim) - one file less per container start */
    j->pid = pid;
out:
    free(dir);
}

static void start_done(uv_work_t *r, int status)
{
    (void)status;
    struct start_job *j = r->data;
    struct container *c = j->c;
    struct pod *p = c->pod;
    if (j->pid > 0) c->attempt = j->attempt;
    if (p->freeing) {
        /* the agent is stopping: the shim runs on and the next server re-adopts it */
    } else if (j->pid > 0 && watch_shim(c, j->pid, j->pidfd)) {
        j->pidfd = -1; /* the watch has it */
        pod__container_started(c, NULL);
    } else {
        if (j->pid > 0) kill(j->pid, SIGKILL);
        pod__container_started(c, j->err ? j->err->msg : "the container's monitor vanished");
    }
    if (j->pidfd >= 0) close(j->pidfd);
    jp_err_free(j->err);
    free(j->self_exe);
    free(j->pod_dir);
    free(j->cdir);
    free(j->spec);
    free(j);
    pod__unref(p);
}

/* The pod's hostname: spec.hostname, else its name (cut to a DNS label, as the kubelet). */
static void pod_hostname(const struct pod *p, char out[64])
{
    const char *host = jp_json_str(p->spec, "hostname", NULL);
    snprintf(out, 64, "%.63s", host && *host ? host : p->name);
}

int spawn__start(struct container *c, char **argv, const char *path, const struct jp_image *img,
                 struct jp_err **err)
{
    struct pod *p = c->pod;
    struct jp_agent *a = p->agent;
    char **env = env__build(a, p, c->spec);
    /* $(VAR) in command and args expands from the container's environment */
    for (size_t i = 0; argv[i]; i++) {
        char *x = env__expand(argv[i], env);
        free(argv[i]);
        argv[i] = x;
    }
    char netns[64], why[512], hostname[64];
    snprintf(netns, sizeof(netns), "/proc/%d/ns/net", p->netns_pid);
    pod_hostname(p, hostname);
    const char *wd = jp_json_str(c->spec, "workingDir", NULL);
    /* volume mounts: in the shim's mount namespace, root's or a user namespace's (pod.c has
     * checked that the kernel allows one) */
    json_t *mounts = json_array_size(json_object_get(c->spec, "volumeMounts"))
                         ? volumes__mounts(p, c, why, sizeof(why))
                         : NULL;
    if (json_array_size(json_object_get(c->spec, "volumeMounts")) && !mounts) {
        env__free(env);
        return jp_err_set(err, JP_INVALID, 0, "%s", why);
    }
    if (mounts && json_array_size(mounts) == 0) { /* the token's alone, left out (pod.c) */
        json_decref(mounts);
        mounts = NULL;
    }
    /* a stored image: its root filesystem, and its environment, working directory and user */
    struct image_run run;
    if (image__prepare(img, c->spec, &env, &run, err) < 0) {
        env__free(env);
        json_decref(mounts);
        return -1;
    }
    char *hosts = hosts__wanted(p) ? hosts__path(p) : NULL;
    json_t *groups = pod_groups(p);
    char *log_root = pod__records_apart(p) ? jp_xasprintf("%s/%s", p->disk_dir, c->name) : NULL;
    struct jp_shim_spec spec = {
        .log_root = log_root,
        .argv = argv,
        .path = (char *)path,
        .env = env,
        .cwd = (char *)(wd && *wd     ? wd
                        : run.workdir ? run.workdir
                                      : "/"),
        .netns = p->netns_pid ? netns : NULL,
        .hostname = p->netns_pid ? hostname : NULL,
        .hosts = hosts,
        .mounts = mounts,
        .rootfs = run.rootfs,
        .uid = security_id(p, c->spec, "runAsUser"),
        .gid = security_id(p, c->spec, "runAsGroup"),
        .caps =
            geteuid() == 0 ? (int64_t)jp_caps_for(json_object_get(c->spec, "securityContext")) : -1,
        .privileged = json_is_true(jp_json_path(c->spec, "securityContext", "privileged", NULL)),
        .groups = groups,
    };
    image__user(&run, &spec.uid, &spec.gid);
    /* a plain container joins the sandbox's mount namespace: nothing of its own to mount, and
     * no capability to change what its pod's other containers (and the pods after) share */
    char mntns[64];
    if (p->sandbox_mnt && p->netns_pid > 0 && hosts && !mounts && !run.rootfs && !spec.privileged &&
        spec.caps >= 0 && ((uint64_t)spec.caps & ~JP_CAPS_DEFAULT) == 0) {
        snprintf(mntns, sizeof(mntns), "/proc/%d/ns/mnt", p->netns_pid);
        spec.mntns = mntns;
        spec.hosts = NULL;
    }
    struct start_job *j = jp_xcalloc(1, sizeof(*j));
    j->c = c;
    j->spec = jp_shim_spec_render(&spec);
    json_decref(groups);
    env__free(env);
    free(hosts);
    free(log_root);
    json_decref(mounts);
    image__run_free(&run);
    j->self_exe = jp_xstrdup(a->self_exe);
    j->pod_dir = jp_xstrdup(p->dir);
    j->cdir = jp_xasprintf("%s/%s", p->dir, c->name);
    j->first = c->attempt + 1;
    j->pidfd = -1;
    j->req.data = j;
    int e = uv_queue_work(a->loop, &j->req, start_work, start_done);
    if (e < 0) {
        free(j->spec);
        free(j->self_exe);
        free(j->pod_dir);
        free(j->cdir);
        free(j);
        return jp_err_set(err, JP_INTERNAL, 0, "queueing the start of %s: %s", c->name,
                          uv_strerror(e));
    }
    p->handles++; /* the pod outlives the job */
    return 0;
}

/* A shim from before a restart: alive (and the same process, not a reused pid)? */
static int find_shim(const char *dir, int64_t *started_ns)
{
    struct jp_shim_state st = {0};
    if (jp_shim_state_read(dir, &st, NULL) == 0) {
        *started_ns = st.started_ns;
    } else {
        /* started but not yet running its container when we went down */
        char *text;
        size_t len;
        if (jp_read_file(dir, SHIM_RECORD, 4096, &text, &len, NULL) < 0) return 0;
        json_t *doc = json_loadb(text, len, 0, NULL);
        free(text);
        st.shim_pid = (int)json_integer_value(json_object_get(doc, "shimPid"));
        st.shim_start = (uint64_t)json_integer_value(json_object_get(doc, "shimStart"));
        json_decref(doc);
    }
    if (st.shim_pid <= 0 || st.shim_start == 0) return 0;
    return jp_proc_starttime(st.shim_pid) == st.shim_start ? st.shim_pid : 0;
}

/* A shim whose pid we never wrote down (the server died between spawning it and recording
 * it): found by its command line, "<exe> shim <dir>". */
static int unrecorded_shim(const char *dir)
{
    DIR *d = opendir("/proc");
    if (d == NULL) return 0;
    struct dirent *e;
    int found = 0;
    size_t dlen = strlen(dir);
    while (!found && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        char path[64], buf[4096];
        snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = '\0';
        const char *verb = buf + strlen(buf) + 1;
        if (verb >= buf + n || strcmp(verb, "shim") != 0) continue;
        const char *arg = verb + 5;
        if (arg < buf + n && strlen(arg) == dlen && memcmp(arg, dir, dlen) == 0) found = (int)pid;
    }
    closedir(d);
    return found;
}

void spawn__adopt(struct container *c)
{
    char *dir = spawn__attempt_dir(c, c->attempt);
    struct jp_shim_exit ex;
    struct jp_shim_state st;
    int64_t started = 0;
    int pid = 0;
    if (jp_shim_exit_read(dir, &ex, NULL) == 0) {
        c->state = C_TERMINATED;
        c->term = ex;
    } else if ((pid = find_shim(dir, &started)) > 0 || (pid = unrecorded_shim(dir)) > 0) {
        write_shim_record(dir, pid);
        if (watch_shim(c, pid, -1)) {
            c->state = C_RUNNING;
            c->started_ns = started ? started : jp_now_ns();
            probe__start(c);
            jp_log(JP_INFO, "agent", "re-adopted container %s of pod %s/%s (monitor pid %d)",
                   c->name, c->pod->ns, c->pod->name, pid);
        } else {
            pid = 0;
        }
    }
    if (c->state == C_TERMINATED || pid > 0) {
        free(dir);
        return;
    }
    if (jp_shim_state_read(dir, &st, NULL) < 0) {
        /* no shim and its container never started: the attempt never happened, start again */
        jp_log(JP_INFO, "agent", "container %s of pod %s/%s was not started before the restart",
               c->name, c->pod->ns, c->pod->name);
        jp_remove_tree(dir);
        free(dir);
        c->attempt--;
        c->state = C_WAITING;
        return;
    }
    free(dir);
    spawn__lost(c); /* started, then neither running nor recorded: lost while we were down */
}

void spawn__lost(struct container *c)
{
    c->pod->entered = true;
    memset(&c->term, 0, sizeof(c->term));
    c->term.exit_code = 137;
    snprintf(c->term.reason, sizeof(c->term.reason), "ContainerStatusUnknown");
    snprintf(c->term.message, sizeof(c->term.message),
             "The container could not be located when the pod was terminated");
    c->term.finished_ns = jp_now_ns();
    c->state = C_TERMINATED;
}

int spawn__container_pid(const struct container *c)
{
    if (c->state != C_RUNNING) return 0;
    char *dir = spawn__attempt_dir(c, c->attempt);
    struct jp_shim_state st;
    int pid = jp_shim_state_read(dir, &st, NULL) == 0 && st.pid > 0 ? st.pid : 0;
    free(dir);
    return pid;
}

void spawn__kill(struct container *c, int sig)
{
    if (c->state != C_RUNNING) return;
    int pid = spawn__container_pid(c);
    if (pid > 0) {
        /* the whole process group: a shell's children go too */
        if (kill(-pid, sig) < 0 && errno == ESRCH) kill(pid, sig);
        c->kill_sig = 0;
    } else {
        c->kill_sig = sig; /* the shim has not started it yet: pod.c retries */
    }
}

/* ---- the pod's network namespace ---- */

int spawn__holder_recorded(const char *dir, uint32_t *ip)
{
    return spawn__holder_record_read(dir, NETNS_RECORD, ip);
}

/* Whether holder pid has a mount namespace of its own (one made by jp_shim_sandbox_mounts). */
static bool holder_has_mnt(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
    struct stat theirs, ours;
    return stat(path, &theirs) == 0 && stat("/proc/self/ns/mnt", &ours) == 0 &&
           theirs.st_ino != ours.st_ino;
}

int spawn__holder_adopt(struct pod *p)
{
    p->netns_pid = spawn__holder_recorded(p->dir, &p->ip);
    p->netns_start = 0; /* pool__put reads it if it comes to that */
    p->sandbox_mnt = p->netns_pid > 0 && holder_has_mnt(p->netns_pid);
    p->hosts_apart = true; /* perhaps a pooled one: whose hosts file it bound is unknown */
    return p->netns_pid;
}

int spawn__holder_record_read(const char *dir, const char *name, uint32_t *ip)
{
    char *text;
    size_t len;
    *ip = 0;
    if (jp_read_file(dir, name, 4096, &text, &len, NULL) < 0) return 0;
    json_t *doc = json_loadb(text, len, 0, NULL);
    free(text);
    int pid = (int)json_integer_value(json_object_get(doc, "pid"));
    uint64_t start = (uint64_t)json_integer_value(json_object_get(doc, "start"));
    struct in_addr in;
    const char *addr = json_string_value(json_object_get(doc, "ip"));
    if (addr && inet_pton(AF_INET, addr, &in) == 1) *ip = ntohl(in.s_addr);
    json_decref(doc);
    return pid > 0 && jp_proc_starttime(pid) == start ? pid : 0;
}

/* Namespaces live as long as a holder process ("<exe> shim --hold DIR HOST") sits in them; the
 * launcher forks it and it makes them (unshare) before it reports. The record (pid, start time,
 * address) lets the next server find the holder again. Any thread may call this. */
int spawn__holder(const char *self_exe, const char *dir, const char *hostname, int flags,
                  uint32_t ip, int *out, uint64_t *started, struct jp_err **err)
{
    *out = 0;
    if (jp_mkdir_private(dir, err) < 0) return -1;
    if (flags & CLONE_NEWNS) { /* bound over /etc/hosts there: it must exist (hosts__write) */
        char *hosts = jp_xasprintf("%s/%s", dir, JP_POD_HOSTS);
        int fd = open(hosts, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        free(hosts);
        if (fd < 0)
            return jp_err_set(err, JP_INTERNAL, errno, "creating %s/%s: %s", dir, JP_POD_HOSTS,
                              strerror(errno));
        close(fd);
    }
    int pid, e = launcher__holder(self_exe, dir, hostname, flags, &pid);
    if (e != 0)
        return jp_err_set(err, JP_INTERNAL, e, "creating the namespaces held in %s: %s", dir,
                          strerror(e));
    char rec[128], addr[16] = "";
    if (ip) net__ip_str(ip, addr);
    uint64_t start = jp_proc_starttime(pid);
    if (started) *started = start;
    int m = snprintf(rec, sizeof(rec), "{\"pid\":%d,\"start\":%llu,\"ip\":\"%s\"}", pid,
                     (unsigned long long)start, addr);
    if (jp_replace_file(dir, NETNS_RECORD, rec, (size_t)m, err) < 0) {
        kill(pid, SIGKILL);
        return -1;
    }
    *out = pid;
    return 0;
}

/* A new sandbox is made on a worker thread: the namespaces' clone (~2 ms) and the veth (~1 ms)
 * would otherwise hold the loop for every pod. */
struct sandbox_job {
    uv_work_t req;
    struct pod *p;
    struct agent_net *net; /* read-only on the worker */
    char *self_exe, *dir, *hostname, *what;
    uint32_t ip;
    int pid;
    uint64_t start;
    struct jp_err *err;
};

static void sandbox_work(uv_work_t *r)
{
    struct sandbox_job *j = r->data;
    /* a mount namespace too, made once for the pod's plain containers (and the pods after it,
     * with the sandbox): one per container start (its copy of the host's mounts, three mounts,
     * and its teardown at the container's end) was ~4% of all CPU a Job's pod cost */
    if (spawn__holder(j->self_exe, j->dir, j->hostname, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS,
                      j->ip, &j->pid, &j->start, &j->err) < 0)
        return;
    if (j->net && net__connect(j->net, j->pid, j->ip, true, j->what, &j->err) < 0) {
        kill(j->pid, SIGKILL);
        j->pid = 0;
    }
}

static void sandbox_done(uv_work_t *r, int status)
{
    (void)status;
    struct sandbox_job *j = r->data;
    struct pod *p = j->p;
    p->sandbox_pending = false;
    if (p->freeing) {
        /* the agent is stopping (and may be gone already): the recorded holder is found again
         * by the next server */
    } else {
        p->agent->sandboxes_making--;
        spawn__sandbox_next(p->agent);
        if (j->pid > 0) {
            p->netns_pid = j->pid;
            p->netns_start = j->start;
            p->sandbox_mnt = true;
            p->hosts_apart = false; /* it bound this pod's hosts file */
            hosts__write(p);
            if (p->finished && !pod__running(p)) spawn__netns_release(p); /* settled meanwhile */
        } else {
            net__free_ip(p->agent, p->ip);
            p->ip = 0;
            jp_log(JP_WARN, "agent", "%s: the pod shares the host network",
                   j->err ? j->err->msg : "no sandbox");
        }
        agent__wake(p);
    }
    jp_err_free(j->err);
    free(j->self_exe);
    free(j->dir);
    free(j->hostname);
    free(j->what);
    free(j);
    pod__unref(p);
}

/* Namespaces made at once. Each costs the kernel more the more exist, and a burst of pods all
 * making theirs at the same time (bench/pods: 1,000) had hundreds alive before the first pod
 * ended and gave its sandbox back: starts slowed to half. Waiting pods take a pooled sandbox
 * or the next turn, in the order they came. */
#define SANDBOXES_AT_ONCE 8

void spawn__sandbox_next(struct jp_agent *a)
{
    while (a->nsandbox_queue > 0) {
        struct pod *p = a->sandbox_queue[0];
        a->nsandbox_queue--;
        memmove(a->sandbox_queue, a->sandbox_queue + 1,
                a->nsandbox_queue * sizeof(*a->sandbox_queue));
        bool waits = p->sandbox_queued && !p->freeing && !p->terminating && !p->finished;
        if (waits) {
            p->sandbox_turn = true;
            agent__wake(p); /* its sync tries again (spawn__sandbox) */
        }
        pod__unref(p);
        if (waits) return;
    }
}

static void wait_in_line(struct jp_agent *a, struct pod *p, bool front)
{
    agent__push_pod(&a->sandbox_queue, &a->nsandbox_queue, &a->sandbox_queue_cap, p);
    if (front) {
        memmove(a->sandbox_queue + 1, a->sandbox_queue,
                (a->nsandbox_queue - 1) * sizeof(*a->sandbox_queue));
        a->sandbox_queue[0] = p;
    }
    p->handles++; /* the pod outlives its place in line */
    p->sandbox_queued = true;
}

void spawn__sandbox_queue_free(struct jp_agent *a)
{
    for (size_t i = 0; i < a->nsandbox_queue; i++)
        pod__unref(a->sandbox_queue[i]);
    free(a->sandbox_queue);
    a->sandbox_queue = NULL;
    a->nsandbox_queue = a->sandbox_queue_cap = 0;
}

/* The pod's sandbox: network and UTS namespaces, and with a pod network its address and veth.
 * A recorded holder (after a restart) is adopted at once; a new one is made on a worker thread
 * while p->sandbox_pending holds the pod's containers back, or, when SANDBOXES_AT_ONCE are
 * being made, the pod waits in line (p->sandbox_queued). */
int spawn__sandbox(struct pod *p, struct jp_err **err)
{
    struct jp_agent *a = p->agent;
    if (!a->netns) { /* the host network; Service names on 127.0.0.1 (hosts.c) */
        hosts__write(p);
        return 0;
    }
    if (p->netns_pid || p->sandbox_pending || json_is_true(json_object_get(p->spec, "hostNetwork")))
        return 0;
    if (!p->fresh && spawn__holder_adopt(p) > 0) { /* a fresh pod has no record to find */
        net__claim(a, p->ip);
        if (net__attach(p, err) < 0) return -1;
        hosts__write(p);
        return 0;
    }
    char hostname[64];
    pod_hostname(p, hostname);
    bool turn = p->sandbox_turn, first = a->nsandbox_queue == 0 || turn;
    p->sandbox_turn = p->sandbox_queued = false;
    if (first && pool__take(p)) {
        hosts__write(p);
        if (a->sandboxes_making < SANDBOXES_AT_ONCE) spawn__sandbox_next(a); /* room left */
        return 0;
    }
    if (!first || a->sandboxes_making >= SANDBOXES_AT_ONCE) {
        wait_in_line(a, p, turn); /* a pod whose turn it was keeps its place at the front */
        return 0;
    }
    p->ip = a->net ? net__alloc(a) : 0;
    if (a->net && p->ip == 0)
        return jp_err_set(err, JP_INTERNAL, 0, "no pod address is free for %s/%s", p->ns, p->name);
    struct sandbox_job *j = jp_xcalloc(1, sizeof(*j));
    j->p = p;
    j->net = a->net;
    j->ip = p->ip;
    j->self_exe = jp_xstrdup(a->self_exe);
    j->dir = jp_xstrdup(p->dir);
    j->hostname = jp_xstrdup(hostname);
    j->what = jp_xasprintf("pod %s/%s", p->ns, p->name);
    j->req.data = j;
    int e = uv_queue_work(a->loop, &j->req, sandbox_work, sandbox_done);
    if (e < 0) {
        free(j->self_exe), free(j->dir), free(j->hostname), free(j->what), free(j);
        net__free_ip(a, p->ip);
        p->ip = 0;
        return jp_err_set(err, JP_INTERNAL, 0, "queueing the sandbox of %s/%s: %s", p->ns, p->name,
                          uv_strerror(e));
    }
    p->sandbox_pending = true;
    a->sandboxes_making++;
    p->handles++; /* the pod outlives the job */
    if (a->sandboxes_making < SANDBOXES_AT_ONCE) spawn__sandbox_next(a); /* room left */
    return 0;
}

void spawn__netns_release(struct pod *p)
{
    if (p->ip) p->ip_was = p->ip;
    if (pool__put(p)) { /* kept for the next pod: the first in line, if one waits */
        spawn__sandbox_next(p->agent);
        return;
    }
    if (p->netns_pid > 0) {
        kill(p->netns_pid, SIGKILL); /* the launcher (or init, for an older one) reaps it */
        p->netns_pid = 0;
        p->netns_start = 0;
    }
    p->sandbox_mnt = false;
    net__free_ip(p->agent, p->ip);
    p->ip = 0;
}
