/* A pod's volumes, made once before its first container starts, under DIR/pods/UID/volumes/NAME:
 * emptyDir (an empty directory, 0777 as the kubelet's; with medium Memory a tmpfs mounted on it
 * on the host, once for all the pod's containers), configMap and secret (one file per key or per
 * item, with defaultMode/mode; secrets base64-decoded), downwardAPI (fieldRef values; labels and
 * annotations as k="v" lines) and projected (the three together). A hostPath is the host's own
 * path, checked by its type, never through a symlink. Each container's volumeMounts then become
 * the shim's bind mounts (mounts.c): configMap, secret, downwardAPI and projected ones
 * read-only, as the kubelet mounts them; subPath resolved inside the volume without following
 * symlinks. */
#include "agent/agent-internal.h"
#include "api/kinds.h"
#include "api/object.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "pki/satoken.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

/* A relative path with no empty, "." or ".." part (an item's path, a subPath). */
static bool clean_relative(const char *p)
{
    if (p == NULL || *p == '\0' || *p == '/') return false;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n + (e != NULL);
    }
    return true;
}

/* Walks rel under root one part at a time, never through a symlink. A missing part is made a
 * directory when create says so (every part, or all but the last with PARENTS); otherwise the
 * walk stops there with 0, and *missing tells. */
enum walk { PARENTS, ALL, CHECK };

static int walk(const char *root, const char *rel, enum walk mode, bool *missing, char *why,
                size_t n)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path)) {
        snprintf(why, n, "path too long");
        return -1;
    }
    if (missing) *missing = false;
    for (char *s = path + strlen(root) + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        bool last = *s == '\0';
        if (last && mode == PARENTS) return 0;
        char keep = *s;
        *s = '\0';
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                snprintf(why, n, "%s is a symbolic link", path);
                return -1;
            }
            if (!last && !S_ISDIR(st.st_mode)) {
                snprintf(why, n, "%s is not a directory", path);
                return -1;
            }
        } else if (mode == CHECK) {
            if (missing) *missing = true;
            return 0;
        } else if (mkdir(path, 0755) < 0) {
            snprintf(why, n, "making %s: %s", path, strerror(errno));
            return -1;
        }
        if (last) return 0;
        *s = keep;
    }
}

static int write_item(const char *dir, const char *rel, const char *data, size_t len, int mode,
                      char *why, size_t n)
{
    if (!clean_relative(rel)) {
        snprintf(why, n, "invalid item path %s", rel ? rel : "(none)");
        return -1;
    }
    if (walk(dir, rel, PARENTS, NULL, why, n) < 0) return -1;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fchmod(fd, (mode_t)mode) == 0;
    if (!ok) snprintf(why, n, "writing %.200s: %s", rel, strerror(errno));
    if (fd >= 0) close(fd);
    return ok ? 0 : -1;
}

/* ConfigMap or Secret keys (items, or every key) into dir. */
static int write_keys(struct pod *p, const json_t *src, bool secret, const char *dir, char *why,
                      size_t n)
{
    struct jp_agent *a = p->agent;
    /* a secret volume names it secretName; a projected secret source, name */
    const char *name =
        jp_json_str(src, secret ? "secretName" : "name", NULL) ?: jp_json_str(src, "name", NULL);
    const struct jp_obj *o =
        name ? jp_store_get(a->store, secret ? a->kind_secrets : a->kind_configmaps, p->ns, name)
             : NULL;
    if (o == NULL) {
        if (json_is_true(json_object_get(src, "optional"))) return 0;
        snprintf(why, n, "%s \"%s\" not found", secret ? "secret" : "configmap", name ? name : "");
        return -1;
    }
    json_t *obj = json_loadb(o->json, o->len, 0, NULL);
    int def = (int)jp_json_int(src, 0644, "defaultMode", NULL);
    static const char *const maps[] = {"data", "binaryData"};
    int rc = 0;
    const json_t *items = json_object_get(src, "items");
    for (int m = 0; m < 2 && rc == 0; m++) {
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(obj, maps[m]), key, v)
        {
            const char *path = key;
            int mode = def;
            if (json_array_size(items)) {
                const json_t *hit = NULL, *it;
                size_t i;
                json_array_foreach(
                    items, i, it) if (!strcmp(jp_json_str(it, "key", NULL) ?: "", key)) hit = it;
                if (hit == NULL) continue;
                path = jp_json_str(hit, "path", NULL);
                mode = (int)jp_json_int(hit, def, "mode", NULL);
            }
            const char *text = json_string_value(v) ?: "";
            if (secret || m == 1) { /* base64 */
                gnutls_datum_t in = {(unsigned char *)text, (unsigned)strlen(text)}, out = {0};
                if (gnutls_base64_decode2(&in, &out) < 0) {
                    snprintf(why, n, "key %s of %s: not base64", key, name);
                    rc = -1;
                    break;
                }
                rc = write_item(dir, path, (char *)out.data, out.size, mode, why, n);
                gnutls_free(out.data);
            } else {
                rc = write_item(dir, path, text, strlen(text), mode, why, n);
            }
            if (rc) break;
        }
    }
    json_decref(obj);
    return rc;
}

