/* The container monitor. It must stay small and dependable: no event loop, no server state.
 * Detached in its own session it survives the server; it forks the container, relays output
 * into the log, waits, and records the exit atomically - the agent trusts only those files. */
#include "agent/shim.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/fsutil.h"
#include "base/timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE_MAX_BYTES (16u << 10) /* longer lines are written as partial ("P") records */

/* ---- spec and records ---- */

static json_t *str_array(char **v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

char *jp_shim_spec_render(const struct jp_shim_spec *spec)
{
    json_t *doc = json_pack("{s:o,s:o,s:s,s:I,s:I,s:I}", "argv", str_array(spec->argv), "env",
                            str_array(spec->env), "cwd", spec->cwd ? spec->cwd : "/", "uid",
                            (json_int_t)spec->uid, "gid", (json_int_t)spec->gid, "logMax",
                            (json_int_t)(spec->log_max ? spec->log_max : JP_SHIM_LOG_MAX));
    if (spec->netns) json_object_set_new(doc, "netns", json_string(spec->netns));
    if (spec->hostname) json_object_set_new(doc, "hostname", json_string(spec->hostname));
    if (spec->hosts) json_object_set_new(doc, "hosts", json_string(spec->hosts));
    if (spec->mntns) json_object_set_new(doc, "mntns", json_string(spec->mntns));
    if (json_array_size(spec->mounts)) json_object_set(doc, "mounts", (json_t *)spec->mounts);
    if (spec->path) json_object_set_new(doc, "path", json_string(spec->path));
    if (spec->rootfs) json_object_set_new(doc, "rootfs", json_string(spec->rootfs));
    if (spec->caps >= 0) json_object_set_new(doc, "caps", json_integer(spec->caps));
    if (spec->log_root) json_object_set_new(doc, "logRoot", json_string(spec->log_root));
    if (spec->privileged) json_object_set_new(doc, "privileged", json_true());
    if (json_array_size(spec->groups)) json_object_set(doc, "groups", (json_t *)spec->groups);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

int jp_shim_spec_write(const char *dir, const struct jp_shim_spec *spec, struct jp_err **err)
{
    char *text = jp_shim_spec_render(spec);
    int rc = jp_replace_file(dir, JP_SHIM_SPEC, text, strlen(text), err);
    free(text);
    return rc;
}

static int read_json(const char *dir, const char *name, json_t **out, struct jp_err **err)
{
    char *text;
    size_t len;
    if (jp_read_file(dir, name, 1 << 20, &text, &len, err) < 0) return -1;
    json_error_t jerr;
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return jp_err_set(err, JP_INTERNAL, 0, "%s/%s: %s", dir, name, jerr.text);
    }
    return 0;
}

static int64_t time_of(const json_t *doc, const char *key)
{
    int64_t ns = 0;
    const char *s = json_string_value(json_object_get(doc, key));
    if (s) jp_time_parse(s, &ns, NULL);
    return ns;
}

int jp_shim_exit_read(const char *dir, struct jp_shim_exit *out, struct jp_err **err)
{
    json_t *doc;
    if (read_json(dir, JP_SHIM_EXIT, &doc, err) < 0) return -1;
    memset(out, 0, sizeof(*out));
    out->exit_code = (int)json_integer_value(json_object_get(doc, "exitCode"));
    out->signal = (int)json_integer_value(json_object_get(doc, "signal"));
    const char *r = json_string_value(json_object_get(doc, "reason"));
    const char *m = json_string_value(json_object_get(doc, "message"));
    snprintf(out->reason, sizeof(out->reason), "%s", r ? r : "Error");
    snprintf(out->message, sizeof(out->message), "%s", m ? m : "");
    out->started_ns = time_of(doc, "startedAt");
    out->finished_ns = time_of(doc, "finishedAt");
    json_decref(doc);
    return 0;
}

int jp_shim_state_read(const char *dir, struct jp_shim_state *out, struct jp_err **err)
{
    json_t *doc;
    if (read_json(dir, JP_SHIM_STATE, &doc, err) < 0) return -1;
    out->shim_pid = (int)json_integer_value(json_object_get(doc, "shimPid"));
    out->shim_start = (uint64_t)json_integer_value(json_object_get(doc, "shimStart"));
    out->pid = (int)json_integer_value(json_object_get(doc, "pid"));
    out->started_ns = time_of(doc, "startedAt");
    json_decref(doc);
    return 0;
}

/* Closes descriptors LO..HI: one close_range(2), or a loop up to the descriptor limit where the
 * kernel lacks it - never a fixed 1024, below which a busy server's descriptors may not all be. */
static void close_span(unsigned lo, unsigned hi)
{
    if (lo > hi || close_range(lo, hi, 0) == 0) return;
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = lo; fd < (max > 0 ? max : 1024) && (unsigned long)fd <= hi; fd++)
        close((int)fd);
}

