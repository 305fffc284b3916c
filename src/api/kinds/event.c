/* core/v1 Events: the columns kubectl prints (Last Seen, Type, Reason, Object, ...) and the
 * involvedObject field selectors describe uses. */
#include "api/kinds.h"
#include "api/meta.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static void defaults(json_t *obj)
{
    (void)obj;
}

static void validate(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    (void)old;
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_PATH_SEGMENT, true,
                            "metadata", fe);
    const char *ns = jp_json_str(obj, "metadata", "namespace", NULL);
    const char *ins = jp_json_str(obj, "involvedObject", "namespace", NULL);
    if (ins && *ins && ns && strcmp(ns, ins) != 0) {
        char *q = jp_go_quote(ins);
        jp_ferrs_add(fe, JP_FERR_INVALID, "involvedObject.namespace", q,
                     "does not match event.namespace");
        free(q);
    }
}

static void row(const json_t *obj, struct jp_cells *c)
{
    int64_t first = jp_json_time(obj, "firstTimestamp", NULL);
    int64_t last = jp_json_time(obj, "lastTimestamp", NULL);
    int64_t event_time = jp_json_time(obj, "eventTime", NULL);
    if (first == 0) first = event_time;
    if (last == 0) last = first;
    jp_cells_time(c, JP_CELL_AGE, last, 0, NULL);
    const char *type = jp_json_str(obj, "type", NULL), *reason = jp_json_str(obj, "reason", NULL);
    jp_cells_str(c, "%s", type ? type : "");
    jp_cells_str(c, "%s", reason ? reason : "");
    const json_t *io = json_object_get(obj, "involvedObject");
    const char *kind = jp_json_str(io, "kind", NULL), *name = jp_json_str(io, "name", NULL);
    char lower[128] = "";
    for (size_t i = 0; kind && kind[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)kind[i]), lower[i + 1] = '\0';
    jp_cells_str(c, "%s/%s", lower, name ? name : "");
    const char *fp = jp_json_str(io, "fieldPath", NULL);
    jp_cells_str(c, "%s", fp ? fp : "");
    const char *comp = jp_json_str(obj, "source", "component", NULL);
    const char *host = jp_json_str(obj, "source", "host", NULL);
    if (comp == NULL || *comp == '\0') comp = jp_json_str(obj, "reportingComponent", NULL);
    if (host && *host)
        jp_cells_str(c, "%s, %s", comp ? comp : "", host);
    else
        jp_cells_str(c, "%s", comp ? comp : "");
    const char *msg = jp_json_str(obj, "message", NULL);
    jp_cells_str(c, "%s", msg ? msg : "");
    jp_cells_time(c, JP_CELL_AGE, first, 0, NULL);
    json_int_t count = jp_json_int(obj, 0, "count", NULL);
    jp_cells_str(c, "%lld", (long long)(count ? count : 1));
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
}

static const struct jp_column columns[] = {
    {"Last Seen", "string", "", "The last time this event was seen.", 0},
    {"Type", "string", "", "Type of this event (Normal, Warning).", 0},
    {"Reason", "string", "", "Why the action was taken.", 0},
    {"Object", "string", "", "The object this event is about.", 0},
    {"Subobject", "string", "", "The part of the object this event is about.", 1},
    {"Source", "string", "", "The component reporting this event.", 1},
    {"Message", "string", "", "A description of the status of this operation.", 0},
    {"First Seen", "string", "", "The first time this event was seen.", 1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", "Name must be unique within a namespace.", 1},
    JP_COLUMN_END,
};

static const char *const field_labels[] = {"involvedObject.kind",
                                           "involvedObject.namespace",
                                           "involvedObject.name",
                                           "involvedObject.uid",
                                           "involvedObject.apiVersion",
                                           "involvedObject.resourceVersion",
                                           "involvedObject.fieldPath",
                                           "reason",
                                           "reportingComponent",
                                           "source",
                                           "type",
                                           NULL};

static const char *field_value(const json_t *obj, const char *label, char *buf, size_t n)
{
    (void)buf, (void)n;
    if (strncmp(label, "involvedObject.", 15) == 0)
        return jp_json_str(obj, "involvedObject", label + 15, NULL);
    if (strcmp(label, "source") == 0) return jp_json_str(obj, "source", "component", NULL);
    return jp_json_str(obj, label, NULL);
}

const struct jp_kind_ops jp_event_ops = {
    .defaults = defaults,
    .validate = validate,
    .row = row,
    .columns = columns,
    .field_labels = field_labels,
    .field_value = field_value,
};
