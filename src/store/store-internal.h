/* Shared inside src/store only: the store's state and the seams between its files
 * (store.c: index and changes; commit.c: SQLite and group commit; watch.c: log and subscribers). */
#ifndef JP_STORE_INTERNAL_H
#define JP_STORE_INTERNAL_H

#include "store/store.h"

#include <sqlite3.h>

struct kind_index {
    struct jp_obj **items; /* sorted by (ns, name) */
    size_t n, cap;
};

struct change {
    uint16_t kind;
    uint64_t rev;
    struct jp_obj *old;   /* before, or NULL */
    struct jp_obj *new;   /* after a put, or NULL */
    struct jp_obj *final; /* after a delete: the state watchers get, or NULL */
};

struct waiter {
    void (*fn)(int status, void *arg);
    void *arg;
};

struct jp_store_sub {
    void (*fn)(const struct jp_event *ev, void *arg);
    void *arg;
    bool dead;
    struct jp_store_sub *next;
};

struct checkpointer; /* commit.c */

struct jp_store {
    uv_loop_t *loop;
    struct jp_store_hooks hooks;
    struct kind_index *index; /* one per kind */
    uint64_t revision;
    uint64_t batch_start; /* revision before the first uncommitted change */

    struct change *changes;
    size_t nchanges, cchanges;
    struct waiter *waiters;
    size_t nwaiters, cwaiters;

    sqlite3 *db;
    sqlite3_stmt *upsert, *remove, *set_rev, *begin, *commit, *rollback;
    uv_check_t check; /* commits after the loop's I/O phase */
    uv_idle_t idle;   /* keeps the poll from blocking while a batch waits */
    bool scheduled;
    int open_handles;
    struct checkpointer *ckpt;

    /* watch log: a ring of the newest committed events */
    struct jp_event *log;
    unsigned log_cap, log_len, log_head; /* head: index of the oldest */
    size_t log_bytes;                    /* object JSON the log holds */
    uint64_t log_floor;                  /* every event with rev > log_floor is in the log */
    struct jp_store_sub *subs;
    int dispatching;
};

void jp_store__schedule_commit(struct jp_store *s);
void jp_store__undo(struct jp_store *s);
void jp_store__release_changes(struct jp_store *s);
void jp_store__index_load(struct jp_store *s, struct jp_obj *o);
void jp_store__index_sort(struct jp_store *s);
void jp_store__index_free(struct jp_store *s);
/* watch.c */
void jp_store__log_init(struct jp_store *s, unsigned cap);
void jp_store__publish(struct jp_store *s); /* the batch's events: into the log, to subscribers */
void jp_store__log_free(struct jp_store *s);

#endif
