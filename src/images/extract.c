/* Writing entries (from a tar, or from a directory being copied) into a root filesystem with
 * libarchive, never outside it. Every entry's path is cleaned (no "..", no absolute paths) and
 * its parent is resolved the way the container will see it (symlinks followed inside the root
 * only, through openat2's RESOLVE_IN_ROOT), so what lands through a link like /bin -> usr/bin
 * lands where the container looks for it; libarchive's secure flags refuse the rest. Layers
 * apply their whiteouts first, then their entries. Device nodes need root: skipped otherwise. */
#include "images/images-internal.h"
#include "base/alloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct jp_images__sink {
    int root;   /* the root filesystem */
    char *real; /* its real path: libarchive gets absolute paths under it, free of symlinks */
    bool layered, privileged;
    struct archive *disk;
    unsigned char sum[32]; /* sum (mod 2^256) of every entry's hash: independent of order */
    size_t skipped;
    EVP_MD_CTX *md;
};

struct jp_images__sink *jp_images__sink_new(const char *rootfs, bool layered, struct jp_err **err)
{
    struct jp_images__sink *s = jp_xcalloc(1, sizeof(*s));
    s->root = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    char real[PATH_MAX];
    if (s->root < 0 || realpath(rootfs, real) == NULL) {
        jp_err_sys(err, "opening %s", rootfs);
        if (s->root >= 0) close(s->root);
        free(s);
        return NULL;
    }
    s->real = jp_xstrdup(real);
    s->layered = layered;
    s->privileged = geteuid() == 0;
    s->md = EVP_MD_CTX_new();
    s->disk = archive_write_disk_new();
    /* numeric owners as the archive has them (no lookup in the host's passwd), and only as root;
     * the SECURE flags refuse writing through a symlink or a "..", should our own checks miss
     * (paths are absolute under the real path of the root, so no part of them is a link) */
    int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_UNLINK |
                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
    if (s->privileged) flags |= ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR;
    archive_write_disk_set_options(s->disk, flags);
    return s;
}

static void add_hash(struct jp_images__sink *s, const unsigned char h[32])
{
    unsigned carry = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned v = (unsigned)s->sum[i] + h[i] + carry;
        s->sum[i] = (unsigned char)v;
        carry = v >> 8;
    }
}

/* clean ("a/b/c") with its existing leading directories replaced by where they resolve inside
 * the root. *parent: an fd of its parent directory when that exists (-1 otherwise), for checks
 * and removal. -1 when a path resolves outside (which RESOLVE_IN_ROOT should make impossible). */
static int resolve(struct jp_images__sink *s, const char *clean, char *out, size_t n, int *parent)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", clean);
    char *cut = strrchr(dir, '/');
    *parent = -1;
    if (cut == NULL) return snprintf(out, n, "%s", clean) < (int)n ? 0 : -1;
    *cut = '\0';
    for (bool whole = true;; whole = false) {
        size_t keep = strlen(dir); /* dir resolves; clean[keep..] is taken as it is */
        int fd = jp_images__open_in(s->root, dir, O_PATH | O_DIRECTORY, 0);
        if (fd >= 0) {
            char link[64], real[PATH_MAX];
            snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
            ssize_t r = readlink(link, real, sizeof(real) - 1);
            size_t rl = strlen(s->real);
            if (r >= 0) real[r] = '\0';
            if (r < 0 || (size_t)r < rl || memcmp(real, s->real, rl) != 0 ||
                (real[rl] != '/' && real[rl] != '\0')) {
                close(fd);
                return -1;
            }
            const char *rel = real + rl + (real[rl] == '/');
            if (whole)
                *parent = fd;
            else
                close(fd);
            int w = snprintf(out, n, "%s%s", rel, clean + keep + (*rel ? 0 : 1));
            return w >= 0 && (size_t)w < n ? 0 : -1;
        }
        char *up = strrchr(dir, '/');
        if (up == NULL) break;
        *up = '\0';
    }
    return snprintf(out, n, "%s", clean) < (int)n ? 0 : -1;
}

/* An entry's data into the open header, hashed as it goes. */
static int copy_data(struct jp_images__sink *s, struct archive *src, const char *path,
                     struct jp_err **err)
{
    const void *buf;
    size_t len;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(src, &buf, &len, &off)) == ARCHIVE_OK) {
        EVP_DigestUpdate(s->md, buf, len);
        if (archive_write_data_block(s->disk, buf, len, off) < ARCHIVE_WARN)
            return jp_err_set(err, JP_INTERNAL, 0, "writing %s: %s", path,
                              archive_error_string(s->disk));
    }
    if (r != ARCHIVE_EOF)
        return jp_err_set(err, JP_INVALID, 0, "reading %s: %s", path, archive_error_string(src));
    return 0;
}

