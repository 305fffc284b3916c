/* The memq broker: named FIFO queues of opaque messages, owned by the loop thread (no locks).
 * Semantics follow kuard's Go broker: create/delete/drain queues, enqueue at the tail, dequeue
 * from the head, per-queue counters. Messages are stored byte-exact. */
#ifndef KUARD_MEMQ_BROKER_H
#define KUARD_MEMQ_BROKER_H

#include "base/buf.h"

#include <stddef.h>
#include <stdint.h>

struct memq_broker;

struct memq_msg {
    struct memq_msg *next;
    int64_t created_ns;
    uint8_t id[16];
    uint32_t len;
    char body[]; /* len bytes, any values; NUL-terminated for convenience */
};

enum memq_result {
    MEMQ_OK,
    MEMQ_EMPTY,          /* dequeue on an empty queue */
    MEMQ_NOT_EXIST,      /* "does not exist" */
    MEMQ_ALREADY_EXISTS, /* "already exists" */
    MEMQ_FULL,           /* the broker's byte budget would be exceeded */
};

/* max_bytes caps the memory held by queued messages and queues together. */
struct memq_broker *memq_broker_new(size_t max_bytes);
void memq_broker_free(struct memq_broker *b);

enum memq_result memq_create(struct memq_broker *b, const char *name);
enum memq_result memq_delete(struct memq_broker *b, const char *name);
enum memq_result memq_drain(struct memq_broker *b, const char *name);
/* On MEMQ_OK, *out (if not NULL) points at the stored message, borrowed until the next call. */
enum memq_result memq_enqueue(struct memq_broker *b, const char *name, const void *body, size_t len,
                              const struct memq_msg **out);
/* On MEMQ_OK, *out is the message, now owned by the caller: release with memq_msg_free. */
enum memq_result memq_dequeue(struct memq_broker *b, const char *name, struct memq_msg **out);
void memq_msg_free(struct memq_broker *b, struct memq_msg *m);

/* Text of a result as kuard's HTTP API prints it ("does not exist", ...). */
const char *memq_result_text(enum memq_result r);

/* Appends kuard's stats document: {"kind":"stats","queues":[{"name",...}]} (queues in creation
 * order). Returns -1 if the buffer's cap is hit. */
int memq_stats_json(const struct memq_broker *b, struct jp_buf *out);
/* Appends one message as kuard's JSON: {"kind":"message","id",...,"creationTimestamp"}. */
int memq_msg_json(const struct memq_msg *m, struct jp_buf *out);

/* Visits queues in creation order (for the HTML page). */
struct memq_queue_stat {
    const char *name;
    int64_t depth, enqueued, dequeued, drained;
};
void memq_foreach(const struct memq_broker *b, void (*fn)(const struct memq_queue_stat *, void *),
                  void *arg);
size_t memq_queue_count(const struct memq_broker *b);

#endif
