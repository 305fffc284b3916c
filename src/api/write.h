/* The write path every writer shares (REST handlers, and later controllers and the agent):
 * create, update, patch, delete with Kubernetes' strategy steps in order - decoding, system
 * metadata, defaults, the kind's create/update strategy, validation, no-op detection,
 * resourceVersion preconditions - then the store. */
#ifndef JP_API_WRITE_H
#define JP_API_WRITE_H

#include "api/decode.h"
#include "api/kinds.h"
#include "api/status.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

struct jp_write_ctx {
    struct jp_store *store;
    const struct jp_kind *kind;
    const char *ns;          /* "" for cluster-scoped kinds */
    const char *subresource; /* NULL, "status" or "scale" */
    bool dry_run;
    enum jp_field_validation fv;
    struct jp_warnings warnings;
    /* an update's written tree stays as the new version's parsed view (jp_api_view): for a
     * write whose object another component reads at once (a pod's final status, which its
     * Job counts next) - one parse less */
    bool keep_view;
    /* admission's lookups of other objects (a pod's service account) are skipped: the dry run
     * of files whose earlier objects create them */
    bool no_admission;
};

/* The result of a write: the object now stored (or that would be, for a dry run), referenced
 * for the caller, and the HTTP code: 201 created, 200 otherwise, 202 for a delete still pending
 * on finalizers. changed is false for a no-op update (resourceVersion unchanged). */
struct jp_write_result {
    struct jp_obj *obj;
    int code;
    bool changed;
    bool deleted; /* obj is the final state of a deleted object */
};

int jp_api_create(struct jp_write_ctx *c, json_t *body /* taken */, struct jp_write_result *out,
                  struct jp_status **st);
/* PUT: replaces the object (or its status, or the Scale). body taken. */
int jp_api_update(struct jp_write_ctx *c, const char *name, json_t *body,
                  struct jp_write_result *out, struct jp_status **st);
/* PATCH with a content type: merge, JSON patch, strategic merge or apply. */
int jp_api_patch(struct jp_write_ctx *c, const char *name, const char *content_type,
                 const char *patch, size_t len, const char *field_manager, bool force,
                 struct jp_write_result *out, struct jp_status **st);
/* Writes obj (taken) as the new version of cur with the full update strategy (defaults,
 * validation, no-op detection) but no client preconditions: for controllers that read cur. */
int jp_api_replace(struct jp_write_ctx *c, const struct jp_obj *cur, json_t *obj,
                   struct jp_write_result *out, struct jp_status **st);
/* Binds a pending pod to a node (what the pods/binding subresource does): spec.nodeName and a
 * PodScheduled=True condition in one write. */
int jp_api_bind_pod(struct jp_store *s, const struct jp_obj *pod, const char *node,
                    struct jp_status **st);
/* DELETE with DeleteOptions (may be NULL). */
int jp_api_delete(struct jp_write_ctx *c, const char *name, const json_t *options,
                  struct jp_write_result *out, struct jp_status **st);

/* True when an object must stay Terminating before removal: finalizers, or for a namespace its
 * spec.finalizers. */
bool jp_api_must_wait(const struct jp_kind *k, const json_t *obj);

/* Builds the Scale view of an object with a scale subresource. OUT: caller decrefs. */
json_t *jp_api_scale_of(const struct jp_kind *k, const struct jp_obj *o);
/* Parses an object's stored JSON. OUT: caller decrefs. */
json_t *jp_api_parse(const struct jp_obj *o);
/* The object's JSON parsed once and shared: READ-ONLY (never change it or anything in it; copy
 * first), NULL if unparsable. Loop thread only. OUT: caller decrefs. */
json_t *jp_api_view(const struct jp_obj *o);

void jp_write_ctx_free(struct jp_write_ctx *c);
void jp_write_result_free(struct jp_write_result *r);

/* Writes a new version of an existing or new object (for the api layer and controllers):
 * serializes obj with the next resourceVersion and puts it in the store. */
struct jp_obj *jp_api_store_put(struct jp_store *s, const struct jp_kind *k, json_t *obj);

#endif
