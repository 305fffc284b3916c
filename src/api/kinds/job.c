/* batch/v1 Jobs: defaults, selector generation, validation on create and update with the exact
 * messages of job-semantics.md §1-3, and the Table row (§12). */
#include "api/kinds/job-internal.h"
#include "base/buf.h"
#include "api/kinds.h"
#include "api/meta.h"
#include "api/podspec.h"
#include "api/selector.h"
#include "base/alloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_CONTROLLER_UID  "batch.kubernetes.io/controller-uid"
#define LABEL_JOB_NAME        "batch.kubernetes.io/job-name"
#define LEGACY_CONTROLLER_UID "controller-uid"
#define LEGACY_JOB_NAME       "job-name"

static void defaults(json_t *obj)
{
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    bool has_par = json_is_integer(json_object_get(spec, "parallelism"));
    bool has_comp = json_is_integer(json_object_get(spec, "completions"));
    if (!has_par && !has_comp) json_object_set_new(spec, "completions", json_integer(1));
    if (!has_par) json_object_set_new(spec, "parallelism", json_integer(1));
    if (!json_is_integer(json_object_get(spec, "backoffLimit")))
        json_object_set_new(
            spec, "backoffLimit",
            json_integer(json_object_get(spec, "backoffLimitPerIndex") ? INT32_MAX : 6));
    if (!json_is_string(json_object_get(spec, "completionMode")))
        json_object_set_new(spec, "completionMode", json_string("NonIndexed"));
    if (!json_is_boolean(json_object_get(spec, "suspend")))
        json_object_set_new(spec, "suspend", json_false());
    if (!json_is_boolean(json_object_get(spec, "manualSelector")))
        json_object_set_new(spec, "manualSelector", json_false());
    json_t *pfp = json_object_get(spec, "podFailurePolicy");
    if (!json_is_string(json_object_get(spec, "podReplacementPolicy")))
        json_object_set_new(spec, "podReplacementPolicy",
                            json_string(pfp ? "Failed" : "TerminatingOrFailed"));
    size_t i, j;
    json_t *rule, *cond;
    json_array_foreach(json_object_get(pfp, "rules"), i, rule)
    {
        json_array_foreach(json_object_get(rule, "onPodConditions"), j, cond)
        {
            if (!json_is_string(json_object_get(cond, "status")))
                json_object_set_new(cond, "status", json_string("True"));
        }
    }
    jp_podspec_defaults(jp_json_path(spec, "template", "spec", NULL));
}

static void add_label_if_absent(json_t *labels, const char *key, const char *value)
{
    if (!json_object_get(labels, key)) json_object_set_new(labels, key, json_string(value));
}

static void prepare_create(struct jp_write_ctx *ctx, json_t *obj)
{
    (void)ctx;
    json_t *meta = json_object_get(obj, "metadata");
    const char *name = jp_json_str(meta, "name", NULL), *uid = jp_json_str(meta, "uid", NULL);
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    if (!json_is_true(json_object_get(spec, "manualSelector"))) {
        json_t *labels = jp_json_ensure(spec, "template", "metadata", "labels", NULL);
        add_label_if_absent(labels, LEGACY_JOB_NAME, name);
        add_label_if_absent(labels, LABEL_JOB_NAME, name);
        add_label_if_absent(labels, LEGACY_CONTROLLER_UID, uid);
        add_label_if_absent(labels, LABEL_CONTROLLER_UID, uid);
        json_t *ml = jp_json_ensure(spec, "selector", "matchLabels", NULL);
        add_label_if_absent(ml, LABEL_CONTROLLER_UID, uid);
    }
    json_t *labels = json_object_get(meta, "labels");
    json_t *tlabels = jp_json_path(spec, "template", "metadata", "labels", NULL);
    if (json_object_size(labels) == 0 && json_object_size(tlabels) > 0)
        json_object_set_new(meta, "labels", json_deep_copy(tlabels));
}

static void non_negative(const json_t *spec, const char *key, struct jp_ferrs *fe)
{
    json_t *v = json_object_get(spec, key);
    if (json_is_integer(v) && json_integer_value(v) < 0) {
        char path[64], val[32];
        jp_strfmt(path, sizeof(path), "spec.%s", key);
        snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
        jp_ferrs_add(fe, JP_FERR_INVALID, path, val, "must be greater than or equal to 0");
    }
}

