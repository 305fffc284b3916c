/* Fuzz target for request-body decoding: the first byte picks a kind and a field-validation
 * mode, the rest is the body. Whatever decodes must survive defaulting, validation and
 * serialization, and the serialized object must parse back to the same value. */
#include "fuzz_check.h"
#include "api/decode.h"
#include "api/kinds.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const struct jp_kind *k = &jp_kinds[data[0] % jp_nkinds];
    enum jp_field_validation fv = (enum jp_field_validation)((data[0] / jp_nkinds) % 3);
    json_t *obj = NULL;
    struct jp_status *st = NULL;
    struct jp_warnings w = {0};
    int rc = jp_decode_object(k, (const char *)data + 1, size - 1, fv, &obj, &w, &st);
    jp_warnings_free(&w);
    if (rc < 0) {
        FUZZ_CHECK(st != NULL && jp_status_code(st) == 400, "a decode error must be a 400 Status");
        jp_status_free(st);
        return 0;
    }
    FUZZ_CHECK(json_is_object(obj), "decode returned a non-object");
    k->ops->defaults(obj);
    struct jp_ferrs fe = {0};
    k->ops->validate(obj, NULL, &fe);
    k->ops->validate(obj, obj, &fe); /* an update to itself must not crash either */
    jp_ferrs_free(&fe);
    char *json = NULL;
    size_t len = 0;
    struct jp_proj *p = jp_object_serialize(k, obj, &json, &len);
    json_t *back = json_loadb(json, len, 0, NULL);
    FUZZ_CHECK(back && json_equal(back, obj), "serialized object does not parse back equal");
    FUZZ_CHECK(p->meta_len == 0 || json_object_get(obj, "metadata"),
               "metadata offsets without metadata");
    json_decref(back);
    jp_proj_free(p);
    free(json);
    json_decref(obj);
    return 0;
}
