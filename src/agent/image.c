/* Images: what a container runs. The built-in kuard image (gcr.io/kuar-demo/kuard-<arch>:<tag>)
 * maps /kuard to our kuard binary; an image of the local store (DATA/images, src/images) runs
 * in its own root filesystem (a mount namespace: root's, or a user namespace's) with its
 * entrypoint, cmd, environment, working directory and user (as root); any other image runs its
 * command on the host filesystem when the fallback is on (announced by an event), and fails to
 * "pull" when it is off. */
#include "agent/agent-internal.h"
#include "base/alloc.h"
#include "base/log.h"
#include "images/images.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t count(const json_t *a)
{
    return json_is_array(a) ? json_array_size(a) : 0;
}

static size_t len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* Kubernetes' rules: command ?: entrypoint, then args ?: (no command given ? image cmd : none) */
static char **join(const json_t *command, char *const *entry, const json_t *args, char *const *cmd)
{
    size_t n = count(command) + len(entry) + count(args) + len(cmd) + 1, k = 0;
    char **argv = jp_xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < count(command); i++)
        argv[k++] = jp_xstrdup(json_string_value(json_array_get(command, i)) ?: "");
    for (size_t i = 0; !count(command) && i < len(entry); i++)
        argv[k++] = jp_xstrdup(entry[i]);
    for (size_t i = 0; i < count(args); i++)
        argv[k++] = jp_xstrdup(json_string_value(json_array_get(args, i)) ?: "");
    for (size_t i = 0; !count(args) && !count(command) && i < len(cmd); i++)
        argv[k++] = jp_xstrdup(cmd[i]);
    return argv;
}

/* The stored image `image` names; NULL when the store has none (or it cannot be read: logged,
 * then treated as absent). The store is the data dir's (DATA/images) - for `jobplane run` with
 * its temporary data dir, the default data dir's, where `jobplane image import` put it. */
static struct jp_image *stored(const struct jp_agent *a, const char *image, bool quiet)
{
    if (image == NULL || jp_images_builtin(image)) return NULL;
    struct jp_image *img = NULL;
    struct jp_err *err = NULL;
    if (jp_images_get(a->images_from, image, &img, &err) < 0) {
        if (!quiet && err->reason != JP_NOT_FOUND && err->reason != JP_INVALID)
            jp_log(JP_WARN, "agent", "image %s: %s", image, err->msg);
        jp_err_free(err);
        return NULL;
    }
    return img;
}

int image__resolve(struct jp_agent *a, const json_t *container, char ***argv, char **path,
                   bool *fallback, struct jp_image **stored_out, char *why, size_t n)
{
    *stored_out = NULL;
    const char *image = json_string_value(json_object_get(container, "image"));
    const json_t *command = json_object_get(container, "command");
    const json_t *args = json_object_get(container, "args");
    *path = NULL;
    *fallback = false;
    if (image && jp_images_builtin(image)) {
        char *kuard[] = {"/kuard", NULL};
        *argv = join(command, kuard, args, NULL);
        if ((*argv)[0] && strcmp((*argv)[0], "/kuard") == 0) *path = jp_xstrdup(a->kuard_exe);
        return 0;
    }
    struct jp_image *img = stored(a, image, false);
    if (img) {
        *argv = join(command, img->entrypoint, args, img->cmd);
        /* never quietly on the host: the image's own files are what the container expects.
         * Not root, the container enters them in a user namespace of its own */
        char cause[160];
        bool refused = !a->netns && jp_userns_refused(cause, sizeof(cause));
        if (refused)
            snprintf(why, n,
                     "image \"%s\" is in the image store, but a container runs in an image's "
                     "root filesystem only when jobplane runs as root or in a user namespace, "
                     "and %s",
                     image, cause);
        else if ((*argv)[0] == NULL)
            snprintf(why, n,
                     "image \"%s\" has no entrypoint or cmd: give the container a command "
                     "(or import it with --entrypoint or --cmd)",
                     image);
        if (!refused && (*argv)[0]) {
            *stored_out = img; /* for image__prepare: the store is read once per start */
            return 0;
        }
        jp_image_free(img);
        for (size_t i = 0; (*argv)[i]; i++)
            free((*argv)[i]);
        free(*argv);
        *argv = NULL;
        return -2;
    }
    if (!a->opts.host_fallback) {
        snprintf(why, n, "Failed to pull image \"%s\": image not found in the local image store",
                 image ? image : "");
        return -1;
    }
    /* the image's entrypoint is unknown; most images that run commands (busybox, python, perl)
     * have none, so args alone run as the command, as they would there */
    if (count(command) == 0 && count(args) == 0) {
        snprintf(why, n,
                 "image \"%s\" is not in the image store, so its default command is "
                 "unknown: give the container a command",
                 image ? image : "");
        return -2;
    }
    *argv = join(command, NULL, args, NULL);
    *fallback = true;
    return 0;
}