/* A serviceAccountToken projection: a token of the pod's account, bound to the pod, as the
 * kubelet asks the API for one. It lasts (as kube-apiserver extends a node's 3607 s token) a
 * year, so nothing refreshes it. */
static int write_token(struct pod *p, const json_t *src, int mode, const char *dir, char *why,
                       size_t n)
{
    struct jp_agent *a = p->agent;
    const char *sa = jp_json_str(p->spec, "serviceAccountName", NULL) ?: "default";
    const char *path = jp_json_str(src, "path", NULL);
    if (a->opts.sa == NULL) {
        snprintf(why, n,
                 "failed to fetch token: the API is not served, so there is no token to "
                 "mount (jobplane run --listen serves it)");
        return -1;
    }
    const struct jp_obj *o = jp_store_get(a->store, a->kind_serviceaccounts, p->ns, sa);
    if (o == NULL) {
        snprintf(why, n, "failed to fetch token: serviceaccounts \"%s\" not found", sa);
        return -1;
    }
    const char *aud = jp_json_str(src, "audience", NULL);
    const char *audiences[] = {aud && *aud ? aud : NULL, NULL};
    struct jp_sa_claims claims = {
        .ns = p->ns,
        .sa_name = sa,
        .sa_uid = jp_proj_of(o)->uid,
        .pod_name = p->name,
        .pod_uid = p->uid,
        .audiences = audiences[0] ? audiences : NULL,
        .iat = jp_now_ns() / JP_NS_PER_SEC,
        .seconds = jp_json_int(src, JP_SA_DEFAULT_SECONDS, "expirationSeconds", NULL),
        .extend = true};
    char *jwt = jp_sa_token_mint(a->opts.sa, &claims, NULL);
    if (jwt == NULL) {
        snprintf(why, n, "failed to fetch token: signing failed");
        return -1;
    }
    int rc = write_item(dir, path, jwt, strlen(jwt), mode, why, n);
    free(jwt);
    return rc;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* metadata.labels / metadata.annotations as the kubelet writes them: sorted k="v" lines. */
static char *map_lines(const json_t *map)
{
    size_t count = json_object_size(map), k = 0;
    const char **keys = jp_xcalloc(count + 1, sizeof(char *));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)map, key, v) keys[k++] = key;
    qsort(keys, count, sizeof(*keys), by_name);
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < count; i++) {
        jp_buf_printf(&b, "%s%s=", i ? "\n" : "", keys[i]);
        char *q = json_dumps(json_object_get(map, keys[i]), JSON_ENCODE_ANY);
        jp_buf_printf(&b, "%s", q ? q : "\"\"");
        free(q);
    }
    free(keys);
    return jp_buf_steal(&b, NULL);
}

