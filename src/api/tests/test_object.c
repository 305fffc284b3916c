/* Objects: serialization order, and loading stored JSON back to the same projection (the
 * metadata byte range is found by scanning, not by re-serializing). */
#include "support/cm.h"
#include "api/kinds.h"

#include <stdlib.h>
#include <string.h>

static void load_finds_metadata_like_serialize(void **state)
{
    (void)state;
    const struct jp_kind *k = jp_kind_by_plural("", "v1", "configmaps");
    json_t *obj = json_loads(
        "{\"data\":{\"x\":\"}{\\\"\\\\\"},\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c\","
        "\"namespace\":\"default\",\"annotations\":{\"a\":\"\\\"metadata\\\":{\\\"[\",\"b\":"
        "\"\\u00e9 \\\\\"},\"labels\":{\"k\":\"v\"}},\"kind\":\"ConfigMap\",\"extra\":[1,{\"y\":"
        "[2,3]},null,true,-1.5e3]}",
        0, NULL);
    assert_non_null(obj);
    char *json;
    size_t len;
    struct jp_proj *p = jp_object_serialize(k, obj, &json, &len);
    /* Kubernetes' order: kind, apiVersion, metadata first */
    assert_memory_equal(json, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{", 50);
    struct jp_obj *o = jp_object_load(k, (uint16_t)jp_kind_index(k), "default", "c", json, len);
    assert_non_null(o);
    const struct jp_proj *q = jp_proj_of(o);
    assert_int_equal(q->meta_off, p->meta_off);
    assert_int_equal(q->meta_len, p->meta_len);
    assert_memory_equal(o->json, json, len);
    json_t *meta = json_loadb(o->json + q->meta_off, q->meta_len, 0, NULL);
    assert_true(json_equal(meta, json_object_get(obj, "metadata")));
    assert_string_equal(jp_proj_label(q, "k"), "v");
    json_decref(meta);
    jp_obj_unref(o);
    jp_proj_free(p);
    free(json);
    json_decref(obj);
    /* rows the api layer would refuse */
    assert_null(jp_object_load(k, 0, "", "x", "[1]", 3));
    assert_null(jp_object_load(k, 0, "", "x", "{\"kind\":\"ConfigMap\"}", 20));
    assert_null(jp_object_load(k, 0, "", "x", "{not json", 9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_finds_metadata_like_serialize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
