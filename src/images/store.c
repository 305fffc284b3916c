/* The store's directory: images looked up, listed and removed, their config.json read and
 * written, new ones swapped into place with one rename, and what crashed imports or removals
 * left (".tmp-PID-*", ".rm-PID-*" of dead processes) cleaned up. */
#include "images/images-internal.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/fsutil.h"
#include "base/parse.h"
#include "base/timefmt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG     "config.json"
#define CONFIG_MAX (1u << 20)

char *jp_images_dir(const char *data_dir)
{
    return jp_xasprintf("%s/images", data_dir);
}

void jp_image_free(struct jp_image *img)
{
    if (img == NULL) return;
    free(img->name);
    free(img->dir);
    free(img->rootfs);
    free(img->digest);
    jp_images__strv_free(img->entrypoint);
    jp_images__strv_free(img->cmd);
    jp_images__strv_free(img->env);
    free(img->workdir);
    free(img->user);
    free(img->source);
    free(img);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* DIR/config.json into an image; JP_NOT_FOUND when the directory or the file is missing. */
static int load(const char *dir, struct jp_image **out, struct jp_err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct stat st;
    if (lstat(dir, &st) < 0 && errno == ENOENT)
        return jp_err_set(err, JP_NOT_FOUND, ENOENT, "%s: no such image", dir);
    if (jp_read_file(dir, CONFIG, CONFIG_MAX, &text, &len, err) < 0) return -1;
    json_t *doc = json_loadb(text, len, 0, NULL);
    const char *digest = json_string_value(json_object_get(doc, "digest"));
    if (!json_is_object(doc) || digest == NULL ||
        json_string_value(json_object_get(doc, "name")) == NULL) {
        json_decref(doc);
        return jp_err_set(err, JP_INTERNAL, 0, "%s/%s: not an image's config", dir, CONFIG);
    }
    struct jp_image *img = jp_xcalloc(1, sizeof(*img));
    img->name = jp_xstrdup(str(doc, "name"));
    img->dir = jp_xstrdup(dir);
    img->rootfs = jp_xasprintf("%s/rootfs", dir);
    img->digest = jp_xstrdup(digest);
    img->entrypoint = jp_images__json_strv(json_object_get(doc, "entrypoint"));
    img->cmd = jp_images__json_strv(json_object_get(doc, "cmd"));
    img->env = jp_images__json_strv(json_object_get(doc, "env"));
    if (img->env == NULL) img->env = jp_xcalloc(1, sizeof(char *));
    img->workdir = jp_xstrdup(str(doc, "workingDir"));
    img->user = jp_xstrdup(str(doc, "user"));
    img->source = jp_xstrdup(str(doc, "source"));
    img->size = json_integer_value(json_object_get(doc, "size"));
    jp_time_parse(str(doc, "imported"), &img->imported_ns, NULL);
    json_decref(doc);
    *out = img;
    return 0;
}

/* Writes DIR/config.json (durably: the rename that publishes the image comes next). */
int jp_images__save(const char *dir, const struct jp_image *img, struct jp_err **err)
{
    char ts[JP_TIME_BUFLEN];
    jp_time_format(ts, img->imported_ns, JP_TIME_SECONDS);
    json_t *doc =
        json_pack("{s:s,s:s,s:I,s:s,s:o,s:o,s:o,s:s,s:s,s:s}", "name", img->name, "digest",
                  img->digest, "size", (json_int_t)img->size, "imported", ts, "entrypoint",
                  jp_images__strv_json(img->entrypoint), "cmd", jp_images__strv_json(img->cmd),
                  "env", jp_images__strv_json(img->env), "workingDir", img->workdir ?: "", "user",
                  img->user ?: "", "source", img->source ?: "");
    if (doc == NULL) return jp_err_set(err, JP_INVALID, 0, "the image config is not valid UTF-8");
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    int rc = jp_write_file_atomic(dir, CONFIG, text, strlen(text), err);
    free(text);
    return rc;
}

/* DATA/images/<dirname of ref>; JP_INVALID for a bad reference. */
static char *image_dir(const char *data_dir, const char *ref, struct jp_image_ref *parsed,
                       struct jp_err **err)
{
    if (jp_image_ref_parse(ref, parsed, err) < 0) return NULL;
    _cleanup_free_ char *name = jp_image_ref_dirname(parsed);
    if (name == NULL) {
        jp_err_set(err, JP_INVALID, 0, "image reference \"%s\" is too long", ref);
        jp_image_ref_free(parsed);
        return NULL;
    }
    return jp_xasprintf("%s/images/%s", data_dir, name);
}

int jp_images_get(const char *data_dir, const char *ref, struct jp_image **out, struct jp_err **err)
{
    struct jp_image_ref r;
    _cleanup_free_ char *dir = image_dir(data_dir, ref, &r, err);
    if (dir == NULL) return -1;
    struct jp_err *e = NULL;
    int rc = load(dir, out, &e);
    if (rc < 0 && e->reason == JP_NOT_FOUND)
        jp_err_set(err, JP_NOT_FOUND, 0, "image \"%s\" is not in the image store", r.full);
    else if (rc < 0)
        jp_err_set(err, e->reason, e->sys_errno, "%s", e->msg);
    jp_err_free(e);
    jp_image_ref_free(&r);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(struct jp_image *const *)a)->name, (*(struct jp_image *const *)b)->name);
}