static int write_downward(struct pod *p, const json_t *src, const char *dir, char *why, size_t n)
{
    int def = (int)jp_json_int(src, 0644, "defaultMode", NULL);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(src, "items"), i, it)
    {
        const char *field = jp_json_str(it, "fieldRef", "fieldPath", NULL);
        char *value;
        if (field && !strcmp(field, "metadata.labels"))
            value = map_lines(jp_json_path(p->obj, "metadata", "labels", NULL));
        else if (field && !strcmp(field, "metadata.annotations"))
            value = map_lines(jp_json_path(p->obj, "metadata", "annotations", NULL));
        else if (field)
            value = env__field_ref(p, field);
        else
            value = jp_xstrdup("0"); /* resourceFieldRef: no limits are enforced */
        int rc = write_item(dir, jp_json_str(it, "path", NULL), value, strlen(value),
                            (int)jp_json_int(it, def, "mode", NULL), why, n);
        free(value);
        if (rc) return -1;
    }
    return 0;
}

/* hostPath: absolute, no symlink on the way, and what its type says. */
static int host_path(const json_t *src, char *why, size_t n)
{
    const char *path = jp_json_str(src, "path", NULL);
    const char *type = jp_json_str(src, "type", NULL) ?: "";
    if (path == NULL || path[0] != '/' || (path[1] && !clean_relative(path + 1))) {
        snprintf(why, n, "hostPath %s must be an absolute path without . or .. parts",
                 path ? path : "");
        return -1;
    }
    bool dir_create = !strcmp(type, "DirectoryOrCreate");
    bool file_create = !strcmp(type, "FileOrCreate");
    if (path[1] && walk("", path + 1, dir_create ? ALL : CHECK, NULL, why, n) < 0) return -1;
    struct stat st;
    if (lstat(path, &st) < 0 && file_create) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
    }
    if (lstat(path, &st) < 0) {
        snprintf(why, n, "hostPath type check failed: %s is not a %s", path,
                 *type ? type : "path that exists");
        return -1;
    }
    struct {
        const char *type;
        bool ok;
    } checks[] = {{"Directory", S_ISDIR(st.st_mode)},   {"DirectoryOrCreate", S_ISDIR(st.st_mode)},
                  {"File", S_ISREG(st.st_mode)},        {"FileOrCreate", S_ISREG(st.st_mode)},
                  {"Socket", S_ISSOCK(st.st_mode)},     {"CharDevice", S_ISCHR(st.st_mode)},
                  {"BlockDevice", S_ISBLK(st.st_mode)}, {"", !S_ISLNK(st.st_mode)}};
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (strcmp(type, checks[i].type)) continue;
        if (checks[i].ok) return 0;
        snprintf(why, n, "hostPath type check failed: %s is not a %s", path,
                 *type ? type : "path without symlinks");
        return -1;
    }
    snprintf(why, n, "hostPath type %s is not supported", type);
    return -1;
}

/* ---- emptyDir ---- */

/* The pod's memory limit as the kubelet gives its cgroup (ResourceConfigForPod): only when every
 * container has one; the app containers' sum, or the largest init container's if that is more.
 * 0 for none. */
static int64_t pod_memory_limit(const struct pod *p)
{
    int64_t sum = 0, init_max = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct jp_quantity q;
        char text[128];
        const json_t *lim = jp_json_path(p->c[i].spec, "resources", "limits", "memory", NULL);
        if (!jp_quantity_json(lim, &q, text, sizeof(text)) || q.neg || q.m == 0) return 0;
        int64_t v = jp_quantity_value(&q);
        if (p->c[i].init)
            init_max = v > init_max ? v : init_max;
        else if (__builtin_add_overflow(sum, v, &sum))
            sum = INT64_MAX;
    }
    return sum > init_max ? sum : init_max;
}

/* The kubelet's calculateEmptyDirMemorySize: the node's allocatable memory (this node reports all
 * of its RAM, as its Node object says), lowered to the pod's memory limit, then to the volume's
 * sizeLimit, each only when positive and not above what it lowers. 0: tmpfs's default. */
static uint64_t memory_size(const struct pod *p, const json_t *src)
{
    struct sysinfo si;
    uint64_t size = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 0;
    int64_t pod = pod_memory_limit(p);
    if (pod > 0 && (uint64_t)pod <= size) size = (uint64_t)pod;
    struct jp_quantity q;
    char text[128];
    if (jp_quantity_json(json_object_get(src, "sizeLimit"), &q, text, sizeof(text)) && !q.neg &&
        q.m && (uint64_t)jp_quantity_value(&q) <= size)
        size = (uint64_t)jp_quantity_value(&q);
    return size;
}