static char *int_str(json_int_t v)
{
    return jp_xasprintf("%lld", (long long)v);
}

static void validate_selector(const json_t *obj, struct jp_ferrs *fe)
{
    const json_t *spec = json_object_get(obj, "spec");
    json_t *sel = json_object_get(spec, "selector");
    json_t *tlabels = jp_json_path(spec, "template", "metadata", "labels", NULL);
    const char *uid = jp_json_str(obj, "metadata", "uid", NULL);
    if (!json_is_true(json_object_get(spec, "manualSelector"))) {
        json_t *want = json_pack("{s:{s:s}}", "matchLabels", LABEL_CONTROLLER_UID, uid ? uid : "");
        if (sel && !json_equal(sel, want)) {
            char *dump = jp_go_dump("&v1.LabelSelector", sel);
            jp_ferrs_add(fe, JP_FERR_INVALID, "spec.selector", dump,
                         "`selector` not auto-generated");
            free(dump);
        }
        json_decref(want);
        return;
    }
    if (sel == NULL) {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "spec.selector", NULL, NULL);
        return;
    }
    struct jp_selector *s = NULL;
    struct jp_status *st = NULL;
    if (jp_label_selector_from_json(sel, &s, &st) < 0 || jp_selector_is_empty(s)) {
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.selector", "empty selector",
                     "empty selector is invalid for deployment");
    } else if (!jp_label_selector_matches_json(s, tlabels)) {
        char *dump = jp_go_dump("map[string]string", tlabels);
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.template.metadata.labels", dump,
                     "`selector` does not match template `labels`");
        free(dump);
    }
    jp_selector_free(s);
    jp_status_free(st);
}

