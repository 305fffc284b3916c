/* The generated schema tables: a few known facts of the Kubernetes types, and the invariants the
 * lookups rely on (sorted names, refs in range). */
#include "support/cm.h"
#include <stdbool.h>
#include <string.h>

#include "api/schema.h"
#include "api/schema_types_gen.h"

static const struct jp_type *type(const char *name)
{
    int i = jp_schema_type_index(name);
    assert_true(i >= 0);
    assert_string_equal(jp_schema_types[i].name, name);
    return &jp_schema_types[i];
}

static const struct jp_field *field(const char *tname, const char *fname)
{
    const struct jp_field *f = jp_schema_field(type(tname), fname);
    assert_non_null(f);
    assert_string_equal(f->name, fname);
    return f;
}

static void expect(const char *tname, const char *fname, enum jp_ftype t)
{
    assert_int_equal(field(tname, fname)->type, t);
}

static void expect_ref(const struct jp_field *f, const char *tname)
{
    assert_string_equal(jp_schema_types[f->ref].name, tname);
}

static void job_spec(void **state)
{
    (void)state;
    expect("V1JobSpec", "parallelism", JP_F_INT32);
    expect("V1JobSpec", "activeDeadlineSeconds", JP_F_INT64);
    expect("V1JobSpec", "backoffLimitPerIndex", JP_F_INT32);
    expect("V1JobSpec", "managedBy", JP_F_STRING);
    expect("V1JobSpec", "podReplacementPolicy", JP_F_STRING);
    expect("V1JobSpec", "suspend", JP_F_BOOL);
    const struct jp_field *f = field("V1JobSpec", "template");
    assert_int_equal(f->type, JP_F_OBJECT);
    expect_ref(f, "V1PodTemplateSpec");
    assert_int_equal(f->ref, JP_T_V1PodTemplateSpec);
    f = field("V1JobSpec", "successPolicy");
    assert_int_equal(f->type, JP_F_OBJECT);
    expect_ref(f, "V1SuccessPolicy");
    assert_string_equal(type("V1JobSpec")->go_name, "JobSpec");
    assert_string_equal(type("V1ObjectMeta")->go_name, "ObjectMeta");
}

static void patch_strategies(void **state)
{
    (void)state;
    const struct jp_field *f = field("V1PodSpec", "containers");
    assert_int_equal(f->type, JP_F_ARRAY);
    assert_int_equal(f->elem, JP_F_OBJECT);
    expect_ref(f, "V1Container");
    assert_int_equal(f->patch, JP_PATCH_MERGE);
    assert_string_equal(f->merge_key, "name");

    f = field("V1PodSpec", "volumes");
    assert_int_equal(f->patch, JP_PATCH_MERGE_RETAIN_KEYS);
    assert_string_equal(f->merge_key, "name");

    f = field("V1ServiceSpec", "ports");
    assert_int_equal(f->patch, JP_PATCH_MERGE);
    assert_string_equal(f->merge_key, "port");

    f = field("V1Container", "volumeMounts");
    assert_int_equal(f->patch, JP_PATCH_MERGE);
    assert_string_equal(f->merge_key, "mountPath");

    f = field("V1ObjectMeta", "finalizers");
    assert_int_equal(f->type, JP_F_ARRAY);
    assert_int_equal(f->elem, JP_F_STRING);
    assert_int_equal(f->patch, JP_PATCH_MERGE);
    assert_null(f->merge_key);

    f = field("V1DeploymentSpec", "strategy");
    assert_int_equal(f->type, JP_F_OBJECT);
    assert_int_equal(f->patch, JP_PATCH_RETAIN_KEYS);
    assert_null(f->merge_key);

    /* Lists without a merge key are atomic. */
    f = field("V1Container", "args");
    assert_int_equal(f->patch, JP_PATCH_REPLACE);
    assert_null(f->merge_key);
    assert_int_equal(field("V1PodSpec", "tolerations")->patch, JP_PATCH_REPLACE);
}

static void special_types(void **state)
{
    (void)state;
    const struct jp_field *f = field("V1ObjectMeta", "labels");
    assert_int_equal(f->type, JP_F_MAP);
    assert_int_equal(f->elem, JP_F_STRING);
    f = field("V1ResourceRequirements", "limits");
    assert_int_equal(f->type, JP_F_MAP);
    assert_int_equal(f->elem, JP_F_QUANTITY);
    f = field("V1Secret", "data");
    assert_int_equal(f->type, JP_F_MAP);
    assert_int_equal(f->elem, JP_F_BYTES);
    expect("V1EmptyDirVolumeSource", "sizeLimit", JP_F_QUANTITY);
    expect("V1ServicePort", "targetPort", JP_F_INT_OR_STRING);
    expect("V1RollingUpdateDeployment", "maxSurge", JP_F_INT_OR_STRING);
    expect("V1ObjectMeta", "creationTimestamp", JP_F_TIME);
    expect("CoreV1Event", "eventTime", JP_F_MICROTIME);
    expect("CoreV1Event", "lastTimestamp", JP_F_TIME);
    expect("V1ManagedFieldsEntry", "fieldsV1", JP_F_ANY);
}

static void expect_proto(const char *tname, const char *fname, unsigned in, unsigned num)
{
    const struct jp_field *f = field(tname, fname);
    assert_int_equal(f->proto_in, in);
    assert_int_equal(f->proto, num);
}

