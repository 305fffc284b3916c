/* jobplane run's work on top of the engine: read manifests and create their objects the way
 * `kubectl apply` would (same errors), follow the Jobs to their end with live progress and
 * their pods' logs, summarize them, and tear down what still runs. */
#ifndef JP_RUNNER_H
#define JP_RUNNER_H

#include "agent/agent.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <uv.h>

struct jp_manifest {
    char *source; /* the file as named ("-" for stdin), for messages */
    json_t *obj;
};

struct jp_manifests {
    struct jp_manifest *v;
    size_t n;
};

/* Reads every file: YAML or JSON, several documents each, "-" for stdin; a List's items count
 * one by one. On bad input prints kubectl's message to ERR and returns -1. */
int jp_manifests_load(char *const *files, size_t nfiles, struct jp_manifests *out, FILE *err);
void jp_manifests_free(struct jp_manifests *m);

/* Creates the objects in order, each checked first in a dry run of all: nothing is created
 * unless everything is valid. Prints "job.batch/x created" lines to OUT; on an error prints what
 * kubectl would to ERR and returns -1. CREATED receives [{"kind", "group", "version", "plural",
 * "ns", "name"}]. */
int jp_manifests_apply(struct jp_store *store, const struct jp_manifests *m,
                       enum jp_agent_services reach, json_t *created, FILE *out, FILE *err);

struct jp_run_opts {
    bool logs; /* stream pod logs, each line prefixed [pod/NAME/CONTAINER] */
    bool tty;  /* redraw a status block in place rather than print progress lines */
    FILE *out;
};

struct jp_run;

/* Watches the Jobs among CREATED (started before apply, so no pod is missed) and calls
 * FINISHED once every Job has a terminal condition and the logs are drained. */
struct jp_run *jp_run_start(uv_loop_t *loop, struct jp_store *store, struct jp_agent *agent,
                            const struct jp_run_opts *o, void (*finished)(void *arg), void *arg);
void jp_run_track(struct jp_run *r, const json_t *created);
/* Prints each Job's outcome as describe's status lines to OUT; 0 if every Job completed. */
int jp_run_summary(struct jp_run *r, FILE *out);
/* Whether every Job has finished, now. */
bool jp_run_finished(struct jp_run *r);
/* Calls DONE once the log streams have delivered their last lines (or after a few seconds). */
void jp_run_drain(struct jp_run *r, void (*done)(void *arg), void *arg);
/* Ends the progress output; logs go on streaming (while the pods stop). */
void jp_run_freeze(struct jp_run *r);
void jp_run_stop(struct jp_run *r);

/* Deletes the CREATED objects (all, or all but Jobs) with background propagation and calls
 * DONE when no pod is left running, or after TIMEOUT_MS. */
void jp_teardown(uv_loop_t *loop, struct jp_store *store, const json_t *created, bool keep_jobs,
                 uint64_t timeout_ms, void (*done)(void *arg), void *arg);

#endif
