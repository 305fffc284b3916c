/* A Job's claim on pods (job-semantics.md §4): orphans its selector matches are adopted
 * (controller ownerReference and the tracking finalizer added), pods it controls whose labels
 * stopped matching are released (both removed) - the sync then replaces them. Runs only when
 * an event suggests it (an orphan appeared, an owned pod's labels changed): the selector is not
 * matched against every pod on every sync. */
#include "api/kinds.h"
#include "api/selector.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "controllers/job-internal.h"

#include <stdlib.h>
#include <string.h>

bool jobctl__selects(const json_t *job, const struct jp_obj *pod)
{
    struct jp_selector *sel = NULL;
    struct jp_status *st = NULL;
    if (jp_label_selector_from_json(jp_json_path(job, "spec", "selector", NULL), &sel, &st) < 0) {
        jp_status_free(st);
        return false;
    }
    bool yes = !jp_selector_is_empty(sel) && jp_label_selector_matches(sel, jp_proj_of(pod));
    jp_selector_free(sel);
    return yes;
}

struct claim_scan {
    const json_t *job;
    const char *uid;
    struct jp_obj **v;
    size_t n;
};

static bool candidate(const struct jp_obj *o, void *arg)
{
    struct claim_scan *c = arg;
    const struct jp_owner *ctl = jp_proj_controller(jp_proj_of(o));
    bool live = jp_proj_of(o)->deleted_ns == 0 && !jp_pod_finished(o);
    bool selected = jobctl__selects(c->job, o);
    bool release = ctl && !strcmp(ctl->uid, c->uid) && !selected;
    bool adopt = ctl == NULL && live && selected;
    if (release || adopt) {
        c->v = jp_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
        c->v[c->n++] = jp_obj_ref(o);
    }
    return true;
}

static void rewrite(struct jp_jobctl *j, const json_t *job, const struct jp_obj *pod, bool adopt)
{
    json_t *doc = jp_api_parse(pod);
    json_t *meta = json_object_get(doc, "metadata");
    const char *uid = jp_json_str(job, "metadata", "uid", NULL);
    static const char *const lists[] = {"ownerReferences", "finalizers"};
    for (int l = 0; l < 2; l++) {
        json_t *a = json_object_get(meta, lists[l]);
        if (!json_is_array(a)) {
            a = json_array();
            json_object_set_new(meta, lists[l], a);
        }
        for (size_t i = json_array_size(a); i-- > 0;) {
            json_t *it = json_array_get(a, i);
            const char *v = l ? json_string_value(it) : jp_json_str(it, "uid", NULL);
            if (v && !strcmp(v, l ? TRACKING : uid)) json_array_remove(a, i);
        }
        if (adopt)
            json_array_append_new(
                a, l ? json_string(TRACKING)
                     : json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", "batch/v1", "kind",
                                 "Job", "name", jp_json_str(job, "metadata", "name", NULL), "uid",
                                 uid, "controller", 1, "blockOwnerDeletion", 1));
        if (json_array_size(a) == 0) json_object_del(meta, lists[l]);
    }
    struct jp_write_ctx c = {.store = j->store, .kind = &jp_kinds[j->kind_pods], .ns = pod->ns};
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    if (jp_api_replace(&c, pod, doc, &r, &st) < 0) {
        jp_log(JP_WARN, "job-controller", "%s pod %s/%s: %s", adopt ? "adopting" : "releasing",
               pod->ns, pod->name, st->message);
        jp_status_free(st);
    }
    jp_write_result_free(&r);
    jp_write_ctx_free(&c);
}

void jobctl__claim(struct jp_jobctl *j, const json_t *job)
{
    struct claim_scan c = {job, jp_json_str(job, "metadata", "uid", NULL), NULL, 0};
    const char *ns = jp_json_str(job, "metadata", "namespace", NULL);
    jp_store_scan(j->store, j->kind_pods, ns, NULL, NULL, candidate, &c);
    for (size_t i = 0; i < c.n; i++) { /* written after the scan, never during it */
        const struct jp_obj *cur = jp_store_get(j->store, j->kind_pods, ns, c.v[i]->name);
        if (cur) rewrite(j, job, cur, jp_proj_controller(jp_proj_of(cur)) == NULL);
        jp_obj_unref(c.v[i]);
    }
    free(c.v);
}
