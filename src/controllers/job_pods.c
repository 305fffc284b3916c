/* The job controller's writes to pods: creating them from the template (§5.1), deleting them,
 * and letting them go (the tracking finalizer). */
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "controllers/job-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jobctl__strip_finalizer(struct jp_jobctl *j, const char *ns, const char *name)
{
    const struct jp_obj *cur = jp_store_get(j->store, j->kind_pods, ns, name);
    if (cur == NULL || !jp_proj_has_finalizer(jp_proj_of(cur), TRACKING)) return 0;
    json_t *view = jp_api_view(cur); /* parsed once for this write and the writer's read */
    json_t *pod = json_deep_copy(view);
    json_decref(view);
    json_t *list = jp_json_path(pod, "metadata", "finalizers", NULL);
    size_t i;
    json_t *f;
    bool found = false;
    json_array_foreach(list, i, f)
    {
        if (json_is_string(f) && !strcmp(json_string_value(f), TRACKING)) {
            json_array_remove(list, i);
            if (json_array_size(list) == 0)
                json_object_del(json_object_get(pod, "metadata"), "finalizers");
            found = true;
            break;
        }
    }
    if (!found) {
        json_decref(pod);
        return 0;
    }
    struct jp_write_ctx c = {.store = j->store, .kind = &jp_kinds[j->kind_pods], .ns = ns};
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    int rc = jp_api_replace(&c, cur, pod, &r, &st);
    if (rc < 0) {
        jp_log(JP_WARN, "job-controller", "removing the tracking finalizer of pod %s/%s: %s", ns,
               name, st->message);
        jp_status_free(st);
    }
    jp_write_result_free(&r);
    jp_write_ctx_free(&c);
    return rc;
}

void jobctl__about_job(const json_t *job, struct jp_event_about *a)
{
    *a = (struct jp_event_about){"Job",
                                 "batch/v1",
                                 jp_json_str(job, "metadata", "namespace", NULL),
                                 jp_json_str(job, "metadata", "name", NULL),
                                 jp_json_str(job, "metadata", "uid", NULL),
                                 jp_json_str(job, "metadata", "resourceVersion", NULL),
                                 NULL};
}

/* Deletes a pod; `uncounted` first lets it go (suspend, surplus, success) so it never counts. */
void jobctl__delete_pod(struct jp_jobctl *j, const json_t *job, const struct owned *w,
                        bool uncounted)
{
    const char *ns = jp_json_str(job, "metadata", "namespace", NULL);
    if (uncounted && jobctl__strip_finalizer(j, ns, w->name) < 0) return;
    struct jp_write_ctx c = {.store = j->store, .kind = &jp_kinds[j->kind_pods], .ns = ns};
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    struct jp_event_about about;
    jobctl__about_job(job, &about);
    if (jp_api_delete(&c, w->name, NULL, &r, &st) < 0) {
        jp_record(j->events, &about, "Warning", "FailedDelete", "Error deleting: %s", st->message);
        jp_status_free(st);
    } else {
        j->deleted++;
        jp_record(j->events, &about, "Normal", "SuccessfulDelete", "Deleted pod: %s", w->name);
    }
    jp_write_result_free(&r);
    jp_write_ctx_free(&c);
}

/* Indexed pods: every container learns its index from the label, unless it sets the variable
 * itself (§5.1). */
static void add_index_env(json_t *spec)
{
    static const char *const lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        size_t i, k;
        json_t *c, *e;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            json_t *env = json_object_get(c, "env");
            bool has = false;
            json_array_foreach(env, k, e) has |=
                !strcmp(jp_json_str(e, "name", NULL) ?: "", "JOB_COMPLETION_INDEX");
            if (has) continue;
            if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(c, "env", env);
            }
            json_array_append_new(env,
                                  json_pack("{s:s,s:{s:{s:s,s:s}}}", "name", "JOB_COMPLETION_INDEX",
                                            "valueFrom", "fieldRef", "apiVersion", "v1",
                                            "fieldPath", "metadata.labels['" JOB_INDEX_KEY "']"));
        }
    }
}

