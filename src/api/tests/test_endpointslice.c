/* EndpointSlice through its kind's ops as the write path runs them: port defaults, validation
 * texts, the generation rule and the Table row `kubectl get endpointslices` prints. */
#include "support/cm.h"
#include "api/tests/ferrs_text.h"
#include "api/kinds.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

static const char base_slice[] =
    "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
    "\"web-abc12\",\"namespace\":\"default\",\"labels\":{\"kubernetes.io/service-name\":\"web\"}},"
    "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.1.0.5\"]}],"
    "\"ports\":[{\"name\":\"http\",\"port\":8080}]}";

static const struct jp_kind *slices(void)
{
    return jp_kind_by_plural("discovery.k8s.io", "v1", "endpointslices");
}

/* base_slice with a JSON merge patch applied (null deletes), defaulted and prepared like a
 * create. */
static json_t *slice_with(const char *merge)
{
    json_t *j = json_loads(base_slice, 0, NULL);
    json_t *m = json_loads(merge, 0, NULL);
    assert_non_null(m);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        if (json_is_null(v))
            json_object_del(j, k);
        else
            json_object_set(j, k, v);
    }
    json_decref(m);
    slices()->ops->defaults(j);
    slices()->ops->prepare_create(NULL, j);
    return j;
}

/* All error messages joined with " | " ("field: message"). */
static char *errors(const json_t *obj, const json_t *old)
{
    struct jp_ferrs fe = {0};
    slices()->ops->validate(obj, old, &fe);
    return ferrs_text(&fe);
}

static void expect(const char *merge, const char *want)
{
    json_t *j = slice_with(merge);
    char *got = errors(j, NULL);
    if (want == NULL ? *got != '\0' : strcmp(got, want) != 0)
        fail_msg("patch %s\n  want: %s\n  got:  %s", merge, want ? want : "(no errors)", got);
    free(got);
    json_decref(j);
}

/* The row's cells as kubectl shows them, joined by " | " (the age cell left out). */
static char *row_of(const char *merge)
{
    json_t *j = slice_with(merge);
    struct jp_cells c = {0};
    slices()->ops->row(j, &c);
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < c.n; i++) {
        if (c.items[i].type != JP_CELL_AGE) {
            jp_buf_printf(&b, "%s", i ? " | " : "");
            jp_cell_render(&c.items[i], 0, &b);
        }
        free(c.items[i].text);
    }
    assert_int_equal(c.n, 5);
    assert_int_equal(c.items[4].type, JP_CELL_AGE);
    free(c.items);
    json_decref(j);
    return jp_buf_steal(&b, NULL);
}

static void expect_row(const char *merge, const char *want)
{
    char *got = row_of(merge);
    if (strcmp(got, want) != 0) fail_msg("patch %s\n  want: %s\n  got:  %s", merge, want, got);
    free(got);
}

