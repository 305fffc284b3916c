/* Queues live in a chained hash table keyed by name and in a list that keeps creation order.
 * Each message is one allocation (header + body), ~40 bytes of overhead beyond malloc's own. */
#include "kuard/memq/broker.h"
#include "base/alloc.h"
#include "base/jsonstr.h"
#include "base/rand.h"
#include "base/timefmt.h"

#include <stdlib.h>
#include <string.h>

struct memq_queue {
    char *name;
    uint32_t hash;
    struct memq_queue *hnext;       /* hash chain */
    struct memq_queue *prev, *next; /* creation order */
    struct memq_msg *head, *tail;
    int64_t depth, enqueued, dequeued, drained;
};

struct memq_broker {
    struct memq_queue **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    struct memq_queue *first, *last;
    size_t bytes, max_bytes;
};

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

struct memq_broker *memq_broker_new(size_t max_bytes)
{
    struct memq_broker *b = jp_xcalloc(1, sizeof(*b));
    b->nbuckets = 16;
    b->buckets = jp_xcalloc(b->nbuckets, sizeof(*b->buckets));
    b->max_bytes = max_bytes;
    return b;
}

static size_t msg_cost(size_t len)
{
    return sizeof(struct memq_msg) + len + 1;
}

static size_t queue_cost(const char *name)
{
    return sizeof(struct memq_queue) + strlen(name) + 1;
}

static void free_messages(struct memq_broker *b, struct memq_queue *q)
{
    struct memq_msg *m = q->head;
    while (m) {
        struct memq_msg *next = m->next;
        b->bytes -= msg_cost(m->len);
        free(m);
        m = next;
    }
    q->head = q->tail = NULL;
}

void memq_broker_free(struct memq_broker *b)
{
    if (b == NULL) return;
    struct memq_queue *q = b->first;
    while (q) {
        struct memq_queue *next = q->next;
        free_messages(b, q);
        free(q->name);
        free(q);
        q = next;
    }
    free(b->buckets);
    free(b);
}

static struct memq_queue **find_slot(const struct memq_broker *b, const char *name, uint32_t h)
{
    struct memq_queue **slot = &b->buckets[h & (b->nbuckets - 1)];
    while (*slot && ((*slot)->hash != h || strcmp((*slot)->name, name) != 0))
        slot = &(*slot)->hnext;
    return slot;
}

static struct memq_queue *find(const struct memq_broker *b, const char *name)
{
    return *find_slot(b, name, hash_name(name));
}

static void grow(struct memq_broker *b)
{
    size_t n = b->nbuckets * 2;
    struct memq_queue **nb = jp_xcalloc(n, sizeof(*nb));
    for (struct memq_queue *q = b->first; q; q = q->next) {
        q->hnext = nb[q->hash & (n - 1)];
        nb[q->hash & (n - 1)] = q;
    }
    free(b->buckets);
    b->buckets = nb;
    b->nbuckets = n;
}

enum memq_result memq_create(struct memq_broker *b, const char *name)
{
    uint32_t h = hash_name(name);
    if (*find_slot(b, name, h)) return MEMQ_ALREADY_EXISTS;
    if (b->bytes + queue_cost(name) > b->max_bytes) return MEMQ_FULL;
    if (b->count + 1 > b->nbuckets) grow(b);
    struct memq_queue *q = jp_xcalloc(1, sizeof(*q));
    q->name = jp_xstrdup(name);
    q->hash = h;
    struct memq_queue **slot = &b->buckets[h & (b->nbuckets - 1)];
    q->hnext = *slot;
    *slot = q;
    q->prev = b->last;
    if (b->last)
        b->last->next = q;
    else
        b->first = q;
    b->last = q;
    b->count++;
    b->bytes += queue_cost(name);
    return MEMQ_OK;
}

enum memq_result memq_delete(struct memq_broker *b, const char *name)
{
    struct memq_queue **slot = find_slot(b, name, hash_name(name));
    struct memq_queue *q = *slot;
    if (q == NULL) return MEMQ_NOT_EXIST;
    *slot = q->hnext;
    if (q->prev)
        q->prev->next = q->next;
    else
        b->first = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        b->last = q->prev;
    free_messages(b, q);
    b->bytes -= queue_cost(q->name);
    b->count--;
    free(q->name);
    free(q);
    return MEMQ_OK;
}