static void validate_spec(const json_t *obj, struct jp_ferrs *fe)
{
    const json_t *spec = json_object_get(obj, "spec");
    static const char *const counts[] = {"parallelism",
                                         "completions",
                                         "activeDeadlineSeconds",
                                         "backoffLimit",
                                         "ttlSecondsAfterFinished",
                                         "backoffLimitPerIndex",
                                         "maxFailedIndexes"};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        non_negative(spec, counts[i], fe);
    const char *mode = jp_json_str(spec, "completionMode", NULL);
    bool indexed = mode && strcmp(mode, "Indexed") == 0;
    if (mode && !indexed && strcmp(mode, "NonIndexed") != 0) {
        char *q = jp_go_quote(mode);
        jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, "spec.completionMode", q,
                     "supported values: \"NonIndexed\", \"Indexed\"");
        free(q);
    }
    json_t *comp = json_object_get(spec, "completions");
    json_int_t par = jp_json_int(spec, 1, "parallelism", NULL);
    if (indexed) {
        if (!comp)
            jp_ferrs_add(fe, JP_FERR_REQUIRED, "spec.completions", NULL,
                         "when completion mode is Indexed");
        if (par > 100000) {
            char *v = int_str(par);
            jp_ferrs_add(fe, JP_FERR_INVALID, "spec.parallelism", v,
                         "must be less than or equal to 100000 when completion mode is Indexed");
            free(v);
        }
    }
    json_t *bpi = json_object_get(spec, "backoffLimitPerIndex");
    json_t *mfi = json_object_get(spec, "maxFailedIndexes");
    if (bpi && !indexed) {
        char *v = int_str(json_integer_value(bpi));
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.backoffLimitPerIndex", v,
                     "requires indexed completion mode");
        free(v);
    }
    if (mfi && !indexed) {
        char *v = int_str(json_integer_value(mfi));
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.maxFailedIndexes", v,
                     "requires indexed completion mode");
        free(v);
    }
    if (mfi && !bpi)
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "spec.backoffLimitPerIndex", NULL,
                     "when maxFailedIndexes is specified");
    if (mfi && indexed && comp && json_integer_value(mfi) > json_integer_value(comp)) {
        char *v = int_str(json_integer_value(mfi));
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.maxFailedIndexes", v,
                     "must be less than or equal to completions");
        free(v);
    }
    json_t *pfp = json_object_get(spec, "podFailurePolicy");
    jp_job__validate_pod_failure_policy(spec, fe);
    const char *prp = jp_json_str(spec, "podReplacementPolicy", NULL);
    if (prp) {
        bool ok = strcmp(prp, "Failed") == 0 || (!pfp && strcmp(prp, "TerminatingOrFailed") == 0);
        if (!ok) {
            char *q = jp_go_quote(prp);
            jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, "spec.podReplacementPolicy", q,
                         "supported values: %s",
                         pfp ? "\"Failed\"" : "\"Failed\", \"TerminatingOrFailed\"");
            free(q);
        }
    }
    json_t *sp = json_object_get(spec, "successPolicy");
    if (sp && !indexed) {
        char *dump = jp_go_dump("&batch.SuccessPolicy", sp);
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.successPolicy", dump,
                     "requires indexed completion mode");
        free(dump);
    } else {
        jp_job__validate_success_policy(spec, fe);
    }
    jp_podtemplate_validate(json_object_get(spec, "template"), "spec.template", fe);
    const char *rp = jp_json_str(spec, "template", "spec", "restartPolicy", NULL);
    if (rp == NULL || strcmp(rp, "Always") == 0) {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "spec.template.spec.restartPolicy", NULL,
                     "valid values: \"OnFailure\", \"Never\"");
    } else if (strcmp(rp, "OnFailure") && strcmp(rp, "Never")) {
        char *q = jp_go_quote(rp);
        jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, "spec.template.spec.restartPolicy", q,
                     "supported values: \"OnFailure\", \"Never\"");
        free(q);
    } else if (pfp && strcmp(rp, "OnFailure") == 0) {
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.template.spec.restartPolicy", "\"OnFailure\"",
                     "only \"Never\" is supported when podFailurePolicy is specified");
    }
    validate_selector(obj, fe);
    const char *name = jp_json_str(obj, "metadata", "name", NULL);
    if (indexed && comp && name && json_integer_value(comp) > 0) {
        char host[320];
        jp_strfmt(host, sizeof(host), "%s-%lld", name, (long long)json_integer_value(comp) - 1);
        if (jp_check_dns1123_label(host)) {
            char *q = jp_go_quote(name);
            jp_ferrs_add(fe, JP_FERR_INVALID, "metadata.name", q,
                         "will not able to create pod with invalid DNS label: %s", host);
            free(q);
        }
    }
}

/* §1.3: a suspended, never-started Job may change these template fields. */
static json_t *template_for_compare(const json_t *tmpl, bool relaxed)
{
    json_t *t = json_deep_copy(tmpl);
    if (relaxed) {
        json_t *meta = json_object_get(t, "metadata");
        json_object_del(meta, "labels");
        json_object_del(meta, "annotations");
        json_t *spec = json_object_get(t, "spec");
        json_object_del(spec, "nodeSelector");
        json_object_del(spec, "tolerations");
        json_object_del(spec, "schedulingGates");
        json_t *aff = json_object_get(spec, "affinity");
        json_object_del(aff, "nodeAffinity");
    }
    return t;
}

static void immutable(const json_t *spec, const json_t *ospec, const char *key, struct jp_ferrs *fe)
{
    json_t *a = json_object_get(spec, key), *b = json_object_get(ospec, key);
    if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b))) {
        char path[64];
        jp_strfmt(path, sizeof(path), "spec.%s", key);
        char *v = json_is_string(a) ? jp_go_quote(json_string_value(a))
                                    : jp_go_dump("", a ? a : json_null());
        jp_ferrs_add(fe, JP_FERR_INVALID, path, v, "field is immutable");
        free(v);
    }
}

