/* The object store: every object in memory as its serialized JSON plus a projection owned by the
 * api layer, persisted in SQLite. One global revision is every object's resourceVersion. Writes
 * made during one loop turn commit in one transaction at the end of the turn (group commit);
 * watchers and waiting writers hear about them only after that commit. See
 * docs/internals/store.md. Loop-thread only. */
#ifndef JP_STORE_H
#define JP_STORE_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* An immutable stored version of an object, shared by the index, watch events and in-flight
 * replies through a reference count. */
struct jp_obj {
    unsigned refs;
    uint16_t kind; /* the api layer's kind index */
    char *ns;      /* "" for cluster-scoped kinds */
    char *name;
    uint64_t rv;
    char *json; /* serialized object, resourceVersion included */
    size_t len;
    void *proj; /* the kind's projection (labels, owner, phase...), built by the api layer */
    void (*proj_free)(void *proj);
    /* A parsed form the api layer may attach and drop later (a cache: see jp_api_view). */
    void *view;
    void (*view_free)(void *view);
};

struct jp_obj *jp_obj_new(uint16_t kind, const char *ns, const char *name, char *json /* taken */,
                          size_t len, void *proj /* taken */, void (*proj_free)(void *));
struct jp_obj *jp_obj_ref(const struct jp_obj *o);
void jp_obj_unref(struct jp_obj *o);

enum jp_event_type { JP_EV_ADDED, JP_EV_MODIFIED, JP_EV_DELETED };

struct jp_event {
    enum jp_event_type type;
    uint64_t rev;
    const struct jp_obj *old; /* NULL for ADDED */
    const struct jp_obj *obj; /* the new state; for DELETED, the final state (rv = rev) */
};

struct jp_store_hooks {
    unsigned nkinds;
    /* Names a kind in the database (its plural, e.g. "jobs", "pods") and back. */
    const char *(*kind_name)(uint16_t kind);
    int (*kind_index)(const char *name);
    /* Rebuilds an object from a stored row at load time (projection included); NULL means the
     * row is unusable and is skipped with a warning. */
    struct jp_obj *(*load)(uint16_t kind, const char *ns, const char *name, const char *json,
                           size_t len);
};

struct jp_store_opts {
    const char *path;        /* SQLite file */
    bool sync_full;          /* synchronous=FULL (default) vs NORMAL */
    unsigned watch_log_size; /* events kept for watches from an older revision; 0: 4096 */
};

struct jp_store;

int jp_store_open(uv_loop_t *loop, const struct jp_store_opts *opts,
                  const struct jp_store_hooks *hooks, struct jp_store **out, struct jp_err **err);
void jp_store_close(struct jp_store *s);

uint64_t jp_store_revision(const struct jp_store *s);
const struct jp_obj *jp_store_get(const struct jp_store *s, uint16_t kind, const char *ns,
                                  const char *name);
size_t jp_store_count(const struct jp_store *s, uint16_t kind);

/* Iterates a kind in key order (namespace, then name), optionally only in ns, starting after
 * (after_ns, after_name) when given. Stop by returning false. */
void jp_store_scan(const struct jp_store *s, uint16_t kind, const char *ns, const char *after_ns,
                   const char *after_name, bool (*fn)(const struct jp_obj *o, void *arg),
                   void *arg);

/* Writes. Each takes the next revision and is visible to reads at once; it becomes durable at
 * the end of the loop turn. The object's json must already carry resourceVersion =
 * jp_store_next_revision(), which the store also sets as obj->rv.
 * put: creates or replaces. delete: removes; obj is the final state reported to watchers. */
uint64_t jp_store_next_revision(const struct jp_store *s);
void jp_store_put(struct jp_store *s, struct jp_obj *obj /* taken */);
void jp_store_delete(struct jp_store *s, struct jp_obj *final /* taken */);

/* Calls fn once every write made so far is committed (status 0) or failed to commit (status -1,
 * the writes were undone). Runs on the loop, never inside the call. */
void jp_store_when_durable(struct jp_store *s, void (*fn)(int status, void *arg), void *arg);

/* Subscribers hear every committed event, in revision order. */
struct jp_store_sub;
struct jp_store_sub *
jp_store_subscribe(struct jp_store *s, void (*fn)(const struct jp_event *ev, void *arg), void *arg);
void jp_store_unsubscribe(struct jp_store *s, struct jp_store_sub *sub);

/* Replays committed events after rev from the watch log. Returns -1 (nothing replayed) when the
 * log no longer holds all of them: the caller answers 410 Expired. */
int jp_store_replay(const struct jp_store *s, uint64_t rev,
                    void (*fn)(const struct jp_event *ev, void *arg), void *arg);
uint64_t jp_store_oldest_replayable(const struct jp_store *s);

#endif