enum memq_result memq_drain(struct memq_broker *b, const char *name)
{
    struct memq_queue *q = find(b, name);
    if (q == NULL) return MEMQ_NOT_EXIST;
    free_messages(b, q);
    q->drained += q->depth;
    q->depth = 0;
    return MEMQ_OK;
}

enum memq_result memq_enqueue(struct memq_broker *b, const char *name, const void *body, size_t len,
                              const struct memq_msg **out)
{
    struct memq_queue *q = find(b, name);
    if (q == NULL) return MEMQ_NOT_EXIST;
    if (len > UINT32_MAX || b->bytes + msg_cost(len) > b->max_bytes) return MEMQ_FULL;
    struct memq_msg *m = jp_xmalloc(msg_cost(len));
    m->next = NULL;
    m->created_ns = jp_now_ns();
    jp_rand_bytes(m->id, sizeof(m->id));
    m->len = (uint32_t)len;
    if (len) memcpy(m->body, body, len);
    m->body[len] = '\0';
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->depth++;
    q->enqueued++;
    b->bytes += msg_cost(len);
    if (out) *out = m;
    return MEMQ_OK;
}

enum memq_result memq_dequeue(struct memq_broker *b, const char *name, struct memq_msg **out)
{
    struct memq_queue *q = find(b, name);
    if (q == NULL) return MEMQ_NOT_EXIST;
    struct memq_msg *m = q->head;
    if (m == NULL) return MEMQ_EMPTY;
    q->head = m->next;
    if (q->head == NULL) q->tail = NULL;
    m->next = NULL;
    q->depth--;
    q->dequeued++;
    *out = m;
    return MEMQ_OK;
}

void memq_msg_free(struct memq_broker *b, struct memq_msg *m)
{
    if (m == NULL) return;
    b->bytes -= msg_cost(m->len); /* counted until freed: it is still held in memory */
    free(m);
}

const char *memq_result_text(enum memq_result r)
{
    switch (r) {
    case MEMQ_OK:
        return "ok";
    case MEMQ_EMPTY:
        return "empty queue";
    case MEMQ_NOT_EXIST:
        return "does not exist";
    case MEMQ_ALREADY_EXISTS:
        return "already exists";
    case MEMQ_FULL:
        return "queue server full";
    }
    return "unknown";
}

int memq_stats_json(const struct memq_broker *b, struct jp_buf *out)
{
    int rc = jp_buf_printf(out, "{\"kind\":\"stats\",\"queues\":[");
    for (struct memq_queue *q = b->first; q && rc == 0; q = q->next) {
        rc |= jp_buf_printf(out, "%s{\"name\":", q == b->first ? "" : ",");
        rc |= jp_json_quote(out, q->name, strlen(q->name), JP_JSON_HTML_ESCAPE);
        rc |= jp_buf_printf(out,
                            ",\"depth\":%lld,\"enqueued\":%lld,\"dequeued\":%lld,\"drained\":%lld}",
                            (long long)q->depth, (long long)q->enqueued, (long long)q->dequeued,
                            (long long)q->drained);
    }
    rc |= jp_buf_append(out, "]}\n", 3);
    return rc ? -1 : 0;
}

int memq_msg_json(const struct memq_msg *m, struct jp_buf *out)
{
    char id[33], ts[JP_TIME_BUFLEN];
    jp_hex(id, m->id, sizeof(m->id));
    jp_time_format(ts, m->created_ns, JP_TIME_NANO_TRIM);
    int rc = jp_buf_printf(out, "{\"kind\":\"message\",\"id\":\"%s\",\"body\":", id);
    rc |= jp_json_quote(out, m->body, m->len, JP_JSON_HTML_ESCAPE);
    rc |= jp_buf_printf(out, ",\"creationTimestamp\":\"%s\"}\n", ts);
    return rc ? -1 : 0;
}

void memq_foreach(const struct memq_broker *b, void (*fn)(const struct memq_queue_stat *, void *),
                  void *arg)
{
    for (struct memq_queue *q = b->first; q; q = q->next) {
        struct memq_queue_stat s = {q->name, q->depth, q->enqueued, q->dequeued, q->drained};
        fn(&s, arg);
    }
}

size_t memq_queue_count(const struct memq_broker *b)
{
    return b->count;
}
