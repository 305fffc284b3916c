/* kuard's debug probes (/healthy, /ready): answer "ok", or fail the next N calls (or forever) as
 * configured by --liveness-fail-next / --readiness-fail-next or PUT {base}/api. */
#ifndef KUARD_PROBE_H
#define KUARD_PROBE_H

#include "kuard/reply.h"

#include <stdint.h>

#define KUARD_PROBE_HISTORY 20

struct kuard_probe {
    int64_t fail_next; /* > 0: fail that many more; < 0: fail forever */
    int last_id;
    int len;
    struct {
        int id;
        int64_t when_ns;
        int code;
    } history[KUARD_PROBE_HISTORY];
};

/* GET {base}: 200 "ok" or 500 "fail, N left" / "fail, permanent", recorded in the history. */
void kuard_probe_check(struct kuard_probe *p, struct kuard_reply *r);
/* GET {base}/api: {"probePath":"","failNext":N,"history":[newest first]} */
void kuard_probe_status(const struct kuard_probe *p, struct kuard_reply *r);
/* PUT {base}/api with {"failNext":N}; replies like GET. */
void kuard_probe_configure(struct kuard_probe *p, const char *body, size_t len,
                           struct kuard_reply *r);

#endif
