/* Shared between the manager (keygen.c, loop thread) and the workload bodies (workload.c, worker
 * threads). A worker only reads its own config copy and reports through workload_post(). */
#ifndef KUARD_KEYGEN_INTERNAL_H
#define KUARD_KEYGEN_INTERNAL_H

#include "kuard/keygen/config.h"

#include <stdatomic.h>
#include <uv.h>

struct keygen;

struct workload {
    struct keygen *kg;
    int id;
    int rsa_bits;
    struct keygen_config c; /* owned copy */
    atomic_bool cancel;
    uv_mutex_t sleep_mu; /* with sleep_cv: a cancellable sleep */
    uv_cond_t sleep_cv;
    uv_thread_t thread;
    struct workload *next; /* the manager's list of live workloads */
};

enum workload_event { WL_LINE, WL_EXIT, WL_FINISHED };

/* Thread-safe: hands an event to the loop thread. */
void workload_post(struct workload *w, enum workload_event type, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Thread bodies. Each ends by posting WL_FINISHED. */
void workload_run_keys(void *arg);
void workload_run_memq(void *arg);

/* Sleeps up to ms, returning early when the workload is cancelled. */
void workload_sleep(struct workload *w, unsigned ms);

#endif
