/* The event recorder components share (scheduler, node agent, controllers): core/v1 Events as
 * Kubernetes components write them, with repeats of the same event counted up on one object
 * instead of piling up new ones. Writes go through the api path like any other client's. */
#ifndef JP_API_RECORD_H
#define JP_API_RECORD_H

#include "store/store.h"

#include <jansson.h>

struct jp_recorder;

/* component: "kubelet", "default-scheduler", "job-controller"...; host: the node or NULL. */
struct jp_recorder *jp_recorder_new(struct jp_store *s, const char *component, const char *host);
void jp_recorder_free(struct jp_recorder *r);

/* What the event is about. field_path: e.g. "spec.containers{kuard}", or NULL. */
struct jp_event_about {
    const char *kind, *api_version, *ns, *name, *uid, *resource_version, *field_path;
};

/* type: "Normal" or "Warning". A failure to record is logged, never fatal. */
void jp_record(struct jp_recorder *r, const struct jp_event_about *about, const char *type,
               const char *reason, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
