/* A container of a stored image runs in the image's root filesystem (the shim's child, inside
 * the container's own mount namespace, just before exec). An overlay has the image's rootfs as
 * its lower layer and a per-attempt upper layer in the attempt directory: the stored image never
 * changes and each start begins fresh. Into it go a fresh /proc, a small /dev (null, zero, full,
 * random, urandom and tty bound from the host, /dev/shm, /dev/pts), /sys read-only, the pod's
 * hosts file and the volumes; then pivot_root (chroot where that is not possible). Not root, all
 * this happens in the container's own user namespace (userns.c), the image's user is not taken,
 * and /proc and /sys are the host's bound with the mounts below them.
 *
 * Every mount point is found as the container will see it - absolute links and ".." resolved
 * inside the new root (openat2 RESOLVE_IN_ROOT) - and made in the overlay where missing, then
 * mounted on through /proc/self/fd: an image's link such as /etc/hosts -> /host/etc/passwd can
 * neither send a mount to the host's tree nor make a directory there. Runs between fork and
 * exec: stack buffers only, errors back as errno and a message. */
#include "agent/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

struct rootfs {
    int root; /* O_PATH of the merged overlay */
    char *msg;
    size_t n;
};

static int fail(struct rootfs *r, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct rootfs *r, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, r->n, fmt, ap);
    va_end(ap);
    return e ? e : EINVAL;
}

/* path inside the new root, resolved as the container resolves it. */
static int open_in(int root, const char *path, int flags)
{
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    while (*path == '/')
        path++;
    return (int)syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
}

static void fd_path(char buf[32], int fd)
{
    snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* An O_PATH fd of path inside the root; missing parts are made (directories 0755, the last a
 * file when is_file) - in the overlay's upper layer, never in the image or on the host. */
static int make_in(struct rootfs *r, const char *path, bool is_file, int *out)
{
    char part[PATH_MAX];
    if (snprintf(part, sizeof(part), "%s", path) >= (int)sizeof(part))
        return fail(r, ENAMETOOLONG, "mount point %s: path too long", path);
    int parent = open_in(r->root, "/", O_PATH | O_DIRECTORY);
    char *p = part;
    while (parent >= 0) {
        while (*p == '/')
            p++;
        char *end = strchr(p, '/');
        bool last = end == NULL || end[strspn(end, "/")] == '\0';
        if (end) *end = '\0';
        int want = last && is_file ? O_PATH : O_PATH | O_DIRECTORY;
        int fd = *p ? open_in(r->root, part, want) : dup(parent);
        if (fd < 0 && errno == ENOENT) {
            int made =
                last && is_file
                    ? openat(parent, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
                    : mkdirat(parent, p, 0755);
            if (made < 0 && errno != EEXIST) {
                int e = errno;
                close(parent);
                return fail(r, e, "making the mount point %s: %s", path, strerror(e));
            }
            if (last && is_file && made >= 0) close(made);
            fd = open_in(r->root, part, want);
        }
        int e = errno;
        close(parent);
        if (fd < 0) return fail(r, e, "mount point %s in the image: %s", path, strerror(e));
        if (last) {
            struct stat st;
            if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode) != is_file) {
                close(fd);
                return fail(r, ENOTDIR, "cannot mount a %s at %s: the image has a %s there",
                            is_file ? "file" : "directory", path, is_file ? "directory" : "file");
            }
            *out = fd;
            return 0;
        }
        *end = '/';
        p = end + 1;
        parent = fd;
    }
    return fail(r, errno, "opening the image's root: %s", strerror(errno));
}

/* mount(2) onto path inside the root. */
static int mount_in(struct rootfs *r, const char *src, const char *path, const char *type,
                    unsigned long flags, const char *data, bool is_file)
{
    int fd, e;
    if ((e = make_in(r, path, is_file, &fd))) return e;
    char at[32];
    fd_path(at, fd);
    int rc = mount(src, at, type, flags, data);
    e = errno;
    close(fd);
    if (rc < 0) return fail(r, e, "mounting %s at %s: %s", src ? src : type, path, strerror(e));
    return 0;
}

