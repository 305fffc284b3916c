/* Pods: defaults and QoS class on create, spec immutability on update, the STATUS column rules of
 * kubectl's printer (kubectl-protocol.md §5.3) and pod field selectors. */
#include "api/kinds.h"
#include "api/meta.h"
#include "api/podspec.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/parse.h"
#include "base/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void defaults(json_t *obj)
{
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    jp_podspec_defaults(spec);
    /* the deprecated serviceAccount names the account when serviceAccountName does not */
    const char *old = jp_json_str(spec, "serviceAccount", NULL);
    const char *name = jp_json_str(spec, "serviceAccountName", NULL);
    if ((name == NULL || *name == '\0') && old && *old)
        json_object_set_new(spec, "serviceAccountName", json_string(old));
    else if (name == NULL)
        json_object_set_new(spec, "serviceAccountName", json_string("default"));
    if (!json_is_string(json_object_get(spec, "serviceAccount")))
        json_object_set_new(spec, "serviceAccount",
                            json_string(jp_json_str(spec, "serviceAccountName", NULL)));
    if (!json_is_boolean(json_object_get(spec, "enableServiceLinks")))
        json_object_set_new(spec, "enableServiceLinks", json_true());
    if (!json_is_integer(json_object_get(spec, "priority")))
        json_object_set_new(spec, "priority", json_integer(0));
}

/* Guaranteed: every container limits cpu and memory with requests equal to them; BestEffort: no
 * requests or limits anywhere; Burstable otherwise (a simplification of GetPodQOS that agrees on
 * all common specs). */
static const char *qos_class(const json_t *spec)
{
    bool any = false, guaranteed = true;
    static const char *const lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            json_t *req = jp_json_path(c, "resources", "requests", NULL);
            json_t *lim = jp_json_path(c, "resources", "limits", NULL);
            if (json_object_size(req) || json_object_size(lim)) any = true;
            static const char *const res[] = {"cpu", "memory"};
            for (int r = 0; r < 2; r++) {
                json_t *lv = json_object_get(lim, res[r]), *rv = json_object_get(req, res[r]);
                if (!lv || (rv && !json_equal(lv, rv))) guaranteed = false;
            }
        }
    }
    return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

static void prepare_create(struct jp_write_ctx *ctx, json_t *obj)
{
    (void)ctx;
    json_t *status = json_object();
    json_object_set_new(status, "phase", json_string("Pending"));
    json_object_set_new(status, "qosClass", json_string(qos_class(json_object_get(obj, "spec"))));
    json_object_set_new(obj, "status", status);
}

/* Fields a pod update may change (ValidatePodUpdate): container images, activeDeadlineSeconds,
 * tolerations additions, terminationGracePeriodSeconds. We compare with those removed. */
static json_t *mutable_stripped(const json_t *spec)
{
    json_t *c = json_deep_copy(spec);
    static const char *const lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *ct;
        json_array_foreach(json_object_get(c, lists[l]), i, ct) json_object_del(ct, "image");
    }
    json_object_del(c, "activeDeadlineSeconds");
    json_object_del(c, "tolerations");
    json_object_del(c, "terminationGracePeriodSeconds");
    return c;
}

static void validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_SUBDOMAIN, true, "metadata",
                            fe);
    jp_podspec_validate(json_object_get(obj, "spec"), "spec", fe);
    /* an unchanged spec (every status write, a finalizer's removal) changes nothing immutable:
     * no copies to strip and compare */
    if (old && !json_equal(json_object_get(obj, "spec"), json_object_get(old, "spec"))) {
        json_t *a = mutable_stripped(json_object_get(obj, "spec"));
        json_t *b = mutable_stripped(json_object_get(old, "spec"));
        /* the scheduler's binding sets nodeName once */
        if (!jp_json_str(b, "nodeName", NULL)) json_object_del(a, "nodeName");
        if (!json_equal(a, b))
            jp_ferrs_add(fe, JP_FERR_FORBIDDEN, "spec", NULL,
                         "pod updates may not change fields other than `spec.containers[*].image`,"
                         "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                         "`spec.tolerations` (only additions to existing tolerations),"
                         "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                         "previously negative)");
        json_decref(a);
        json_decref(b);
    }
}

/* ---- the Table row ---- */

static bool is_restartable_init(const json_t *c)
{
    const char *rp = jp_json_str(c, "restartPolicy", NULL);
    return rp && strcmp(rp, "Always") == 0;
}

static void reason_of(const json_t *st, char *out, size_t n, bool init)
{
    const char *pre = init ? "Init:" : "";
    json_t *term = jp_json_path(st, "state", "terminated", NULL);
    const char *r;
    if (term) {
        if ((r = jp_json_str(term, "reason", NULL)) && *r)
            snprintf(out, n, "%s%s", pre, r);
        else if (jp_json_int(term, 0, "signal", NULL) != 0)
            snprintf(out, n, "%sSignal:%lld", pre, (long long)jp_json_int(term, 0, "signal", NULL));
        else
            snprintf(out, n, "%sExitCode:%lld", pre,
                     (long long)jp_json_int(term, 0, "exitCode", NULL));
    }
}

