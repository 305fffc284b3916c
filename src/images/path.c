/* Path rules of the store: where an archive's entry may land, what a whiteout hides, and how a
 * path inside a root filesystem is opened without ever leaving it. */
#include "images/images-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int jp_images__clean_path(const char *in, char *out, size_t n)
{
    size_t k = 0;
    if (n == 0) return -1;
    for (const char *p = in; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) break;
        if (len == 2 && p[0] == '.' && p[1] == '.') return -1; /* never above the root */
        if (!(len == 1 && p[0] == '.')) {
            if (k + (k > 0) + len + 1 > n) return -1;
            if (k > 0) out[k++] = '/';
            memcpy(out + k, p, len);
            k += len;
        }
        p += len;
    }
    out[k] = '\0';
    return 0;
}

#define WH     ".wh."
#define WH_OPQ ".wh..wh..opq"

enum jp_whiteout jp_images__whiteout(const char *clean, char *target, size_t n)
{
    const char *slash = strrchr(clean, '/');
    const char *base = slash ? slash + 1 : clean;
    size_t dir = slash ? (size_t)(slash - clean) : 0;
    if (strncmp(base, WH, strlen(WH)) != 0) return JP_WH_NONE;
    if (strcmp(base, WH_OPQ) == 0) {
        if (dir + 1 > n) return JP_WH_META;
        memcpy(target, clean, dir);
        target[dir] = '\0';
        return JP_WH_OPAQUE;
    }
    const char *name = base + strlen(WH);
    /* ".wh..wh.plnk" and friends are AUFS's own; ".wh." and ".wh.." hide nothing */
    if (strncmp(name, WH, strlen(WH)) == 0 || *name == '\0' || !strcmp(name, ".") ||
        !strcmp(name, ".."))
        return JP_WH_META;
    int w = snprintf(target, n, "%.*s%s%s", (int)dir, clean, dir ? "/" : "", name);
    return w >= 0 && (size_t)w < n ? JP_WH_FILE : JP_WH_META;
}

int jp_images__open_in(int root, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    if (*path == '\0') path = ".";
    return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

static int remove_children(int fd)
{
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (jp_images__remove_at(dirfd(d), e->d_name) < 0) rc = -1;
    }
    closedir(d);
    return rc;
}

int jp_images__remove_at(int dir, const char *name)
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlinkat(dir, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    /* an image may hold directories without write or search permission for us */
    if ((st.st_mode & 0700) != 0700 && fchmodat(dir, name, (st.st_mode & 07777) | 0700, 0) < 0)
        return -1;
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = remove_children(fd);
    if (unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT) rc = -1;
    return rc;
}

int jp_images__empty_dir(int dir)
{
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -1 : remove_children(fd);
}