/* Whether dir is the root of a tmpfs of its own: mounted by this server, or by one before it. */
static bool tmpfs_mounted(const char *dir)
{
    struct statfs fs;
    struct stat st, up;
    char *parent = jp_xasprintf("%s/..", dir);
    bool yes = statfs(dir, &fs) == 0 && (unsigned long)fs.f_type == TMPFS_MAGIC &&
               stat(dir, &st) == 0 && stat(parent, &up) == 0 && st.st_dev != up.st_dev;
    free(parent);
    return yes;
}

/* Mounted on the host, before any container starts, so that every container of the pod binds
 * the same tmpfs. The kubelet's options: size, and noswap where the kernel has it (6.4 on); the
 * root keeps tmpfs's own mode 1777, which the kubelet does not change either. nosuid and nodev
 * are ours: a world-writable tmpfs on the host should hold neither. */
static int mount_tmpfs(const struct pod *p, const json_t *src, const char *dir, char *why, size_t n)
{
    uint64_t size = memory_size(p, src);
    for (int noswap = 1; noswap >= 0; noswap--) {
        char opts[96], sz[40] = "";
        if (size) snprintf(sz, sizeof(sz), ",size=%llu", (unsigned long long)size);
        snprintf(opts, sizeof(opts), "mode=1777%s%s", sz, noswap ? ",noswap" : "");
        if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) == 0) return 0;
        if (errno != EINVAL) break; /* EINVAL: a kernel without noswap */
    }
    snprintf(why, n, "mounting a tmpfs on %s: %s", dir, strerror(errno));
    return -1;
}

static int empty_dir(struct pod *p, const char *name, const json_t *src, const char *dir, char *why,
                     size_t n)
{
    const char *medium = jp_json_str(src, "medium", NULL) ?: "";
    bool memory = !strcmp(medium, "Memory");
    if (*medium && !memory) {
        if (strncmp(medium, "HugePages", 9))
            snprintf(why, n, "unknown storage medium \"%s\"", medium); /* the kubelet's */
        else
            snprintf(why, n, "storage medium \"%s\" is not supported by jobplane", medium);
        return -1;
    }
    bool tmpfs = memory && p->agent->netns;
    if (tmpfs && tmpfs_mounted(dir)) return 0; /* an earlier server's: its files stay */
    /* any user may write, as after the kubelet's setupDir */
    if (chmod(dir, 0777) < 0) {
        snprintf(why, n, "chmod %s: %s", dir, strerror(errno));
        return -1;
    }
    if (tmpfs) return mount_tmpfs(p, src, dir, why, n);
    /* Not root, a tmpfs could only be mounted inside one container's user namespace, where
     * the pod's other containers would not see it: a directory they all share instead */
    if (memory)
        agent__event(p, NULL, "Warning", "MemoryVolumeFallback",
                     "Volume \"%s\" (emptyDir, medium Memory) is a directory on disk: a tmpfs "
                     "that all the pod's containers share needs jobplane to run as root",
                     name);
    return 0;
}

void volumes__unmount(const char *pod_dir)
{
    char *root = jp_xasprintf("%s/volumes", pod_dir);
    DIR *d = opendir(root);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *path = jp_xasprintf("%s/%s", root, e->d_name);
        /* detached: out of the host's tree at once (so the directory under it can be removed),
         * freed once no process holds it; mounted twice (by hand?), it comes off twice */
        int layers = 0;
        while (layers < 16 && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
            layers++;
        if (layers == 16 || (errno != EINVAL && errno != ENOENT && errno != EPERM))
            jp_log(JP_WARN, "agent", "unmounting %s: %s", path,
                   layers == 16 ? "still mounted after 16 unmounts" : strerror(errno));
        free(path);
    }
    if (d) closedir(d);
    free(root);
}