/* Field numbers from k8s.io/api's generated.proto, and the Go shapes behind zero values. */
static void protobuf_numbers(void **state)
{
    (void)state;
    expect_proto("V1ObjectMeta", "name", 0, 1);
    expect_proto("V1ObjectMeta", "generateName", 0, 2);
    expect_proto("V1ObjectMeta", "namespace", 0, 3);
    expect_proto("V1ObjectMeta", "creationTimestamp", 0, 8);
    expect_proto("V1ObjectMeta", "labels", 0, 11);
    expect_proto("V1ObjectMeta", "annotations", 0, 12);
    expect_proto("V1Job", "metadata", 0, 1);
    expect_proto("V1Job", "spec", 0, 2);
    expect_proto("V1Job", "status", 0, 3);
    expect_proto("V1JobSpec", "parallelism", 0, 1);
    expect_proto("V1JobSpec", "completions", 0, 2);
    expect_proto("V1JobSpec", "template", 0, 6);
    expect_proto("V1JobSpec", "podReplacementPolicy", 0, 14);
    expect_proto("V1PodTemplateSpec", "metadata", 0, 1);
    expect_proto("V1PodTemplateSpec", "spec", 0, 2);
    expect_proto("V1PodSpec", "volumes", 0, 1);
    expect_proto("V1PodSpec", "containers", 0, 2);
    expect_proto("V1PodSpec", "restartPolicy", 0, 3);
    expect_proto("V1Container", "name", 0, 1);
    expect_proto("V1Container", "image", 0, 2);
    expect_proto("V1Container", "command", 0, 3);
    expect_proto("V1Container", "args", 0, 4);
    expect_proto("V1Container", "resources", 0, 8);
    expect_proto("V1ServicePort", "targetPort", 0, 4);
    expect_proto("V1Secret", "data", 0, 2);
    expect_proto("V1ConfigMap", "data", 0, 2);
    /* Inline-embedded structs with a tag are a nested message on the wire. */
    expect_proto("V1Volume", "name", 0, 1);
    expect_proto("V1Volume", "hostPath", 2, 1);
    expect_proto("V1Volume", "emptyDir", 2, 2);
    expect_proto("V1Probe", "exec", 1, 1);
    expect_proto("V1Probe", "initialDelaySeconds", 0, 2);
    expect_proto("V1SecretKeySelector", "name", 1, 1);
    expect_proto("V1SecretKeySelector", "key", 0, 2);
    /* The inline TypeMeta is not on the wire: the envelope carries it. */
    expect_proto("V1Job", "kind", 0, 0);
    expect_proto("V1Job", "apiVersion", 0, 0);

    assert_int_equal(field("V1JobSpec", "parallelism")->go, JP_GO_POINTER | JP_GO_OMITEMPTY);
    assert_int_equal(field("V1Container", "name")->go, 0);
    assert_int_equal(field("V1Container", "tty")->go, JP_GO_OMITEMPTY);
    assert_int_equal(field("V1ContainerPort", "containerPort")->go, 0);
    assert_int_equal(field("V1ContainerPort", "hostPort")->go, JP_GO_OMITEMPTY);
}

static void misses(void **state)
{
    (void)state;
    assert_null(jp_schema_field(type("V1JobSpec"), "parallelizm"));
    assert_null(jp_schema_field(type("V1JobSpec"), ""));
    assert_null(jp_schema_field(type("V1JobSpec"), "zzz"));
    assert_null(jp_schema_field(type("V1JobSpec"), "Parallelism"));
    assert_int_equal(jp_schema_type_index("V1NoSuchThing"), -1);
    assert_int_equal(jp_schema_type_index(""), -1);
}

/* The binary searches need strictly sorted names and fields laid out type by type. */
static void invariants(void **state)
{
    (void)state;
    assert_int_equal(jp_schema_type_count, JP_T_COUNT);
    unsigned next = 0;
    for (unsigned i = 0; i < jp_schema_type_count; i++) {
        const struct jp_type *t = &jp_schema_types[i];
        if (i > 0) assert_true(strcmp(jp_schema_types[i - 1].name, t->name) < 0);
        assert_int_equal(jp_schema_type_index(t->name), (int)i);
        assert_int_equal(t->first, next);
        next += t->count;
        for (unsigned j = 0; j < t->count; j++) {
            const struct jp_field *f = &jp_schema_fields[t->first + j];
            if (j > 0) assert_true(strcmp(f[-1].name, f->name) < 0);
            assert_ptr_equal(jp_schema_field(t, f->name), f);
            assert_true(f->ref < jp_schema_type_count);
            bool container = f->type == JP_F_ARRAY || f->type == JP_F_MAP;
            if (f->merge_key != NULL) {
                assert_int_equal(f->type, JP_F_ARRAY);
                assert_int_equal(f->elem, JP_F_OBJECT);
                assert_non_null(jp_schema_field(&jp_schema_types[f->ref], f->merge_key));
            }
            if (!container) assert_int_equal(f->elem, 0);
            /* Only the roots' apiVersion and kind are off the wire. */
            if (f->proto == 0) {
                assert_true(strcmp(f->name, "kind") == 0 || strcmp(f->name, "apiVersion") == 0);
                assert_int_equal(f->proto_in, 0);
            }
            for (unsigned k = 0; k < j; k++) {
                const struct jp_field *g = &jp_schema_fields[t->first + k];
                assert_false(f->proto != 0 && f->proto == g->proto && f->proto_in == g->proto_in);
            }
        }
    }
    assert_int_equal(next, jp_schema_field_count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(job_spec),      cmocka_unit_test(patch_strategies),
        cmocka_unit_test(special_types), cmocka_unit_test(protobuf_numbers),
        cmocka_unit_test(misses),        cmocka_unit_test(invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