int jp_images_list(const char *data_dir, struct jp_image ***out, size_t *n, struct jp_err **err)
{
    _cleanup_free_ char *top = jp_images_dir(data_dir);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(top);
    if (d == NULL) return errno == ENOENT ? 0 : jp_err_sys(err, "listing %s", top);
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", imports and removals under way */
        _cleanup_free_ char *dir = jp_xasprintf("%s/%s", top, e->d_name);
        struct jp_image *img;
        if (load(dir, &img, NULL) < 0) continue;
        if (*n == cap) *out = jp_xrealloc(*out, (cap = cap ? 2 * cap : 8) * sizeof(**out));
        (*out)[(*n)++] = img;
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof(**out), by_name);
    return 0;
}

void jp_images_list_free(struct jp_image **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jp_image_free(list[i]);
    free(list);
}

/* Removes top/name (already renamed away from its public name). */
static void discard(const char *top, const char *name)
{
    int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    jp_images__remove_at(fd, name);
    fsync(fd);
    close(fd);
}

void jp_images__sweep(const char *top)
{
    DIR *d = opendir(top);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int pid = 0;
        if (sscanf(e->d_name, ".tmp-%d-", &pid) != 1 && sscanf(e->d_name, ".rm-%d-", &pid) != 1)
            continue;
        /* a live process's import is its own; a dead one's is left-over */
        if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)) continue;
        jp_images__remove_at(dirfd(d), e->d_name);
    }
    closedir(d);
}

int jp_images_remove(const char *data_dir, const char *ref, struct jp_err **err)
{
    struct jp_image_ref r;
    _cleanup_free_ char *dir = image_dir(data_dir, ref, &r, err);
    if (dir == NULL) return -1;
    _cleanup_free_ char *top = jp_images_dir(data_dir);
    char gone[64];
    snprintf(gone, sizeof(gone), ".rm-%d-%lld", (int)getpid(), (long long)jp_mono_ns());
    _cleanup_free_ char *to = jp_xasprintf("%s/%s", top, gone);
    int rc = 0;
    /* away from its name at once: a container starting now finds it or finds nothing */
    if (rename(dir, to) < 0)
        rc = errno == ENOENT ? jp_err_set(err, JP_NOT_FOUND, 0,
                                          "image \"%s\" is not in the image store", r.full)
                             : jp_err_sys(err, "removing %s", dir);
    else
        discard(top, gone);
    jp_image_ref_free(&r);
    return rc;
}

/* Moves top/tmp to top/name, replacing what was there in one step (RENAME_EXCHANGE), then
 * removes the old one. */
int jp_images__publish(const char *top, const char *tmp, const char *name, struct jp_err **err)
{
    _cleanup_close_ int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return jp_err_sys(err, "opening %s", top);
    bool replaced = false;
    if (renameat2(fd, tmp, fd, name, RENAME_NOREPLACE) < 0) {
        if (errno != EEXIST || renameat2(fd, tmp, fd, name, RENAME_EXCHANGE) < 0)
            return jp_err_sys(err, "moving the new image into %s/%s", top, name);
        replaced = true;
    }
    if (fsync(fd) < 0) return jp_err_sys(err, "syncing %s", top);
    if (replaced) discard(top, tmp); /* tmp now holds the old image */
    return 0;
}

static int64_t id_of(const char *s)
{
    int64_t v;
    return jp_parse_int(s, 10, 0, INT32_MAX, &v, NULL) == 0 ? v : -1;
}

/* The n-th ':' field of line (0-based), cut out in place; NULL when the line has fewer. */
static char *field(char *line, int n)
{
    char *p = line;
    for (int i = 0; i < n && p; i++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    if (p == NULL) return NULL;
    p[strcspn(p, ":\n")] = '\0';
    return p;
}

/* The id (field 3) of the line of etc/passwd or etc/group whose name or id is `who`, and for
 * passwd the primary gid (field 4) into *gid. -1 when there is none. */
static int64_t lookup(int root, const char *file, const char *who, int64_t *gid)
{
    int fd = jp_images__open_in(root, file, O_RDONLY, 0);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (f == NULL) {
        if (fd >= 0) close(fd);
        return -1;
    }
    char line[1024], copy[1024];
    int64_t found = -1;
    while (found < 0 && fgets(line, sizeof(line), f)) {
        memcpy(copy, line, sizeof(line));
        size_t name = strcspn(line, ":");
        char *id = field(line, 2);
        if (id == NULL ||
            ((strlen(who) != name || strncmp(line, who, name) != 0) && strcmp(id, who) != 0))
            continue;
        found = id_of(id);
        char *g = gid ? field(copy, 3) : NULL;
        if (g) *gid = id_of(g);
    }
    fclose(f);
    return found;
}

int jp_image_user(const struct jp_image *img, int64_t *uid, int64_t *gid, struct jp_err **err)
{
    *uid = *gid = -1;
    if (img->user == NULL || img->user[0] == '\0') return 0;
    _cleanup_free_ char *user = jp_xstrdup(img->user);
    char *group = strchr(user, ':');
    if (group) *group++ = '\0';
    _cleanup_close_ int root = open(img->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* a numeric user needs no passwd entry; its primary group comes from one if there is */
    int64_t primary = -1;
    int64_t named = lookup(root, "etc/passwd", user, &primary);
    *uid = id_of(user) >= 0 ? id_of(user) : named;
    if (*uid < 0)
        return jp_err_set(err, JP_INVALID, 0,
                          "unable to find user %s: no matching entries in passwd file", user);
    *gid = group ? id_of(group) : (primary >= 0 ? primary : 0);
    if (group && *gid < 0 && (*gid = lookup(root, "etc/group", group, NULL)) < 0)
        return jp_err_set(err, JP_INVALID, 0,
                          "unable to find group %s: no matching entries in group file", group);
    return 0;
}

void jp_images_human_size(char *buf, size_t n, int64_t bytes)
{
    static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1000;
        u++;
    }
    snprintf(buf, n, "%.3g%s", v, units[u]);
}
