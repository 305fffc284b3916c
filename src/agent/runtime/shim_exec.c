/* Entering a running container: `kubectl exec` and exec probes run `<exe> shim --exec PID
 * CMD...`, which joins the namespaces, root, working directory and environment of the
 * container's process PID and executes CMD with no more capabilities than the container has. */
#include "agent/shim.h"
#include "base/alloc.h"
#include "base/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* /proc/PID/environ as a NULL-terminated vector (at most 1 MB of it), pointing into *textp.
 * OUT: the caller frees both. */
static char **environ_of(int dirfd, char **textp)
{
    int fd = openat(dirfd, "environ", O_RDONLY | O_CLOEXEC);
    size_t cap = 1 << 20, len = 0;
    char *text = jp_xcalloc(cap + 1, 1);
    ssize_t n;
    while (fd >= 0 && len < cap && (n = read(fd, text + len, cap - len)) > 0)
        len += (size_t)n;
    if (fd >= 0) close(fd);
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\0';
    char **env = jp_xcalloc(count + 2, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < len; i += strlen(text + i) + 1)
        if (text[i]) env[k++] = text + i;
    *textp = text;
    return env;
}

/* Go's exec.LookPath in the container's PATH, the last PATH= of env (runc's default without
 * one): the first regular file there with an execute bit, copied to out; -1 when there is
 * none. */
