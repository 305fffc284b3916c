/* The RBAC kinds through their ops as the write path runs them: the v1 defaults, what validation
 * lets through and what it refuses on create and update, and the Table rows kubectl prints. The
 * exact messages are checked end to end with kubectl (tests/e2e/apiserver/test_rbac.py). */
#include "support/cm.h"
#include "api/tests/ferrs_text.h"
#include "api/kinds.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

static const struct jp_kind *rbac(const char *plural)
{
    const struct jp_kind *k = jp_kind_by_plural("rbac.authorization.k8s.io", "v1", plural);
    assert_non_null(k);
    return k;
}

static json_t *defaulted(const struct jp_kind *k, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    k->ops->defaults(j);
    return j;
}

/* "field: message" of every error, joined by " | " */
static char *errors(const struct jp_kind *k, const json_t *obj, const json_t *old)
{
    struct jp_ferrs fe = {0};
    k->ops->validate(obj, old, &fe);
    return ferrs_text(&fe);
}

static void expect_errors(const struct jp_kind *k, const json_t *obj, const json_t *old,
                          const char *want)
{
    char *got = errors(k, obj, old);
    if (strcmp(got, want) != 0) fail_msg("want: %s\n  got:  %s", want, got);
    free(got);
}

/* the row's cells but the age, joined by " | " */
static char *row(const struct jp_kind *k, const json_t *obj)
{
    struct jp_cells c = {0};
    k->ops->row(obj, &c);
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < c.n; i++) {
        if (c.items[i].type != JP_CELL_AGE) {
            jp_buf_printf(&b, "%s", b.len ? " | " : "");
            jp_cell_render(&c.items[i], 0, &b);
        }
        free(c.items[i].text);
    }
    free(c.items);
    return jp_buf_steal(&b, NULL);
}

static void the_kinds(void **state)
{
    (void)state;
    assert_true(rbac("roles")->namespaced);
    assert_true(rbac("rolebindings")->namespaced);
    assert_false(rbac("clusterroles")->namespaced);
    assert_false(rbac("clusterrolebindings")->namespaced);
    assert_string_equal(rbac("clusterrolebindings")->resource,
                        "clusterrolebindings.rbac.authorization.k8s.io");
    assert_string_equal(rbac("roles")->ops->columns[1].name, "Created At");
    assert_string_equal(rbac("rolebindings")->ops->columns[5].name, "ServiceAccounts");
    assert_int_equal(rbac("rolebindings")->ops->columns[5].priority, 1);
}

static void bindings_default_and_print(void **state)
{
    (void)state;
    const struct jp_kind *k = rbac("rolebindings");
    json_t *b = defaulted(k, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"default\"},"
                             "\"roleRef\":{\"kind\":\"Role\",\"name\":\"r\"},\"subjects\":["
                             "{\"kind\":\"User\",\"name\":\"jane\"},"
                             "{\"kind\":\"Group\",\"name\":\"devs\"},"
                             "{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"ns\"},"
                             "{\"kind\":\"ServiceAccount\",\"name\":\"sb\"}]}");
    assert_string_equal(jp_json_str(b, "roleRef", "apiGroup", NULL), "rbac.authorization.k8s.io");
    json_t *subs = json_object_get(b, "subjects");
    assert_string_equal(jp_json_str(json_array_get(subs, 0), "apiGroup", NULL),
                        "rbac.authorization.k8s.io");
    assert_string_equal(jp_json_str(json_array_get(subs, 1), "apiGroup", NULL),
                        "rbac.authorization.k8s.io");
    assert_null(json_object_get(json_array_get(subs, 2), "apiGroup"));
    expect_errors(k, b, NULL, "");
    char *r = row(k, b);
    assert_string_equal(r, "b | Role/r | jane | devs | ns/sa, /sb");
    free(r);

    /* the same object again is a valid update; another role is not */
    expect_errors(k, b, b, "");
    json_t *other = json_deep_copy(b);
    json_object_set_new(json_object_get(other, "roleRef"), "name", json_string("r2"));
    expect_errors(k, other, b,
                  "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
                  "Kind:\"Role\", Name:\"r2\"}: cannot change roleRef");
    json_decref(other);
    json_decref(b);

    /* no roleRef at all, no subjects: what is missing is named, nothing crashes */
    b = defaulted(k, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"default\"}}");
    expect_errors(k, b, NULL,
                  "roleRef.apiGroup: Unsupported value: \"\": supported values: "
                  "\"rbac.authorization.k8s.io\" | roleRef.kind: Unsupported value: \"\": "
                  "supported values: \"Role\", \"ClusterRole\" | roleRef.name: Required value");
    r = row(k, b);
    assert_string_equal(r, "b | / |  |  | ");
    free(r);
    json_decref(b);
}

static void rules(void **state)
{
    (void)state;
#define RULES "\"rules\":[{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\",\"/metrics\"]}]}"
    const char *cluster = "{\"metadata\":{\"name\":\"r\"}," RULES;
    const char *ns = "{\"metadata\":{\"name\":\"r\",\"namespace\":\"default\"}," RULES;
    json_t *cr = defaulted(rbac("clusterroles"), cluster);
    json_t *r = defaulted(rbac("roles"), ns);
    expect_errors(rbac("clusterroles"), cr, NULL, "");
    expect_errors(rbac("roles"), r, NULL,
                  "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\", \"/metrics\"}: "
                  "namespaced rules cannot apply to non-resource URLs");
    /* the namespace rule is the metadata's, as for every namespaced kind */
    expect_errors(rbac("roles"), cr, NULL,
                  "metadata.namespace: Required value | rules[0].nonResourceURLs: Invalid value: "
                  "[]string{\"/healthz\", \"/metrics\"}: namespaced rules cannot apply to "
                  "non-resource URLs");
    char *cells = row(rbac("clusterroles"), cr);
    assert_string_equal(cells, "r | ");
    free(cells);
    json_decref(cr);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_kinds),
        cmocka_unit_test(bindings_default_and_print),
        cmocka_unit_test(rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
