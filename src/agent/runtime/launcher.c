/* The launcher: one small process ("jobplane-shim shim --launcher") that the agent starts once
 * and that forks every container's shim and every pod's namespace holder on request.
 *
 * Exec'ing the shim binary for each of them was a third of all CPU a pod cost (bench/pods): the
 * dynamic loader, page faults of a fresh image and glibc's CPU feature probing, whose cpuid
 * instructions trap to the hypervisor in a VM - twice per pod (holder and shim). A fork of this
 * process, which holds almost no memory, costs a fraction of that. The server itself cannot be
 * forked cheaply (its page tables) nor safely (its threads).
 *
 * The launcher's children are its own: it reaps them. The agent watches a shim through the
 * pidfd it is sent with the pid (opened before any reaping, so it always names the right
 * process), and a holder through the pipe it reports on once its namespaces exist. Each child
 * rewrites the launcher's (padded) command line to what an exec'd one had - "<exe> shim DIR",
 * "<exe> shim --hold DIR HOST" - so ps, the restarted agent's search for an unrecorded shim and
 * tests still tell whose it is. The launcher ends when the agent's end of its socket closes
 * (the server exited or was killed); its children live on, as shims always have. */
#include "agent/agent-internal.h"
#include "agent/shim.h"
#include "base/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TITLE_ROOM 6144 /* bytes of padding in the launcher's argv: room for a child's title */

struct launch_req {
    char kind;    /* 'S': a shim for dir; 'H': a holder of new namespaces */
    int ns_flags; /* 'H': CLONE_NEW* to make */
    char dir[PATH_MAX];
    char host[72]; /* 'H': the hostname of the new UTS namespace ("" for none) */
};

struct launch_rep {
    int pid;   /* > 0; 0 when the fork failed */
    int error; /* errno of the failure */
};

/* ---- in the launcher ---- */

static char *title_at; /* the launcher's argv strings, contiguous, and their size */
static size_t title_size;

/* The child's command line, as /proc/PID/cmdline shows it: the words NUL-separated. */
static void set_title(const char *const *words)
{
    size_t at = 0;
    memset(title_at, 0, title_size);
    for (size_t i = 0; words[i]; i++) {
        size_t n = strlen(words[i]) + 1;
        if (at + n > title_size) break;
        memcpy(title_at + at, words[i], n);
        at += n;
    }
}

/* stdin and stdout from /dev/null; stderr stays the launcher's: DATA/shims.log, where every
 * shim's complaints (and a sanitizer's) go - one file, not one per container start */
static void child_stdio(void)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) dup2(null, 0), dup2(null, 1), close(null);
}

static void child_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
}

static void __attribute__((noreturn)) run_shim(const char *exe, const struct launch_req *r)
{
    /* a shim wants the launcher's dispositions (the defaults, and the shims' own ignores): no
     * need to set 64 of them again */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    child_stdio();
    set_title((const char *const[]){exe, "shim", r->dir, NULL});
    int rc = jp_shim_main(r->dir);
    if (JP_ASAN) exit(rc); /* the leak check runs at exit */
    _exit(rc); /* no exit handlers, destructors or library teardown: nothing of them is ours */
}

static void __attribute__((noreturn))
run_holder(const char *exe, const struct launch_req *r, int ready)
{
    child_signals();
    child_stdio();
    int e = unshare(r->ns_flags) < 0 ? errno : 0;
    if (e == 0 && r->host[0] && sethostname(r->host, strlen(r->host)) < 0) e = errno;
    if (e == 0 && (r->ns_flags & CLONE_NEWNS)) { /* the pod's containers join it */
        char hosts[PATH_MAX + 8];
        snprintf(hosts, sizeof(hosts), "%s/%s", r->dir, JP_POD_HOSTS);
        e = jp_shim_sandbox_mounts(hosts);
    }
    set_title((const char *const[]){exe, "shim", "--hold", r->dir, r->host, NULL});
    ssize_t w = write(ready, &e, sizeof(e));
    (void)w;
    if (e) _exit(1);
    close(ready);
    jp_shim_hold_main(r->dir, NULL);
}

