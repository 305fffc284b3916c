/* Writes through the api layer against a real store: a status update that keeps its written
 * tree leaves exactly the parse of the stored text as the new version's view. */
#include "support/cm.h"
#include "api/tests/test_store.h"
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uv_loop_t loop;
static char dir[64];

static struct jp_store *open_store(void)
{
    return test_store_open(&loop, dir);
}

/* A status write of the namespace: obj is taken. */
static struct jp_obj *write_status(struct jp_store *s, const struct jp_obj *cur, const char *phase,
                                   bool keep_view)
{
    json_t *view = jp_api_view(cur);
    json_t *obj = json_deep_copy(view);
    json_decref(view);
    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", phase));
    struct jp_write_ctx c = {.store = s,
                             .kind = jp_kind_by_plural("", "v1", "namespaces"),
                             .ns = "",
                             .subresource = "status",
                             .keep_view = keep_view};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    if (jp_api_replace(&c, cur, obj, &res, &st) < 0) fail_msg("status write: %s", st->message);
    jp_write_ctx_free(&c);
    return res.obj;
}

static void a_kept_view_is_the_stored_version_parsed(void **state)
{
    (void)state;
    struct jp_store *s = open_store();
    struct jp_write_ctx c = {
        .store = s, .kind = jp_kind_by_plural("", "v1", "namespaces"), .ns = ""};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    if (jp_api_create(&c,
                      json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                                "metadata", "name", "ns1"),
                      &res, &st) < 0)
        fail_msg("create: %s", st->message);
    jp_write_ctx_free(&c);
    /* without: the next reader parses the text */
    struct jp_obj *plain = write_status(s, res.obj, "Terminating", false);
    assert_ptr_not_equal(plain, res.obj); /* (a real change: not a no-op) */
    assert_null(plain->view);
    /* with: the tree written, equal to the text's parse, resourceVersion included */
    struct jp_obj *kept = write_status(s, plain, "Active", true);
    assert_non_null(kept->view);
    json_t *parsed = json_loadb(kept->json, kept->len, 0, NULL);
    assert_true(json_equal(kept->view, parsed));
    char rv[32];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)kept->rv);
    assert_string_equal(jp_json_str(kept->view, "metadata", "resourceVersion", NULL), rv);
    assert_string_equal(jp_json_str(kept->view, "status", "phase", NULL), "Active");
    json_decref(parsed);
    jp_write_result_free(&res);
    jp_obj_unref(plain);
    jp_obj_unref(kept);
    test_store_close(&loop, s, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_kept_view_is_the_stored_version_parsed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
