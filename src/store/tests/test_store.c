/* The store against a real SQLite file: ordering, revisions across restarts, events only after
 * commit, the watch log's horizon, and undo when a commit fails. */
#include "support/cm.h"
#include "base/alloc.h"
#include "store/store-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *kinds[] = {"pods", "jobs"};

static const char *kind_name(uint16_t k)
{
    return kinds[k];
}

static int kind_index(const char *name)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(kinds[i], name) == 0) return i;
    return -1;
}

static struct jp_obj *load(uint16_t kind, const char *ns, const char *name, const char *json,
                           size_t len)
{
    if (len > 0 && json[0] == '!') return NULL; /* a row the api layer would refuse */
    return jp_obj_new(kind, ns, name, jp_xstrndup(json, len), len, NULL, NULL);
}

static const struct jp_store_hooks hooks = {2, kind_name, kind_index, load};

static char dir[64], path[96];
static uv_loop_t loop;

static struct jp_store *open_store(unsigned log_size)
{
    struct jp_store_opts o = {.path = path, .sync_full = true, .watch_log_size = log_size};
    struct jp_store *s = NULL;
    struct jp_err *err = NULL;
    if (jp_store_open(&loop, &o, &hooks, &s, &err) < 0) fail_msg("open: %s", err->msg);
    return s;
}

