/* SQLite persistence: schema, loading at open, and the group commit that runs once per loop turn
 * after the I/O phase (uv_check), with a uv_idle keeping the poll from blocking while a batch
 * waits. A failed commit is rolled back in SQLite and undone in memory, and its waiters hear -1.
 * WAL checkpoints run on a helper thread with its own connection, never inside our COMMIT
 * (automatic checkpoints there caused 30 ms p99 spikes in the spike measurements).
 *
 * Schema version recipe: bump SCHEMA_VERSION, add the migration step to migrate(), keep old
 * steps so any older database opens. */
#include "base/alloc.h"
#include "base/log.h"
#include "store/store-internal.h"

#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION       2
#define CHECKPOINT_PERIOD_MS 1000

struct checkpointer {
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    bool stop, dirty;
    sqlite3 *db;
};

static int sql_err(sqlite3 *db, struct jp_err **err, const char *what)
{
    return jp_err_set(err, JP_INTERNAL, 0, "store: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, struct jp_err **err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        jp_err_set(err, JP_INTERNAL, 0, "store: %s: %s", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int migrate(sqlite3 *db, struct jp_err **err)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return sql_err(db, err, "read schema version");
    if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > SCHEMA_VERSION)
        return jp_err_set(err, JP_INTERNAL, 0,
                          "store: database schema %d is newer than this jobplane (%d)", version,
                          SCHEMA_VERSION);
    if (version < 1 &&
        exec(db,
             "BEGIN;"
             "CREATE TABLE objects(kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,"
             " rv INTEGER NOT NULL, json BLOB NOT NULL, PRIMARY KEY(kind, ns, name))"
             " WITHOUT ROWID;"
             "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
             "INSERT INTO meta VALUES('revision', 0);"
             "PRAGMA user_version = 1;"
             "COMMIT;",
             err) < 0)
        return -1;
    /* 2: rows in a rowid table. In a WITHOUT ROWID table a row is kept in the key's b-tree,
     * where a cell over ~1 KB spills into overflow pages: a 4 KB pod was five pages rewritten on
     * every update. A table leaf holds it whole, and an upsert that keeps the row's id leaves
     * the (kind, ns, name) index alone: one page. */
    if (version < 2 &&
        exec(
            db,
            "BEGIN;"
            "CREATE TABLE objects_v2(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ns TEXT NOT NULL,"
            " name TEXT NOT NULL, rv INTEGER NOT NULL, json BLOB NOT NULL, UNIQUE(kind, ns, name));"
            "INSERT INTO objects_v2(kind, ns, name, rv, json)"
            " SELECT kind, ns, name, rv, json FROM objects;"
            "DROP TABLE objects;"
            "ALTER TABLE objects_v2 RENAME TO objects;"
            "PRAGMA user_version = 2;"
            "COMMIT;",
            err) < 0)
        return -1;
    return 0;
}

static int prepare(struct jp_store *s, struct jp_err **err)
{
    static const struct {
        size_t off;
        const char *sql;
    } stmts[] = {
        {offsetof(struct jp_store, upsert),
         "INSERT INTO objects(kind, ns, name, rv, json) VALUES(?, ?, ?, ?, ?)"
         " ON CONFLICT(kind, ns, name) DO UPDATE SET rv = excluded.rv, json = excluded.json"},
        {offsetof(struct jp_store, remove), "DELETE FROM objects WHERE kind=? AND ns=? AND name=?"},
        {offsetof(struct jp_store, set_rev), "UPDATE meta SET value=? WHERE key='revision'"},
        {offsetof(struct jp_store, begin), "BEGIN"},
        {offsetof(struct jp_store, commit), "COMMIT"},
        {offsetof(struct jp_store, rollback), "ROLLBACK"},
    };
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        sqlite3_stmt **slot = (sqlite3_stmt **)((char *)s + stmts[i].off);
        if (sqlite3_prepare_v3(s->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
            SQLITE_OK)
            return sql_err(s->db, err, stmts[i].sql);
    }
    return 0;
}

