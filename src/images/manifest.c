/* What image archives say about their image: docker save's manifest.json, an OCI layout's
 * index.json and manifests, and the image config both point to. Everything read here comes from
 * an archive the user handed us: every path is cleaned and every field's type checked. */
#include "images/images-internal.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define MAX_LAYERS 512 /* Docker stops at 127; anything near this is not an image */

static json_t *load(const char *text, size_t len, const char *what, struct jp_err **err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        jp_err_set(err, JP_INVALID, 0, "%s: not JSON: %s (line %d)", what, jerr.text, jerr.line);
    return doc;
}

static char *clean_dup(const char *path)
{
    char buf[4096];
    if (path == NULL || jp_images__clean_path(path, buf, sizeof(buf)) < 0 || buf[0] == '\0')
        return NULL;
    return jp_xstrdup(buf);
}

void jp_images__plan_free(struct jp_images__plan *p)
{
    free(p->config);
    jp_images__strv_free(p->layers);
    memset(p, 0, sizeof(*p));
}

/* The entry's Layers into out (cleaned); -1 with why. */
static int layers_of(const json_t *list, const char *what, struct jp_images__plan *out,
                     struct jp_err **err)
{
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n > MAX_LAYERS)
        return jp_err_set(err, JP_INVALID, 0, "%s: layers are not a list (of at most %d)", what,
                          MAX_LAYERS);
    out->layers = jp_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const json_t *l = json_array_get(list, i);
        /* docker save names a file; an OCI manifest a descriptor, found by its digest */
        out->layers[i] = json_is_object(l)
                             ? jp_images__blob_path(json_string_value(json_object_get(l, "digest")))
                             : clean_dup(json_string_value(l));
        if (out->layers[i] == NULL)
            return jp_err_set(err, JP_INVALID, 0, "%s: layer %zu has no usable path", what, i);
        out->nlayers++;
    }
    return 0;
}

static bool same_ref(const char *tag, const char *want)
{
    struct jp_image_ref r;
    if (tag == NULL || want == NULL || jp_image_ref_parse(tag, &r, NULL) < 0) return false;
    bool same = strcmp(r.full, want) == 0;
    jp_image_ref_free(&r);
    return same;
}

int jp_images__docker_plan(const char *text, size_t len, const char *want,
                           struct jp_images__plan *out, struct jp_err **err)
{
    memset(out, 0, sizeof(*out));
    json_t *doc = load(text, len, "manifest.json", err);
    if (doc == NULL) return -1;
    size_t n = json_array_size(doc), i;
    const json_t *pick = n == 1 ? json_array_get(doc, 0) : NULL, *e;
    json_array_foreach(doc, i, e)
    {
        size_t j;
        const json_t *t;
        json_array_foreach(json_object_get(e, "RepoTags"), j, t)
        {
            if (same_ref(json_string_value(t), want)) pick = e;
        }
    }
    int rc = 0;
    if (!json_is_array(doc) || n == 0) {
        rc = jp_err_set(err, JP_INVALID, 0, "manifest.json: not a list of images");
    } else if (pick == NULL) {
        rc = jp_err_set(err, JP_INVALID, 0,
                        "the archive holds %zu images and none is tagged %s: import it under "
                        "one of its tags",
                        n, want);
    } else if ((out->config = clean_dup(json_string_value(json_object_get(pick, "Config")))) ==
               NULL) {
        rc = jp_err_set(err, JP_INVALID, 0, "manifest.json: the image has no usable Config path");
    } else {
        rc = layers_of(json_object_get(pick, "Layers"), "manifest.json", out, err);
    }
    json_decref(doc);
    if (rc < 0) jp_images__plan_free(out);
    return rc;
}

char *jp_images__blob_path(const char *digest)
{
    const char *colon = digest ? strchr(digest, ':') : NULL;
    if (colon == NULL || colon == digest || colon - digest > 32) return NULL;
    size_t alg = (size_t)(colon - digest), hex = strlen(colon + 1);
    if (strspn(digest, "abcdefghijklmnopqrstuvwxyz0123456789") < alg || hex < 32 || hex > 128 ||
        strspn(colon + 1, "0123456789abcdef") != hex)
        return NULL;
    return jp_xasprintf("blobs/%.*s/%s", (int)alg, digest, colon + 1);
}