static int prepare_one(struct pod *p, const json_t *vol, const char *dir, const char **source,
                       char *why, size_t n)
{
    const json_t *src;
    *source = dir;
    if ((src = json_object_get(vol, "hostPath"))) {
        *source = jp_json_str(src, "path", NULL);
        return host_path(src, why, n);
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(why, n, "making %s: %s", dir, strerror(errno));
        return -1;
    }
    if ((src = json_object_get(vol, "emptyDir")))
        return empty_dir(p, jp_json_str(vol, "name", NULL), src, dir, why, n);
    if ((src = json_object_get(vol, "configMap"))) return write_keys(p, src, false, dir, why, n);
    if ((src = json_object_get(vol, "secret"))) return write_keys(p, src, true, dir, why, n);
    if ((src = json_object_get(vol, "downwardAPI"))) return write_downward(p, src, dir, why, n);
    if ((src = json_object_get(vol, "projected"))) {
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(src, "sources"), i, s)
        {
            const json_t *x;
            int rc = 0;
            if ((x = json_object_get(s, "configMap")))
                rc = write_keys(p, x, false, dir, why, n);
            else if ((x = json_object_get(s, "secret")))
                rc = write_keys(p, x, true, dir, why, n);
            else if ((x = json_object_get(s, "downwardAPI")))
                rc = write_downward(p, x, dir, why, n);
            else if ((x = json_object_get(s, "serviceAccountToken")))
                rc = write_token(p, x, (int)jp_json_int(src, 0644, "defaultMode", NULL), dir, why,
                                 n);
            if (rc) return -1;
        }
        return 0;
    }
    const char *key = "";
    json_t *v;
    json_object_foreach((json_t *)vol, key, v) if (strcmp(key, "name")) break;
    snprintf(why, n, "volume type %s is not supported by jobplane", key);
    return -1;
}

/* What the pod's files come from (configMap, secret, downwardAPI, projected: the token) goes to
 * the runtime directory, a tmpfs where there is one, as the kubelet keeps them: secrets never
 * reach the disk, and the disk's inode allocator is spared a directory of files made and
 * removed per pod (ext4's was a fifth of the server's CPU in a burst of pods with tokens). Not
 * where that tmpfs is noexec (Docker's /dev/shm): a bind keeps the flag, and a configMap's
 * script (defaultMode 0755) must run. */
static bool in_memory(bool exec_ok, const json_t *vol)
{
    return exec_ok && (json_object_get(vol, "configMap") || json_object_get(vol, "secret") ||
                       json_object_get(vol, "downwardAPI") || json_object_get(vol, "projected"));
}

int volumes__prepare(struct pod *p, char *why, size_t n)
{
    if (p->volumes) return 0;
    if (json_array_size(json_object_get(p->spec, "volumes")) == 0) { /* no directory to make */
        p->volumes = json_object();
        return 0;
    }
    char *root = jp_xasprintf("%s/volumes", p->disk_dir);
    char *mem_root = jp_xasprintf("%s/volumes", p->dir);
    bool on_disk = false, in_mem = false; /* a directory made on ext4 costs (see in_memory) */
    struct statvfs fs;
    bool exec_ok = statvfs(p->agent->run_pods_dir, &fs) == 0 && !(fs.f_flag & ST_NOEXEC);
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(p->spec, "volumes"), i, vol)
    {
        in_mem |= in_memory(exec_ok, vol);
        on_disk |= !in_memory(exec_ok, vol) && !json_object_get(vol, "hostPath");
    }
    struct jp_err *err = NULL;
    int rc = (on_disk &&
              (jp_mkdir_private(p->disk_dir, &err) < 0 || jp_mkdir_private(root, &err) < 0)) ||
                     (in_mem &&
                      (jp_mkdir_private(p->dir, &err) < 0 || jp_mkdir_private(mem_root, &err) < 0))
                 ? -1
                 : 0;
    if (rc < 0) {
        snprintf(why, n, "%s", err->msg);
        jp_err_free(err);
    }
    json_t *made = json_object();
    json_array_foreach(json_object_get(p->spec, "volumes"), i, vol)
    {
        if (rc < 0) break;
        const char *name = jp_json_str(vol, "name", NULL);
        if (name == NULL || !clean_relative(name) || strchr(name, '/')) continue;
        char *dir = jp_xasprintf("%s/%s", in_memory(exec_ok, vol) ? mem_root : root, name);
        const char *source = dir;
        char inner[400];
        if (prepare_one(p, vol, dir, &source, inner, sizeof(inner)) < 0) {
            snprintf(why, n, "MountVolume.SetUp failed for volume \"%s\" : %s", name, inner);
            rc = -1;
        } else {
            json_object_set_new(made, name, json_string(source));
        }
        free(dir);
    }
    free(root);
    free(mem_root);
    if (rc == 0) {
        p->volumes = made;
        usage__watch(p);
    } else {
        json_decref(made);
    }
    return rc;
}