/* K=V of the image go under the container's: added when the container's environment lacks K.
 * PATH is the exception, as in containerd: the image's wins over the agent's default unless the
 * container's own env sets it. */
static void env_under(char ***envp, char *const *image_env, const json_t *container)
{
    bool own_path = false;
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(container, "env"), i, v)
    {
        own_path |= !strcmp(json_string_value(json_object_get(v, "name")) ?: "", "PATH");
    }
    char **env = *envp;
    size_t n = len(env);
    for (size_t k = 0; image_env && image_env[k]; k++) {
        const char *kv = image_env[k];
        size_t key = strcspn(kv, "=");
        if (kv[key] != '=') continue;
        size_t j = 0;
        while (j < n && !(strncmp(env[j], kv, key) == 0 && env[j][key] == '='))
            j++;
        if (j < n && (own_path || key != 4 || strncmp(kv, "PATH", 4))) continue;
        if (j == n) {
            env = jp_xrealloc(env, (n + 2) * sizeof(char *));
            env[++n] = NULL;
        } else {
            free(env[j]);
        }
        env[j] = jp_xstrdup(kv);
    }
    *envp = env;
}

int image__prepare(const struct jp_image *img, const json_t *container, char ***env,
                   struct image_run *run, struct jp_err **err)
{
    memset(run, 0, sizeof(*run));
    run->uid = run->gid = -1;
    if (img == NULL) return 0;
    char real[PATH_MAX];
    int rc = 0;
    if (realpath(img->rootfs, real) == NULL)
        rc = jp_err_sys(err, "image %s: its root filesystem %s", img->name, img->rootfs);
    else if (jp_image_user(img, &run->uid, &run->gid, err) < 0)
        rc = jp_err_wrap(err, "image %s", img->name);
    if (rc == 0) {
        run->rootfs = jp_xstrdup(real);
        run->workdir = img->workdir[0] ? jp_xstrdup(img->workdir) : NULL;
        env_under(env, img->env, container);
    }
    return rc;
}

void image__user(const struct image_run *run, int64_t *uid, int64_t *gid)
{
    /* runAsUser wins; not root, the container runs as the server's user, as without an image */
    if (*uid >= 0 || run->uid < 0 || geteuid() != 0) return;
    *uid = run->uid;
    if (*gid < 0) *gid = run->gid;
}

void image__run_free(struct image_run *run)
{
    free(run->rootfs);
    free(run->workdir);
    memset(run, 0, sizeof(*run));
}

void image__id(struct jp_agent *a, const char *image, char *out, size_t n)
{
    struct jp_image *img = NULL;
    if (jp_images_builtin(image))
        snprintf(out, n, "jobplane-builtin://kuard");
    else if ((img = stored(a, image, true)) != NULL)
        snprintf(out, n, "%s", img->digest);
    else
        snprintf(out, n, "jobplane-host://%s", image);
    jp_image_free(img);
}