static void kind_row(void **state)
{
    (void)state;
    const struct jp_kind *k = slices();
    assert_non_null(k);
    assert_string_equal(k->kind, "EndpointSlice");
    assert_string_equal(k->resource, "endpointslices.discovery.k8s.io");
    assert_string_equal(k->singular, "endpointslice");
    assert_null(k->short_names[0]);
    assert_true(k->namespaced);
    assert_int_equal(k->subresources, 0);
    static const char *const names[] = {"Name", "AddressType", "Ports", "Endpoints", "Age"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(k->ops->columns[i].name, names[i]);
    assert_null(k->ops->columns[5].name);
}

static void port_defaults_and_generation(void **state)
{
    (void)state;
    json_t *j = slice_with("{\"ports\":[{\"port\":80},{\"name\":\"dns\",\"protocol\":\"UDP\"}]}");
    json_t *p0 = json_array_get(json_object_get(j, "ports"), 0);
    json_t *p1 = json_array_get(json_object_get(j, "ports"), 1);
    assert_string_equal(jp_json_str(p0, "name", NULL), "");
    assert_string_equal(jp_json_str(p0, "protocol", NULL), "TCP");
    assert_string_equal(jp_json_str(p1, "protocol", NULL), "UDP");
    assert_int_equal(jp_json_int(j, 0, "metadata", "generation", NULL), 1);

    /* an update that changes only annotations keeps the generation */
    json_t *upd = json_deep_copy(j);
    json_object_set_new(json_object_get(upd, "metadata"), "annotations",
                        json_pack("{s:s}", "a", "b"));
    slices()->ops->prepare_update(NULL, upd, j);
    assert_int_equal(jp_json_int(upd, 0, "metadata", "generation", NULL), 1);
    /* endpoints or labels changing bump it */
    json_t *upd2 = json_deep_copy(upd);
    json_object_set_new(upd2, "endpoints", json_pack("[{s:[s]}]", "addresses", "10.1.0.6"));
    slices()->ops->prepare_update(NULL, upd2, upd);
    assert_int_equal(jp_json_int(upd2, 0, "metadata", "generation", NULL), 2);
    json_t *upd3 = json_deep_copy(upd2);
    json_object_set_new(json_object_get(upd3, "metadata"), "labels", json_object());
    slices()->ops->prepare_update(NULL, upd3, upd2);
    assert_int_equal(jp_json_int(upd3, 0, "metadata", "generation", NULL), 3);
    json_decref(upd3);
    json_decref(upd2);
    json_decref(upd);
    json_decref(j);

    /* deprecatedTopology is not writable through v1 */
    j = slice_with("{\"endpoints\":[{\"addresses\":[\"10.1.0.5\"],\"deprecatedTopology\":"
                   "{\"kubernetes.io/hostname\":\"n1\"}}]}");
    json_t *ep0 = json_array_get(json_object_get(j, "endpoints"), 0);
    assert_non_null(ep0);
    assert_null(json_object_get(ep0, "deprecatedTopology"));
    json_decref(j);
}

static void valid_slices(void **state)
{
    (void)state;
    expect("{}", NULL);
    expect("{\"endpoints\":null,\"ports\":null}", NULL);
    expect("{\"endpoints\":[],\"ports\":[]}", NULL);
    expect("{\"addressType\":\"IPv6\",\"endpoints\":[{\"addresses\":[\"fd00::5\"],"
           "\"hostname\":\"web-0\",\"nodeName\":\"node-1\",\"conditions\":{\"ready\":true}}]}",
           NULL);
    expect("{\"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":[\"db.example.com.\"]}]}",
           NULL);
    expect("{\"ports\":[{\"name\":\"http\",\"port\":80,\"appProtocol\":\"kubernetes.io/h2c\"},"
           "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}]}",
           NULL);
}

static void address_type(void **state)
{
    (void)state;
    expect("{\"addressType\":null}", "addressType: Required value");
    expect("{\"addressType\":\"\"}", "addressType: Required value");
    expect("{\"addressType\":\"IP\"}",
           "addressType: Unsupported value: \"IP\": supported values: \"FQDN\", \"IPv4\", "
           "\"IPv6\"");
    json_t *old = slice_with("{}");
    json_t *upd = slice_with("{\"addressType\":\"IPv6\",\"endpoints\":[{\"addresses\":"
                             "[\"fd00::5\"]}]}");
    char *got = errors(upd, old);
    assert_string_equal(got, "addressType: Invalid value: \"IPv6\": field is immutable");
    free(got);
    got = errors(old, old);
    assert_string_equal(got, "");
    free(got);
    json_decref(upd);
    json_decref(old);
}

static void endpoints(void **state)
{
    (void)state;
    expect("{\"endpoints\":[{\"addresses\":[\"10.1.0.5\"]},{\"addresses\":[]}]}",
           "endpoints[1].addresses: Required value: must contain at least 1 address");
    expect("{\"endpoints\":[{}]}",
           "endpoints[0].addresses: Required value: must contain at least 1 address");
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    jp_buf_printf(&b, "{\"endpoints\":[{\"addresses\":[");
    for (int i = 0; i < 101; i++)
        jp_buf_printf(&b, "%s\"10.1.0.%d\"", i ? "," : "", i + 1);
    jp_buf_printf(&b, "]}]}");
    expect(b.data, "endpoints[0].addresses: Too many: 101: must have at most 100 items");
    jp_buf_free(&b);
    expect("{\"endpoints\":[{\"addresses\":[\"10.1.0.5\",\"fd00::1\",\"300.1.1.1\"]}]}",
           "endpoints[0].addresses[1]: Invalid value: \"fd00::1\": must be a valid IPv4 address | "
           "endpoints[0].addresses[2]: Invalid value: \"300.1.1.1\": must be a valid IPv4 "
           "address");
    expect("{\"endpoints\":[{\"addresses\":[\"224.0.0.251\",\"169.254.1.1\",\"0.0.0.0\"]}]}",
           "endpoints[0].addresses[0]: Invalid value: \"224.0.0.251\": may not be in the "
           "link-local multicast range (224.0.0.0/24, ff02::/10) | endpoints[0].addresses[1]: "
           "Invalid value: \"169.254.1.1\": may not be in the link-local range (169.254.0.0/16, "
           "fe80::/10) | endpoints[0].addresses[2]: Invalid value: \"0.0.0.0\": may not be "
           "unspecified (0.0.0.0)");
    /* loopback is a pod address here (pods sharing the node's network) */
    expect("{\"endpoints\":[{\"addresses\":[\"127.0.0.1\"]}]}", NULL);
    expect("{\"addressType\":\"IPv6\",\"endpoints\":[{\"addresses\":[\"fe80::1\",\"10.1.0.5\"]}]}",
           "endpoints[0].addresses[0]: Invalid value: \"fe80::1\": may not be in the link-local "
           "range (169.254.0.0/16, fe80::/10) | endpoints[0].addresses[1]: Invalid value: "
           "\"10.1.0.5\": must be a valid IPv6 address");
    expect("{\"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":[\"db\",\"Db.example\"]}]}",
           "endpoints[0].addresses[0]: Invalid value: \"db\": should be a domain with at least "
           "two segments separated by dots | endpoints[0].addresses[1]: Invalid value: "
           "\"Db.example\": a lowercase RFC 1123 subdomain must consist of lower case "
           "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
           "character (e.g. 'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    char *fqdn = jp_xasprintf("{\"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":"
                              "[\"db.%064d.example\"]}]}",
                              0);
    char *want = jp_xasprintf("endpoints[0].addresses[0]: Invalid value: \"%064d\": must be no "
                              "more than 63 characters",
                              0);
    expect(fqdn, want);
    free(want);
    free(fqdn);
    expect("{\"endpoints\":[{\"addresses\":[\"10.1.0.5\"],\"hostname\":\"a.b\"}]}",
           "endpoints[0].hostname: Invalid value: \"a.b\": a lowercase RFC 1123 label must "
           "consist of lower case alphanumeric characters or '-', and must start and end with an "
           "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
}

static void ports(void **state)
{
    (void)state;
    expect("{\"ports\":[{\"port\":80},{\"port\":81}]}", "ports[1].name: Duplicate value: \"\"");
    expect("{\"ports\":[{\"name\":\"a\",\"port\":80},{\"name\":\"a\",\"port\":81}]}",
           "ports[1].name: Duplicate value: \"a\"");
    expect("{\"ports\":[{\"name\":\"Web\",\"port\":80,\"protocol\":\"HTTP\"}]}",
           "ports[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of "
           "lower case alphanumeric characters or '-', and must start and end with an "
           "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?') | ports[0].protocol: Unsupported value: \"HTTP\": "
           "supported values: \"SCTP\", \"TCP\", \"UDP\"");
}

static void table_row(void **state)
{
    (void)state;
    expect_row("{}", "web-abc12 | IPv4 | 8080 | 10.1.0.5");
    expect_row("{\"endpoints\":null,\"ports\":null}", "web-abc12 | IPv4 | <unset> | <unset>");
    expect_row("{\"endpoints\":[],\"ports\":[]}", "web-abc12 | IPv4 | <unset> | <unset>");
    expect_row("{\"ports\":[{\"port\":80,\"name\":\"a\"},{\"port\":443,\"name\":\"b\"},"
               "{\"port\":8080,\"name\":\"c\"},{\"port\":9090,\"name\":\"d\"},{\"port\":1,"
               "\"name\":\"e\"}],\"endpoints\":[{\"addresses\":[\"10.1.0.1\",\"10.1.0.2\"]},"
               "{\"addresses\":[\"10.1.0.3\"]},{\"addresses\":[\"10.1.0.4\"]}]}",
               "web-abc12 | IPv4 | 80,443,8080 + 2 more... | 10.1.0.1,10.1.0.2,10.1.0.3 + 1 "
               "more...");
    /* a port without a number shows its (defaulted) name */
    expect_row("{\"ports\":[{\"name\":\"http\"},{\"name\":\"x\",\"port\":81}]}",
               "web-abc12 | IPv4 | http,81 | 10.1.0.5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kind_row),     cmocka_unit_test(port_defaults_and_generation),
        cmocka_unit_test(valid_slices), cmocka_unit_test(address_type),
        cmocka_unit_test(endpoints),    cmocka_unit_test(ports),
        cmocka_unit_test(table_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