/* Every descriptor from FIRST up, but KEEP (-1: none). */
static void close_from(int first, int keep)
{
    if (keep < first) {
        close_span((unsigned)first, ~0U);
    } else {
        if (keep > first) close_span((unsigned)first, (unsigned)keep - 1);
        close_span((unsigned)keep + 1, ~0U);
    }
}

uint64_t jp_proc_starttime(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    /* no stdio: the loop reads this for every sandbox it reuses, and the shim at its start */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    /* the command field may hold spaces and parentheses: count from the last ')' */
    char *p = strrchr(buf, ')');
    if (p == NULL) return 0;
    unsigned long long v = 0;
    /* fields after ')': state(3) ... starttime is field 22 */
    if (sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
               "%*d %llu",
               &v) != 1)
        return 0;
    return v;
}

/* ---- the monitor ---- */

struct logfile {
    const char *dir;
    int fd;
    size_t size, max;
    bool opened; /* made on the first record: a silent container leaves no file (readers take
                    a missing log as empty), one inode less per start */
};

static void log_open(struct logfile *l)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", l->dir, JP_SHIM_LOG);
    l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (l->fd < 0 && errno == ENOENT) { /* a log directory apart from the attempt's: made now */
        struct jp_err *err = NULL;
        if (jp_mkdir_private(l->dir, &err) == 0)
            l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        jp_err_free(err);
    }
    struct stat st;
    l->size = l->fd >= 0 && fstat(l->fd, &st) == 0 ? (size_t)st.st_size : 0;
}

static void log_rotate(struct logfile *l)
{
    char from[4096], to[4096];
    snprintf(from, sizeof(from), "%s/%s", l->dir, JP_SHIM_LOG);
    snprintf(to, sizeof(to), "%s/%s.1", l->dir, JP_SHIM_LOG);
    if (l->fd >= 0) close(l->fd);
    rename(from, to); /* the older rotation is replaced */
    log_open(l);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return; /* a full disk loses log lines, never the container */
        p += w;
        n -= (size_t)w;
    }
}

/* One CRI log record: "<RFC3339Nano> <stream> <F|P> <text>\n". */
static void log_record(struct logfile *l, const char *stream, bool partial, const char *text,
                       size_t n)
{
    char ts[JP_TIME_BUFLEN];
    jp_time_format(ts, jp_now_ns(), JP_TIME_NANO_TRIM);
    char head[96];
    int h = snprintf(head, sizeof(head), "%s %s %c ", ts, stream, partial ? 'P' : 'F');
    if (!l->opened) {
        l->opened = true;
        log_open(l);
    }
    if (l->size + (size_t)h + n + 1 > l->max && l->size > 0) log_rotate(l);
    if (l->fd < 0) return;
    write_all(l->fd, head, (size_t)h);
    write_all(l->fd, text, n);
    write_all(l->fd, "\n", 1);
    l->size += (size_t)h + n + 1;
}

struct stream {
    const char *name;
    int fd;
    struct jp_buf line;
};