static int by_target(const void *x, const void *y)
{
    return strcmp(jp_json_str(*(json_t *const *)x, "target", NULL),
                  jp_json_str(*(json_t *const *)y, "target", NULL));
}

bool volumes__is_token_mount(const json_t *vm)
{
    const char *name = jp_json_str(vm, "name", NULL) ?: "";
    return strncmp(name, JP_SA_TOKEN_VOLUME, strlen(JP_SA_TOKEN_VOLUME)) == 0 &&
           strcmp(jp_json_str(vm, "mountPath", NULL) ?: "", JP_SA_TOKEN_MOUNT_PATH) == 0;
}

json_t *volumes__mounts(struct pod *p, const struct container *c, char *why, size_t n)
{
    json_t *out = json_array();
    size_t i;
    json_t *vm;
    json_array_foreach(json_object_get(c->spec, "volumeMounts"), i, vm)
    {
        if (p->no_token_mounts && volumes__is_token_mount(vm)) continue;
        const char *name = jp_json_str(vm, "name", NULL) ?: "";
        const char *source = jp_json_str(p->volumes, name, NULL);
        const char *target = jp_json_str(vm, "mountPath", NULL);
        if (source == NULL || target == NULL || target[0] != '/' ||
            (target[1] && !clean_relative(target + 1))) {
            snprintf(why, n, "volumeMount %s at %s: no such volume, or not an absolute path", name,
                     target ? target : "");
            json_decref(out);
            return NULL;
        }
        const json_t *vol = NULL, *v;
        size_t k;
        json_array_foreach(json_object_get(p->spec, "volumes"), k,
                           v) if (!strcmp(jp_json_str(v, "name", NULL) ?: "", name)) vol = v;
        bool ro = json_is_true(json_object_get(vm, "readOnly")) ||
                  json_object_get(vol, "configMap") || json_object_get(vol, "secret") ||
                  json_object_get(vol, "downwardAPI") || json_object_get(vol, "projected");
        char *full = jp_xstrdup(source);
        const char *sub = jp_json_str(vm, "subPath", NULL);
        if (sub && *sub) {
            /* inside the volume, never through a symlink; made when missing, as the kubelet */
            bool missing;
            bool bad = !clean_relative(sub);
            if (bad) snprintf(why, n, "invalid subPath %s", sub);
            if (bad || walk(source, sub, CHECK, &missing, why, n) < 0 ||
                (missing && walk(source, sub, ALL, NULL, why, n) < 0)) {
                free(full);
                json_decref(out);
                return NULL;
            }
            free(full);
            full = jp_xasprintf("%s/%s", source, sub);
        }
        json_array_append_new(
            out, json_pack("{s:s,s:s,s:b}", "source", full, "target", target, "readOnly", ro));
        free(full);
    }
    /* parents before children: /data before /data/cache */
    size_t count = json_array_size(out);
    json_t **v2 = jp_xcalloc(count + 1, sizeof(json_t *));
    for (size_t j = 0; j < count; j++)
        v2[j] = json_incref(json_array_get(out, j));
    qsort(v2, count, sizeof(*v2), by_target);
    json_array_clear(out);
    for (size_t j = 0; j < count; j++)
        json_array_append_new(out, v2[j]);
    free(v2);
    return out;
}