static void reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

static void answer(int sock, const struct launch_rep *rep, const int *fds, int nfds)
{
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {(void *)rep, sizeof(*rep)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    while (sendmsg(sock, &m, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

int jp_shim_launcher_main(char **argv, int argc, int sock)
{
    static char exe[PATH_MAX]; /* argv[0] itself is overwritten in each child */
    snprintf(exe, sizeof(exe), "%s", argv[0]);
    title_at = argv[0];
    title_size = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]);
    jp_shim_signals_ignore(); /* the shims' own, inherited (and undone for their containers) */
    /* what each child would do first, done once here and inherited: reading the time zone,
     * setting up malloc, seeding jansson's hash from /dev/urandom */
    tzset();
    free(malloc(1));
    json_object_seed(0);
    for (;;) {
        reap();
        struct pollfd p = {sock, POLLIN, 0};
        /* children that ended meanwhile are reaped at least this often */
        if (poll(&p, 1, 200) == 0) continue;
        struct launch_req r;
        ssize_t n = recv(sock, &r, sizeof(r), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* the agent has gone */
        if (n != (ssize_t)sizeof(r) || (r.kind != 'S' && r.kind != 'H')) continue;
        r.dir[sizeof(r.dir) - 1] = '\0';
        r.host[sizeof(r.host) - 1] = '\0';
        int pipefd[2] = {-1, -1};
        struct launch_rep rep = {0, 0};
        if (r.kind == 'H' && pipe2(pipefd, O_CLOEXEC) < 0) {
            rep.error = errno;
            answer(sock, &rep, NULL, 0);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(sock);
            if (r.kind == 'S') run_shim(exe, &r);
            close(pipefd[0]);
            run_holder(exe, &r, pipefd[1]);
        }
        rep.pid = pid > 0 ? pid : 0;
        rep.error = pid < 0 ? errno : 0;
        int fds[2], nfds = 0;
        if (pid > 0 && (fds[0] = (int)syscall(SYS_pidfd_open, pid, 0)) >= 0) nfds = 1;
        if (pid > 0 && r.kind == 'H') fds[nfds++] = pipefd[0];
        answer(sock, &rep, fds, nfds);
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        if (r.kind == 'H') {
            close(pipefd[1]);
            if (pid <= 0) close(pipefd[0]);
        }
    }
    return 0;
}

/* ---- in the agent ---- */

static pthread_mutex_t launcher_mu = PTHREAD_MUTEX_INITIALIZER;
static int launcher_sock = -1;
static pid_t launcher_pid;
static char *launcher_log; /* the launcher's stderr, and so every shim's */

void launcher__configure(const char *log_path)
{
    pthread_mutex_lock(&launcher_mu);
    free(launcher_log);
    launcher_log = strdup(log_path);
    pthread_mutex_unlock(&launcher_mu);
}

extern char **environ;

/* The server's environment, and LD_BIND_NOW: the launcher's libraries (jansson, libc) bind their
 * symbols once at its start, not lazily in each shim it forks - where every first call wrote
 * the symbol's slot (a copy-on-write fault) after a search of the symbol tables. Containers
 * get their environment from their spec, never the shim's. */
static char **launcher_environ(void)
{
    static char **env;
    if (env) return env;
    size_t n = 0;
    while (environ[n])
        n++;
    env = jp_xcalloc(n + 2, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_BIND_NOW=", 12) != 0) env[k++] = environ[i];
    env[k] = "LD_BIND_NOW=1";
    return env;
}

static int start_launcher(const char *exe)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return errno;
    static char pad[TITLE_ROOM];
    if (pad[0] == '\0') memset(pad, ' ', sizeof(pad) - 1);
    char *args[] = {(char *)exe, "shim", "--launcher", pad, NULL};
    posix_spawnattr_t at;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_init(&fa);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    /* a session of its own: a terminal's Ctrl-C is the server's to handle, not the launcher's */
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (launcher_log)
        posix_spawn_file_actions_addopen(&fa, 2, launcher_log,
                                         O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
    pid_t pid;
    int e = posix_spawn(&pid, exe, &fa, &at, args, launcher_environ());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(sv[1]);
    if (e != 0) {
        close(sv[0]);
        return e;
    }
    launcher_sock = sv[0];
    launcher_pid = pid;
    return 0;
}

static void stop_launcher(void)
{
    if (launcher_sock >= 0) close(launcher_sock);
    launcher_sock = -1;
    if (launcher_pid > 0) {
        kill(launcher_pid, SIGKILL);
        waitpid(launcher_pid, NULL, 0);
    }
    launcher_pid = 0;
}

/* One request and its answer; 0, an errno when the request never reached the launcher, or
 * EINPROGRESS when it did but no answer came (the launcher died: what it did is unknown). */
static int ask(const struct launch_req *r, struct launch_rep *rep, int *fds, int *nfds)
{
    if (send(launcher_sock, r, sizeof(*r), MSG_NOSIGNAL) < 0) return errno;
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {rep, sizeof(*rep)};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    while ((n = recvmsg(launcher_sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t)sizeof(*rep)) return EINPROGRESS;
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k && *nfds < 2; i++)
            memcpy(&fds[(*nfds)++], CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
    }
    return 0;
}

/* Any thread. fds[0]: the child's pidfd; fds[1]: a holder's report pipe. */
static int launch(const char *exe, const struct launch_req *r, int *pid, int fds[2], int *nfds)
{
    pthread_mutex_lock(&launcher_mu);
    int e = 0;
    struct launch_rep rep = {0, 0};
    for (int tries = 0; tries < 2; tries++) {
        if (launcher_sock < 0 && (e = start_launcher(exe)) != 0) break;
        if ((e = ask(r, &rep, fds, nfds)) == 0) break;
        stop_launcher(); /* it died (or was killed): a new one, once */
        /* not after a request it may have carried out: that shim may be running already, and
         * a container is never started twice (the caller looks for it) */
        if (e == EINPROGRESS) break;
    }
    pthread_mutex_unlock(&launcher_mu);
    if (e == 0 && rep.pid <= 0) e = rep.error ? rep.error : EAGAIN;
    if (e != 0) {
        for (int i = 0; i < *nfds; i++)
            close(fds[i]);
        *nfds = 0;
        return e;
    }
    *pid = rep.pid;
    return 0;
}

int launcher__shim(const char *exe, const char *dir, int *pid, int *pidfd)
{
    struct launch_req r = {.kind = 'S'};
    if (snprintf(r.dir, sizeof(r.dir), "%s", dir) >= (int)sizeof(r.dir)) return ENAMETOOLONG;
    int fds[2], n = 0;
    int e = launch(exe, &r, pid, fds, &n);
    if (e) return e;
    *pidfd = n > 0 ? fds[0] : -1;
    for (int i = 1; i < n; i++)
        close(fds[i]);
    return 0;
}

int launcher__holder(const char *exe, const char *dir, const char *host, int ns_flags, int *pid)
{
    struct launch_req r = {.kind = 'H', .ns_flags = ns_flags};
    if (snprintf(r.dir, sizeof(r.dir), "%s", dir) >= (int)sizeof(r.dir) ||
        snprintf(r.host, sizeof(r.host), "%s", host ? host : "") >= (int)sizeof(r.host))
        return ENAMETOOLONG;
    int fds[2], n = 0;
    int e = launch(exe, &r, pid, fds, &n);
    if (e) return e;
    /* the namespaces exist once the holder says so (or says why not) */
    int ready = n == 2 ? fds[1] : -1, got = EIO;
    if (ready >= 0) {
        ssize_t k;
        while ((k = read(ready, &got, sizeof(got))) < 0 && errno == EINTR) {
        }
        if (k != (ssize_t)sizeof(got)) got = EIO;
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    if (got != 0) {
        kill(*pid, SIGKILL);
        *pid = 0;
    }
    return got;
}