static void drain_lines(struct logfile *l, struct stream *s, bool flush)
{
    size_t start = 0;
    for (size_t i = 0; i < s->line.len; i++) {
        if (s->line.data[i] == '\n') {
            log_record(l, s->name, false, s->line.data + start, i - start);
            start = i + 1;
        } else if (i - start + 1 >= LINE_MAX_BYTES) {
            log_record(l, s->name, true, s->line.data + start, i - start + 1);
            start = i + 1;
        }
    }
    if (flush && start < s->line.len) {
        log_record(l, s->name, false, s->line.data + start, s->line.len - start);
        start = s->line.len;
    }
    if (start > 0) memmove(s->line.data, s->line.data + start, s->line.len - start);
    s->line.len -= start;
}

/* Reads what is available; returns false at end of file. */
static bool pump(struct logfile *l, struct stream *s)
{
    char buf[65536];
    ssize_t n = read(s->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) {
        drain_lines(l, s, true);
        close(s->fd);
        s->fd = -1;
        return false;
    }
    jp_buf_append(&s->line, buf, (size_t)n);
    drain_lines(l, s, false);
    return true;
}

static char *now_text(void)
{
    char ts[JP_TIME_BUFLEN];
    jp_time_format(ts, jp_now_ns(), JP_TIME_SECONDS);
    return jp_xstrdup(ts);
}

static void record_exit(const char *dir, int code, int sig, const char *reason, const char *message,
                        const char *started)
{
    char *finished = now_text();
    json_t *doc = json_pack("{s:i,s:i,s:s,s:s,s:s,s:s}", "exitCode", code, "signal", sig, "reason",
                            reason, "message", message ? message : "", "startedAt",
                            started ? started : finished, "finishedAt", finished);
    char *text = json_dumps(doc, JSON_COMPACT);
    struct jp_err *err = NULL;
    if (jp_write_file_atomic(dir, JP_SHIM_EXIT, text, strlen(text), &err) < 0) {
        fprintf(stderr, "jobplane shim: %s\n", err->msg);
        jp_err_free(err);
    }
    free(text);
    json_decref(doc);
    free(finished);
}

static char **strings(json_t *a)
{
    char **v = jp_xcalloc(json_array_size(a) + 1, sizeof(char *));
    size_t i;
    json_t *s;
    json_array_foreach(a, i, s) v[i] = jp_xstrdup(json_string_value(s) ? json_string_value(s) : "");
    return v;
}

/* A new network namespace starts with lo down; every container of the pod brings it up (it is
 * idempotent), so no one has to wait for the namespace's holder. */
static void loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    memcpy(ifr.ifr_name, "lo", 3);
    if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    if (s >= 0) close(s);
}

/* What the child tells the shim when the container cannot start: errno, and a message of its
 * own when errno alone would mislead (a volume that cannot be mounted). */
struct start_error {
    int error;
    char message[512];
};

/* A container gets a node's limits, not the server's (which may have raised or lowered its own):
 * open files 1048576 soft and hard, as containerd 1.7 and Docker give containers - capped at
 * the hard limit the shim has when it may not raise it (no CAP_SYS_RESOURCE). The others are the
 * host's, as a container runtime leaves them. */
static void node_rlimits(void)
{
    struct rlimit want = {1048576, 1048576}, have;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0 || getrlimit(RLIMIT_NOFILE, &have) < 0) return;
    /* raising the hard limit takes CAP_SYS_RESOURCE: the soft one goes as far as it may */
    if (have.rlim_max < want.rlim_max) want.rlim_cur = want.rlim_max = have.rlim_max;
    setrlimit(RLIMIT_NOFILE, &want);
}

/* path bound on itself read-only (keeping the flags its mount may not lose). 0 or errno. */
static int read_only(const char *path)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) return errno;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | jp_mounts_locked_flags(path);
    return mount(NULL, path, NULL, flags, NULL) < 0 ? errno : 0;
}

int jp_shim_sandbox_mounts(const char *hosts)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) return errno;
    if (mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0) return errno;
    return read_only("/proc/sys");
}

/* The signals a shim (and the launcher it is forked from) ignores. */
static const int shim_ignores[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

/* SIG_DFL through the kernel's own call: glibc refuses its internal signals (32 and 33), and
 * its posix_spawn - which started the launcher - leaves them ignored in the new program, an
 * ignore every container would inherit. */
static void default_disposition(int sig)
{
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
    } dfl = {SIG_DFL, 0, NULL, 0};
    syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

void jp_shim_signals_default(void)
{
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) default_disposition(s);
}