const char *jp_images_arch(void)
{
    static const struct {
        const char *uname, *go;
    } arch[] = {{"x86_64", "amd64"},   {"aarch64", "arm64"},   {"armv7l", "arm"},
                {"i686", "386"},       {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
                {"riscv64", "riscv64"}};
    struct utsname u;
    if (uname(&u) == 0)
        for (size_t i = 0; i < sizeof(arch) / sizeof(arch[0]); i++)
            if (strcmp(u.machine, arch[i].uname) == 0) return arch[i].go;
    return "amd64";
}

static bool is_index_type(const char *mt)
{
    return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
                  strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static bool names(const json_t *m, const char *want)
{
    const json_t *a = json_object_get(m, "annotations");
    const char *ref = json_string_value(json_object_get(a, "org.opencontainers.image.ref.name"));
    const char *full = json_string_value(json_object_get(a, "io.containerd.image.name"));
    if (want == NULL) return false;
    /* ref.name is often the tag alone ("1.36"): it names the image we want by its tag */
    const char *colon = strrchr(want, ':'), *slash = strrchr(want, '/');
    bool tag_only = ref && colon && (slash == NULL || colon > slash) && !strchr(want, '@') &&
                    strcmp(ref, colon + 1) == 0;
    return tag_only || same_ref(ref, want) || same_ref(full, want);
}

static bool this_platform(const json_t *m)
{
    const json_t *p = json_object_get(m, "platform");
    const char *os = json_string_value(json_object_get(p, "os"));
    const char *arch = json_string_value(json_object_get(p, "architecture"));
    return os && arch && strcmp(os, "linux") == 0 && strcmp(arch, jp_images_arch()) == 0;
}

int jp_images__oci_pick(const char *index, size_t len, const char *want, char **manifest_path,
                        bool *is_index, struct jp_err **err)
{
    *manifest_path = NULL;
    json_t *doc = load(index, len, "index.json", err);
    if (doc == NULL) return -1;
    const json_t *list = json_object_get(doc, "manifests"), *m, *pick = NULL;
    size_t i, n = json_array_size(list), named = 0, platform = 0;
    json_array_foreach(list, i, m) named += names(m, want);
    json_array_foreach(list, i, m)
    {
        if (named ? names(m, want) && !pick : n == 1) pick = m;
    }
    if (pick == NULL && !named) { /* a multi-platform index: this machine's image */
        json_array_foreach(list, i, m)
        {
            if (this_platform(m) && platform++ == 0) pick = m;
        }
    }
    int rc = 0;
    if (pick == NULL) {
        rc = jp_err_set(err, JP_INVALID, 0,
                        "index.json: none of its %zu manifests is tagged %s or for linux/%s", n,
                        want ? want : "(any)", jp_images_arch());
    } else if ((*manifest_path = jp_images__blob_path(
                    json_string_value(json_object_get(pick, "digest")))) == NULL) {
        rc = jp_err_set(err, JP_INVALID, 0, "index.json: a manifest without a usable digest");
    } else {
        *is_index = is_index_type(json_string_value(json_object_get(pick, "mediaType")));
    }
    json_decref(doc);
    return rc;
}

int jp_images__oci_plan(const char *text, size_t len, struct jp_images__plan *out,
                        struct jp_err **err)
{
    memset(out, 0, sizeof(*out));
    json_t *doc = load(text, len, "the image manifest", err);
    if (doc == NULL) return -1;
    int rc;
    const char *cfg = json_string_value(json_object_get(json_object_get(doc, "config"), "digest"));
    if ((out->config = jp_images__blob_path(cfg)) == NULL)
        rc = jp_err_set(err, JP_INVALID, 0, "the image manifest has no usable config digest");
    else
        rc = layers_of(json_object_get(doc, "layers"), "the image manifest", out, err);
    json_decref(doc);
    if (rc < 0) jp_images__plan_free(out);
    return rc;
}

int jp_images__read_config(const char *text, size_t len, struct jp_image *img, struct jp_err **err)
{
    json_t *doc = load(text, len, "the image config", err);
    if (doc == NULL) return -1;
    const json_t *c = json_object_get(doc, "config");
    if (!json_is_object(doc) || (c && !json_is_object(c) && !json_is_null(c))) {
        json_decref(doc);
        return jp_err_set(err, JP_INVALID, 0, "the image config is not an object");
    }
    char **v;
    if ((v = jp_images__json_strv(json_object_get(c, "Entrypoint"))))
        jp_images__strv_free(img->entrypoint), img->entrypoint = v;
    if ((v = jp_images__json_strv(json_object_get(c, "Cmd"))))
        jp_images__strv_free(img->cmd), img->cmd = v;
    if ((v = jp_images__json_strv(json_object_get(c, "Env"))))
        jp_images__strv_free(img->env), img->env = v;
    const char *s;
    if ((s = json_string_value(json_object_get(c, "WorkingDir"))))
        free(img->workdir), img->workdir = jp_xstrdup(s);
    if ((s = json_string_value(json_object_get(c, "User"))))
        free(img->user), img->user = jp_xstrdup(s);
    json_decref(doc);
    return 0;
}

/* ---- string vectors ---- */

char **jp_images__strv_dup(char *const *v)
{
    if (v == NULL) return NULL;
    size_t n = 0;
    while (v[n])
        n++;
    char **out = jp_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = jp_xstrdup(v[i]);
    return out;
}

void jp_images__strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

json_t *jp_images__strv_json(char *const *v)
{
    if (v == NULL) return json_null();
    json_t *a = json_array();
    for (size_t i = 0; v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

char **jp_images__json_strv(const json_t *a)
{
    if (!json_is_array(a)) return NULL;
    size_t i, k = 0;
    const json_t *s;
    char **v = jp_xcalloc(json_array_size(a) + 1, sizeof(char *));
    json_array_foreach(a, i, s)
    {
        if (json_is_string(s)) v[k++] = jp_xstrdup(json_string_value(s));
    }
    return v;
}