static void status_column(const json_t *obj, char *reason, size_t n)
{
    const json_t *status = json_object_get(obj, "status");
    const char *r = jp_json_str(status, "reason", NULL);
    snprintf(reason, n, "%s", r && *r ? r : (r = jp_json_str(status, "phase", NULL)) ? r : "");
    size_t i;
    json_t *cond;
    json_array_foreach(json_object_get(status, "conditions"), i, cond)
    {
        const char *t = jp_json_str(cond, "type", NULL), *cr = jp_json_str(cond, "reason", NULL);
        if (t && cr && strcmp(t, "PodScheduled") == 0 && strcmp(cr, "SchedulingGated") == 0)
            snprintf(reason, n, "SchedulingGated");
    }
    bool initializing = false;
    json_t *inits = json_object_get(status, "initContainerStatuses");
    size_t ninit = json_array_size(jp_json_path(obj, "spec", "initContainers", NULL));
    json_t *st;
    json_array_foreach(inits, i, st)
    {
        json_t *term = jp_json_path(st, "state", "terminated", NULL);
        json_t *wait = jp_json_path(st, "state", "waiting", NULL);
        if (term && jp_json_int(term, 0, "exitCode", NULL) == 0) continue;
        if (is_restartable_init(
                json_array_get(jp_json_path(obj, "spec", "initContainers", NULL), i)) &&
            json_is_true(json_object_get(st, "started")))
            continue;
        initializing = true;
        const char *wr = jp_json_str(wait, "reason", NULL);
        if (term)
            reason_of(st, reason, n, true);
        else if (wr && *wr && strcmp(wr, "PodInitializing") != 0)
            snprintf(reason, n, "Init:%s", wr);
        else
            snprintf(reason, n, "Init:%zu/%zu", i, ninit);
        break;
    }
    if (!initializing) {
        bool has_running = false;
        json_t *cs = json_object_get(status, "containerStatuses");
        for (size_t k = json_array_size(cs); k-- > 0;) {
            st = json_array_get(cs, k);
            const char *wr = jp_json_str(st, "state", "waiting", "reason", NULL);
            json_t *term = jp_json_path(st, "state", "terminated", NULL);
            if (wr && *wr)
                snprintf(reason, n, "%s", wr);
            else if (term)
                reason_of(st, reason, n, false);
            else if (jp_json_path(st, "state", "running", NULL) &&
                     json_is_true(json_object_get(st, "ready")))
                has_running = true;
        }
        if (strcmp(reason, "Completed") == 0 && has_running) {
            bool ready = false;
            json_array_foreach(json_object_get(status, "conditions"), i, cond)
            {
                const char *t = jp_json_str(cond, "type", NULL),
                           *s = jp_json_str(cond, "status", NULL);
                if (t && s && strcmp(t, "Ready") == 0) ready = strcmp(s, "True") == 0;
            }
            snprintf(reason, n, "%s", ready ? "Running" : "NotReady");
        }
    }
    if (jp_json_str(obj, "metadata", "deletionTimestamp", NULL)) {
        const char *sr = jp_json_str(status, "reason", NULL);
        const char *phase = jp_json_str(status, "phase", NULL);
        if (sr && strcmp(sr, "NodeLost") == 0)
            snprintf(reason, n, "Unknown");
        else if (!phase || (strcmp(phase, "Succeeded") && strcmp(phase, "Failed")))
            snprintf(reason, n, "Terminating");
    }
}

static void row(const json_t *obj, struct jp_cells *c)
{
    const json_t *spec = json_object_get(obj, "spec"), *status = json_object_get(obj, "status");
    size_t total = json_array_size(json_object_get(spec, "containers")), ready = 0, i;
    json_t *x;
    json_array_foreach(json_object_get(spec, "initContainers"), i, x) total +=
        is_restartable_init(x);
    int64_t restarts = 0, last_finish = 0;
    static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
    for (int l = 0; l < 2; l++) {
        json_array_foreach(json_object_get(status, lists[l]), i, x)
        {
            restarts += jp_json_int(x, 0, "restartCount", NULL);
            int64_t f = jp_json_time(x, "lastState", "terminated", "finishedAt", NULL);
            if (f > last_finish) last_finish = f;
            if (l == 1 && json_is_true(json_object_get(x, "ready")) &&
                jp_json_path(x, "state", "running", NULL))
                ready++;
        }
    }
    char reason[128];
    status_column(obj, reason, sizeof(reason));
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
    jp_cells_str(c, "%zu/%zu", ready, total);
    jp_cells_str(c, "%s", reason);
    char count[32];
    snprintf(count, sizeof(count), "%lld", (long long)restarts);
    jp_cells_time(c, JP_CELL_AGO, restarts > 0 ? last_finish : 0, 0, count);
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
    const char *ip = jp_json_str(json_array_get(json_object_get(status, "podIPs"), 0), "ip", NULL);
    const char *node = jp_json_str(spec, "nodeName", NULL);
    const char *nominated = jp_json_str(status, "nominatedNodeName", NULL);
    jp_cells_str(c, "%s", ip && *ip ? ip : "<none>");
    jp_cells_str(c, "%s", node && *node ? node : "<none>");
    jp_cells_str(c, "%s", nominated && *nominated ? nominated : "<none>");
    json_t *gates = json_object_get(spec, "readinessGates");
    if (json_array_size(gates) == 0) {
        jp_cells_str(c, "<none>");
    } else {
        size_t ok = 0, g;
        json_t *gate;
        json_array_foreach(gates, g, gate)
        {
            const char *want = jp_json_str(gate, "conditionType", NULL);
            size_t k;
            json_t *cond;
            json_array_foreach(json_object_get(status, "conditions"), k, cond)
            {
                const char *t = jp_json_str(cond, "type", NULL),
                           *s = jp_json_str(cond, "status", NULL);
                if (want && t && s && strcmp(t, want) == 0 && strcmp(s, "True") == 0) ok++;
            }
        }
        jp_cells_str(c, "%zu/%zu", ok, json_array_size(gates));
    }
}

