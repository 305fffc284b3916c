/* `jobplane image import`: a directory, a tar of a root filesystem, a docker save archive or an
 * OCI layout archive becomes an image of the store. Everything is built in a temporary
 * directory of the store (".tmp-PID-XXXXXX") and published with one rename; a failure removes
 * it, so an import either replaces the image whole or leaves the store as it was. */
#include "images/images-internal.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/fsutil.h"
#include "base/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAX (16u << 20) /* manifests and configs: small JSON documents */

struct import {
    const struct jp_image_import *o;
    struct jp_image_ref ref;
    char *top, *tmp, *tmpname; /* DATA/images, its temporary entry, and that entry's name */
    struct jp_image *img;
    unsigned char base[32]; /* what the image is made of: config or content digest */
    bool archive;           /* docker save or OCI layout: base is its config's digest */
};

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* path (inside the archive directory) read whole. OUT: caller frees. */
static int read_in(int dir, const char *path, char **text, size_t *len, struct jp_err **err)
{
    _cleanup_close_ int fd = jp_images__open_in(dir, path, O_RDONLY, 0);
    if (fd < 0) return jp_err_set(err, JP_INVALID, errno, "the archive has no %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)META_MAX)
        return jp_err_set(err, JP_INVALID, 0, "%s in the archive is not a file of at most 16 MiB",
                          path);
    *text = jp_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, *text + got, (size_t)st.st_size - got);
        if (r <= 0) {
            free(*text);
            return jp_err_set(err, JP_INVALID, errno, "reading %s in the archive", path);
        }
        got += (size_t)r;
    }
    (*text)[got] = '\0';
    *len = got;
    return 0;
}

/* Which layers make the image and where its config is: docker save's manifest.json first
 * (Docker 25 writes both), then an OCI layout's index (a nested index picks this machine's). */