static void hash_header(struct jp_images__sink *s, struct archive_entry *e, const char *path)
{
    const char *link =
        archive_entry_hardlink(e) ? archive_entry_hardlink(e) : archive_entry_symlink(e);
    char head[96];
    int n = snprintf(head, sizeof(head), "%o %lld %lld ", (unsigned)archive_entry_mode(e),
                     (long long)archive_entry_uid(e), (long long)archive_entry_gid(e));
    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
    EVP_DigestUpdate(s->md, head, (size_t)n);
    EVP_DigestUpdate(s->md, path, strlen(path) + 1);
    if (link) EVP_DigestUpdate(s->md, link, strlen(link) + 1);
}

/* A layer's entry replaces whatever had its name: a directory too (libarchive only removes an
 * empty one). */
static void make_room(struct jp_images__sink *s, int parent, const char *path, mode_t type)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct stat st;
    int dir = parent >= 0 ? parent : s->root;
    if (type != AE_IFDIR && fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode))
        jp_images__remove_at(dir, base);
}

/* One entry into the root. src: where its data comes from. */
static int put(struct jp_images__sink *s, struct archive *src, struct archive_entry *e,
               const char *raw, struct jp_err **err)
{
    char clean[PATH_MAX], path[PATH_MAX], link[PATH_MAX];
    if (jp_images__clean_path(raw, clean, sizeof(clean)) < 0)
        return jp_err_set(err, JP_INVALID, 0, "entry \"%s\" would land outside the image", raw);
    mode_t type = archive_entry_filetype(e);
    char target[PATH_MAX];
    if (clean[0] == '\0') return 0; /* the root itself keeps its 0755 */
    if (s->layered && jp_images__whiteout(clean, target, sizeof(target)) != JP_WH_NONE)
        return 0; /* applied before the layer's entries */
    if ((type == AE_IFCHR || type == AE_IFBLK) && !s->privileged) {
        s->skipped++;
        return 0;
    }
    int parent;
    if (resolve(s, clean, path, sizeof(path), &parent) < 0)
        return jp_err_set(err, JP_INVALID, 0, "entry \"%s\" resolves outside the image", raw);
    if (s->layered) make_room(s, parent, path, type);
    if (parent >= 0) close(parent);
    const char *hard = archive_entry_hardlink(e);
    if (hard) {
        int lp = -1;
        if (jp_images__clean_path(hard, link, sizeof(link)) < 0 || link[0] == '\0' ||
            resolve(s, link, target, sizeof(target), &lp) < 0)
            return jp_err_set(err, JP_INVALID, 0, "hard link \"%s\" -> \"%s\" leaves the image",
                              raw, hard);
        if (lp >= 0) close(lp);
        archive_entry_set_hardlink(e, target);
    }
    hash_header(s, e, path); /* relative: the same image hashes the same wherever it lands */
    char abs[PATH_MAX];
    if (hard && snprintf(abs, sizeof(abs), "%s/%s", s->real, target) < (int)sizeof(abs))
        archive_entry_set_hardlink(e, abs);
    if (snprintf(abs, sizeof(abs), "%s/%s", s->real, path) >= (int)sizeof(abs))
        return jp_err_set(err, JP_INVALID, 0, "%s: path too long", raw);
    archive_entry_set_pathname(e, abs);
    int r = archive_write_header(s->disk, e);
    if (r < ARCHIVE_WARN)
        return jp_err_set(err, JP_INVALID, 0, "%s: %s", raw, archive_error_string(s->disk));
    if (type == AE_IFREG && archive_entry_size(e) > 0 && copy_data(s, src, raw, err) < 0) return -1;
    unsigned char h[32];
    EVP_DigestFinal_ex(s->md, h, NULL);
    add_hash(s, h);
    if (archive_write_finish_entry(s->disk) < ARCHIVE_WARN)
        return jp_err_set(err, JP_INVALID, 0, "%s: %s", raw, archive_error_string(s->disk));
    return 0;
}

/* A layer's whiteouts hide what lower layers put there: applied before its own entries, so an
 * opaque directory keeps what this layer brings whatever the entries' order. */
