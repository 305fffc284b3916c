/* apps/v1 ReplicaSets: defaults, selector/template validation, the scale subresource's fields
 * and the Table row. */
#include "api/kinds.h"
#include "api/meta.h"
#include "api/podspec.h"
#include "api/selector.h"
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void defaults(json_t *obj)
{
    json_t *spec = jp_json_ensure(obj, "spec", NULL);
    if (!json_is_integer(json_object_get(spec, "replicas")))
        json_object_set_new(spec, "replicas", json_integer(1));
    jp_podspec_defaults(jp_json_path(spec, "template", "spec", NULL));
    json_t *meta = jp_json_ensure(obj, "metadata", NULL);
    json_t *tlabels = jp_json_path(spec, "template", "metadata", "labels", NULL);
    if (json_object_size(json_object_get(meta, "labels")) == 0 && json_object_size(tlabels) > 0)
        json_object_set_new(meta, "labels", json_deep_copy(tlabels));
}

static void prepare_create(struct jp_write_ctx *ctx, json_t *obj)
{
    (void)ctx;
    json_object_set_new(obj, "status", json_pack("{s:i}", "replicas", 0));
}

static void validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_SUBDOMAIN, true, "metadata",
                            fe);
    const json_t *spec = json_object_get(obj, "spec");
    json_int_t replicas = jp_json_int(spec, 0, "replicas", NULL);
    if (replicas < 0) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", (long long)replicas);
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.replicas", v, "must be greater than or equal to 0");
    }
    json_t *sel = json_object_get(spec, "selector");
    struct jp_selector *s = NULL;
    struct jp_status *st = NULL;
    if (sel == NULL) {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "spec.selector", NULL, NULL);
    } else if (jp_label_selector_from_json(sel, &s, &st) < 0 || jp_selector_is_empty(s)) {
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.selector", "v1.LabelSelector{}",
                     "empty selector is invalid for deployment");
    } else {
        json_t *tl = jp_json_path(spec, "template", "metadata", "labels", NULL);
        if (!jp_label_selector_matches_json(s, tl)) {
            char *dump = jp_go_dump("map[string]string", tl);
            jp_ferrs_add(fe, JP_FERR_INVALID, "spec.template.metadata.labels", dump,
                         "`selector` does not match template `labels`");
            free(dump);
        }
    }
    jp_selector_free(s);
    jp_status_free(st);
    jp_podtemplate_validate(json_object_get(spec, "template"), "spec.template", fe);
    const char *rp = jp_json_str(spec, "template", "spec", "restartPolicy", NULL);
    if (rp && strcmp(rp, "Always") != 0) {
        char *q = jp_go_quote(rp);
        jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, "spec.template.spec.restartPolicy", q,
                     "supported values: \"Always\"");
        free(q);
    }
    if (old && !json_equal(sel, jp_json_path(old, "spec", "selector", NULL))) {
        char *dump = jp_go_dump("v1.LabelSelector", sel ? sel : json_null());
        jp_ferrs_add(fe, JP_FERR_INVALID, "spec.selector", dump, "field is immutable");
        free(dump);
    }
}

static void join(const json_t *spec, const char *key, struct jp_buf *b)
{
    size_t i;
    json_t *c;
    json_array_foreach(jp_json_path(spec, "template", "spec", "containers", NULL), i, c)
    {
        const char *v = jp_json_str(c, key, NULL);
        jp_buf_printf(b, "%s%s", i ? "," : "", v ? v : "");
    }
}

static void row(const json_t *obj, struct jp_cells *c)
{
    const json_t *spec = json_object_get(obj, "spec"), *status = json_object_get(obj, "status");
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
    jp_cells_int(c, jp_json_int(spec, 0, "replicas", NULL));
    jp_cells_int(c, jp_json_int(status, 0, "replicas", NULL));
    jp_cells_int(c, jp_json_int(status, 0, "readyReplicas", NULL));
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    join(spec, "name", &b);
    jp_cells_str(c, "%s", b.len ? b.data : "");
    jp_buf_reset(&b);
    join(spec, "image", &b);
    jp_cells_str(c, "%s", b.len ? b.data : "");
    jp_buf_reset(&b);
    struct jp_selector *sel = NULL;
    struct jp_status *err = NULL;
    if (jp_label_selector_from_json(json_object_get(spec, "selector"), &sel, &err) == 0)
        jp_label_selector_string(sel, &b);
    jp_selector_free(sel);
    jp_status_free(err);
    jp_cells_str(c, "%s", b.len ? b.data : "<none>");
    jp_buf_free(&b);
}

static const struct jp_column columns[] = {
    JP_COLUMN_NAME,
    {"Desired", "integer", "", "Number of desired pods.", 0},
    {"Current", "integer", "", "Number of actual replicas.", 0},
    {"Ready", "integer", "", "Number of ready replicas.", 0},
    JP_COLUMN_AGE,
    {"Containers", "string", "", "Names of each container in the template.", 1},
    {"Images", "string", "", "Images referenced by each container in the template.", 1},
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the replica count.", 1},
    JP_COLUMN_END,
};

static const char *const field_labels[] = {"status.replicas", NULL};

static const char *field_value(const json_t *obj, const char *label, char *buf, size_t n)
{
    (void)label;
    snprintf(buf, n, "%lld", (long long)jp_json_int(obj, 0, "status", "replicas", NULL));
    return buf;
}

const struct jp_kind_ops jp_replicaset_ops = {
    .defaults = defaults,
    .prepare_create = prepare_create,
    .validate = validate,
    .row = row,
    .columns = columns,
    .field_labels = field_labels,
    .field_value = field_value,
};
