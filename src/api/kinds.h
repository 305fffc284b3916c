/* The table of kinds jobplane serves: one row per resource with its names, scope, schema root,
 * subresources and the ops that differ by kind (defaults, validation, Table columns and rows,
 * field selectors). The REST handlers and the write path are shared: adding a kind is one file
 * in kinds/ and one row here. */
#ifndef JP_API_KINDS_H
#define JP_API_KINDS_H

#include "api/object.h"
#include "api/status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    JP_SUB_STATUS = 1 << 0,
    JP_SUB_SCALE = 1 << 1,       /* autoscaling/v1 Scale */
    JP_SUB_LOG = 1 << 2,         /* pods/log */
    JP_SUB_FINALIZE = 1 << 3,    /* namespaces/finalize */
    JP_SUB_PORTFORWARD = 1 << 4, /* pods/portforward */
    JP_SUB_EVICTION = 1 << 5,    /* pods/eviction (policy/v1 Eviction) */
    JP_SUB_EXEC = 1 << 6,        /* pods/exec */
    JP_SUB_TOKEN = 1 << 7        /* serviceaccounts/token (authentication.k8s.io/v1 TokenRequest) */
};

struct jp_column {
    const char *name;
    const char *type;   /* "string", "integer", "date" */
    const char *format; /* "name" or "" */
    const char *description;
    int priority; /* 0 always shown, 1 with -o wide */
};

/* The columns every kind's Table shares, as kube-apiserver words them, and the list's end. */
#define JP_COLUMN_NAME                                                                             \
    {                                                                                              \
        "Name", "string", "name", "Name must be unique within a namespace.", 0                     \
    }
#define JP_COLUMN_AGE                                                                              \
    {                                                                                              \
        "Age", "string", "", "CreationTimestamp is the time the object was created.", 0            \
    }
#define JP_COLUMN_END                                                                              \
    {                                                                                              \
        NULL, NULL, NULL, NULL, 0                                                                  \
    }

struct jp_write_ctx; /* api/write.h */

struct jp_kind_ops {
    /* Defaults, applied on create and on every update before validation. */
    void (*defaults)(json_t *obj);
    /* Create-time strategy: e.g. jobs generate their selector, services get a cluster IP. */
    void (*prepare_create)(struct jp_write_ctx *ctx, json_t *obj);
    /* Update-time strategy: carry server-assigned values the client did not send (a service's
     * cluster IP and node ports). May be NULL. */
    void (*prepare_update)(struct jp_write_ctx *ctx, json_t *obj, const json_t *old);
    /* Admission of a create, after defaults and before validation, as the apiserver's plugins
     * (a pod's service account must exist, its token is mounted). name: the object's, or its
     * generateName. May change obj; -1 with a Status to refuse it. May be NULL. */
    int (*admit)(struct jp_write_ctx *ctx, json_t *obj, const char *name, struct jp_status **st);
    /* Validation for create (old == NULL) and update; appends field errors. */
    void (*validate)(const json_t *obj, const json_t *old, struct jp_ferrs *errs);
    /* Extra rules for writes through the status subresource. May be NULL. */
    void (*validate_status)(const json_t *obj, const json_t *old, struct jp_ferrs *errs);
    /* The Table row for an object (cells in column order). */
    void (*row)(const json_t *obj, struct jp_cells *cells);
    const struct jp_column *columns;
    /* Field selectors beyond metadata.name and metadata.namespace, and their values. */
    const char *const *field_labels;
    const char *(*field_value)(const json_t *obj, const char *label, char *buf, size_t n);
    /* The numbers controllers read on every version, kept in the projection so that reading
     * them parses nothing (JP_PROJ_FACTS of them). May be NULL. */
    void (*facts)(const json_t *obj, int64_t *facts);
};

struct jp_kind {
    const char *group; /* "" for the core group */
    const char *version;
    const char *kind;
    const char *plural;
    const char *resource; /* "jobs.batch" or "pods": how Status messages name the resource */
    const char *singular;
    const char *short_names[3]; /* NULL-terminated */
    const char *categories[2];
    bool namespaced;
    bool has_status; /* the main resource ignores status (status subresource owns it) */
    bool generation; /* metadata.generation counts spec changes */
    unsigned subresources;
    int schema_type; /* JP_T_... root type of the object */
    const struct jp_kind_ops *ops;
};

extern const struct jp_kind jp_kinds[];

/* The ServiceAccount admission plugin for pods (kinds/pod_admission.c). */
int jp_pod_admit(struct jp_write_ctx *ctx, json_t *pod, const char *name, struct jp_status **st);
/* Whether pods get their account's token mounted: only when there is an API for it to open
 * (the engine turns it on when it serves one). Off by default. */
void jp_pod_admission_mount_tokens(bool on);

/* Typed accessors of the pod projection, for the scheduler and the node agent. */
const char *jp_pod_node_name(const struct jp_obj *pod); /* "" while unbound */
const char *jp_pod_phase(const struct jp_obj *pod);
bool jp_pod_finished(const struct jp_obj *pod); /* phase Succeeded or Failed */
bool jp_pod_ready(const struct jp_obj *pod);    /* the Ready condition is True */
int jp_pod_restarts(const struct jp_obj *pod);  /* restartCount of all its containers */
/* A Job's pod's completion index: its annotation, else its label; -1 for none. */
int64_t jp_pod_completion_index(const struct jp_obj *pod);
#define JP_JOB_INDEX_KEY "batch.kubernetes.io/job-completion-index"
extern const unsigned jp_nkinds;

const struct jp_kind *jp_kind_by_plural(const char *group, const char *version, const char *plural);
int jp_kind_index(const struct jp_kind *k);
/* "batch/v1" or "v1". */
const char *jp_kind_api_version(const struct jp_kind *k, char *buf, size_t n);

/* Store hooks built on the table. */
const char *jp_kinds_store_name(uint16_t kind);
int jp_kinds_store_index(const char *name);
struct jp_obj *jp_kinds_store_load(uint16_t kind, const char *ns, const char *name,
                                   const char *json, size_t len);

#endif
