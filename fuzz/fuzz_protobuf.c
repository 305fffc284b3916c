/* Fuzz target for Kubernetes protobuf bodies (jp_proto_decode_object): the first byte picks the
 * root type, the rest is the body. Failures must be clean one-line BadRequest errors with every
 * out-parameter NULL; a decoded object must stay within the value cap, survive a trip through
 * JSON text, carry the envelope's kind, and pass the schema check the JSON path applies (its
 * values are made from the schema, so only a malformed Quantity string may fail it). */
#include "fuzz_check.h"
#include "api/decode.h"
#include "api/schema_types_gen.h"
#include "api/status.h"
#include "base/buf.h"
#include "base/err.h"
#include "codec/protobuf.h"

#include <stdlib.h>
#include <string.h>

static const int roots[] = {
    JP_T_V1Namespace, JP_T_V1Job,           JP_T_V1ConfigMap,      JP_T_V1Secret,
    JP_T_V1Service,   JP_T_V1Deployment,    JP_T_V1ServiceAccount, JP_T_V1CronJob,
    JP_T_V1Pod,       JP_T_CoreV1Event,     JP_T_V1ReplicaSet,     JP_T_V1Node,
    JP_T_V1Endpoints, JP_T_V1DeleteOptions,
};

static size_t count(const json_t *v)
{
    size_t n = 1;
    const char *k;
    size_t klen, i;
    json_t *e;
    if (json_is_object(v)) {
        json_object_keylen_foreach((json_t *)v, k, klen, e)
        {
            FUZZ_CHECK(memchr(k, '\0', klen) == NULL, "key with a NUL");
            n += count(e);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) n += count(e);
    }
    return n;
}

static void check_decoded(json_t *obj, const char *kind, int type)
{
    FUZZ_CHECK(json_is_object(obj), "decoded a non-object");
    /* The root object and kind/apiVersion are not counted against the cap. */
    FUZZ_CHECK(count(obj) <= JP_PROTO_MAX_NODES + 3, "values over the cap");
    json_t *k = json_object_get(obj, "kind");
    FUZZ_CHECK(*kind ? json_is_string(k) && !strcmp(json_string_value(k), kind) : k == NULL,
               "kind \"%s\" of the envelope is not the object's", kind);

    char *text = json_dumps(obj, JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "object cannot be written as JSON");
    json_error_t jerr;
    json_t *again = json_loads(text, 0, &jerr);
    FUZZ_CHECK(again != NULL, "JSON %.200s does not load back: %s", text, jerr.text);
    FUZZ_CHECK(json_equal(obj, again), "JSON %.200s loads back different", text);
    json_decref(again);
    free(text);

    struct jp_warnings w = {0};
    struct jp_status *st = NULL;
    if (jp_decode_check_type(type, NULL, obj, JP_FV_STRICT, &w, &st) < 0) {
        struct jp_buf b;
        jp_buf_init(&b, 1 << 20);
        jp_status_json(st, &b);
        FUZZ_CHECK(b.data && strstr(b.data, "quantities must match") != NULL,
                   "decoded object fails the schema check: %.300s", b.data);
        jp_buf_free(&b);
        jp_status_free(st);
    }
    jp_warnings_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int type = roots[data[0] % (sizeof(roots) / sizeof(roots[0]))];
    json_t *obj = NULL;
    char *av = NULL, *kind = NULL;
    struct jp_err *err = NULL;
    int rc = jp_proto_decode_object(data + 1, size - 1, type, &obj, &av, &kind, &err);
    if (rc < 0) {
        FUZZ_CHECK(err != NULL && err->reason == JP_BAD_REQUEST, "failed without a BadRequest");
        FUZZ_CHECK(strncmp(err->msg, "invalid protobuf body: ", 23) == 0, "error %s", err->msg);
        FUZZ_CHECK(strchr(err->msg, '\n') == NULL, "error spans lines");
        FUZZ_CHECK(obj == NULL && av == NULL && kind == NULL, "failure left outputs behind");
        jp_err_free(err);
        return 0;
    }
    FUZZ_CHECK(rc == 0 && err == NULL && av != NULL && kind != NULL, "bad success");
    check_decoded(obj, kind, type);
    json_decref(obj);
    free(av);
    free(kind);
    return 0;
}