static int plan_of(struct import *im, int dir, struct jp_images__plan *plan, struct jp_err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (faccessat(dir, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        if (read_in(dir, "manifest.json", &text, &len, err) < 0) return -1;
        return jp_images__docker_plan(text, len, im->ref.full, plan, err);
    }
    if (read_in(dir, "index.json", &text, &len, err) < 0) return -1;
    const char *want = im->ref.full;
    for (int depth = 0; depth < 3; depth++, want = NULL) {
        _cleanup_free_ char *path = NULL;
        bool is_index = false;
        if (jp_images__oci_pick(text, len, want, &path, &is_index, err) < 0) return -1;
        free(text);
        text = NULL;
        if (read_in(dir, path, &text, &len, err) < 0) return -1;
        if (!is_index) return jp_images__oci_plan(text, len, plan, err);
    }
    return jp_err_set(err, JP_INVALID, 0, "index.json: image indexes nested too deep");
}

/* The archive (extracted at tmp/archive) applied layer by layer to tmp/rootfs. */
static int apply_archive(struct import *im, struct jp_err **err)
{
    _cleanup_free_ char *adir = jp_xasprintf("%s/archive", im->tmp);
    _cleanup_free_ char *rootfs = jp_xasprintf("%s/rootfs", im->tmp);
    _cleanup_close_ int dir = open(adir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return jp_err_sys(err, "opening %s", adir);
    struct jp_images__plan plan;
    if (plan_of(im, dir, &plan, err) < 0) return -1;
    _cleanup_free_ char *config = NULL;
    size_t len;
    int rc = read_in(dir, plan.config, &config, &len, err);
    if (rc == 0) rc = jp_images__read_config(config, len, im->img, err);
    /* an image's ID is its config's digest, as `docker images` shows it */
    if (rc == 0) EVP_Digest(config, len, im->base, NULL, EVP_sha256(), NULL);
    struct jp_images__sink *s = rc == 0 ? jp_images__sink_new(rootfs, true, err) : NULL;
    for (size_t i = 0; s && rc == 0 && i < plan.nlayers; i++) {
        int fd = jp_images__open_in(dir, plan.layers[i], O_RDONLY, 0);
        if (fd < 0) {
            rc = jp_err_set(err, JP_INVALID, errno, "the archive has no layer %s", plan.layers[i]);
            break;
        }
        rc = jp_images__sink_tar(s, fd, plan.layers[i], err);
        close(fd);
    }
    size_t skipped = 0;
    if (s && jp_images__sink_close(s, NULL, &skipped, rc == 0 ? err : NULL) < 0) rc = -1;
    if (s == NULL) rc = -1;
    if (rc == 0 && skipped)
        fprintf(stderr, "jobplane image import: %zu device nodes skipped (not root)\n", skipped);
    jp_images__plan_free(&plan);
    return rc;
}

/* Whether what came out of a tar is an image archive rather than a root filesystem. */
static bool is_archive(const char *rootfs)
{
    struct stat st;
    _cleanup_free_ char *m = jp_xasprintf("%s/manifest.json", rootfs);
    _cleanup_free_ char *o = jp_xasprintf("%s/oci-layout", rootfs);
    _cleanup_free_ char *i = jp_xasprintf("%s/index.json", rootfs);
    return (lstat(m, &st) == 0 && S_ISREG(st.st_mode)) ||
           (lstat(o, &st) == 0 && S_ISREG(st.st_mode) && lstat(i, &st) == 0 && S_ISREG(st.st_mode));
}

/* The source into tmp/rootfs; an image archive is then moved to tmp/archive and applied. */
static int fill(struct import *im, struct jp_err **err)
{
    _cleanup_free_ char *rootfs = jp_xasprintf("%s/rootfs", im->tmp);
    const char *src = im->o->source;
    struct stat st;
    bool stdin_ = strcmp(src, "-") == 0;
    if (!stdin_ && stat(src, &st) < 0) return jp_err_sys(err, "%s", src);
    bool dir = !stdin_ && S_ISDIR(st.st_mode);
    if (mkdir(rootfs, 0755) < 0 || chmod(rootfs, 0755) < 0)
        return jp_err_sys(err, "mkdir %s", rootfs);
    struct jp_images__sink *s = jp_images__sink_new(rootfs, false, err);
    if (s == NULL) return -1;
    int fd = stdin_ ? 0 : dir ? -1 : open(src, O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (!stdin_ && !dir && fd < 0) rc = jp_err_sys(err, "%s", src);
    if (rc == 0)
        rc = dir ? jp_images__sink_dir(s, src, err)
                 : jp_images__sink_tar(s, fd, stdin_ ? "standard input" : src, err);
    if (fd > 0) close(fd);
    size_t skipped = 0;
    if (jp_images__sink_close(s, im->base, &skipped, rc == 0 ? err : NULL) < 0) rc = -1;
    if (rc < 0) return -1;
    im->img->source = jp_xstrdup(dir ? "dir" : "tar");
    if (!dir && is_archive(rootfs)) {
        _cleanup_free_ char *archive = jp_xasprintf("%s/archive", im->tmp);
        if (rename(rootfs, archive) < 0 || mkdir(rootfs, 0755) < 0 || chmod(rootfs, 0755) < 0)
            return jp_err_sys(err, "preparing %s", rootfs);
        im->archive = true;
        free(im->img->source);
        _cleanup_free_ char *m = jp_xasprintf("%s/manifest.json", archive);
        im->img->source = jp_xstrdup(access(m, F_OK) == 0 ? "docker-archive" : "oci-archive");
        rc = apply_archive(im, err);
        int afd = open(im->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (afd >= 0) jp_images__remove_at(afd, "archive"), close(afd);
    } else if (skipped) {
        fprintf(stderr, "jobplane image import: %zu device nodes skipped (not root)\n", skipped);
    }
    return rc;
}

/* K=V into env (NULL-terminated, never NULL): replaces K's entry, or is appended. */
static void env_put(char ***env, const char *kv)
{
    size_t k = strcspn(kv, "="), n;
    for (n = 0; (*env)[n]; n++) {
        if (strncmp((*env)[n], kv, k) == 0 && (*env)[n][k] == '=') {
            free((*env)[n]);
            (*env)[n] = jp_xstrdup(kv);
            return;
        }
    }
    *env = jp_xrealloc(*env, (n + 2) * sizeof(char *));
    (*env)[n] = jp_xstrdup(kv);
    (*env)[n + 1] = NULL;
}

/* The flags' overrides over what the image said. */
static void apply_overrides(struct jp_image *img, const struct jp_image_import *o)
{
    if (o->entrypoint || o->clear_entrypoint) {
        jp_images__strv_free(img->entrypoint);
        img->entrypoint = jp_images__strv_dup(o->entrypoint);
        /* as Docker does: a new entrypoint drops the image's cmd, written for the old one */
        jp_images__strv_free(img->cmd);
        img->cmd = NULL;
    }
    if (o->cmd || o->clear_cmd) {
        jp_images__strv_free(img->cmd);
        img->cmd = jp_images__strv_dup(o->cmd);
    }
    for (size_t i = 0; o->env && o->env[i]; i++)
        env_put(&img->env, o->env[i]);
    if (o->workdir) free(img->workdir), img->workdir = jp_xstrdup(o->workdir);
    if (o->user) free(img->user), img->user = jp_xstrdup(o->user);
}

static bool overridden(const struct jp_image_import *o)
{
    return o->entrypoint || o->cmd || o->env || o->workdir || o->user || o->clear_entrypoint ||
           o->clear_cmd;
}

/* The image ID: an archive's config digest as it is; otherwise (a root filesystem, or an archive
 * whose config the flags changed) the digest of what was imported and how it runs. */
static void identify(struct import *im)
{
    char base[65], id[65];
    hex(im->base, 32, base);
    if (im->archive && !overridden(im->o)) {
        im->img->digest = jp_xasprintf("sha256:%s", base);
        return;
    }
    json_t *doc = json_pack(
        "{s:s,s:o,s:o,s:o,s:s,s:s}", "base", base, "entrypoint",
        jp_images__strv_json(im->img->entrypoint), "cmd", jp_images__strv_json(im->img->cmd), "env",
        jp_images__strv_json(im->img->env), "workingDir", im->img->workdir, "user", im->img->user);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : jp_xstrdup(base);
    unsigned char d[32];
    EVP_Digest(text, strlen(text), d, NULL, EVP_sha256(), NULL);
    hex(d, 32, id);
    im->img->digest = jp_xasprintf("sha256:%s", id);
    free(text);
    json_decref(doc);
}

/* Bytes of the regular files under an open directory (closed here), links not followed. */
static int64_t tree_size(int fd)
{
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    int64_t total = 0;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode)) total += st.st_size;
        int sub = S_ISDIR(st.st_mode)
                      ? openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                      : -1;
        if (sub >= 0) total += tree_size(sub);
    }
    closedir(d);
    return total;
}

static int run(struct import *im, struct jp_err **err)
{
    if (fill(im, err) < 0) return -1;
    struct jp_image *img = im->img;
    apply_overrides(img, im->o);
    img->name = jp_xstrdup(im->ref.full);
    identify(im);
    _cleanup_free_ char *rootfs = jp_xasprintf("%s/rootfs", im->tmp);
    int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    img->size = fd >= 0 ? tree_size(fd) : 0;
    img->imported_ns = jp_now_ns();
    if (chmod(im->tmp, 0755) < 0) return jp_err_sys(err, "chmod %s", im->tmp);
    if (jp_images__save(im->tmp, img, err) < 0) return -1;
    _cleanup_free_ char *name = jp_image_ref_dirname(&im->ref);
    if (jp_images__publish(im->top, im->tmpname, name, err) < 0) return -1;
    img->dir = jp_xasprintf("%s/%s", im->top, name);
    img->rootfs = jp_xasprintf("%s/rootfs", img->dir);
    return 0;
}

int jp_images_import(const char *data_dir, const struct jp_image_import *o, struct jp_image **out,
                     struct jp_err **err)
{
    struct import im = {.o = o};
    if (jp_image_ref_parse(o->name, &im.ref, err) < 0) return -1;
    _cleanup_free_ char *name = jp_image_ref_dirname(&im.ref);
    if (name == NULL) {
        jp_image_ref_free(&im.ref);
        return jp_err_set(err, JP_INVALID, 0, "image reference \"%s\" is too long", o->name);
    }
    im.top = jp_images_dir(data_dir);
    int rc = -1;
    if (jp_mkdir_private(data_dir, err) == 0 && jp_mkdir_private(im.top, err) == 0) {
        jp_images__sweep(im.top);
        im.tmp = jp_xasprintf("%s/.tmp-%d-XXXXXX", im.top, (int)getpid());
        if (mkdtemp(im.tmp) == NULL) {
            jp_err_sys(err, "creating a temporary directory in %s", im.top);
        } else {
            im.tmpname = jp_xstrdup(strrchr(im.tmp, '/') + 1);
            im.img = jp_xcalloc(1, sizeof(*im.img));
            im.img->env = jp_xcalloc(1, sizeof(char *));
            im.img->workdir = jp_xstrdup("");
            im.img->user = jp_xstrdup("");
            rc = run(&im, err);
            if (rc < 0) { /* nothing half-made stays */
                int fd = open(im.top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0) jp_images__remove_at(fd, im.tmpname), close(fd);
            }
        }
    }
    if (rc == 0 && out) *out = JP_STEAL(im.img);
    jp_image_free(im.img);
    jp_image_ref_free(&im.ref);
    free(im.top);
    free(im.tmp);
    free(im.tmpname);
    return rc;
}