void jp_shim_signals_ignore(void)
{
    for (size_t i = 0; i < sizeof(shim_ignores) / sizeof(shim_ignores[0]); i++)
        signal(shim_ignores[i], SIG_IGN);
}

/* In the child: everything between fork and exec. Never returns. */
static void __attribute__((noreturn))
exec_container(const char *dir, const char *disk, json_t *spec, int out, int errfd, int status)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* exec resets handled signals; what the shim ignores is all that would carry over (it
     * started with every other one at its default: jp_shim_signals_default) */
    for (size_t i = 0; i < sizeof(shim_ignores) / sizeof(shim_ignores[0]); i++)
        signal(shim_ignores[i], SIG_DFL);
    /* its own process group (the agent signals the whole group), in the launcher's session,
     * which has no terminal - nor can the container take one, not being a session leader. Not
     * a session of its own: every session is a scheduling group (autogroup), and one per
     * container let each weigh as much as the whole server, whose loop then waited for the CPU
     * while pods queued behind it. All pods share the launcher's group instead, as they share
     * the kubepods cgroup on a kubelet's node */
    setpgid(0, 0);
    int e = 0;
    const char *netns = json_string_value(json_object_get(spec, "netns"));
    if (netns) {
        int fd = open(netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) e = errno ? errno : EINVAL;
        if (e == 0) loopback_up();
        /* the holder's UTS namespace too, named like its network one: the pod's hostname */
        size_t n = strlen(netns);
        if (e == 0 && n > 3 && !strcmp(netns + n - 3, "net")) {
            char uts[256];
            snprintf(uts, sizeof(uts), "%.*suts", (int)(n - 3), netns);
            int u = open(uts, O_RDONLY | O_CLOEXEC);
            if (u < 0 || setns(u, CLONE_NEWUTS) < 0) e = errno ? errno : EINVAL;
            /* the pod's name, set by each of its containers: a pooled sandbox still has the
             * name of the pod it was made for, and renaming it from the server took a setns
             * there and back on the loop */
            const char *host = json_string_value(json_object_get(spec, "hostname"));
            if (e == 0 && host && sethostname(host, strlen(host)) < 0) e = errno;
        }
    }
    /* the pod's hosts file over /etc/hosts and its volumes, seen by this container alone;
     * propagation is made one-way first so that no mount ever reaches the host. Not root: in a
     * user namespace of its own, where the same uid may mount (runtime/userns.c) */
    const char *hosts = json_string_value(json_object_get(spec, "hosts"));
    const json_t *mounts = json_object_get(spec, "mounts");
    const char *rootfs = json_string_value(json_object_get(spec, "rootfs"));
    struct start_error fail = {0};
    /* root without every capability gets /proc/sys read-only, as from containerd: sysctls are
     * the pod's to set through its spec, not its processes' */
    const json_t *caps = json_object_get(spec, "caps");
    bool ro_sys = geteuid() == 0 && json_is_integer(caps) &&
                  !json_is_true(json_object_get(spec, "privileged"));
    /* the sandbox's mount namespace, where all that is done already (jp_shim_sandbox_mounts) */
    const char *mntns = json_string_value(json_object_get(spec, "mntns"));
    if (e == 0 && mntns) {
        int fd = open(mntns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) e = errno ? errno : EINVAL;
        hosts = NULL;
        ro_sys = false;
    }
    if (e == 0 && (hosts || json_array_size(mounts) || rootfs || ro_sys)) {
        if (geteuid() != 0)
            e = jp_userns_enter(fail.message, sizeof(fail.message));
        else if (unshare(CLONE_NEWNS) < 0)
            e = errno;
        if (e == 0 && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) e = errno;
    }
    /* a stored image's root: the hosts file and the volumes go inside it */
    struct jp_err *err = NULL;
    if (e == 0 && rootfs && jp_mkdir_private(disk, &err) < 0) {
        e = err->sys_errno ? err->sys_errno : EIO;
        snprintf(fail.message, sizeof(fail.message), "%s", err->msg);
        jp_err_free(err);
    }
    /* its writable layer goes to disk, with the log */
    if (e == 0 && rootfs) e = jp_rootfs_enter(spec, disk, fail.message, sizeof(fail.message));
    if (e == 0 && !rootfs && hosts && mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0)
        e = errno;
    if (e == 0 && !rootfs && json_array_size(mounts))
        e = jp_mounts_apply(mounts, dir, fail.message, sizeof(fail.message));
    if (e == 0 && ro_sys) e = read_only("/proc/sys");
    int devnull = open("/dev/null", O_RDONLY);
    if (e == 0 && (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0))
        e = errno;
    const char *cwd = json_string_value(json_object_get(spec, "cwd"));
    if (e == 0 && cwd && chdir(cwd) < 0) e = errno;
    /* no descriptor of the shim (or the server before it) reaches the container */
    close_from(3, status);
    node_rlimits();
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (e == 0 && geteuid() == 0 && json_is_integer(caps))
        e = jp_caps_limit((uint64_t)json_integer_value(caps));
    json_int_t gid = json_integer_value(json_object_get(spec, "gid"));
    json_int_t uid = json_integer_value(json_object_get(spec, "uid"));
    /* a container given a user or groups has those groups and no others (none of the node's
     * root); on the stack: this child may share the shim's memory */
    const json_t *groups = json_object_get(spec, "groups");
    if (e == 0 && geteuid() == 0 && (gid >= 0 || uid >= 0 || groups)) {
        gid_t list[1024];
        size_t n = 0, i;
        const json_t *g;
        json_array_foreach(groups, i, g)
        {
            if (n < sizeof(list) / sizeof(list[0])) list[n++] = (gid_t)json_integer_value(g);
        }
        if (json_array_size(groups) > n)
            snprintf(fail.message, sizeof(fail.message), "more than %zu supplementary groups", n);
        e = json_array_size(groups) > n ? E2BIG : setgroups(n, list) < 0 ? errno : 0;
    }
    if (e == 0 && gid >= 0 && setgid((gid_t)gid) < 0) e = errno;
    if (e == 0 && uid >= 0 && setuid((uid_t)uid) < 0) e = errno;
    char **argv = strings(json_object_get(spec, "argv"));
    char **env = strings(json_object_get(spec, "env"));
    const char *path = json_string_value(json_object_get(spec, "path"));
    if (e == 0 && argv[0]) {
        jp_shim_exec_file(path ? path : argv[0], argv, env);
        e = errno;
    }
    if (e == 0) e = ENOENT;
    fail.error = e;
    ssize_t w = write(status, &fail, sizeof(fail));
    (void)w;
    _exit(127);
}

