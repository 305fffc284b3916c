/* Private, atomic, symlink-refusing file helpers for the data directory. */
#include "base/fsutil.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The missing directories above dir, 0700 as the XDG base directory spec asks (a fresh account
 * may have no ~/.local/share yet). Existing ones, links included, are left as they are. */
static void mkdir_parents(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) return;
    for (char *s = path + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST) return;
        *s = '/';
    }
}

int jp_mkdir_private(const char *dir, struct jp_err **err)
{
    if (mkdir(dir, 0700) == 0) return 0; /* made here: a directory, not a link */
    int e = errno;
    if (e == ENOENT) {
        mkdir_parents(dir);
        e = mkdir(dir, 0700) < 0 ? errno : 0;
    }
    if (e != 0 && e != EEXIST) {
        errno = e;
        return jp_err_sys(err, "mkdir %s", dir);
    }
    /* there already (or made after its parents): what is there must be a directory */
    struct stat st;
    if (lstat(dir, &st) < 0) return jp_err_sys(err, "stat %s", dir);
    if (!S_ISDIR(st.st_mode))
        return jp_err_set(err, JP_BAD_REQUEST, 0, "%s: not a directory (symlinks are refused)",
                          dir);
    return 0;
}

static int open_dir(const char *dir, struct jp_err **err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return jp_err_sys(err, "open %s", dir);
    return fd;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, bool durable,
                      struct jp_err **err)
{
    _cleanup_close_ int dfd = open_dir(dir, err);
    if (dfd < 0) return -1;
    char tmp[256];
    snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
    (void)unlinkat(dfd, tmp, 0);
    _cleanup_close_ int fd =
        openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return jp_err_sys(err, "create %s/%s", dir, tmp);
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return jp_err_sys(err, "write %s/%s", dir, tmp);
        p += w;
        left -= (size_t)w;
    }
    if (durable && fsync(fd) < 0) return jp_err_sys(err, "fsync %s/%s", dir, tmp);
    if (renameat(dfd, tmp, dfd, name) < 0) return jp_err_sys(err, "rename %s/%s", dir, name);
    if (durable && fsync(dfd) < 0) return jp_err_sys(err, "fsync %s", dir);
    return 0;
}

int jp_write_file_atomic(const char *dir, const char *name, const void *data, size_t len,
                         struct jp_err **err)
{
    return write_file(dir, name, data, len, true, err);
}

int jp_replace_file(const char *dir, const char *name, const void *data, size_t len,
                    struct jp_err **err)
{
    return write_file(dir, name, data, len, false, err);
}

int jp_read_file(const char *dir, const char *name, size_t max, char **data, size_t *len,
                 struct jp_err **err)
{
    _cleanup_close_ int dfd = open_dir(dir, err);
    if (dfd < 0) return -1;
    _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return jp_err_set(err, JP_NOT_FOUND, ENOENT, "%s/%s: no such file", dir, name);
        return jp_err_sys(err, "open %s/%s", dir, name);
    }
    struct jp_buf b;
    jp_buf_init(&b, max);
    char chunk[8192];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            jp_buf_free(&b);
            return jp_err_sys(err, "read %s/%s", dir, name);
        }
        if (r == 0) break;
        if (jp_buf_append(&b, chunk, (size_t)r) < 0) {
            jp_buf_free(&b);
            return jp_err_set(err, JP_TOO_LARGE, 0, "%s/%s: larger than %zu bytes", dir, name, max);
        }
    }
    *data = jp_buf_steal(&b, len);
    return 0;
}

char *jp_self_exe(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) return jp_xstrdup("/proc/self/exe");
    buf[n] = '\0';
    return jp_xstrdup(buf);
}

char *jp_sibling_exe(const char *self, const char *name)
{
    const char *slash = strrchr(self, '/');
    if (slash == NULL) return jp_xstrdup(name);
    return jp_xasprintf("%.*s/%s", (int)(slash - self), self, name);
}

/* Entries are unlinked relative to their parent directory and never followed. */
static void remove_at(int dfd)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0) continue;
        int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) remove_at(sub);
        unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

void jp_remove_tree(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    remove_at(fd);
    rmdir(dir);
}

int jp_lock_dir(const char *dir, struct jp_err **err)
{
    _cleanup_close_ int dfd = open_dir(dir, err);
    if (dfd < 0) return -1;
    int fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return jp_err_sys(err, "open %s/lock", dir);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        if (e != EWOULDBLOCK) return jp_err_sys(err, "lock %s/lock", dir);
        return jp_err_set(err, JP_CONFLICT, e,
                          "%s is in use by another jobplane (pid %s): one server or run per data "
                          "directory",
                          dir, *pid ? pid : "unknown");
    }
    char text[32];
    int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
    /* the lock holds even if the pid cannot be written: only another's message loses it */
    if (ftruncate(fd, 0) == 0) {
        ssize_t w = pwrite(fd, text, (size_t)len, 0);
        (void)w;
    }
    return fd;
}
