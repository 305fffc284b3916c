/* Fuzz target for what image archives say about their image (src/images/manifest.c, path.c):
 * docker save's manifest.json, an OCI index and manifest, an image config, and the paths of
 * their entries. The first byte picks which; any text is taken or refused without a crash, a
 * refusal has a message, and every path a plan gives stays inside the archive: relative, no
 * "..", cleaned already. Entry paths clean to the same text twice; whiteout targets stay inside. */
#include "fuzz_check.h"
#include "images/images-internal.h"

#include <stdlib.h>
#include <string.h>

static void path_inside(const char *p)
{
    FUZZ_CHECK(p && p[0] && p[0] != '/', "path \"%s\" is empty or absolute", p ? p : "(null)");
    char again[4096];
    FUZZ_CHECK(jp_images__clean_path(p, again, sizeof(again)) == 0 && strcmp(again, p) == 0,
               "path \"%s\" is not clean", p);
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        FUZZ_CHECK(!((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0')),
                   "path \"%s\" climbs", p);
}

static void plan_inside(int rc, struct jp_images__plan *plan, struct jp_err *err)
{
    FUZZ_CHECK(rc == 0 || (err && err->msg[0]), "a refusal without a message");
    if (rc < 0) return;
    path_inside(plan->config);
    for (size_t i = 0; i < plan->nlayers; i++)
        path_inside(plan->layers[i]);
    FUZZ_CHECK(plan->layers[plan->nlayers] == NULL, "layers not NULL-terminated");
    jp_images__plan_free(plan);
}

static void entry_path(const char *text)
{
    char a[256], b[256], target[256];
    if (jp_images__clean_path(text, a, sizeof(a)) < 0) return;
    if (a[0]) path_inside(a);
    FUZZ_CHECK(jp_images__clean_path(a, b, sizeof(b)) == 0 && strcmp(a, b) == 0,
               "cleaning \"%s\" twice differs", text);
    enum jp_whiteout wh = jp_images__whiteout(a, target, sizeof(target));
    if (wh == JP_WH_FILE) path_inside(target);
    if (wh == JP_WH_OPAQUE && target[0]) path_inside(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    struct jp_err *err = NULL;
    struct jp_images__plan plan;
    int rc;
    switch (data[0] % 5) {
    case 0:
        rc = jp_images__docker_plan(text, n, "docker.io/library/busybox:latest", &plan, &err);
        plan_inside(rc, &plan, err);
        break;
    case 1: {
        char *path = NULL;
        bool is_index = false;
        rc = jp_images__oci_pick(text, n, "docker.io/library/busybox:latest", &path, &is_index,
                                 &err);
        FUZZ_CHECK(rc == 0 || (err && err->msg[0]), "a refusal without a message");
        if (rc == 0) path_inside(path);
        free(path);
        break;
    }
    case 2:
        rc = jp_images__oci_plan(text, n, &plan, &err);
        plan_inside(rc, &plan, err);
        break;
    case 3: {
        struct jp_image img = {0};
        if (jp_images__read_config(text, n, &img, &err) == 0) {
            jp_images__strv_free(img.entrypoint);
            jp_images__strv_free(img.cmd);
            jp_images__strv_free(img.env);
            free(img.workdir);
            free(img.user);
        }
        break;
    }
    default: {
        char *s = strndup(text, n);
        entry_path(s);
        free(s);
    }
    }
    jp_err_free(err);
    return 0;
}