static int whiteout(struct jp_images__sink *s, const char *clean)
{
    char target[PATH_MAX], path[PATH_MAX];
    enum jp_whiteout wh = jp_images__whiteout(clean, target, sizeof(target));
    if (wh == JP_WH_OPAQUE) {
        int fd = jp_images__open_in(s->root, target, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0) return 0; /* nothing below to hide */
        int rc = jp_images__empty_dir(fd);
        close(fd);
        return rc;
    }
    if (wh != JP_WH_FILE) return 0;
    int parent;
    if (resolve(s, target, path, sizeof(path), &parent) < 0) return -1;
    if (parent < 0) return 0; /* its directory is not there: nothing to hide */
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int rc = jp_images__remove_at(parent, base);
    close(parent);
    return rc;
}

/* One pass over a tar: whiteouts only (first pass of a layer), or every other entry. */
static int tar_pass(struct jp_images__sink *s, int fd, const char *what, bool whiteouts,
                    struct jp_err **err)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int rc = 0;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
        rc = jp_err_set(err, JP_INVALID, 0, "%s: %s", what, archive_error_string(a));
    struct archive_entry *e;
    while (rc == 0) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            rc = jp_err_set(err, JP_INVALID, 0, "%s: %s", what, archive_error_string(a));
            break;
        }
        const char *raw = archive_entry_pathname(e);
        char clean[PATH_MAX];
        if (raw == NULL) {
            rc = jp_err_set(err, JP_INVALID, 0, "%s: an entry without a name", what);
        } else if (whiteouts) {
            if (jp_images__clean_path(raw, clean, sizeof(clean)) < 0)
                rc = jp_err_set(err, JP_INVALID, 0, "%s: entry \"%s\" would land outside the image",
                                what, raw);
            else if (whiteout(s, clean) < 0)
                rc = jp_err_sys(err, "%s: applying the whiteout %s", what, raw);
        } else if (put(s, a, e, raw, err) < 0) {
            rc = jp_err_wrap(err, "%s", what);
        }
    }
    archive_read_free(a);
    return rc;
}

int jp_images__sink_tar(struct jp_images__sink *s, int fd, const char *what, struct jp_err **err)
{
    if (s->layered) {
        if (tar_pass(s, fd, what, true, err) < 0) return -1;
        if (lseek(fd, 0, SEEK_SET) < 0) return jp_err_sys(err, "%s: rewinding", what);
    }
    return tar_pass(s, fd, what, false, err);
}

int jp_images__sink_dir(struct jp_images__sink *s, const char *dir, struct jp_err **err)
{
    struct archive *a = archive_read_disk_new();
    archive_read_disk_set_symlink_physical(a); /* links are copied, never followed */
    int behavior = ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_ACL |
                   ARCHIVE_READDISK_NO_FFLAGS | (s->privileged ? 0 : ARCHIVE_READDISK_NO_XATTR);
    archive_read_disk_set_behavior(a, behavior);
    int rc = 0;
    size_t prefix = strlen(dir);
    if (archive_read_disk_open(a, dir) != ARCHIVE_OK)
        rc = jp_err_set(err, JP_INVALID, 0, "%s: %s", dir, archive_error_string(a));
    struct archive_entry *e = archive_entry_new();
    while (rc == 0) {
        int r = archive_read_next_header2(a, e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            rc = jp_err_set(err, JP_INVALID, 0, "%s: %s", dir, archive_error_string(a));
            break;
        }
        archive_read_disk_descend(a);
        const char *full = archive_entry_pathname(e);
        if (full == NULL || strncmp(full, dir, prefix) != 0) {
            rc = jp_err_set(err, JP_INTERNAL, 0, "%s: an entry outside it (%s)", dir,
                            full ? full : "?");
            break;
        }
        char rel[PATH_MAX];
        snprintf(rel, sizeof(rel), "%s", full + prefix);
        if (put(s, a, e, rel, err) < 0) rc = jp_err_wrap(err, "copying %s", dir);
    }
    archive_entry_free(e);
    archive_read_free(a);
    return rc;
}

int jp_images__sink_close(struct jp_images__sink *s, unsigned char digest[32], size_t *skipped,
                          struct jp_err **err)
{
    int rc = 0;
    /* directories get their modes and times now: until here they stayed writable */
    if (archive_write_close(s->disk) < ARCHIVE_WARN)
        rc = jp_err_set(err, JP_INTERNAL, 0, "finishing the root filesystem: %s",
                        archive_error_string(s->disk));
    archive_write_free(s->disk);
    if (digest) memcpy(digest, s->sum, sizeof(s->sum));
    if (skipped) *skipped = s->skipped;
    close(s->root);
    EVP_MD_CTX_free(s->md);
    free(s->real);
    free(s);
    return rc;
}
