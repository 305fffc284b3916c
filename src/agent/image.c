/* Images: what a container runs. The built-in kuard image (gcr.io/kuar-demo/kuard-<arch>:<tag>)
 * maps /kuard to our kuard binary; any other image runs its command on the host filesystem when
 * the fallback is on (announced by an event), and fails to "pull" when it is off. */
#include "agent/agent-internal.h"
#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

static bool is_kuard(const char *image)
{
    return strncmp(image, "gcr.io/kuar-demo/kuard-", 23) == 0 || strcmp(image, "kuard") == 0 ||
           strncmp(image, "kuard:", 6) == 0;
}

static size_t count(const json_t *a)
{
    return json_is_array(a) ? json_array_size(a) : 0;
}

/* command ?: entrypoint, then args ?: (no command given ? image cmd : nothing) */
static char **join(const json_t *command, const char *entry, const json_t *args)
{
    size_t n = count(command) + count(args) + 2, k = 0;
    char **argv = jp_xcalloc(n, sizeof(char *));
    if (count(command)) {
        for (size_t i = 0; i < count(command); i++)
            argv[k++] = jp_xstrdup(json_string_value(json_array_get(command, i)) ?: "");
    } else if (entry) {
        argv[k++] = jp_xstrdup(entry);
    }
    for (size_t i = 0; i < count(args); i++)
        argv[k++] = jp_xstrdup(json_string_value(json_array_get(args, i)) ?: "");
    return argv;
}

int image__resolve(struct jp_agent *a, const json_t *container, char ***argv, char **path,
                   bool *fallback, char *why, size_t n)
{
    const char *image = json_string_value(json_object_get(container, "image"));
    const json_t *command = json_object_get(container, "command");
    const json_t *args = json_object_get(container, "args");
    *path = NULL;
    *fallback = false;
    if (image && is_kuard(image)) {
        *argv = join(command, "/kuard", args);
        if ((*argv)[0] && strcmp((*argv)[0], "/kuard") == 0) *path = jp_xstrdup(a->kuard_exe);
        return 0;
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
    *argv = join(command, NULL, args);
    *fallback = true;
    return 0;
}

void image__id(const char *image, char *out, size_t n)
{
    if (is_kuard(image))
        snprintf(out, n, "jobplane-builtin://kuard");
    else
        snprintf(out, n, "jobplane-host://%s", image);
}
