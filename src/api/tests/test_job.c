/* Job defaults, selector generation and every validation rule of job-semantics.md §1-3 with the
 * exact texts, run through the kind's ops as the write path runs them. */
#include "support/cm.h"
#include "api/tests/ferrs_text.h"
#include "api/kinds.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

static const char base_job[] =
    "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"oneshot\","
    "\"namespace\":\"default\",\"uid\":\"u-1\"},\"spec\":{\"template\":{\"spec\":{\"containers\":"
    "[{\"name\":\"kuard\",\"image\":\"kuard\"}],\"restartPolicy\":\"OnFailure\"}}}}";

static const struct jp_kind *jobs(void)
{
    return jp_kind_by_plural("batch", "v1", "jobs");
}

/* base_job with a JSON merge patch applied, defaulted and prepared like a create */
static json_t *job_with(const char *merge)
{
    json_t *j = json_loads(base_job, 0, NULL);
    json_t *m = json_loads(merge, 0, NULL);
    assert_non_null(m);
    json_object_update_recursive(j, m);
    json_decref(m);
    jobs()->ops->defaults(j);
    jobs()->ops->prepare_create(NULL, j);
    return j;
}

/* All error messages joined with " | " ("field: message"). */
static char *errors(const json_t *obj, const json_t *old)
{
    struct jp_ferrs fe = {0};
    jobs()->ops->validate(obj, old, &fe);
    return ferrs_text(&fe);
}

static void expect(const char *merge, const char *want)
{
    json_t *j = job_with(merge);
    char *got = errors(j, NULL);
    if (want == NULL ? *got != '\0' : strstr(got, want) == NULL)
        fail_msg("patch %s\n  want: %s\n  got:  %s", merge, want ? want : "(no errors)", got);
    free(got);
    json_decref(j);
}

static void defaults_and_generated_selector(void **state)
{
    (void)state;
    json_t *j = job_with("{}");
    json_t *spec = json_object_get(j, "spec");
    assert_int_equal(jp_json_int(spec, 0, "parallelism", NULL), 1);
    assert_int_equal(jp_json_int(spec, 0, "completions", NULL), 1);
    assert_int_equal(jp_json_int(spec, 0, "backoffLimit", NULL), 6);
    assert_string_equal(jp_json_str(spec, "completionMode", NULL), "NonIndexed");
    assert_string_equal(jp_json_str(spec, "podReplacementPolicy", NULL), "TerminatingOrFailed");
    assert_true(json_is_false(json_object_get(spec, "suspend")));
    assert_true(json_is_false(json_object_get(spec, "manualSelector")));
    assert_string_equal(
        jp_json_str(spec, "selector", "matchLabels", "batch.kubernetes.io/controller-uid", NULL),
        "u-1");
    json_t *tl = jp_json_path(spec, "template", "metadata", "labels", NULL);
    assert_string_equal(jp_json_str(tl, "batch.kubernetes.io/job-name", NULL), "oneshot");
    assert_string_equal(jp_json_str(tl, "job-name", NULL), "oneshot");
    assert_string_equal(jp_json_str(tl, "controller-uid", NULL), "u-1");
    assert_int_equal(json_object_size(jp_json_path(j, "metadata", "labels", NULL)), 4);
    char *e = errors(j, NULL);
    assert_string_equal(e, "");
    free(e);
    json_decref(j);
    /* parallelism alone: completions stays unset (work-queue pattern) */
    j = job_with("{\"spec\":{\"parallelism\":5}}");
    assert_null(jp_json_path(j, "spec", "completions", NULL));
    json_decref(j);
    /* own labels are kept as they are */
    j = job_with("{\"metadata\":{\"labels\":{\"chapter\":\"jobs\"}}}");
    assert_int_equal(json_object_size(jp_json_path(j, "metadata", "labels", NULL)), 1);
    json_decref(j);
    /* backoffLimitPerIndex raises the backoffLimit default; podFailurePolicy the replacement */
    j = job_with(
        "{\"spec\":{\"backoffLimitPerIndex\":1,\"podFailurePolicy\":{\"rules\":[{"
        "\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]}]}}}");
    assert_int_equal(jp_json_int(j, 0, "spec", "backoffLimit", NULL), 2147483647);
    assert_string_equal(jp_json_str(j, "spec", "podReplacementPolicy", NULL), "Failed");
    json_t *cond = json_array_get(
        jp_json_path(json_array_get(jp_json_path(j, "spec", "podFailurePolicy", "rules", NULL), 0),
                     "onPodConditions", NULL),
        0);
    assert_string_equal(jp_json_str(cond, "status", NULL), "True");
    json_decref(j);
}