/* A pod from the template (§5.1), for completion INDEX (-1: NonIndexed); false when the API
 * refused it. */
bool jobctl__create_pod(struct jp_jobctl *j, const json_t *job, int64_t index, int64_t failures,
                        int64_t ignored)
{
    const char *ns = jp_json_str(job, "metadata", "namespace", NULL);
    const char *name = jp_json_str(job, "metadata", "name", NULL);
    const json_t *tmpl = jp_json_path(job, "spec", "template", NULL);
    char prefix[64], ix[24] = "";
    if (index >= 0) snprintf(ix, sizeof(ix), "%lld", (long long)index);
    /* the prefix stays within 58 characters; an index keeps its "-<i>-" whole */
    int keep = 57 - (index >= 0 ? (int)strlen(ix) + 1 : 0);
    snprintf(prefix, sizeof(prefix), "%.*s%s%s-", keep, name, index >= 0 ? "-" : "", ix);
    json_t *meta = json_pack("{s:s,s:s,s:[s],s:[{s:s,s:s,s:s,s:s,s:b,s:b}]}", "generateName",
                             prefix, "namespace", ns, "finalizers", TRACKING, "ownerReferences",
                             "apiVersion", "batch/v1", "kind", "Job", "name", name, "uid",
                             jp_json_str(job, "metadata", "uid", NULL), "controller", 1,
                             "blockOwnerDeletion", 1);
    static const char *const copied[] = {"labels", "annotations"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = jp_json_path(tmpl, "metadata", copied[i], NULL);
        if (v) json_object_set_new(meta, copied[i], json_deep_copy(v));
    }
    json_t *spec = json_deep_copy(json_object_get(tmpl, "spec"));
    if (index >= 0) {
        for (int i = 0; i < 2; i++) {
            json_t *m = json_object_get(meta, copied[i]);
            if (!json_is_object(m)) {
                m = json_object();
                json_object_set_new(meta, copied[i], m);
            }
            json_object_set_new(m, JOB_INDEX_KEY, json_string(ix));
        }
        if (failures >= 0) {
            char n[24];
            snprintf(n, sizeof(n), "%lld", (long long)failures);
            json_object_set_new(json_object_get(meta, "annotations"), FAILURES_KEY, json_string(n));
            if (ignored > 0) {
                snprintf(n, sizeof(n), "%lld", (long long)ignored);
                json_object_set_new(json_object_get(meta, "annotations"), IGNORED_KEY,
                                    json_string(n));
            }
        }
        char *host = jp_xasprintf("%s-%s", name, ix);
        json_object_set_new(spec, "hostname", json_string(host));
        free(host);
        add_index_env(spec);
    }
    json_t *pod = json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "v1", "kind", "Pod", "metadata",
                            meta, "spec", spec);
    struct jp_write_ctx c = {
        .store = j->store, .kind = &jp_kinds[j->kind_pods], .ns = ns, .fv = JP_FV_IGNORE};
    struct jp_write_result r = {0};
    struct jp_status *st = NULL;
    struct jp_event_about about;
    jobctl__about_job(job, &about);
    bool ok = jp_api_create(&c, pod, &r, &st) == 0;
    char labels[96];
    snprintf(labels, sizeof(labels), "reason=\"%s\",status=\"%s\"",
             j->create_reason ? j->create_reason : "new", ok ? "succeeded" : "failed");
    jp_metrics_add(j->metrics, "job_controller_job_pods_creation_total", labels, 1);
    if (ok) {
        j->created++;
        jp_record(j->events, &about, "Normal", "SuccessfulCreate", "Created pod: %s", r.obj->name);
    } else {
        jp_record(j->events, &about, "Warning", "FailedCreate", "Error creating: %s", st->message);
        jp_status_free(st);
    }
    jp_write_result_free(&r);
    jp_write_ctx_free(&c);
    return ok;
}