static void close_store(struct jp_store *s)
{
    jp_store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static void put(struct jp_store *s, uint16_t kind, const char *ns, const char *name,
                const char *body)
{
    char *json = jp_xasprintf("{\"rv\":%llu,\"body\":\"%s\"}",
                              (unsigned long long)jp_store_next_revision(s), body);
    jp_store_put(s, jp_obj_new(kind, ns, name, json, strlen(json), NULL, NULL));
}

static void del(struct jp_store *s, uint16_t kind, const char *ns, const char *name)
{
    char *json = jp_xasprintf("{\"rv\":%llu,\"deleted\":true}",
                              (unsigned long long)jp_store_next_revision(s));
    jp_store_delete(s, jp_obj_new(kind, ns, name, json, strlen(json), NULL, NULL));
}

static int durable_status;
static int durable_calls;

static void on_durable(int status, void *arg)
{
    (void)arg;
    durable_status = status;
    durable_calls++;
}

static void commit(struct jp_store *s)
{
    durable_calls = 0;
    jp_store_when_durable(s, on_durable, NULL);
    while (durable_calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jp-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/db", dir);
    uv_loop_init(&loop);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    uv_loop_close(&loop);
    return 0;
}

struct names {
    char buf[512];
};

static bool collect(const struct jp_obj *o, void *arg)
{
    struct names *n = arg;
    size_t len = strlen(n->buf);
    snprintf(n->buf + len, sizeof(n->buf) - len, "%s/%s ", o->ns, o->name);
    return true;
}

static void order_revisions_and_restart(void **state)
{
    (void)state;
    struct jp_store *s = open_store(0);
    assert_int_equal(jp_store_revision(s), 0);
    put(s, 0, "default", "b", "1");
    put(s, 0, "default", "a", "2");
    put(s, 0, "kube-system", "a", "3");
    put(s, 0, "default", "b", "4"); /* replace */
    put(s, 1, "default", "job", "5");
    del(s, 0, "kube-system", "a");
    assert_int_equal(jp_store_revision(s), 6);
    commit(s);
    assert_int_equal(durable_status, 0);
    const struct jp_obj *b = jp_store_get(s, 0, "default", "b");
    assert_non_null(b);
    assert_int_equal(b->rv, 4);
    assert_string_equal(b->json, "{\"rv\":4,\"body\":\"4\"}");
    assert_null(jp_store_get(s, 0, "kube-system", "a"));
    struct names n = {""};
    jp_store_scan(s, 0, NULL, NULL, NULL, collect, &n);
    assert_string_equal(n.buf, "default/a default/b ");
    close_store(s);

    s = open_store(0);
    assert_int_equal(jp_store_revision(s), 6); /* the delete's revision is not reused */
    b = jp_store_get(s, 0, "default", "b");
    assert_non_null(b);
    assert_int_equal(b->rv, 4);
    assert_int_equal(jp_store_count(s, 0), 2);
    assert_int_equal(jp_store_count(s, 1), 1);
    put(s, 0, "default", "c", "7");
    assert_int_equal(jp_store_get(s, 0, "default", "c")->rv, 7);
    commit(s);
    close_store(s);
}

static void scan_by_namespace_and_after_key(void **state)
{
    (void)state;
    struct jp_store *s = open_store(0);
    const char *names[] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        put(s, 1, "a", names[i], "");
        put(s, 1, "b", names[i], "");
        put(s, 1, "c", names[i], "");
    }
    struct names n = {""};
    jp_store_scan(s, 1, "b", NULL, NULL, collect, &n);
    assert_string_equal(n.buf, "b/x b/y b/z ");
    memset(&n, 0, sizeof(n));
    jp_store_scan(s, 1, "b", "b", "x", collect, &n);
    assert_string_equal(n.buf, "b/y b/z ");
    memset(&n, 0, sizeof(n));
    jp_store_scan(s, 1, NULL, "a", "z", collect, &n); /* continue across namespaces */
    assert_string_equal(n.buf, "b/x b/y b/z c/x c/y c/z ");
    memset(&n, 0, sizeof(n));
    jp_store_scan(s, 1, "nope", NULL, NULL, collect, &n);
    assert_string_equal(n.buf, "");
    commit(s);
    close_store(s);
}

struct seen {
    char buf[1024];
    int count;
};

static void on_event(const struct jp_event *ev, void *arg)
{
    static const char *types[] = {"ADDED", "MODIFIED", "DELETED"};
    struct seen *seen = arg;
    size_t len = strlen(seen->buf);
    snprintf(seen->buf + len, sizeof(seen->buf) - len, "%s %s@%llu%s ", types[ev->type],
             ev->obj->name, (unsigned long long)ev->rev, ev->old ? "(old)" : "");
    seen->count++;
}

static void events_after_commit_and_replay(void **state)
{
    (void)state;
    struct jp_store *s = open_store(4);
    uint64_t base = jp_store_revision(s);
    struct seen seen = {"", 0};
    struct jp_store_sub *sub = jp_store_subscribe(s, on_event, &seen);
    put(s, 0, "ns", "p", "1");
    put(s, 0, "ns", "p", "2");
    del(s, 0, "ns", "p");
    assert_int_equal(seen.count, 0); /* nothing is announced before it is durable */
    commit(s);
    char want[256];
    snprintf(want, sizeof(want), "ADDED p@%llu MODIFIED p@%llu(old) DELETED p@%llu(old) ",
             (unsigned long long)base + 1, (unsigned long long)base + 2,
             (unsigned long long)base + 3);
    assert_string_equal(seen.buf, want);

    struct seen replayed = {"", 0};
    assert_int_equal(jp_store_replay(s, base + 1, on_event, &replayed), 0);
    assert_int_equal(replayed.count, 2);
    /* five more events overflow the 4-event log: the oldest revisions are gone */
    for (int i = 0; i < 5; i++)
        put(s, 0, "ns", "q", "x");
    commit(s);
    assert_int_equal(jp_store_replay(s, base, on_event, &replayed), -1);
    assert_int_equal(jp_store_oldest_replayable(s), base + 4);
    memset(&replayed, 0, sizeof(replayed));
    assert_int_equal(jp_store_replay(s, base + 4, on_event, &replayed), 0);
    assert_int_equal(replayed.count, 4);
    jp_store_unsubscribe(s, sub);
    put(s, 0, "ns", "r", "x");
    commit(s);
    assert_int_equal(seen.count, 8); /* no more after unsubscribing */
    close_store(s);
}

static void failed_commit_is_undone(void **state)
{
    (void)state;
    struct jp_store *s = open_store(0);
    put(s, 0, "ns", "keep", "before");
    commit(s);
    uint64_t rev = jp_store_revision(s);
    struct seen seen = {"", 0};
    jp_store_subscribe(s, on_event, &seen);
    /* make every write fail, as a full disk would */
    assert_int_equal(sqlite3_exec(s->db, "PRAGMA query_only=ON", NULL, NULL, NULL), SQLITE_OK);
    put(s, 0, "ns", "keep", "after");
    put(s, 0, "ns", "new", "x");
    del(s, 0, "ns", "keep");
    commit(s);
    assert_int_equal(durable_status, -1);
    assert_int_equal(seen.count, 0);
    assert_int_equal(jp_store_revision(s), rev);
    const struct jp_obj *o = jp_store_get(s, 0, "ns", "keep");
    assert_non_null(o);
    assert_non_null(strstr(o->json, "before"));
    assert_null(jp_store_get(s, 0, "ns", "new"));
    assert_int_equal(sqlite3_exec(s->db, "PRAGMA query_only=OFF", NULL, NULL, NULL), SQLITE_OK);
    put(s, 0, "ns", "new", "y");
    commit(s);
    assert_int_equal(durable_status, 0);
    assert_int_equal(jp_store_get(s, 0, "ns", "new")->rv, rev + 1);
    close_store(s);
}

static void unreadable_rows_are_skipped(void **state)
{
    (void)state;
    struct jp_store *s = open_store(0);
    char *json = jp_xstrdup("!broken");
    s->revision++;
    jp_store_put(s, jp_obj_new(0, "ns", "bad", json, strlen(json), NULL, NULL));
    put(s, 0, "ns", "good", "x");
    commit(s);
    close_store(s);
    s = open_store(0);
    assert_null(jp_store_get(s, 0, "ns", "bad"));
    assert_non_null(jp_store_get(s, 0, "ns", "good"));
    close_store(s);
}

/* A data dir of an older jobplane (schema 1: rows in a WITHOUT ROWID table) opens with every
 * object and its revision, takes updates, and is at schema 2 afterwards. */
static void a_schema_1_database_is_migrated_with_its_rows(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "CREATE TABLE objects(kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,"
            " rv INTEGER NOT NULL, json BLOB NOT NULL, PRIMARY KEY(kind, ns, name))"
            " WITHOUT ROWID;"
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
            "INSERT INTO meta VALUES('revision', 7);"
            "INSERT INTO objects VALUES('pods', 'ns', 'a', 5, 'A');"
            "INSERT INTO objects VALUES('jobs', 'ns', 'j', 7, 'J');"
            "PRAGMA user_version = 1;",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct jp_store *s = open_store(0);
    assert_int_equal(jp_store_revision(s), 7);
    const struct jp_obj *a = jp_store_get(s, 0, "ns", "a");
    assert_non_null(a);
    assert_int_equal(a->rv, 5);
    assert_memory_equal(a->json, "A", 1);
    assert_non_null(jp_store_get(s, 1, "ns", "j"));
    put(s, 0, "ns", "a", "A2"); /* an update of a migrated row, then a new one */
    put(s, 0, "ns", "b", "B");
    commit(s);
    close_store(s);
    s = open_store(0);
    assert_non_null(strstr(jp_store_get(s, 0, "ns", "a")->json, "\"A2\""));
    assert_int_equal(jp_store_get(s, 0, "ns", "b")->rv, 9);
    assert_int_equal(jp_store_count(s, 0), 2);
    close_store(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM objects", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(order_revisions_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_by_namespace_and_after_key, setup, teardown),
        cmocka_unit_test_setup_teardown(events_after_commit_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_commit_is_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_rows_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_schema_1_database_is_migrated_with_its_rows, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