/* A bind mount made read-only: the remount must name the new mount, so path is found again,
 * and repeat the flags a user namespace locks (jp_mounts_locked_flags). */
static int read_only(struct rootfs *r, const char *path)
{
    int fd = open_in(r->root, path, O_PATH);
    char at[32];
    fd_path(at, fd);
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV;
    if (fd < 0 || mount(NULL, at, NULL, flags | jp_mounts_locked_flags(at), NULL) < 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return fail(r, e, "making %s read-only: %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

static int make_dev(struct rootfs *r)
{
    static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    static const char *links[][2] = {{"fd", "/proc/self/fd"},
                                     {"stdin", "/proc/self/fd/0"},
                                     {"stdout", "/proc/self/fd/1"},
                                     {"stderr", "/proc/self/fd/2"},
                                     {"ptmx", "pts/ptmx"}};
    int e = mount_in(r, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                     "mode=755,size=65536k", false);
    for (size_t i = 0; e == 0 && i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        char host[32], in[32];
        snprintf(host, sizeof(host), "/dev/%s", nodes[i]);
        snprintf(in, sizeof(in), "/dev/%s", nodes[i]);
        e = mount_in(r, host, in, NULL, MS_BIND, NULL, true);
    }
    int dev = e == 0 ? open_in(r->root, "/dev", O_PATH | O_DIRECTORY) : -1;
    for (size_t i = 0; dev >= 0 && e == 0 && i < sizeof(links) / sizeof(links[0]); i++)
        if (symlinkat(links[i][1], dev, links[i][0]) < 0)
            e = fail(r, errno, "making /dev/%s: %s", links[i][0], strerror(errno));
    if (dev >= 0) close(dev);
    if (e == 0)
        e = mount_in(r, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "mode=1777,size=65536k", false);
    /* a terminal of its own for whoever asks (kubectl exec -t has one from the shim): optional */
    if (e == 0 && mount_in(r, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                           "newinstance,ptmxmode=0666,mode=620", false) != 0)
        r->msg[0] = '\0';
    return e;
}

static int volumes(struct rootfs *r, const json_t *mounts)
{
    size_t i;
    const json_t *m;
    json_array_foreach(mounts, i, m)
    {
        const char *src = json_string_value(json_object_get(m, "source"));
        const char *dst = json_string_value(json_object_get(m, "target"));
        struct stat st;
        if (src == NULL || dst == NULL || dst[0] != '/')
            return fail(r, EINVAL, "a volume mount without a source or an absolute target");
        if (stat(src, &st) < 0) return fail(r, errno, "volume source %s: %s", src, strerror(errno));
        int e = mount_in(r, src, dst, NULL, MS_BIND | MS_REC, NULL, !S_ISDIR(st.st_mode));
        if (e == 0 && json_is_true(json_object_get(m, "readOnly"))) e = read_only(r, dst);
        if (e) return e;
    }
    return 0;
}

/* Whether this kernel is older than 5.11, the first to let a user namespace mount an overlay;
 * release gets its name. */
static bool overlay_refused(char release[65])
{
    struct utsname u;
    unsigned major = 0, minor = 0;
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2) return false;
    snprintf(release, 65, "%s", u.release);
    return major < 5 || (major == 5 && minor < 11);
}

/* The overlay at BASE/merged: upper and work in BASE on the attempt directory's filesystem,
 * or in a tmpfs at BASE where that filesystem cannot hold an overlay's upper layer. */
static int overlay(struct rootfs *r, const char *lower, const char *base, char *merged)
{
    char upper[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX + 64];
    size_t len = strlen(base);
    if (len + sizeof("/merged") > PATH_MAX)
        return fail(r, ENAMETOOLONG, "%s: path too long for an overlay", base);
    memcpy(upper, base, len), memcpy(upper + len, "/upper", sizeof("/upper"));
    memcpy(work, base, len), memcpy(work + len, "/work", sizeof("/work"));
    memcpy(merged, base, len), memcpy(merged + len, "/merged", sizeof("/merged"));
    if (strpbrk(lower, ",:\\") || strpbrk(base, ",:\\"))
        return fail(r, EINVAL, "cannot make an overlay of %s in %s (',' ':' or '\\' in a path)",
                    lower, base);
    int w = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
    if (w < 0 || (size_t)w >= sizeof(opts))
        return fail(r, ENAMETOOLONG, "overlay options too long for %s", lower);
    for (int tries = 0;; tries++) {
        if ((mkdir(upper, 0755) < 0 && errno != EEXIST) ||
            (mkdir(work, 0700) < 0 && errno != EEXIST) ||
            (mkdir(merged, 0755) < 0 && errno != EEXIST))
            return fail(r, errno, "making %s: %s", base, strerror(errno));
        if (mount("overlay", merged, "overlay", 0, opts) == 0) return 0;
        int e = errno;
        char release[65];
        if (tries == 0 && geteuid() != 0 && overlay_refused(release))
            return fail(r, e,
                        "an overlay on the image %s: %s (a user namespace may mount one "
                        "from Linux 5.11 on; this is %s)",
                        lower, strerror(e), release);
        if (tries > 0 || mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
            return fail(r, e, "an overlay on the image %s: %s", lower, strerror(e));
    }
}

/* Into the new root for good: pivot_root(".", ".") stacks the old root on the new one and the
 * detach takes it away; chroot where pivot_root cannot (an initramfs root). */
static int enter(struct rootfs *r, const char *merged)
{
    if (chdir(merged) < 0) return fail(r, errno, "entering %s: %s", merged, strerror(errno));
    if (syscall(SYS_pivot_root, ".", ".") == 0) {
        if (umount2(".", MNT_DETACH) < 0)
            return fail(r, errno, "detaching the host's root: %s", strerror(errno));
    } else if (chroot(".") < 0) {
        return fail(r, errno, "entering the image's root: %s", strerror(errno));
    }
    return chdir("/") < 0 ? fail(r, errno, "chdir /: %s", strerror(errno)) : 0;
}

int jp_rootfs_enter(const json_t *spec, const char *attempt_dir, char *msg, size_t n)
{
    struct rootfs r = {.root = -1, .msg = msg, .n = n};
    msg[0] = '\0';
    const char *lower = json_string_value(json_object_get(spec, "rootfs"));
    const char *hosts = json_string_value(json_object_get(spec, "hosts"));
    const char *cwd = json_string_value(json_object_get(spec, "cwd"));
    char base[PATH_MAX], merged[PATH_MAX];
    if (snprintf(base, sizeof(base), "%s/rootfs", attempt_dir) >= (int)sizeof(base))
        return fail(&r, ENAMETOOLONG, "attempt directory path too long");
    if (mkdir(base, 0700) < 0 && errno != EEXIST)
        return fail(&r, errno, "making %s: %s", base, strerror(errno));
    int e = overlay(&r, lower, base, merged);
    if (e) return e;
    r.root = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r.root < 0) return fail(&r, errno, "opening %s: %s", merged, strerror(errno));
    /* In a user namespace a new proc needs a pid namespace of its own and a lone bind of a
     * mount with mounts below it (/proc's, /sys's) is refused: the host's are bound with what
     * is below them. The container shares the host's pids as root too, so its /proc shows the
     * same; /sys keeps the host's cgroup mounts there, writable only by their owner, root. */
    bool user = geteuid() != 0;
    e = user ? mount_in(&r, "/proc", "/proc", NULL, MS_BIND | MS_REC, NULL, false)
             : mount_in(&r, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false);
    if (e == 0) e = make_dev(&r);
    if (e == 0) e = mount_in(&r, "/sys", "/sys", NULL, MS_BIND | (user ? MS_REC : 0), NULL, false);
    if (e == 0) e = read_only(&r, "/sys");
    if (e == 0 && hosts) e = mount_in(&r, hosts, "/etc/hosts", NULL, MS_BIND, NULL, true);
    if (e == 0) e = volumes(&r, json_object_get(spec, "mounts"));
    int wd = -1;
    /* a working directory the image lacks is made, as runc does */
    if (e == 0 && cwd && (e = make_in(&r, cwd, false, &wd)) == 0) close(wd);
    close(r.root);
    return e ? e : enter(&r, merged);
}
