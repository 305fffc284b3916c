/* Manifests in, objects out, with kubectl's words for every failure: the user of `jobplane run`
 * sees the message `kubectl apply -f` would have shown for the same file. */
#include "api/decode.h"
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "codec/yaml.h"
#include "runner/runner.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX (64 << 20)

static int read_all(const char *path, struct jp_buf *b, FILE *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            fprintf(err, "error: the path \"%s\" does not exist\n", path);
        else
            fprintf(err, "error: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b->len + n > MANIFEST_MAX) {
            fprintf(err, "error: %s: larger than %d MiB\n", path, MANIFEST_MAX >> 20);
            rc = -1;
            break;
        }
        jp_buf_append(b, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        fprintf(err, "error: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (f != stdin) fclose(f);
    return rc;
}

static void add(struct jp_manifests *m, const char *source, json_t *obj)
{
    m->v = jp_xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
    m->v[m->n++] = (struct jp_manifest){jp_xstrdup(source), json_incref(obj)};
}

/* kubectl's checks before it sends anything: an object with apiVersion and kind. */
static int check_typed(const char *source, const json_t *obj, FILE *err)
{
    const char *what = !json_is_object(obj)                                  ? "object expected"
                       : !json_is_string(json_object_get(obj, "apiVersion")) ? "apiVersion not set"
                       : !json_is_string(json_object_get(obj, "kind"))       ? "kind not set"
                                                                             : NULL;
    if (what == NULL) return 0;
    fprintf(err,
            "error: error validating \"%s\": error validating data: %s; if you choose to ignore "
            "these errors, turn validation off with --validate=false\n",
            source, what);
    return -1;
}

static int add_doc(struct jp_manifests *m, const char *source, json_t *doc, FILE *err)
{
    if (check_typed(source, doc, err) < 0) return -1;
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    size_t len = strlen(kind);
    json_t *items = json_object_get(doc, "items");
    if (len > 4 && strcmp(kind + len - 4, "List") == 0 && json_is_array(items)) {
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            if (check_typed(source, it, err) < 0) return -1;
            add(m, source, it);
        }
        return 0;
    }
    add(m, source, doc);
    return 0;
}

int jp_manifests_load(char *const *files, size_t nfiles, struct jp_manifests *out, FILE *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t f = 0; f < nfiles; f++) {
        struct jp_buf b;
        jp_buf_init(&b, MANIFEST_MAX + 65536);
        if (read_all(files[f], &b, err) < 0) {
            jp_buf_free(&b);
            goto fail;
        }
        json_t **docs = NULL;
        size_t ndocs = 0;
        struct jp_err *e = NULL;
        int rc = jp_yaml_load(b.data ? b.data : "", b.len, &docs, &ndocs, &e);
        jp_buf_free(&b);
        const char *name = strcmp(files[f], "-") == 0 ? "STDIN" : files[f];
        if (rc < 0) {
            fprintf(err, "error: error parsing %s: error converting YAML to JSON: %s\n", name,
                    e->msg);
            jp_err_free(e);
            goto fail;
        }
        for (size_t i = 0; i < ndocs && rc == 0; i++)
            if (!json_is_null(docs[i])) rc = add_doc(out, name, docs[i], err);
        jp_yaml_docs_free(docs, ndocs);
        if (rc < 0) goto fail;
    }
    if (out->n == 0) {
        fprintf(err, "error: no objects passed to apply\n");
        goto fail;
    }
    return 0;
fail:
    jp_manifests_free(out);
    return -1;
}

void jp_manifests_free(struct jp_manifests *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].source);
        json_decref(m->v[i].obj);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static const struct jp_kind *kind_of(const json_t *obj)
{
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    for (unsigned i = 0; i < jp_nkinds; i++) {
        char buf[64];
        if (!strcmp(jp_kinds[i].kind, kind) &&
            !strcmp(jp_kind_api_version(&jp_kinds[i], buf, sizeof(buf)), av))
            return &jp_kinds[i];
    }
    return NULL;
}

/* "job.batch/oneshot", "service/queue": how kubectl names what it applied. */
static char *display_name(const struct jp_kind *k, const char *name)
{
    char *lower = jp_xstrdup(k->kind);
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    char *s = jp_xasprintf("%s%s%s/%s", lower, *k->group ? "." : "", k->group, name);
    free(lower);
    return s;
}

/* kubectl's rendering of a failed create (cmdutil.CheckErr): Invalid lists its causes. */
static void print_status(const struct jp_status *st, const char *source, FILE *err)
{
    if (st->reason == JP_INVALID && (st->kind || st->name)) {
        fprintf(err, "The %s \"%s\" is invalid: ", st->kind ? st->kind : "",
                st->name ? st->name : "");
        if (st->causes.n == 0) {
            fprintf(err, "\n");
            return;
        }
        if (st->causes.n > 1) fprintf(err, "\n");
        for (size_t i = 0; i < st->causes.n; i++) {
            struct jp_buf b;
            jp_buf_init(&b, 1 << 20);
            jp_ferr_message(&st->causes.items[i], &b);
            fprintf(err, "%s%s: %s\n", st->causes.n > 1 ? "* " : "", st->causes.items[i].field,
                    b.data ? b.data : "");
            jp_buf_free(&b);
        }
        return;
    }
    fprintf(err, "Error from server (%s): error when creating \"%s\": %s\n",
            jp_reason_name(st->reason), source, st->message);
}

