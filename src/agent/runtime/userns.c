/* User namespaces for the containers of a server that is not root: the agent asks whether the
 * kernel allows them at all, and the container's child (between fork and exec) enters one of its
 * own where the same uid and gid may mount - its volumes, a stored image's root - without
 * becoming anyone else. */
#include "agent/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first number of a /proc/sys file, or -1 when there is no such file (an older or another
 * kernel) or it says nothing. */
static long sysctl_value(const char *path)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    return end == buf ? -1 : v;
}

bool jp_userns_refused(char *why, size_t n)
{
    /* Debian's and older Ubuntu's switch for unprivileged user namespaces; then the count
     * every kernel has, whose 0 forbids them to everyone */
    static const char *const knobs[][2] = {
        {"/proc/sys/kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone"},
        {"/proc/sys/user/max_user_namespaces", "user.max_user_namespaces"},
    };
    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
        if (sysctl_value(knobs[i][0]) == 0) {
            snprintf(why, n, "this kernel refuses them to users (sysctl %s is 0)", knobs[i][1]);
            return true;
        }
    }
    return false;
}

static int fail(char *msg, size_t n, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *msg, size_t n, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return e ? e : EINVAL;
}

/* The maps must be written in one write(2) each, and setgroups denied before the gid map: an
 * unprivileged process may map only its own ids, and only without the power to drop groups. */
static int write_proc(const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/%s", name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int e = w == (ssize_t)len ? 0 : (w < 0 ? errno : EIO);
    if (close(fd) < 0 && e == 0) e = errno;
    return e;
}

/* Ubuntu (23.10 on) lets an unconfined process make a user namespace but takes every capability
 * away inside it: the failures that follow say EPERM, which alone would not explain it. */
static const char *hint(int e)
{
    if (e == EPERM && sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") > 0)
        return " (sysctl kernel.apparmor_restrict_unprivileged_userns is 1)";
    if (e == ENOSPC || e == EUSERS) return " (sysctl user.max_user_namespaces reached)";
    return "";
}

int jp_userns_enter(char *msg, size_t n)
{
    /* the effective ids: those the container runs as, and the only ones a user may map */
    unsigned uid = (unsigned)geteuid(), gid = (unsigned)getegid();
    char map[64];
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
        return fail(msg, n, errno, "a user namespace for the container's mounts: %s%s",
                    strerror(errno), hint(errno));
    static const char *const steps[] = {"uid_map", "setgroups", "gid_map"};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        unsigned id = i == 0 ? uid : gid;
        snprintf(map, sizeof(map), "%u %u 1", id, id);
        int e = write_proc(steps[i], i == 1 ? "deny" : map);
        if (e)
            return fail(msg, n, e,
                        "mapping uid %u and gid %u into the container's user "
                        "namespace (/proc/self/%s): %s%s",
                        uid, gid, steps[i], strerror(e), hint(e));
    }
    return 0;
}
