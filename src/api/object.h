/* What the api layer keeps about every stored object beside its JSON: the projection (uid,
 * timestamps, labels, owners, finalizers, field-selector values, the Table row) and the helpers
 * that build it and serialize objects in Kubernetes' field order. */
#ifndef JP_API_OBJECT_H
#define JP_API_OBJECT_H

#include "base/buf.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct jp_kind;

struct jp_kv {
    char *key, *value;
};

struct jp_owner {
    char *uid, *kind, *name, *api_version;
    bool controller, block;
};

/* A Table cell. Time-dependent cells keep their timestamp and are rendered per request. */
enum jp_cell_type {
    JP_CELL_STRING,
    JP_CELL_INT,
    JP_CELL_AGE,      /* HumanDuration(now - t), "<unknown>" when t is 0 */
    JP_CELL_DURATION, /* HumanDuration(end - t), or (now - t) while end is 0; "" when t is 0 */
    JP_CELL_AGO,      /* text + " (" + HumanDuration(now - t) + " ago)", or text when t is 0 */
};

struct jp_cell {
    enum jp_cell_type type;
    char *text;
    int64_t num;
    int64_t t, end; /* unix ns */
};

/* How many kind-specific numbers a projection carries (the pods': api/kinds/pod.c). */
#define JP_PROJ_FACTS 3

struct jp_proj {
    char *uid;
    int64_t created_ns, deleted_ns; /* deleted_ns: deletionTimestamp, 0 when absent */
    struct jp_kv *labels;           /* sorted by key */
    size_t nlabels;
    struct jp_owner *owners;
    size_t nowners;
    size_t nfinalizers;
    char **finalizers;            /* their names (nfinalizers of them) */
    int64_t facts[JP_PROJ_FACTS]; /* the kind's own (jp_kind_ops.facts); 0 when it has none */
    char **fields;                /* values for the kind's field-selector labels, in their order */
    size_t meta_off, meta_len;    /* the "metadata" value inside the object's JSON */
    struct jp_cell *cells;        /* the Table row */
    size_t ncells;
};

/* Serializes obj with kind, apiVersion and metadata first (as Kubernetes does) and returns the
 * projection built from it. OUT: *json, caller frees. */
struct jp_proj *jp_object_serialize(const struct jp_kind *kind, json_t *obj, char **json,
                                    size_t *len);
/* The projection of stored JSON (at load time). NULL if it isn't a valid object of the kind. */
struct jp_obj *jp_object_load(const struct jp_kind *kind, uint16_t kind_index, const char *ns,
                              const char *name, const char *json, size_t len);
void jp_proj_free(void *proj);

static inline const struct jp_proj *jp_proj_of(const struct jp_obj *o)
{
    return (const struct jp_proj *)o->proj;
}

const char *jp_proj_label(const struct jp_proj *p, const char *key);
bool jp_proj_has_finalizer(const struct jp_proj *p, const char *name);
/* The ownerReference with controller: true, or NULL. */
const struct jp_owner *jp_proj_controller(const struct jp_proj *p);

/* Cells, for the kinds' row builders. */
struct jp_cells {
    struct jp_cell *items;
    size_t n, cap;
};
void jp_cells_str(struct jp_cells *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jp_cells_int(struct jp_cells *c, int64_t v);
void jp_cells_time(struct jp_cells *c, enum jp_cell_type type, int64_t t, int64_t end,
                   const char *text);
void jp_cell_render(const struct jp_cell *cell, int64_t now_ns, struct jp_buf *out);

/* JSON access helpers: a NULL-safe path walk over objects ("spec", "template", NULL). */
json_t *jp_json_path(const json_t *root, ...) __attribute__((sentinel));
const char *jp_json_str(const json_t *root, ...) __attribute__((sentinel));
/* Integer at a path, or def when absent or not an integer. */
int64_t jp_json_int(const json_t *root, int64_t def, ...) __attribute__((sentinel));
/* RFC 3339 time at a path, as unix ns; 0 when absent or malformed. */
int64_t jp_json_time(const json_t *root, ...) __attribute__((sentinel));
/* The condition of that type in status.conditions (STATUS: an object's status), or NULL. */
const json_t *jp_json_condition(const json_t *status, const char *type);
/* Whether that condition is there with status "True". */
bool jp_json_condition_true(const json_t *status, const char *type);
/* Object at path, created (with intermediate objects) when missing. */
json_t *jp_json_ensure(json_t *root, ...) __attribute__((sentinel));

#endif