/* Whether an object before the one at `before` creates KIND ns/name (ns NULL: any or none). */
static bool listed(const struct jp_manifests *m, size_t before, const char *kind, const char *ns,
                   const char *name)
{
    for (size_t i = 0; i < before; i++) {
        const json_t *o = m->v[i].obj;
        const char *k = json_string_value(json_object_get(o, "kind"));
        const char *n = jp_json_str(o, "metadata", "name", NULL);
        const char *s = jp_json_str(o, "metadata", "namespace", NULL);
        if (k && n && !strcmp(k, kind) && !strcmp(n, name) &&
            (ns == NULL || !strcmp(s && *s ? s : "default", ns)))
            return true;
    }
    return false;
}

static int create_one(struct jp_store *store, const struct jp_manifests *m, size_t i, bool dry,
                      json_t *created, FILE *out, FILE *err)
{
    const struct jp_manifest *mf = &m->v[i];
    const struct jp_kind *k = kind_of(mf->obj);
    const json_t *meta = json_object_get(mf->obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    if (ns == NULL || *ns == '\0') ns = "default";
    if (k == NULL) {
        const char *av = json_string_value(json_object_get(mf->obj, "apiVersion"));
        fprintf(err,
                "error: resource mapping not found for name: \"%s\" namespace: \"%s\" from "
                "\"%s\": no matches for kind \"%s\" in version \"%s\"\nensure CRDs are installed "
                "first\n",
                name ? name : "", json_string_value(json_object_get(meta, "namespace")) ?: "",
                mf->source, json_string_value(json_object_get(mf->obj, "kind")), av);
        return -1;
    }
    if (!k->namespaced) ns = "";
    /* a namespace the same files create earlier does not exist during the dry run */
    if (dry && *ns && listed(m, i, "Namespace", NULL, ns)) return 0;
    /* nor does a service account they create for a pod */
    const char *sa = jp_json_str(mf->obj, "spec", "serviceAccountName", NULL);
    struct jp_write_ctx c = {.store = store,
                             .kind = k,
                             .ns = ns,
                             .dry_run = dry,
                             .fv = JP_FV_STRICT,
                             .no_admission = dry && sa && listed(m, i, "ServiceAccount", ns, sa)};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    json_t *obj = json_deep_copy(mf->obj);
    int rc = jp_decode_check(k, obj, JP_FV_STRICT, &c.warnings, &st);
    if (rc == 0)
        rc = jp_api_create(&c, obj, &res, &st);
    else
        json_decref(obj);
    if (rc < 0) {
        print_status(st, mf->source, err);
        jp_status_free(st);
    } else if (!dry) {
        char *shown = display_name(k, res.obj->name);
        fprintf(out, "%s created\n", shown);
        free(shown);
        json_array_append_new(created, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", k->kind,
                                                 "group", k->group, "version", k->version, "plural",
                                                 k->plural, "ns", ns, "name", res.obj->name));
    }
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
    return rc;
}

/* Said once, up front, for each Service pods cannot use as on a cluster: pods that wait for
 * one would otherwise just retry. */
static void warn_services(const struct jp_manifests *m, enum jp_agent_services reach, FILE *err)
{
    for (size_t i = 0; i < m->n && reach != JP_SERVICES_PROXIED; i++) {
        const json_t *o = m->v[i].obj;
        const char *kind = jp_json_str(o, "kind", NULL),
                   *name = jp_json_str(o, "metadata", "name", NULL);
        if (kind == NULL || strcmp(kind, "Service") != 0 || name == NULL) continue;
        if (reach == JP_SERVICES_UNREACHABLE) {
            fprintf(err,
                    "jobplane run: warning: service/%s was created, but pods have no pod network "
                    "(it needs root, or user namespaces): they cannot reach it by name "
                    "(docs/run.md)\n",
                    name);
            continue;
        }
        /* on loopback, a name leads straight to the pods' port: only port = targetPort works */
        size_t j;
        json_t *port;
        json_array_foreach(jp_json_path(o, "spec", "ports", NULL), j, port)
        {
            json_int_t n = json_integer_value(json_object_get(port, "port"));
            const json_t *to = json_object_get(port, "targetPort");
            if (to == NULL || (json_is_integer(to) && json_integer_value(to) == n)) continue;
            char target[80];
            if (json_is_integer(to))
                snprintf(target, sizeof(target), "%lld", (long long)json_integer_value(to));
            else
                snprintf(target, sizeof(target), "\"%.64s\"", json_string_value(to) ?: "");
            fprintf(err,
                    "jobplane run: warning: service/%s: without root, pods reach it by name at "
                    "127.0.0.1 with nothing in between: port %lld leads nowhere, its pods listen "
                    "on %s (docs/run.md)\n",
                    name, (long long)n, target);
        }
    }
}

int jp_manifests_apply(struct jp_store *store, const struct jp_manifests *m,
                       enum jp_agent_services reach, json_t *created, FILE *out, FILE *err)
{
    for (int dry = 1; dry >= 0; dry--)
        for (size_t i = 0; i < m->n; i++)
            if (create_one(store, m, i, dry, created, out, err) < 0) return -1;
    fflush(out);
    warn_services(m, reach, err);
    return 0;
}
