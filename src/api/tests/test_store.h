/* A store of the kind table in a fresh temporary directory, for the API tests that write
 * through the real write path. dir (64 bytes) gets the directory's name; test_store_close
 * removes it. */
#ifndef JP_API_TESTS_TEST_STORE_H
#define JP_API_TESTS_TEST_STORE_H
#include "api/kinds.h"
#include "base/alloc.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

static inline struct jp_store *test_store_open(uv_loop_t *loop, char dir[64])
{
    snprintf(dir, 64, "/tmp/jp-test-api-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *path = jp_xasprintf("%s/state.db", dir);
    struct jp_store_opts o = {.path = path};
    struct jp_store_hooks hooks = {jp_nkinds, jp_kinds_store_name, jp_kinds_store_index,
                                   jp_kinds_store_load};
    struct jp_store *s = NULL;
    struct jp_err *err = NULL;
    uv_loop_init(loop);
    if (jp_store_open(loop, &o, &hooks, &s, &err) < 0) fail_msg("open: %s", err->msg);
    free(path);
    return s;
}
/* Closes the store, runs its loop to the end and removes dir. */
static inline void test_store_close(uv_loop_t *loop, struct jp_store *s, const char *dir)
{
    jp_store_close(s);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    char *rm = jp_xasprintf("rm -rf %s", dir);
    assert_int_equal(system(rm), 0);
    free(rm);
}
#endif
