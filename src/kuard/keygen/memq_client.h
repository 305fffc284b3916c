/* A blocking memq client for the consumer workload thread (libcurl, one kept-alive connection). */
#ifndef KUARD_KEYGEN_MEMQ_CLIENT_H
#define KUARD_KEYGEN_MEMQ_CLIENT_H

#include "base/err.h"

#include <stdatomic.h>

struct memq_client;

enum memq_dequeue_result { MEMQ_DQ_ITEM, MEMQ_DQ_EMPTY, MEMQ_DQ_ERROR };

/* base_url is --keygen-memq-server (e.g. http://queue:8080/memq/server). A request in flight is
 * abandoned when *cancel becomes true. */
struct memq_client *memq_client_new(const char *base_url, const char *queue,
                                    const atomic_bool *cancel);
void memq_client_free(struct memq_client *c);

/* POST {base}/queues/{queue}/dequeue. MEMQ_DQ_ERROR fills err with the text kuard logs, e.g.
 * "HTTP Error: 400 Bad Request" or `Post "URL": Couldn't connect to server`. */
enum memq_dequeue_result memq_client_dequeue(struct memq_client *c, struct jp_err **err);

#endif