static void start_failure_message(json_t *spec, int e, char *msg, size_t n, int *code)
{
    const char *arg0 = json_string_value(json_array_get(json_object_get(spec, "argv"), 0));
    if (arg0 == NULL) arg0 = "";
    *code = e == EACCES || e == ENOEXEC || e == EISDIR || e == EPERM ? 126 : 127;
    if (e == ENOENT && strchr(arg0, '/') == NULL)
        snprintf(msg, n, "exec: \"%s\": executable file not found in $PATH", arg0);
    else if (e == ENOENT)
        snprintf(msg, n, "exec: \"%s\": stat %s: no such file or directory", arg0, arg0);
    else /* Go's error text, which is lower case: "permission denied" */
        snprintf(msg, n, "exec: \"%s\": %c%s", arg0, tolower((unsigned char)strerror(e)[0]),
                 strerror(e) + 1);
}

/* Reaps every child that has ended (orphans of the container come here too); true once the
 * container's main process is among them, its status in *status. */
static bool reap(pid_t main_pid, int *status)
{
    bool done = false;
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0)
        if (w == main_pid) {
            *status = st;
            done = true;
        }
    return done;
}

/* Kills what the container's main process left running: its process group, then every process
 * that was reparented to the shim, until none is left (a dying parent hands its children on). */
