/* Volume mounts inside a container's own mount namespace (the shim's child, just before exec).
 * Each volume's source is bound at its target. Pods run on the host's filesystem, where a
 * mountPath such as /etc/config or /data usually does not exist, and the host must never be
 * changed: such a target is made in a layer of its own instead. Its nearest existing ancestor is
 * covered by a tmpfs (kept in the attempt directory) that holds the new entries - the mount
 * point - and every entry the ancestor had, bound back from the host (links copied), so writes
 * to what existed still reach the host. When that ancestor is "/", the layer is assembled beside
 * it and the container is chrooted into it: "/" cannot be covered in place. Runs between fork
 * and exec, as root or in a user namespace of the container's: no allocation the child cannot
 * afford to leak, and errors come back as errno and a message. */
#include "agent/shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_LAYERS 16

struct cow {
    char msg[512];
    const char *attempt_dir;
    int layers;
    char covered[MAX_LAYERS][PATH_MAX]; /* directories that have their layer already */
};

static int fail(struct cow *w, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct cow *w, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
    va_end(ap);
    return e ? e : EINVAL;
}

/* snprintf that says whether everything fitted. */
static bool fmt(char *buf, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static bool fmt(char *buf, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int r = vsnprintf(buf, n, f, ap);
    va_end(ap);
    return r >= 0 && (size_t)r < n;
}

/* Makes the mount point dst for the entry src, which lstat gave as st: a directory, an empty
 * file for anything else that can be bound (a file, fifo, socket or device node). */
static int mount_point(const char *dst, const struct stat *st)
{
    if (S_ISDIR(st->st_mode)) return mkdir(dst, 0755);
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    return fd < 0 ? -1 : close(fd);
}

/* Puts every entry of `from` (the ancestor as it was) at dst/<entry>: a link copied, anything
 * else bound recursively (a mount below it comes along). */
static int bind_back(struct cow *w, const char *from, const char *dst)
{
    DIR *d = opendir(from);
    if (d == NULL) return fail(w, errno, "listing %s: %s", dst, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char src[PATH_MAX], to[PATH_MAX], link[PATH_MAX];
        struct stat st;
        if (!fmt(src, sizeof(src), "%s/%s", from, e->d_name) ||
            !fmt(to, sizeof(to), "%s/%s", strcmp(dst, "/") ? dst : "", e->d_name) ||
            lstat(src, &st) < 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(src, link, sizeof(link) - 1);
            if (n < 0) continue; /* gone since the listing */
            link[n] = '\0';
            if (symlink(link, to) < 0)
                rc = fail(w, errno, "copying the link %s into its layer: %s", to, strerror(errno));
        } else if (mount_point(to, &st) < 0 || mount(src, to, NULL, MS_BIND | MS_REC, NULL) < 0) {
            rc = fail(w, errno, "binding %s back into its layer: %s", to, strerror(errno));
        }
    }
    closedir(d);
    return rc;
}

/* Gives `dir` (an existing directory) a layer: a tmpfs with dir's mode holds a recursive bind of
 * dir as it was (where the entries bound back come from: a path through it crosses the mounts
 * below, as the original does) and, for "/", the new root; any other dir gets a tmpfs of its own
 * in its place. Not an overlay with dir as its lower layer: in a user namespace the kernel
 * refuses one on a directory with mounts below it (they are locked there, and an overlay would
 * show what they cover), and "/" always has some. */
static int cover(struct cow *w, const char *dir)
{
    for (int i = 0; i < w->layers; i++)
        if (!strcmp(w->covered[i], dir)) return 0; /* new entries there are the layer's already */
    if (w->layers >= MAX_LAYERS) return fail(w, E2BIG, "too many volume mount points to make");
    char base[PATH_MAX], orig[PATH_MAX], top[PATH_MAX], opts[32];
    struct stat st;
    /* the layer's root as the directory was: a /tmp stays writable by all */
    mode_t mode = stat(dir, &st) == 0 ? st.st_mode & 07777 : 0755;
    if (!fmt(w->covered[w->layers], sizeof(w->covered[0]), "%s", dir) ||
        !fmt(base, sizeof(base), "%s/cow%d", w->attempt_dir, w->layers++) ||
        !fmt(orig, sizeof(orig), "%s/lower", base) || !fmt(top, sizeof(top), "%s/root", base))
        return fail(w, ENAMETOOLONG, "a path too long for a layer under %s", dir);
    bool root = !strcmp(dir, "/");
    snprintf(opts, sizeof(opts), "mode=%04o", (unsigned)mode);
    const char *at = root ? top : dir;
    if ((mkdir(base, 0700) < 0 && errno != EEXIST) ||
        mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0 ||
        mkdir(orig, 0755) < 0 || (root && mkdir(top, 0755) < 0) ||
        mount(dir, orig, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        (root ? chmod(top, mode) : mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts)) < 0)
        return fail(w, errno, "making a layer for %s: %s", dir, strerror(errno));
    int rc = bind_back(w, orig, at);
    if (rc == 0 && root && (chroot(top) < 0 || chdir("/") < 0))
        rc = fail(w, errno, "entering the layer over /: %s", strerror(errno));
    return rc;
}

/* Makes `path` exist (a directory, or a file when is_file) without touching the host. */
static int make_target(struct cow *w, const char *path, bool is_file)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!!S_ISDIR(st.st_mode) == !is_file) return 0;
        return fail(w, ENOTDIR, "cannot mount a %s at %s: it is a %s on the host filesystem",
                    is_file ? "file" : "directory", path, is_file ? "directory" : "file");
    }
    char anc[PATH_MAX];
    snprintf(anc, sizeof(anc), "%s", path);
    for (;;) { /* the nearest existing ancestor */
        char *slash = strrchr(anc, '/');
        if (slash == anc) {
            anc[1] = '\0';
            break;
        }
        *slash = '\0';
        if (lstat(anc, &st) == 0) break;
    }
    if (lstat(anc, &st) < 0 || !S_ISDIR(st.st_mode))
        return fail(w, ENOTDIR, "cannot make %s: %s is not a directory", path, anc);
    int rc = cover(w, anc);
    if (rc) return rc;
    /* the rest of the path, inside the new layer (after a chroot the names are the same) */
    char part[PATH_MAX];
    snprintf(part, sizeof(part), "%s", path);
    for (char *p = part + strlen(anc) + (strcmp(anc, "/") ? 1 : 0); *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(part, 0755) < 0 && errno != EEXIST)
            return fail(w, errno, "making %s: %s", part, strerror(errno));
        *p = '/';
    }
    int fd = -1;
    if (is_file ? (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0
                : mkdir(path, 0755) < 0)
        return fail(w, errno, "making %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return 0;
}

/* Where a mount target really is inside the container's root, as runc resolves one: links on
 * the way are followed (an absolute one from the root), ".." stops at the root. A host's
 * /var/run is a link to /run, and /var/run/secrets/... must mount in /run, not fail on the
 * link. Everything this makes stays in the container's own mount namespace. */
static int resolve_target(struct cow *w, const char *path, char out[PATH_MAX])
{
    char rest[PATH_MAX], next[PATH_MAX], cand[PATH_MAX], link[PATH_MAX];
    int links = 0;
    out[0] = '\0'; /* the resolved part: "" is the root */
    if (!fmt(rest, sizeof(rest), "%s", path)) return fail(w, ENAMETOOLONG, "%s: too long", path);
    const char *p = rest;
    while (*p) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0) break;
        const char *name = p;
        p += len;
        if (len == 1 && name[0] == '.') continue;
        if (len == 2 && name[0] == '.' && name[1] == '.') {
            char *slash = strrchr(out, '/');
            if (slash) *slash = '\0';
            continue;
        }
        if (!fmt(cand, sizeof(cand), "%s/%.*s", out, (int)len, name))
            return fail(w, ENAMETOOLONG, "%s: too long", path);
        struct stat st;
        if (lstat(cand, &st) == 0 && S_ISLNK(st.st_mode)) {
            ssize_t k = readlink(cand, link, sizeof(link) - 1);
            if (k < 0 || ++links > 40)
                return fail(w, k < 0 ? errno : ELOOP, "resolving %s: %s", path,
                            strerror(k < 0 ? errno : ELOOP));
            link[k] = '\0';
            if (!fmt(next, sizeof(next), "%s/%s", link, p))
                return fail(w, ENAMETOOLONG, "%s: too long", path);
            memcpy(rest, next, sizeof(rest));
            p = rest;
            if (link[0] == '/') out[0] = '\0'; /* else on from the link's own directory */
            continue;
        }
        memcpy(out, cand, sizeof(cand));
    }
    if (out[0] == '\0') memcpy(out, "/", 2);
    return 0;
}