static int load(struct jp_store *s, struct jp_err **err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='revision'", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_err(s->db, err, "read revision");
    if (sqlite3_step(st) == SQLITE_ROW) s->revision = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db, "SELECT kind, ns, name, rv, json FROM objects", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_err(s->db, err, "read objects");
    size_t skipped = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kname = (const char *)sqlite3_column_text(st, 0);
        int kind = s->hooks.kind_index(kname);
        const char *ns = (const char *)sqlite3_column_text(st, 1);
        const char *name = (const char *)sqlite3_column_text(st, 2);
        uint64_t rv = (uint64_t)sqlite3_column_int64(st, 3);
        const char *json = sqlite3_column_blob(st, 4);
        size_t len = (size_t)sqlite3_column_bytes(st, 4);
        struct jp_obj *o =
            kind < 0 ? NULL : s->hooks.load((uint16_t)kind, ns, name, json ? json : "", len);
        if (o == NULL) {
            jp_log(JP_WARN, "store", "skipping unreadable %s %s/%s", kname, ns, name);
            skipped++;
            continue;
        }
        o->rv = rv;
        if (rv > s->revision) s->revision = rv; /* never hand out a revision twice */
        jp_store__index_load(s, o);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return sql_err(s->db, err, "read objects");
    jp_store__index_sort(s);
    if (skipped) jp_log(JP_WARN, "store", "%zu stored objects could not be loaded", skipped);
    return 0;
}

static void checkpoint_main(void *arg)
{
    struct checkpointer *c = arg;
    uv_mutex_lock(&c->mu);
    while (!c->stop) {
        uv_cond_timedwait(&c->cv, &c->mu, CHECKPOINT_PERIOD_MS * 1000000ull);
        if (c->stop || !c->dirty) continue;
        c->dirty = false;
        uv_mutex_unlock(&c->mu);
        /* PASSIVE never blocks the writer; it copies what it can and lets the WAL be reused. */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        uv_mutex_lock(&c->mu);
    }
    uv_mutex_unlock(&c->mu);
}

static int checkpointer_start(struct jp_store *s, const char *path, struct jp_err **err)
{
    struct checkpointer *c = jp_xcalloc(1, sizeof(*c));
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return jp_err_set(err, JP_INTERNAL, 0, "store: open %s for checkpoints", path);
    }
    sqlite3_busy_timeout(c->db, 1000);
    uv_mutex_init(&c->mu);
    uv_cond_init(&c->cv);
    if (uv_thread_create(&c->thread, checkpoint_main, c) != 0) {
        uv_mutex_destroy(&c->mu);
        uv_cond_destroy(&c->cv);
        sqlite3_close(c->db);
        free(c);
        return jp_err_set(err, JP_INTERNAL, 0, "store: cannot start checkpoint thread");
    }
    s->ckpt = c;
    return 0;
}

static void checkpointer_stop(struct checkpointer *c)
{
    if (c == NULL) return;
    uv_mutex_lock(&c->mu);
    c->stop = true;
    uv_cond_signal(&c->cv);
    uv_mutex_unlock(&c->mu);
    uv_thread_join(&c->thread);
    sqlite3_close(c->db);
    uv_mutex_destroy(&c->mu);
    uv_cond_destroy(&c->cv);
    free(c);
}

static int step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int write_batch(struct jp_store *s)
{
    if (step(s->begin) < 0) return -1;
    for (size_t i = 0; i < s->nchanges; i++) {
        const struct change *c = &s->changes[i];
        const char *kname = s->hooks.kind_name(c->kind);
        if (c->new) {
            sqlite3_bind_text(s->upsert, 1, kname, -1, SQLITE_STATIC);
            sqlite3_bind_text(s->upsert, 2, c->new->ns, -1, SQLITE_STATIC);
            sqlite3_bind_text(s->upsert, 3, c->new->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s->upsert, 4, (sqlite3_int64)c->rev);
            sqlite3_bind_blob(s->upsert, 5, c->new->json, (int)c->new->len, SQLITE_STATIC);
            if (step(s->upsert) < 0) return -1;
        } else {
            sqlite3_bind_text(s->remove, 1, kname, -1, SQLITE_STATIC);
            sqlite3_bind_text(s->remove, 2, c->final->ns, -1, SQLITE_STATIC);
            sqlite3_bind_text(s->remove, 3, c->final->name, -1, SQLITE_STATIC);
            if (step(s->remove) < 0) return -1;
        }
    }
    sqlite3_bind_int64(s->set_rev, 1, (sqlite3_int64)s->revision);
    if (step(s->set_rev) < 0) return -1;
    return step(s->commit);
}

static void run_waiters(struct jp_store *s, int status)
{
    /* A waiter may write (and add waiters for the next batch): take the list first. */
    struct waiter *w = s->waiters;
    size_t n = s->nwaiters;
    s->waiters = NULL;
    s->nwaiters = s->cwaiters = 0;
    for (size_t i = 0; i < n; i++)
        w[i].fn(status, w[i].arg);
    free(w);
}

