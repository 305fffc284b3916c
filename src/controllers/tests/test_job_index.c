/* Completion index sets: the interval format of completedIndexes/failedIndexes (§5.3) both
 * ways, and the pod's index as the controller reads it. */
#include "support/cm.h"
#include "controllers/job-internal.h"

#include <stdlib.h>
#include <string.h>

static void expect_format(const struct jp_idx *x, const char *want)
{
    char *got = jobctl__idx_format(x);
    assert_string_equal(got, want);
    free(got);
}

static void adding_merges_runs_and_formats_like_kubernetes(void **state)
{
    (void)state;
    struct jp_idx x = {0};
    expect_format(&x, "");
    static const int64_t order[] = {7, 1, 4, 3, 5, 3};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        jobctl__idx_add(&x, order[i]);
    expect_format(&x, "1,3-5,7");
    assert_int_equal(jobctl__idx_count(&x), 5);
    assert_true(jobctl__idx_has(&x, 4));
    assert_false(jobctl__idx_has(&x, 2));
    assert_false(jobctl__idx_has(&x, 8));
    jobctl__idx_add(&x, 0);
    expect_format(&x, "0,1,3-5,7"); /* a run of two stays "a,b" */
    jobctl__idx_add(&x, 2);
    expect_format(&x, "0-5,7");
    jobctl__idx_add(&x, 6);
    expect_format(&x, "0-7");
    assert_int_equal(x.n, 1);
    jobctl__idx_free(&x);
}

static void parse_reads_its_own_format_and_drops_what_is_out_of_range(void **state)
{
    (void)state;
    struct jp_idx x;
    jobctl__idx_parse("0,1,3-5,7", 8, &x);
    expect_format(&x, "0,1,3-5,7");
    jobctl__idx_free(&x);
    jobctl__idx_parse("2-9,12", 6, &x); /* indexes >= completions do not count */
    expect_format(&x, "2-5");
    jobctl__idx_free(&x);
    jobctl__idx_parse("x,3-1,-4,5-,,6", 10, &x); /* written by a user: junk is skipped */
    expect_format(&x, "6");
    jobctl__idx_free(&x);
    struct jp_idx y;
    jobctl__idx_parse("0-9,20-29", 100, &x);
    jobctl__idx_parse("5-24,28,40", 100, &y);
    assert_int_equal(jobctl__idx_common(&x, &y), 5 + 5 + 1);
    assert_int_equal(jobctl__idx_common(&y, &x), 11);
    jobctl__idx_free(&x);
    jobctl__idx_free(&y);
    jobctl__idx_parse(NULL, 10, &x);
    assert_int_equal(x.n, 0);
    jobctl__idx_parse("0-99999", 100000, &x);
    assert_int_equal(jobctl__idx_count(&x), 100000);
    jobctl__idx_free(&x);
}

/* The index as the controller reads it: from the pod's projection, made from its JSON. */
static int64_t index_of(const char *json)
{
    const struct jp_kind *k = jp_kind_by_plural("", "v1", "pods");
    struct jp_obj *o =
        jp_object_load(k, (uint16_t)jp_kind_index(k), "default", "p", json, strlen(json));
    assert_non_null(o);
    int64_t i = jp_pod_completion_index(o);
    jp_obj_unref(o);
    return i;
}

static void a_pods_index_comes_from_annotation_then_label(void **state)
{
    (void)state;
#define POD(META) "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"," META "}}"
    assert_int_equal(index_of(POD("\"annotations\":{\"" JOB_INDEX_KEY "\":\"3\"},"
                                  "\"labels\":{\"" JOB_INDEX_KEY "\":\"4\"}")),
                     3);
    assert_int_equal(index_of(POD("\"labels\":{\"" JOB_INDEX_KEY "\":\"4\"}")), 4);
    assert_int_equal(index_of(POD("\"labels\":{\"" JOB_INDEX_KEY "\":\"-1\"}")), -1);
    assert_int_equal(index_of(POD("\"labels\":{}")), -1);
#undef POD
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adding_merges_runs_and_formats_like_kubernetes),
        cmocka_unit_test(parse_reads_its_own_format_and_drops_what_is_out_of_range),
        cmocka_unit_test(a_pods_index_comes_from_annotation_then_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