static void validate_update(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    const json_t *spec = json_object_get(obj, "spec"), *ospec = json_object_get(old, "spec");
    bool relaxed = json_is_true(json_object_get(ospec, "suspend")) &&
                   !jp_json_str(old, "status", "startTime", NULL);
    /* an unchanged template (every status write) needs no copies to compare */
    if (!json_equal(json_object_get(spec, "template"), json_object_get(ospec, "template"))) {
        json_t *a = template_for_compare(json_object_get(spec, "template"), relaxed);
        json_t *b = template_for_compare(json_object_get(ospec, "template"), relaxed);
        if (!json_equal(a, b)) {
            char *dump = jp_go_dump("core.PodTemplateSpec", json_object_get(spec, "template"));
            jp_ferrs_add(fe, JP_FERR_INVALID, "spec.template", dump, "field is immutable");
            free(dump);
        }
        json_decref(a);
        json_decref(b);
    }
    const char *mode = jp_json_str(spec, "completionMode", NULL);
    bool indexed = mode && strcmp(mode, "Indexed") == 0;
    json_t *comp = json_object_get(spec, "completions"),
           *ocomp = json_object_get(ospec, "completions");
    if (comp && ocomp && !json_equal(comp, ocomp)) {
        char *v = int_str(json_integer_value(comp));
        if (!indexed)
            jp_ferrs_add(fe, JP_FERR_INVALID, "spec.completions", v, "field is immutable");
        else if (!json_equal(comp, json_object_get(spec, "parallelism")))
            jp_ferrs_add(fe, JP_FERR_INVALID, "spec.completions", v,
                         "can only be modified in tandem with spec.parallelism");
        free(v);
    }
    static const char *const fixed[] = {"selector",         "completionMode",
                                        "podFailurePolicy", "backoffLimitPerIndex",
                                        "managedBy",        "successPolicy"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        immutable(spec, ospec, fixed[i], fe);
}

static void validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_SUBDOMAIN, true, "metadata",
                            fe);
    validate_spec(obj, fe);
    if (old) validate_update(obj, old, fe);
}

static bool condition_true(const json_t *status, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c)
    {
        const char *t = jp_json_str(c, "type", NULL), *s = jp_json_str(c, "status", NULL);
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0) return true;
    }
    return false;
}

/* ---- status writes ([1.32+] ValidateJobStatusUpdate, each rule checked when the fields it
 * looks at change, as kube-apiserver gates them) ---- */

static bool status_changed(const json_t *a, const json_t *b, const char *key)
{
    json_t *x = jp_json_path(a, "status", key, NULL), *y = jp_json_path(b, "status", key, NULL);
    return (x == NULL) != (y == NULL) || (x && !json_equal(x, y));
}

static void condition_error(struct jp_ferrs *fe, const char *text)
{
    jp_ferrs_add(fe, JP_FERR_INVALID, "status.conditions", NULL, "%s", text);
}