static void create_rules(void **state)
{
    (void)state;
    expect("{}", NULL);
    expect(
        "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Always\"}}}}",
        "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"");
    expect("{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"X\"}}}}",
           "spec.template.spec.restartPolicy: Unsupported value: \"X\": supported values: "
           "\"Always\", \"OnFailure\", \"Never\" | spec.template.spec.restartPolicy: Unsupported "
           "value: \"X\": supported values: \"OnFailure\", \"Never\"");
    expect("{\"spec\":{\"podFailurePolicy\":{\"rules\":[{\"action\":\"Ignore\",\"onExitCodes\":{"
           "\"operator\":\"In\",\"values\":[1]}}]}}}",
           "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is "
           "supported when podFailurePolicy is specified");
    const char *negatives[] = {"parallelism", "completions", "activeDeadlineSeconds",
                               "backoffLimit", "ttlSecondsAfterFinished"};
    for (size_t i = 0; i < sizeof(negatives) / sizeof(negatives[0]); i++) {
        char patch[128], want[160];
        snprintf(patch, sizeof(patch), "{\"spec\":{\"%s\":-1}}", negatives[i]);
        snprintf(want, sizeof(want),
                 "spec.%s: Invalid value: -1: must be greater than or equal to 0", negatives[i]);
        expect(patch, want);
    }
    /* user and group ids (a pod's template is validated as a pod's spec) */
    expect("{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"runAsUser\":0,"
           "\"fsGroup\":2147483647,\"supplementalGroups\":[1,2]}}}}}",
           NULL);
    expect("{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"runAsUser\":-1,"
           "\"fsGroup\":2147483648,\"supplementalGroups\":[1,-2]}}}}}",
           "spec.template.spec.securityContext.fsGroup: Invalid value: 2147483648: must be between "
           "0 and 2147483647, inclusive | spec.template.spec.securityContext.runAsUser: Invalid "
           "value: -1: must be between 0 and 2147483647, inclusive | "
           "spec.template.spec.securityContext.supplementalGroups[1]: Invalid value: -2: must be "
           "between 0 and 2147483647, inclusive");
    expect(
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"kuard\",\"image\":"
        "\"kuard\",\"securityContext\":{\"runAsGroup\":-5}}]}}}}",
        "spec.template.spec.containers[0].securityContext.runAsGroup: Invalid value: -5: must be "
        "between 0 and 2147483647, inclusive");
    expect("{\"spec\":{\"completionMode\":\"Indexed\",\"parallelism\":2}}",
           "spec.completions: Required value: when completion mode is Indexed");
    expect("{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3,\"parallelism\":100001}}",
           "spec.parallelism: Invalid value: 100001: must be less than or equal to 100000 when "
           "completion mode is Indexed");
    expect("{\"spec\":{\"completionMode\":\"Foo\"}}",
           "spec.completionMode: Unsupported value: \"Foo\": supported values: \"NonIndexed\", "
           "\"Indexed\"");
    expect("{\"spec\":{\"backoffLimitPerIndex\":1}}",
           "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode");
    expect("{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3,\"maxFailedIndexes\":1}}",
           "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified");
    expect("{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3,\"backoffLimitPerIndex\":1,"
           "\"maxFailedIndexes\":5}}",
           "spec.maxFailedIndexes: Invalid value: 5: must be less than or equal to completions");
    expect("{\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}",
           "spec.template.spec.containers: Required value");
    expect("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}",
           "spec.template.spec.containers[0].image: Required value");
    expect("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}",
           "spec.template.spec.containers[0].name: Required value");
    expect(
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\","
        "\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"1Gi\"},\"limits\":{\"cpu\":"
        "\"1500m\",\"memory\":\"1024Mi\"}}}]}}}}",
        "spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be "
        "less than or equal to cpu limit of 1500m");
    expect("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\","
           "\"resources\":{\"requests\":{\"memory\":\"1Gi\"},\"limits\":{\"memory\":\"1024Mi\"}}}]}"
           "}}}",
           NULL);
    expect(
        "{\"metadata\":{\"name\":\"Bad_Name\"}}",
        "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist "
        "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    char longname[200];
    snprintf(longname, sizeof(longname), "{\"metadata\":{\"name\":\"%.64s\"}}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect(longname, "spec.template.labels: Invalid value: \"aaaa");
    expect(longname, "\": must be no more than 63 characters");
    expect("{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3,\"parallelism\":1},"
           "\"metadata\":{\"name\":\"a.b\"}}",
           "metadata.name: Invalid value: \"a.b\": will not able to create pod with invalid DNS "
           "label: a.b-2");
}

static void policy_rules(void **state)
{
    (void)state;
    const char *never = "\"template\":{\"spec\":{\"restartPolicy\":\"Never\"}}";
    char p[1024];
#define PFP(rules)                                                                                 \
    (snprintf(p, sizeof(p), "{\"spec\":{%s,\"podFailurePolicy\":{\"rules\":%s}}}", never, rules), p)
    expect(PFP("[{\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]}}]"),
           "spec.podFailurePolicy.rules[0].action: Required value: valid values: [\"Count\" "
           "\"FailIndex\" \"FailJob\" \"Ignore\"]");
    expect(PFP("[{\"action\":\"Foo\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]}}]"),
           "spec.podFailurePolicy.rules[0].action: Unsupported value: \"Foo\": supported values: "
           "\"Count\", \"FailIndex\", \"FailJob\", \"Ignore\"");
    expect(PFP("[{\"action\":\"FailIndex\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]}}]"),
           "spec.podFailurePolicy.rules[0].action: Invalid value: \"FailIndex\": requires the "
           "backoffLimitPerIndex to be set");
    expect(PFP("[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]},"
               "\"onPodConditions\":[{\"type\":\"X\"}]}]"),
           "spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes and "
           "OnPodConditions is not supported");
    expect(PFP("[{\"action\":\"Count\"}]"),
           "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and "
           "OnPodConditions is required");
    expect(PFP("[{\"action\":\"Count\",\"onExitCodes\":{\"values\":[1]}}]"),
           "spec.podFailurePolicy.rules[0].onExitCodes.operator: Required value: valid values: "
           "[\"In\" \"NotIn\"]");
    expect(
        PFP("[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"containerName\":\"x\","
            "\"values\":[1]}}]"),
        "spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: \"x\": must "
        "be one of the container or initContainer names in the pod template");
    expect(PFP("[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[]}}]"),
           "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{}: at least "
           "one value is required");
    expect(PFP("[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[0]}}]"),
           "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 "
           "for the In operator");
    expect(PFP("[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[1,1]}}]"),
           "spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Duplicate value: 1");
    expect(PFP("[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[2,1]}}]"),
           "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{2, 1}: must "
           "be ordered");
    expect(
        PFP("[{\"action\":\"Count\",\"onPodConditions\":[{\"type\":\"X\",\"status\":\"Maybe\"}]}]"),
        "spec.podFailurePolicy.rules[0].onPodConditions[0].status: Unsupported value: "
        "\"Maybe\": supported values: \"False\", \"True\", \"Unknown\"");
    struct jp_buf many;
    jp_buf_init(&many, 1 << 16);
    jp_buf_appendc(&many, '[');
    for (int i = 0; i < 21; i++)
        jp_buf_printf(
            &many, "%s{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]}}",
            i ? "," : "");
    jp_buf_appendc(&many, ']');
    char big[8192];
    snprintf(big, sizeof(big), "{\"spec\":{%s,\"podFailurePolicy\":{\"rules\":%s}}}", never,
             many.data);
    jp_buf_free(&many);
    expect(big, "spec.podFailurePolicy.rules: Too many: 21: must have at most 20 items");
    expect(
        "{\"spec\":{\"podFailurePolicy\":{\"rules\":[{\"action\":\"Ignore\",\"onExitCodes\":{"
        "\"operator\":\"In\",\"values\":[1]}}]},\"podReplacementPolicy\":\"TerminatingOrFailed\","
        "\"template\":{\"spec\":{\"restartPolicy\":\"Never\"}}}}",
        "spec.podReplacementPolicy: Unsupported value: \"TerminatingOrFailed\": supported "
        "values: \"Failed\"");
    expect("{\"spec\":{\"podReplacementPolicy\":\"X\"}}",
           "spec.podReplacementPolicy: Unsupported value: \"X\": supported values: \"Failed\", "
           "\"TerminatingOrFailed\"");
    expect("{\"spec\":{\"successPolicy\":{\"rules\":[{\"succeededCount\":1}]}}}",
           "spec.successPolicy: Invalid value: ");
    expect("{\"spec\":{\"successPolicy\":{\"rules\":[{\"succeededCount\":1}]}}}",
           ": requires indexed completion mode");
    const char *idx = "\"completionMode\":\"Indexed\",\"completions\":5,\"parallelism\":5";
#define SP(rules)                                                                                  \
    (snprintf(p, sizeof(p), "{\"spec\":{%s,\"successPolicy\":{\"rules\":%s}}}", idx, rules), p)
    expect(SP("[]"), "spec.successPolicy.rules: Required value: at least one rules must be "
                     "specified when the successPolicy is specified");
    expect(SP("[{}]"), "spec.successPolicy.rules[0]: Required value: at least one of "
                       "succeededCount or succeededIndexes must be specified");
    expect(SP("[{\"succeededIndexes\":\"7\"}]"),
           "spec.successPolicy.rules[0].succeededIndexes: Invalid value: \"7\": error parsing "
           "succeededIndexes: too large index: \"7\"");
    expect(SP("[{\"succeededIndexes\":\"a\"}]"),
           "cannot convert string to integer for index: \"a\"");
    expect(SP("[{\"succeededIndexes\":\"3,1\"}]"), "non-increasing order, previous: 3, current: 1");
    expect(SP("[{\"succeededIndexes\":\"1-2-3\"}]"),
           "the fragment \"1-2-3\" violates the requirement that an index interval can have at "
           "most two parts separated by '-'");
    expect(SP("[{\"succeededCount\":6}]"),
           "spec.successPolicy.rules[0].succeededCount: Invalid value: 6: must be less than or "
           "equal to 5 (the number of specified completions)");
    expect(SP("[{\"succeededCount\":3,\"succeededIndexes\":\"0,1\"}]"),
           "spec.successPolicy.rules[0].succeededCount: Invalid value: 3: must be less than or "
           "equal to 2 (the number of indexes in the specified succeededIndexes field)");
    expect(SP("[{\"succeededCount\":2,\"succeededIndexes\":\"0-2,4\"}]"), NULL);
}

static void selector_rules(void **state)
{
    (void)state;
    expect("{\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}}}}",
           "spec.selector: Invalid value: ");
    expect("{\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}}}}",
           ": `selector` not auto-generated");
    expect("{\"spec\":{\"manualSelector\":true,\"selector\":{\"matchLabels\":{\"a\":\"b\"}}}}",
           "spec.template.metadata.labels: Invalid value: ");
    expect("{\"spec\":{\"manualSelector\":true,\"selector\":{\"matchLabels\":{\"a\":\"b\"}}}}",
           ": `selector` does not match template `labels`");
    expect("{\"spec\":{\"manualSelector\":true,\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
           "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}}}}",
           NULL);
}

static void update_rules(void **state)
{
    (void)state;
    json_t *old = job_with("{}");
    json_t *new = json_deep_copy(old);
    json_t *c0 =
        json_array_get(jp_json_path(new, "spec", "template", "spec", "containers", NULL), 0);
    json_object_set_new(c0, "args", json_pack("[s]", "--keygen-num-to-gen=20"));
    char *e = errors(new, old);
    assert_non_null(strstr(e, "spec.template: Invalid value: core.PodTemplateSpec"));
    assert_non_null(strstr(e, ": field is immutable"));
    free(e);
    json_decref(new);
    /* completions of a NonIndexed job */
    new = json_deep_copy(old);
    json_object_set_new(json_object_get(new, "spec"), "completions", json_integer(3));
    e = errors(new, old);
    assert_non_null(strstr(e, "spec.completions: Invalid value: 3: field is immutable"));
    free(e);
    json_decref(new);
    /* parallelism, backoffLimit and activeDeadlineSeconds may change */
    new = json_deep_copy(old);
    json_object_set_new(json_object_get(new, "spec"), "parallelism", json_integer(4));
    json_object_set_new(json_object_get(new, "spec"), "backoffLimit", json_integer(2));
    e = errors(new, old);
    assert_string_equal(e, "");
    free(e);
    json_decref(new);
    /* completionMode is immutable */
    new = json_deep_copy(old);
    json_object_set_new(json_object_get(new, "spec"), "completionMode", json_string("Indexed"));
    e = errors(new, old);
    assert_non_null(
        strstr(e, "spec.completionMode: Invalid value: \"Indexed\": field is immutable"));
    free(e);
    json_decref(new);
    json_decref(old);
    /* a suspended, never-started job may change template labels but not the image */
    old = job_with("{\"spec\":{\"suspend\":true}}");
    new = json_deep_copy(old);
    json_object_set_new(jp_json_path(new, "spec", "template", "metadata", "labels", NULL), "extra",
                        json_string("yes"));
    e = errors(new, old);
    assert_string_equal(e, "");
    free(e);
    c0 = json_array_get(jp_json_path(new, "spec", "template", "spec", "containers", NULL), 0);
    json_object_set_new(c0, "image", json_string("other"));
    e = errors(new, old);
    assert_non_null(strstr(e, "field is immutable"));
    free(e);
    json_decref(new);
    json_decref(old);
    /* indexed completions change only with parallelism */
    old =
        job_with("{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3,\"parallelism\":3}}");
    new = json_deep_copy(old);
    json_object_set_new(json_object_get(new, "spec"), "completions", json_integer(4));
    e = errors(new, old);
    assert_non_null(strstr(e, "spec.completions: Invalid value: 4: can only be modified in tandem "
                              "with spec.parallelism"));
    free(e);
    json_object_set_new(json_object_get(new, "spec"), "parallelism", json_integer(4));
    e = errors(new, old);
    assert_string_equal(e, "");
    free(e);
    json_decref(new);
    json_decref(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_and_generated_selector),
        cmocka_unit_test(create_rules),
        cmocka_unit_test(policy_rules),
        cmocka_unit_test(selector_rules),
        cmocka_unit_test(update_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