static void commit_now(struct jp_store *s)
{
    s->scheduled = false;
    uv_check_stop(&s->check);
    uv_idle_stop(&s->idle);
    int status = 0;
    if (s->nchanges > 0) {
        if (write_batch(s) == 0) {
            jp_store__publish(s);
            if (s->ckpt) {
                uv_mutex_lock(&s->ckpt->mu);
                s->ckpt->dirty = true;
                uv_mutex_unlock(&s->ckpt->mu);
            }
        } else {
            jp_log(JP_ERROR, "store", "commit of %zu changes failed, undone: %s", s->nchanges,
                   sqlite3_errmsg(s->db));
            sqlite3_reset(s->commit);
            step(s->rollback);
            jp_store__undo(s);
            status = -1;
        }
        jp_store__release_changes(s);
    }
    run_waiters(s, status);
}

static void check_cb(uv_check_t *h)
{
    commit_now(h->data);
}

static void idle_cb(uv_idle_t *h)
{
    (void)h; /* only here so the loop polls without blocking until the check runs */
}

void jp_store__schedule_commit(struct jp_store *s)
{
    if (s->scheduled) return;
    s->scheduled = true;
    uv_check_start(&s->check, check_cb);
    uv_idle_start(&s->idle, idle_cb);
}

void jp_store_when_durable(struct jp_store *s, void (*fn)(int status, void *arg), void *arg)
{
    if (s->nwaiters == s->cwaiters) {
        s->cwaiters = s->cwaiters ? s->cwaiters * 2 : 16;
        s->waiters = jp_xrealloc(s->waiters, s->cwaiters * sizeof(*s->waiters));
    }
    s->waiters[s->nwaiters++] = (struct waiter){fn, arg};
    jp_store__schedule_commit(s); /* even with nothing pending, fn runs on the loop, later */
}

int jp_store_open(uv_loop_t *loop, const struct jp_store_opts *opts,
                  const struct jp_store_hooks *hooks, struct jp_store **out, struct jp_err **err)
{
    struct jp_store *s = jp_xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->hooks = *hooks;
    s->index = jp_xcalloc(hooks->nkinds ? hooks->nkinds : 1, sizeof(*s->index));
    if (sqlite3_open_v2(opts->path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                            SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        jp_err_set(err, JP_INTERNAL, 0, "store: open %s: %s", opts->path,
                   s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char pragmas[160];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA wal_autocheckpoint=0;"
             " PRAGMA foreign_keys=OFF;",
             opts->sync_full ? "FULL" : "NORMAL");
    if (exec(s->db, pragmas, err) < 0 || migrate(s->db, err) < 0 || prepare(s, err) < 0 ||
        load(s, err) < 0)
        goto fail;
    if (checkpointer_start(s, opts->path, err) < 0) goto fail;
    jp_store__log_init(s, opts->watch_log_size);
    uv_check_init(loop, &s->check);
    s->check.data = s;
    uv_idle_init(loop, &s->idle);
    s->idle.data = s;
    s->open_handles = 2;
    *out = s;
    return 0;
fail:
    jp_err_wrap(err, "open store");
    jp_store_close(s);
    return -1;
}

static void handle_closed(uv_handle_t *h)
{
    struct jp_store *s = h->data;
    if (--s->open_handles == 0) free(s);
}

void jp_store_close(struct jp_store *s)
{
    if (s == NULL) return;
    if (s->nchanges > 0 || s->nwaiters > 0) commit_now(s);
    checkpointer_stop(s->ckpt);
    sqlite3_stmt *stmts[] = {s->upsert, s->remove, s->set_rev, s->begin, s->commit, s->rollback};
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
        sqlite3_finalize(stmts[i]);
    if (s->db) {
        /* a clean shutdown folds the WAL back so the database is one file again */
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(s->db);
    }
    if (s->log) jp_store__log_free(s);
    if (jp_free_at_stop()) {
        jp_store__index_free(s);
    } else {
        jp_keep_until_exit(s->index);
        s->index = NULL;
    }
    free(s->changes);
    free(s->waiters);
    if (s->open_handles == 0) {
        free(s);
        return;
    }
    /* the handles close on the next loop turn; s is freed when the last one has */
    uv_close((uv_handle_t *)&s->check, handle_closed);
    uv_close((uv_handle_t *)&s->idle, handle_closed);
}
