/* Shared between the run's progress (watch.c) and its log streams (logs.c). */
#ifndef JP_RUNNER_INTERNAL_H
#define JP_RUNNER_INTERNAL_H

#include "base/buf.h"
#include "runner/runner.h"

struct stream; /* one container's log, followed (logs.c) */

struct jp_run {
    uv_loop_t *loop;
    struct jp_store *store;
    struct jp_agent *agent;
    struct jp_run_opts opts;
    struct jp_store_sub *sub;
    uint16_t kind_jobs, kind_pods, kind_events;
    json_t *jobs; /* [{"ns":..,"name":..,"line":last progress line}] */
    json_t *pods; /* "ns/name" -> true: pods created during the run, whose logs we show */
    int64_t start_ns;
    int drawn; /* lines of the status block on a terminal */
    bool finishing, stopped, frozen;
    int64_t finishing_since, drain_until;
    void (*drained)(void *arg);
    void *drain_arg;
    uv_timer_t tick;
    struct stream *streams;
    void (*finished)(void *arg);
    void *arg;
};

/* Starts or renews the log streams of a pod's containers as they (re)start. */
void run__pod_changed(struct jp_run *r, const struct jp_obj *pod);
/* Stops streams that ended; true while any is still open. */
/* Log streams still to drain; finished_pods_only: only those of pods that have finished. */
bool run__streams_busy(struct jp_run *r, bool finished_pods_only);
void run__streams_stop(struct jp_run *r);
/* Writes lines above the status block (erasing and redrawing it on a terminal). */
void run__print(struct jp_run *r, const char *text, size_t n);

#endif