static void validate_status(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    const json_t *st = json_object_get(obj, "status"), *ost = json_object_get(old, "status");
    bool complete = condition_true(st, "Complete"), failed = condition_true(st, "Failed");
    bool ocomplete = condition_true(ost, "Complete"), ofailed = condition_true(ost, "Failed");
    bool target = condition_true(st, "FailureTarget"),
         otarget = condition_true(ost, "FailureTarget");
    bool met = condition_true(st, "SuccessCriteriaMet"),
         omet = condition_true(ost, "SuccessCriteriaMet");
    bool finished = complete || failed, ofinished = ocomplete || ofailed;
    bool finished_changed = finished != ofinished, complete_changed = complete != ocomplete;
    bool failed_changed = failed != ofailed, target_changed = target != otarget;
    bool start_changed = status_changed(obj, old, "startTime");
    bool completion_changed = status_changed(obj, old, "completionTime");
    bool active_changed = status_changed(obj, old, "active");
    const char *start = jp_json_str(st, "startTime", NULL);
    const char *completion = jp_json_str(st, "completionTime", NULL);
    char val[64];
    if ((complete_changed || failed_changed) && complete && failed)
        condition_error(fe, "cannot set Complete=True and Failed=true conditions");
    if ((complete_changed || target_changed) && complete && target)
        condition_error(fe, "cannot set Complete=True and FailureTarget=true conditions");
    if ((complete_changed || completion_changed) && completion && !complete) {
        jp_strfmt(val, sizeof(val), "\"%s\"", completion);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.completionTime", val,
                     "cannot set completionTime when there is no Complete=True condition");
    }
    if ((complete_changed || completion_changed) && !completion && complete)
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "status.completionTime", NULL,
                     "completionTime is required for Complete jobs");
    if ((start_changed || completion_changed) && start && completion &&
        jp_json_time(st, "completionTime", NULL) < jp_json_time(st, "startTime", NULL)) {
        jp_strfmt(val, sizeof(val), "\"%s\"", completion);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.completionTime", val,
                     "completionTime cannot be set before startTime");
    }
    if ((failed_changed || target_changed) && failed && !target)
        condition_error(
            fe, "cannot set Failed=True condition without the FailureTarget=true condition");
    if ((complete_changed || met != omet) && complete && !met)
        condition_error(fe,
                        "cannot set Complete=True condition without the SuccessCriteriaMet=true "
                        "condition");
    long long active = jp_json_int(st, 0, "active", NULL);
    if ((finished_changed || active_changed) && finished && active > 0) {
        jp_strfmt(val, sizeof(val), "%lld", active);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.active", val,
                     "active>0 is invalid for finished job");
    }
    if ((finished_changed || start_changed) && finished && !start)
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "status.startTime", NULL,
                     "startTime is required for finished job");
    json_t *unc = json_object_get(st, "uncountedTerminatedPods");
    if ((finished_changed || status_changed(obj, old, "uncountedTerminatedPods")) && finished &&
        (json_array_size(json_object_get(unc, "succeeded")) +
             json_array_size(json_object_get(unc, "failed")) >
         0)) {
        char *dump = jp_go_dump("&batch.UncountedTerminatedPods", unc);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.uncountedTerminatedPods", dump,
                     "uncountedTerminatedPods needs to be empty for finished job");
        free(dump);
    }
    long long terminating = jp_json_int(st, 0, "terminating", NULL);
    if ((finished_changed || status_changed(obj, old, "terminating")) && finished &&
        terminating > 0) {
        jp_strfmt(val, sizeof(val), "%lld", terminating);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.terminating", val,
                     "terminating>0 is invalid for finished job");
    }
    json_t *ready = json_object_get(st, "ready");
    if ((status_changed(obj, old, "ready") || active_changed) && ready &&
        json_integer_value(ready) > active) {
        jp_strfmt(val, sizeof(val), "%lld", (long long)json_integer_value(ready));
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.ready", val,
                     "cannot set more ready pods than active");
    }
    static const char *const terminal[] = {"Failed", "Complete", "FailureTarget"};
    for (int i = 0; i < 3; i++)
        if (condition_true(ost, terminal[i]) && !condition_true(st, terminal[i])) {
            char text[96];
            jp_strfmt(text, sizeof(text), "cannot disable the terminal %s=True condition",
                      terminal[i]);
            condition_error(fe, text);
        }
    long long f = jp_json_int(st, 0, "failed", NULL), of = jp_json_int(ost, 0, "failed", NULL);
    if (f < of) {
        jp_strfmt(val, sizeof(val), "%lld", f);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.failed", val,
                     "cannot decrease the failed counter");
    }
    const json_t *spec = json_object_get(obj, "spec");
    const char *mode = jp_json_str(spec, "completionMode", NULL);
    bool indexed = mode && strcmp(mode, "Indexed") == 0;
    bool scalable = indexed && json_equal(json_object_get(spec, "completions"),
                                          json_object_get(spec, "parallelism"));
    long long s = jp_json_int(st, 0, "succeeded", NULL),
              os = jp_json_int(ost, 0, "succeeded", NULL);
    if (s < os && !scalable) {
        jp_strfmt(val, sizeof(val), "%lld", s);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.succeeded", val,
                     "cannot decrease the succeeded counter");
    }
    const char *oc = jp_json_str(ost, "completionTime", NULL);
    if (completion && oc && strcmp(completion, oc) != 0) {
        jp_strfmt(val, sizeof(val), "\"%s\"", completion);
        jp_ferrs_add(fe, JP_FERR_INVALID, "status.completionTime", val,
                     "completionTime cannot be mutated");
    }
    if (start_changed && jp_json_str(ost, "startTime", NULL) &&
        !json_is_true(json_object_get(spec, "suspend")))
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "status.startTime", NULL,
                     "startTime cannot be removed for unsuspended job");
    if (omet && !met) condition_error(fe, "cannot disable the SuccessCriteriaMet=True condition");
    if (ocomplete && !omet && met)
        condition_error(
            fe, "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions");
    if (met && failed)
        condition_error(fe, "cannot set SuccessCriteriaMet=True and Failed=true conditions");
    if (met && target)
        condition_error(fe, "cannot set SuccessCriteriaMet=True and FailureTarget=true conditions");
    if (json_object_get(spec, "successPolicy") && !met && complete)
        condition_error(
            fe,
            "cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True");
}