static int look_path(const char *name, char *const *env, char *out, size_t n)
{
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (char *const *e = env; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
    if (*path == '\0') return -1; /* Go's SplitList("") is no directory at all */
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct stat st;
        if (snprintf(out, n, "%.*s/%s", (int)len, len ? p : ".", name) < (int)n &&
            stat(out, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
            return 0;
        if (end == NULL) return -1;
        p = end;
    }
}

void jp_shim_exec_file(const char *file, char **argv, char **env)
{
    char path[PATH_MAX];
    if (strchr(file, '/') == NULL) {
        if (look_path(file, env, path, sizeof(path)) < 0) {
            errno = ENOENT;
            return;
        }
        file = path;
    }
    execve(file, argv, env);
}

/* kubectl exec's way: the runtime's (runc's) words when the command cannot start, on the
 * command's own stderr, and a shell's exit code. */
static int exec_reported(char **argv, char **env)
{
    char path[4096];
    const char *file = argv[0];
    if (strchr(file, '/') == NULL) {
        if (look_path(file, env, path, sizeof(path)) < 0) {
            fprintf(stderr,
                    "exec failed: unable to start container process: exec: \"%s\": executable "
                    "file not found in $PATH\n",
                    file);
            return 127;
        }
        file = path;
    }
    execve(file, argv, env);
    int e = errno;
    if (e == ENOENT) {
        fprintf(stderr,
                "exec failed: unable to start container process: exec: \"%s\": stat %s: no such "
                "file or directory\n",
                argv[0], file);
        return 127;
    }
    /* Go spells errors in lower case: "permission denied" */
    char text[128];
    snprintf(text, sizeof(text), "%s", strerror(e));
    text[0] = (char)tolower((unsigned char)text[0]);
    fprintf(stderr, "exec failed: unable to start container process: exec %s: %s\n", file, text);
    return 126;
}

/* Who a command exec'd into the container runs as: its main process's effective uid and gid
 * and its groups. runc runs it as the container's configured user, which is the same unless the
 * process gave up root by itself - then this grants less, never more. */
struct ids {
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* OUT of ids_of: the caller frees */
    int ngroups;
    bool known;
};

/* From /proc/PID/status, read before any namespace changes (ids as the host sees them). */
static void ids_of(int dirfd, struct ids *out)
{
    *out = (struct ids){0};
    int fd = openat(dirfd, "status", O_RDONLY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (f == NULL) {
        if (fd >= 0) close(fd);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned real, eff;
    int have = 0;
    while (getline(&line, &cap, f) > 0) {
        if (sscanf(line, "Uid:\t%u\t%u", &real, &eff) == 2) {
            out->uid = eff;
            have |= 1;
        } else if (sscanf(line, "Gid:\t%u\t%u", &real, &eff) == 2) {
            out->gid = eff;
            have |= 2;
        } else if (strncmp(line, "Groups:", 7) == 0) {
            size_t n = 0;
            for (char *s = line + 7; *s; s++)
                n += isdigit((unsigned char)*s) && !isdigit((unsigned char)s[1]);
            out->groups = jp_xcalloc(n + 1, sizeof(gid_t));
            char *s = line + 7, *end;
            for (unsigned long g; out->ngroups < (int)n && (g = strtoul(s, &end, 10), end != s);
                 s = end)
                out->groups[out->ngroups++] = (gid_t)g;
        }
    }
    out->known = have == 3;
    free(line);
    fclose(f);
}

/* Adds TERM=xterm to env (room for one more entry) when it has no TERM, as containerd does for
 * a TTY. */
static void add_term(char **env)
{
    size_t n = 0;
    for (; env[n]; n++)
        if (strncmp(env[n], "TERM=", 5) == 0) return;
    env[n] = "TERM=xterm";
}

/* Whether fd (a /proc/PID/ns/ file) names the namespace we are in. */
static bool same_ns(int fd, const char *name)
{
    char path[32];
    struct stat a, b;
    snprintf(path, sizeof(path), "/proc/self/%s", name);
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int jp_shim_exec_main(const char *pid, unsigned flags, char **argv)
{
    if (flags & JP_SHIM_EXEC_TTY) {
        /* the terminal on stdin becomes ours: a shell's job control needs it */
        if (getsid(0) != getpid()) setsid();
        if (ioctl(0, TIOCSCTTY, 0) < 0)
            fprintf(stderr, "jobplane shim --exec: TIOCSCTTY: %s\n", strerror(errno));
    } else if (!(flags & JP_SHIM_EXEC_SPLIT)) {
        dup2(1, 2); /* what goes wrong is the probe's message too */
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%s", pid);
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        fprintf(stderr, "jobplane shim --exec: no process %s: %s\n", pid, strerror(errno));
        return 127;
    }
    _cleanup_free_ char *text = NULL;
    _cleanup_free_ char **env = environ_of(dir, &text);
    struct ids who;
    ids_of(dir, &who);
    _cleanup_free_ gid_t *groups = who.groups;
    int cwd = openat(dir, "cwd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint64_t bounding = jp_caps_bounding_of(atoi(pid));
    int root = openat(dir, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
    /* the mount namespace last: the /proc paths are resolved before it changes. The user
     * namespace (a container of a server not root has one of its own) first: its owner may join
     * it, and inside it may join its mount namespace. One we are in already is skipped: joining
     * it again is refused to a user (and to anyone for a user namespace) */
    static const struct {
        const char *name;
        int type;
    } ns[] = {{"ns/user", CLONE_NEWUSER},
              {"ns/net", CLONE_NEWNET},
              {"ns/uts", CLONE_NEWUTS},
              {"ns/mnt", CLONE_NEWNS}};
    enum { NS = sizeof(ns) / sizeof(ns[0]) };
    int fds[NS];
    for (int i = 0; i < NS; i++)
        fds[i] = openat(dir, ns[i].name, O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < NS; i++) {
        if (fds[i] >= 0 && same_ns(fds[i], ns[i].name)) continue;
        if (fds[i] < 0 || setns(fds[i], ns[i].type) < 0) {
            fprintf(stderr, "jobplane shim --exec: joining %s of %s: %s\n", ns[i].name, pid,
                    strerror(errno));
            return 126;
        }
    }
    /* a container whose volumes needed a layer over "/" is chrooted into it, which its mount
     * namespace does not remember (setns gave us the namespace's own root) */
    struct stat want, have;
    if (root >= 0 && fstat(root, &want) == 0 && stat("/", &have) == 0 &&
        (want.st_dev != have.st_dev || want.st_ino != have.st_ino) &&
        (fchdir(root) < 0 || chroot(".") < 0)) {
        fprintf(stderr, "jobplane shim --exec: entering the root of %s: %s\n", pid,
                strerror(errno));
        return 126;
    }
    if (cwd >= 0 && fchdir(cwd) < 0) {
        if (chdir("/") < 0) return 126;
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    /* a process exec'd into a container holds no more than the container may */
    if (geteuid() == 0 && jp_caps_limit(bounding) != 0) {
        fprintf(stderr, "jobplane shim --exec: limiting capabilities: %s\n", strerror(errno));
        return 126;
    }
    /* then the container's user (without root, our own: its user namespace maps us to us); a
     * user we cannot tell is no reason to run as root */
    if (geteuid() == 0 && !who.known) {
        fprintf(stderr, "jobplane shim --exec: the user of process %s is unknown\n", pid);
        return 126;
    }
    if (geteuid() == 0 && (setgroups((size_t)who.ngroups, groups) < 0 || setgid(who.gid) < 0 ||
                           setuid(who.uid) < 0)) {
        fprintf(stderr, "jobplane shim --exec: becoming uid %u gid %u: %s\n", (unsigned)who.uid,
                (unsigned)who.gid, strerror(errno));
        return 126;
    }
    if (flags & JP_SHIM_EXEC_TTY) add_term(env);
    if (flags) return exec_reported(argv, env);
    jp_shim_exec_file(argv[0], argv, env);
    int e = errno;
    fprintf(stderr, "exec: \"%s\": %s\n", argv[0], strerror(e));
    return e == ENOENT ? 127 : 126;
}
