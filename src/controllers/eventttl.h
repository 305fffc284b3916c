/* Events expire: kube-apiserver keeps an Event for --event-ttl (1 h) after its last write, so a
 * long-running server's memory does not grow with every pod it ever ran. */
#ifndef JP_CONTROLLERS_EVENTTTL_H
#define JP_CONTROLLERS_EVENTTTL_H

#include "store/store.h"

#include <stdint.h>
#include <uv.h>

struct jp_eventttl;

struct jp_eventttl *jp_eventttl_start(uv_loop_t *loop, struct jp_store *store, int64_t ttl_ns);
void jp_eventttl_stop(struct jp_eventttl *t);

#endif