static void kill_leftovers(pid_t main_pid)
{
    kill(-main_pid, SIGKILL);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { /* a kernel without the children list: the group is all we know */
            while (waitpid(-1, NULL, WNOHANG) > 0) {
            }
            return;
        }
        char list[4096]; /* "PID PID ..."; more than fit are killed on the next round */
        ssize_t got = read(fd, list, sizeof(list) - 1);
        close(fd);
        list[got > 0 ? got : 0] = '\0';
        int n = 0;
        char *p = list, *end;
        /* each pid ends with a space: one cut off at the buffer's end is left for next round */
        for (long pid; (pid = strtol(p, &end, 10)) > 0 && *end != '\0'; p = end) {
            kill((pid_t)pid, SIGKILL);
            n++;
        }
        if (n == 0) break;
        if (waitpid(-1, NULL, 0) < 0) break; /* ECHILD: none left */
    }
}

struct child_args {
    const char *dir, *disk;
    json_t *spec;
    int out, errfd, status;
};

static int child_main(void *arg)
{
    struct child_args *c = arg;
    exec_container(c->dir, c->disk, c->spec, c->out, c->errfd, c->status);
}

#define CHILD_STACK (1u << 20) /* reserved, not committed: only what the child touches */

/* AddressSanitizer keeps one shadow of the shared memory: the child's stack frames would leave
 * it poisoned for whatever the shim maps there next. Sanitized builds fork. */
#define SHARE_MEMORY_WITH_CHILD (!JP_ASAN)

/* The container's process. As root it shares the shim's memory until its exec, as
 * posix_spawn's child does, while the shim waits (CLONE_VFORK): no copy of the shim's page
 * tables, and no copy-on-write faults in either process afterwards - those were a fifth of what
 * a shim cost. The child has its own descriptors, signal handlers, credentials and filesystem
 * context, and the shim is stopped meanwhile, so what it does to the shared heap is harmless.
 * Not root, the child enters a user namespace of its own, which a process sharing memory
 * cannot: it is forked. */
static pid_t start_child(struct child_args *c)
{
    if (!SHARE_MEMORY_WITH_CHILD || geteuid() != 0) {
        pid_t pid = fork();
        if (pid == 0) child_main(c);
        return pid;
    }
    void *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED) return -1;
    pid_t pid = clone(child_main, (char *)stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
    int e = errno;
    munmap(stack, CHILD_STACK); /* the child has exec'd or ended */
    errno = e;
    return pid;
}

