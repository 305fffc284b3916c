/* The two workload bodies kuard runs, with its exact log lines:
 *   keys: "(ID 0) Workload starting", "(ID 0 3/10) Item done: SHA256:...", "(ID 0) Workload
 * exiting" memq: "MemQ Worker starting", "Item done: SHA256:...", "Error talking to server: ...
 * Retrying after 1s.", "Queue is empty. Retrying after 1s." */
#include "base/log.h"
#include "base/timefmt.h"
#include "kuard/keygen/fingerprint.h"
#include "kuard/keygen/keygen-internal.h"
#include "kuard/keygen/memq_client.h"
#include "kuard/reltime.h"

#include <stdio.h>
#include <stdlib.h>

static bool keys_done(struct workload *w, int64_t generated, int64_t end_ns)
{
    if (atomic_load(&w->cancel)) {
        workload_post(w, WL_LINE, 0, "(ID %d) Workload exiting", w->id);
        return true;
    }
    if ((end_ns && jp_mono_ns() >= end_ns) ||
        (w->c.num_to_gen > 0 && generated >= w->c.num_to_gen)) {
        workload_post(w, WL_LINE, 0, "(ID %d) Workload exiting", w->id);
        if (w->c.exit_on_complete) workload_post(w, WL_EXIT, (int)w->c.exit_code, "exit");
        return true;
    }
    return false;
}

void workload_run_keys(void *arg)
{
    struct workload *w = arg;
    workload_post(w, WL_LINE, 0, "(ID %d) Workload starting", w->id);
    int64_t end_ns = w->c.time_to_run > 0 ? jp_mono_ns() + w->c.time_to_run * JP_NS_PER_SEC : 0;
    int64_t generated = 0;
    while (!keys_done(w, generated, end_ns)) {
        char fp[KEYGEN_FP_LEN];
        struct jp_err *err = NULL;
        const char *desc = fp;
        if (keygen_generate(w->rsa_bits, &w->cancel, fp, &err) < 0) {
            if (err->reason == JP_GONE) { /* cancelled: the loop condition reports it */
                jp_err_free(err);
                continue;
            }
            desc = err->msg;
        }
        generated++;
        char count[48], left[64] = "";
        if (w->c.num_to_gen > 0)
            snprintf(count, sizeof(count), " %lld/%lld", (long long)generated,
                     (long long)w->c.num_to_gen);
        else
            snprintf(count, sizeof(count), " %lld/Inf", (long long)generated);
        if (end_ns) {
            left[0] = ' ';
            kuard_reltime(left + 1, sizeof(left) - 1, jp_mono_ns(), end_ns, "left", "overdue");
        }
        workload_post(w, WL_LINE, 0, "(ID %d%s%s) Item done: %s", w->id, count, left, desc);
        jp_err_free(err);
    }
    workload_post(w, WL_FINISHED, 0, "finished");
}

void workload_run_memq(void *arg)
{
    struct workload *w = arg;
    workload_post(w, WL_LINE, 0, "MemQ Worker starting");
    struct memq_client *mc = memq_client_new(w->c.memq_server, w->c.memq_queue, &w->cancel);
    while (mc && !atomic_load(&w->cancel)) {
        struct jp_err *err = NULL;
        enum memq_dequeue_result r = memq_client_dequeue(mc, &err);
        if (atomic_load(&w->cancel)) {
            jp_err_free(err);
            break;
        }
        if (r == MEMQ_DQ_ERROR) {
            workload_post(w, WL_LINE, 0, "Error talking to server: %s. Retrying after 1s.",
                          err->msg);
            jp_err_free(err);
            workload_sleep(w, 1000);
            continue;
        }
        if (r == MEMQ_DQ_EMPTY) {
            if (w->c.exit_on_complete) {
                workload_post(w, WL_EXIT, (int)w->c.exit_code, "exit");
                break;
            }
            workload_post(w, WL_LINE, 0, "Queue is empty. Retrying after 1s.");
            workload_sleep(w, 1000);
            continue;
        }
        char fp[KEYGEN_FP_LEN];
        if (keygen_generate(w->rsa_bits, &w->cancel, fp, &err) < 0) {
            if (err->reason != JP_GONE) workload_post(w, WL_LINE, 0, "Item done: %s", err->msg);
            jp_err_free(err);
            continue;
        }
        workload_post(w, WL_LINE, 0, "Item done: %s", fp);
    }
    if (mc == NULL) workload_post(w, WL_LINE, 0, "Error talking to server: cannot create client");
    if (atomic_load(&w->cancel)) workload_post(w, WL_LINE, 0, "MemQ Worker shutting down");
    memq_client_free(mc);
    workload_post(w, WL_FINISHED, 0, "finished");
}
