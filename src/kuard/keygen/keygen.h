/* kuard's keygen workload manager: runs the configured workload on a worker thread (so key
 * generation never stalls the HTTP loop), keeps the last 20 output lines, and restarts the
 * workload when the configuration changes (PUT /keygen). Loop-thread API only. */
#ifndef KUARD_KEYGEN_H
#define KUARD_KEYGEN_H

#include "base/buf.h"
#include "base/err.h"
#include "kuard/keygen/config.h"

#include <uv.h>

#define KEYGEN_MAX_HISTORY 20

struct keygen;

struct keygen_opts {
    int rsa_bits; /* 4096 like kuard */
    /* Runs on the loop when a workload completes with exit-on-complete set. */
    void (*on_exit)(int code, void *arg);
    void *arg;
};

struct keygen *keygen_new(uv_loop_t *loop, const struct keygen_opts *opts);
/* Cancels the running workload (if any) and starts one for c when c->enable. */
void keygen_load(struct keygen *kg, const struct keygen_config *c);
/* GET /keygen: {"config":{...},"history":[{"id":0,"data":"..."}]} */
int keygen_status_json(const struct keygen *kg, struct jp_buf *out);
void keygen_foreach_line(const struct keygen *kg, void (*fn)(int id, const char *line, void *arg),
                         void *arg);
/* Cancels every workload and waits for their threads; kg is freed once the loop closes it. */
void keygen_close(struct keygen *kg);

#endif