int jp_shim_main(const char *dir)
{
    /* its own process group, in the launcher's session, which has no terminal: nothing sent to
     * the server's group or terminal reaches it, and it outlives the server. Not a session of
     * its own, for the reason its container has none (exec_container) */
    setpgid(0, 0);
    jp_shim_signals_ignore();
    json_t *spec;
    struct jp_err *err = NULL;
    if (read_json(dir, JP_SHIM_SPEC, &spec, &err) < 0) {
        record_exit(dir, 128, 0, "StartError", err->msg, NULL);
        jp_err_free(err);
        return 1;
    }
    int outp[2], errp[2], statusp[2];
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(statusp, O_CLOEXEC) < 0) {
        record_exit(dir, 128, 0, "StartError", strerror(errno), NULL);
        json_decref(spec);
        return 1;
    }
    /* orphans of the container come to the shim, not to init: when the container's main
     * process ends, whatever it left behind is killed, as a PID namespace's end kills the rest
     * of a container; nothing of a finished pod lives on in its sandbox */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    char *started = now_text();
    /* the log (and a stored image's writable layer) on disk, apart from the records */
    const char *log_root = json_string_value(json_object_get(spec, "logRoot"));
    const char *base = strrchr(dir, '/');
    _cleanup_free_ char *disk =
        log_root ? jp_xasprintf("%s/%s", log_root, base ? base + 1 : dir) : jp_xstrdup(dir);
    struct child_args args = {dir, disk, spec, outp[1], errp[1], statusp[1]};
    pid_t child = start_child(&args);
    if (child < 0) {
        record_exit(dir, 128, 0, "StartError", strerror(errno), started);
        free(started);
        json_decref(spec);
        return 1;
    }
    close(outp[1]);
    close(errp[1]);
    close(statusp[1]);
    struct start_error fail = {0};
    ssize_t got;
    while ((got = read(statusp[0], &fail, sizeof(fail))) < 0 && errno == EINTR) {
    }
    close(statusp[0]);
    if (got == (ssize_t)sizeof(fail)) { /* exec failed: the container never ran */
        waitpid(child, NULL, 0);
        char msg[600];
        int code;
        start_failure_message(spec, fail.error, msg, sizeof(msg), &code);
        if (fail.message[0]) snprintf(msg, sizeof(msg), "%.*s", 512, fail.message);
        record_exit(dir, code, 0, "StartError", msg, started);
        free(started);
        json_decref(spec);
        return 0;
    }
    json_t *state =
        json_pack("{s:i,s:I,s:i,s:s}", "shimPid", (int)getpid(), "shimStart",
                  (json_int_t)jp_proc_starttime(getpid()), "pid", (int)child, "startedAt", started);
    char *text = json_dumps(state, JSON_COMPACT);
    if (jp_replace_file(dir, JP_SHIM_STATE, text, strlen(text), &err) < 0) jp_err_free(err);
    free(text);
    json_decref(state);
    struct logfile l = {disk, -1, 0, (size_t)json_integer_value(json_object_get(spec, "logMax")),
                        false};
    if (l.max == 0) l.max = JP_SHIM_LOG_MAX;
    struct stream s[2] = {{"stdout", outp[0], {0}}, {"stderr", errp[0], {0}}};
    jp_buf_init(&s[0].line, SIZE_MAX);
    jp_buf_init(&s[1].line, SIZE_MAX);
    int status = 0;
    bool exited = false;
    while (!exited || s[0].fd >= 0 || s[1].fd >= 0) {
        struct pollfd p[3];
        int n = 0;
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0) p[n++] = (struct pollfd){s[i].fd, POLLIN, 0};
        if (!exited && sigfd >= 0) p[n++] = (struct pollfd){sigfd, POLLIN, 0};
        /* after the exit, output left in the pipes is read for a moment: a grandchild that keeps
         * them open must not keep the shim (and the container's status) forever */
        int timeout = exited ? 200 : (sigfd >= 0 ? -1 : 500);
        int r = poll(p, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) break;
        if (r == 0 && exited) break;
        for (int i = 0; i < 2; i++) {
            if (s[i].fd < 0) continue;
            for (int j = 0; j < n; j++)
                if (p[j].fd == s[i].fd && (p[j].revents & (POLLIN | POLLHUP | POLLERR)))
                    pump(&l, &s[i]);
        }
        if (sigfd >= 0) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof(si)) > 0) {
            }
        }
        if (!exited && reap(child, &status)) {
            exited = true;
            kill_leftovers(child);
        }
    }
    if (!exited) {
        waitpid(child, &status, 0);
        kill_leftovers(child);
    }
    for (int i = 0; i < 2; i++) {
        if (s[i].fd >= 0) drain_lines(&l, &s[i], true);
        jp_buf_free(&s[i].line);
    }
    int code = 0, sig = 0;
    if (WIFEXITED(status)) {
        code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        sig = WTERMSIG(status);
        code = 128 + sig; /* what a shell reports: SIGTERM 143, SIGKILL 137 */
    }
    record_exit(dir, code, sig, code == 0 ? "Completed" : "Error", NULL, started);
    free(started);
    json_decref(spec);
    return 0;
}

int jp_shim_hold_main(const char *dir, const char *hostname)
{
    (void)dir; /* named on the command line so that ps (and tests) can tell whose it is */
    /* the pod's own UTS namespace (the clone made it): `hostname` in a container says the pod's */
    if (hostname && *hostname && sethostname(hostname, strlen(hostname)) < 0)
        fprintf(stderr, "jobplane shim --hold: sethostname %s: %s\n", hostname, strerror(errno));
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    close_from(3, -1);
    for (;;)
        pause();
}