static const struct jp_column columns[] = {
    JP_COLUMN_NAME,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    JP_COLUMN_AGE,
    {"IP", "string", "", "The IP address assigned to this pod.", 1},
    {"Node", "string", "", "The node the pod is scheduled on.", 1},
    {"Nominated Node", "string", "", "The node this pod is nominated to run on after preemption.",
     1},
    {"Readiness Gates", "string", "", "The readiness gates of the pod and how many are satisfied.",
     1},
    JP_COLUMN_END,
};

/* The accessors below index this list: keep spec.nodeName first and status.phase sixth. */
static const char *const field_labels[] = {"spec.nodeName",
                                           "spec.restartPolicy",
                                           "spec.schedulerName",
                                           "spec.serviceAccountName",
                                           "spec.hostNetwork",
                                           "status.phase",
                                           "status.podIP",
                                           "status.nominatedNodeName",
                                           NULL};

static const char *field_value(const json_t *obj, const char *label, char *buf, size_t n)
{
    (void)buf, (void)n;
    if (strcmp(label, "spec.hostNetwork") == 0)
        return json_is_true(jp_json_path(obj, "spec", "hostNetwork", NULL)) ? "true" : "false";
    if (strcmp(label, "status.podIP") == 0)
        return jp_json_str(json_array_get(jp_json_path(obj, "status", "podIPs", NULL), 0), "ip",
                           NULL);
    const char *dot = strchr(label, '.');
    char top[16];
    snprintf(top, sizeof(top), "%.*s", (int)(dot - label), label);
    return jp_json_str(obj, top, dot + 1, NULL);
}

/* What the Job controller reads of every pod version it has not counted (facts: see below). */
enum { FACT_READY, FACT_RESTARTS, FACT_INDEX };

static void facts(const json_t *obj, int64_t *f)
{
    const json_t *st = json_object_get(obj, "status");
    f[FACT_READY] = jp_json_condition_true(st, "Ready");
    static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *cs;
        json_array_foreach(json_object_get(st, lists[l]), i, cs) f[FACT_RESTARTS] +=
            jp_json_int(cs, 0, "restartCount", NULL);
    }
    const char *v = jp_json_str(obj, "metadata", "annotations", JP_JOB_INDEX_KEY, NULL);
    if (v == NULL) v = jp_json_str(obj, "metadata", "labels", JP_JOB_INDEX_KEY, NULL);
    int64_t i;
    f[FACT_INDEX] = v && jp_parse_int(v, 10, 0, INT32_MAX, &i, NULL) == 0 ? i : -1;
}

const struct jp_kind_ops jp_pod_ops = {
    .defaults = defaults,
    .prepare_create = prepare_create,
    .admit = jp_pod_admit,
    .validate = validate,
    .row = row,
    .columns = columns,
    .field_labels = field_labels,
    .field_value = field_value,
    .facts = facts,
};

const char *jp_pod_node_name(const struct jp_obj *pod)
{
    return jp_proj_of(pod)->fields[0];
}

const char *jp_pod_phase(const struct jp_obj *pod)
{
    return jp_proj_of(pod)->fields[5];
}

bool jp_pod_finished(const struct jp_obj *pod)
{
    const char *phase = jp_pod_phase(pod);
    return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
}

bool jp_pod_ready(const struct jp_obj *pod)
{
    return jp_proj_of(pod)->facts[FACT_READY] != 0;
}

int jp_pod_restarts(const struct jp_obj *pod)
{
    return (int)jp_proj_of(pod)->facts[FACT_RESTARTS];
}

int64_t jp_pod_completion_index(const struct jp_obj *pod)
{
    return jp_proj_of(pod)->facts[FACT_INDEX];
}