static void join_containers(const json_t *spec, const char *key, struct jp_buf *out)
{
    size_t i;
    json_t *c;
    json_array_foreach(jp_json_path(spec, "template", "spec", "containers", NULL), i, c)
    {
        const char *v = jp_json_str(c, key, NULL);
        jp_buf_printf(out, "%s%s", i ? "," : "", v ? v : "");
    }
}

static void row(const json_t *obj, struct jp_cells *c)
{
    const json_t *spec = json_object_get(obj, "spec"), *status = json_object_get(obj, "status");
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
    const char *st = condition_true(status, "Complete")                        ? "Complete"
                     : condition_true(status, "Failed")                        ? "Failed"
                     : jp_json_str(obj, "metadata", "deletionTimestamp", NULL) ? "Terminating"
                     : condition_true(status, "Suspended")                     ? "Suspended"
                     : condition_true(status, "FailureTarget")                 ? "FailureTarget"
                                                                               : "Running";
    jp_cells_str(c, "%s", st);
    long long succeeded = jp_json_int(status, 0, "succeeded", NULL);
    json_t *comp = json_object_get(spec, "completions");
    json_int_t par = jp_json_int(spec, 1, "parallelism", NULL);
    if (json_is_integer(comp))
        jp_cells_str(c, "%lld/%lld", succeeded, (long long)json_integer_value(comp));
    else if (par > 1)
        jp_cells_str(c, "%lld/1 of %lld", succeeded, (long long)par);
    else
        jp_cells_str(c, "%lld/1", succeeded);
    jp_cells_time(c, JP_CELL_DURATION, jp_json_time(status, "startTime", NULL),
                  jp_json_time(status, "completionTime", NULL), NULL);
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    join_containers(spec, "name", &b);
    jp_cells_str(c, "%s", b.data ? b.data : "");
    jp_buf_reset(&b);
    join_containers(spec, "image", &b);
    jp_cells_str(c, "%s", b.data ? b.data : "");
    jp_buf_reset(&b);
    struct jp_selector *sel = NULL;
    struct jp_status *err = NULL;
    if (jp_label_selector_from_json(json_object_get(spec, "selector"), &sel, &err) == 0)
        jp_label_selector_string(sel, &b);
    jp_selector_free(sel);
    jp_status_free(err);
    jp_cells_str(c, "%s", b.data && *b.data ? b.data : "<none>");
    jp_buf_free(&b);
}

static const struct jp_column columns[] = {
    JP_COLUMN_NAME,
    {"Status", "string", "", "Status of the job.", 0},
    {"Completions", "string", "", "The completion status of the job.", 0},
    {"Duration", "string", "", "Time required to complete the job.", 0},
    JP_COLUMN_AGE,
    {"Containers", "string", "", "Names of each container in the template.", 1},
    {"Images", "string", "", "Images referenced by each container in the template.", 1},
    {"Selector", "string", "", "Query over pods that should match the replica count.", 1},
    JP_COLUMN_END,
};

static const char *const field_labels[] = {"status.successful", NULL};

static const char *field_value(const json_t *obj, const char *label, char *buf, size_t n)
{
    (void)label;
    snprintf(buf, n, "%lld", (long long)jp_json_int(obj, 0, "status", "succeeded", NULL));
    return buf;
}

const struct jp_kind_ops jp_job_ops = {
    .defaults = defaults,
    .prepare_create = prepare_create,
    .validate = validate,
    .validate_status = validate_status,
    .row = row,
    .columns = columns,
    .field_labels = field_labels,
    .field_value = field_value,
};
