/* The ServiceAccount admission plugin on pods, against a real store: which pods get the token's
 * kube-api-access volume, in which containers, and when they do not (the pod or its account opts
 * out, a container mounts that path itself, the API is not served, a missing account). */
#include "support/cm.h"
#include "api/tests/test_store.h"
#include "api/kinds.h"
#include "api/write.h"
#include "base/alloc.h"
#include "pki/satoken.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uv_loop_t loop;
static char dir[64];

static void create(struct jp_store *s, const char *plural, const char *ns, json_t *obj)
{
    struct jp_write_ctx c = {.store = s, .kind = jp_kind_by_plural("", "v1", plural), .ns = ns};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    if (jp_api_create(&c, obj, &res, &st) < 0) fail_msg("create: %s", st->message);
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
}

static struct jp_store *open_store(void)
{
    struct jp_store *s = test_store_open(&loop, dir);
    create(s, "namespaces", "",
           json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                     "name", "default"));
    return s;
}

static void account(struct jp_store *s, const char *name, const char *automount)
{
    json_t *sa = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                           "metadata", "name", name);
    if (automount)
        json_object_set_new(sa, "automountServiceAccountToken",
                            json_loads(automount, JSON_DECODE_ANY, NULL));
    create(s, "serviceaccounts", "default", sa);
}

/* The pod (JSON text) after admission; NULL when refused. */
static json_t *admitted(struct jp_store *s, const char *text)
{
    json_t *pod = json_loads(text, 0, NULL);
    assert_non_null(pod);
    struct jp_write_ctx c = {.store = s, .ns = "default"};
    struct jp_status *st = NULL;
    if (jp_pod_admit(&c, pod, "p", &st) < 0) {
        jp_status_free(st);
        json_decref(pod);
        return NULL;
    }
    return pod;
}

static const char *mount_name(const json_t *pod, const char *list, size_t i)
{
    const json_t *c = json_array_get(json_object_get(json_object_get(pod, "spec"), list), i);
    const json_t *m = json_array_get(json_object_get(c, "volumeMounts"), 0);
    return json_string_value(json_object_get(m, "name"));
}

static void every_container_mounts_the_token(void **state)
{
    (void)state;
    struct jp_store *s = open_store();
    jp_pod_admission_mount_tokens(true);
    json_t *pod = admitted(s, "{\"spec\":{\"initContainers\":[{\"name\":\"i\"}],"
                              "\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}");
    json_t *vols = json_object_get(json_object_get(pod, "spec"), "volumes");
    assert_int_equal(json_array_size(vols), 1);
    const char *name = jp_json_str(json_array_get(vols, 0), "name", NULL);
    assert_int_equal(strlen(name), strlen("kube-api-access-") + 5);
    assert_int_equal(strncmp(name, "kube-api-access-", 16), 0);
    assert_string_equal(mount_name(pod, "initContainers", 0), name);
    assert_string_equal(mount_name(pod, "containers", 0), name);
    assert_string_equal(mount_name(pod, "containers", 1), name);
    json_t *m = json_array_get(
        json_object_get(json_array_get(jp_json_path(pod, "spec", "containers", NULL), 0),
                        "volumeMounts"),
        0);
    assert_string_equal(jp_json_str(m, "mountPath", NULL), JP_SA_TOKEN_MOUNT_PATH);
    assert_true(json_is_true(json_object_get(m, "readOnly")));
    json_t *sources = jp_json_path(json_array_get(vols, 0), "projected", "sources", NULL);
    assert_int_equal(jp_json_int(json_array_get(sources, 0), 0, "serviceAccountToken",
                                 "expirationSeconds", NULL),
                     3607);
    assert_string_equal(jp_json_str(json_array_get(sources, 1), "configMap", "name", NULL),
                        "kube-root-ca.crt");
    json_decref(pod);

    /* a container with its own mount there keeps it; the others get the token */
    pod = admitted(s, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"volumeMounts\":[{\"name\":"
                      "\"mine\",\"mountPath\":\"" JP_SA_TOKEN_MOUNT_PATH "\"}]},{\"name\":\"b\"}],"
                      "\"volumes\":[{\"name\":\"mine\",\"emptyDir\":{}}]}}");
    assert_string_equal(mount_name(pod, "containers", 0), "mine");
    assert_int_equal(
        json_array_size(json_object_get(
            json_array_get(jp_json_path(pod, "spec", "containers", NULL), 0), "volumeMounts")),
        1);
    assert_int_equal(strncmp(mount_name(pod, "containers", 1), "kube-api-access-", 16), 0);
    assert_int_equal(json_array_size(jp_json_path(pod, "spec", "volumes", NULL)), 2);
    json_decref(pod);

    /* one that has the volume already (a pod re-created from its own YAML) keeps that one */
    pod = admitted(s, "{\"spec\":{\"containers\":[{\"name\":\"a\"}],\"volumes\":[{\"name\":"
                      "\"kube-api-access-abcde\",\"emptyDir\":{}}]}}");
    assert_string_equal(mount_name(pod, "containers", 0), "kube-api-access-abcde");
    assert_int_equal(json_array_size(jp_json_path(pod, "spec", "volumes", NULL)), 1);
    json_decref(pod);
    test_store_close(&loop, s, dir);
}

static void opting_out(void **state)
{
    (void)state;
    struct jp_store *s = open_store();
    jp_pod_admission_mount_tokens(true);
    account(s, "quiet", "false");
    account(s, "loud", "true");
    static const char *const none[] = {
        "{\"spec\":{\"automountServiceAccountToken\":false,\"containers\":[{\"name\":\"a\"}]}}",
        "{\"spec\":{\"serviceAccountName\":\"quiet\",\"containers\":[{\"name\":\"a\"}]}}",
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *pod = admitted(s, none[i]);
        assert_null(jp_json_path(pod, "spec", "volumes", NULL));
        assert_null(mount_name(pod, "containers", 0));
        json_decref(pod);
    }
    /* the pod's word beats its account's */
    json_t *pod = admitted(s, "{\"spec\":{\"serviceAccountName\":\"quiet\","
                              "\"automountServiceAccountToken\":true,\"containers\":[{}]}}");
    assert_int_equal(json_array_size(jp_json_path(pod, "spec", "volumes", NULL)), 1);
    json_decref(pod);
    pod = admitted(s, "{\"spec\":{\"serviceAccountName\":\"loud\","
                      "\"automountServiceAccountToken\":false,\"containers\":[{}]}}");
    assert_null(jp_json_path(pod, "spec", "volumes", NULL));
    json_decref(pod);
    /* "" (as charts render it) is the default account */
    pod = admitted(s, "{\"spec\":{\"serviceAccountName\":\"\",\"containers\":[{}]}}");
    assert_string_equal(jp_json_str(pod, "spec", "serviceAccountName", NULL), "default");
    assert_string_equal(jp_json_str(pod, "spec", "serviceAccount", NULL), "default");
    assert_int_equal(json_array_size(jp_json_path(pod, "spec", "volumes", NULL)), 1);
    json_decref(pod);
    /* an account that does not exist is refused before anything is mounted */
    assert_null(admitted(s, "{\"spec\":{\"serviceAccountName\":\"robot\",\"containers\":[{}]}}"));
    /* and with no API served there is nothing to mount */
    jp_pod_admission_mount_tokens(false);
    pod = admitted(s, "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    assert_null(jp_json_path(pod, "spec", "volumes", NULL));
    json_decref(pod);
    test_store_close(&loop, s, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_container_mounts_the_token),
        cmocka_unit_test(opting_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