int jp_mounts_apply(const json_t *mounts, const char *attempt_dir, char *msg, size_t n)
{
    struct cow w = {.attempt_dir = attempt_dir};
    size_t i;
    const json_t *m;
    int rc = 0;
    json_array_foreach(mounts, i, m)
    {
        const char *src = json_string_value(json_object_get(m, "source"));
        const char *target = json_string_value(json_object_get(m, "target"));
        bool ro = json_is_true(json_object_get(m, "readOnly"));
        struct stat st;
        char dst[PATH_MAX];
        if (src == NULL || target == NULL || target[0] != '/') {
            rc = fail(&w, EINVAL, "a volume mount without a source or an absolute target");
            break;
        }
        if ((rc = resolve_target(&w, target, dst))) break;
        if (stat(src, &st) < 0) {
            rc = fail(&w, errno, "volume source %s: %s", src, strerror(errno));
            break;
        }
        if ((rc = make_target(&w, dst, !S_ISDIR(st.st_mode)))) break;
        if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0 ||
            (ro &&
             mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | jp_mounts_locked_flags(dst),
                   NULL) < 0)) {
            rc = fail(&w, errno, "mounting %s at %s: %s", src, dst, strerror(errno));
            break;
        }
    }
    snprintf(msg, n, "%s", rc ? w.msg : "");
    return rc;
}

unsigned long jp_mounts_locked_flags(const char *path)
{
    /* a user namespace locks these flags of a mount made outside it: a remount that leaves one
     * out fails with EPERM. As root, repeating them is right too: a read-only view of a noexec
     * source should not become executable. */
    static const struct {
        unsigned long st, ms;
    } map[] = {{ST_NOSUID, MS_NOSUID},         {ST_NODEV, MS_NODEV},
               {ST_NOEXEC, MS_NOEXEC},         {ST_NOATIME, MS_NOATIME},
               {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
    struct statvfs s;
    if (statvfs(path, &s) < 0) return 0; /* the remount says what is wrong */
    unsigned long flags = 0;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (s.f_flag & map[i].st) flags |= map[i].ms;
    /* neither noatime nor relatime: strictatime, which must be asked for (relatime is the
     * default of a mount without atime flags) */
    if (!(s.f_flag & (ST_NOATIME | ST_RELATIME))) flags |= MS_STRICTATIME;
    return flags;
}
