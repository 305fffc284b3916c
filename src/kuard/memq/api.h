/* kuard's memq HTTP API (/memq/server/...) as a pure function over the broker, so the server,
 * tests and the fuzzer all exercise the same request path. */
#ifndef KUARD_MEMQ_API_H
#define KUARD_MEMQ_API_H

#include "kuard/memq/broker.h"
#include "kuard/reply.h"

/* path is what follows "/memq/server", already percent-decoded (e.g. "/queues/keygen/enqueue"). */
void memq_api_handle(struct memq_broker *b, const char *method, const char *path, const char *body,
                     size_t len, struct kuard_reply *r);

#endif
