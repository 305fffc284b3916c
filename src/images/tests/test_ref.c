/* Image references: normalized as Kubernetes and containerd do (docker.io, library/, :latest),
 * the grammar's rejections, and the store's directory names for them. */
#include "support/cm.h"
#include "images/images.h"

#include <stdlib.h>
#include <string.h>

static void normalizes(const char *in, const char *full)
{
    struct jp_image_ref r;
    struct jp_err *err = NULL;
    if (jp_image_ref_parse(in, &r, &err) < 0) fail_msg("%s: %s", in, err->msg);
    if (strcmp(r.full, full) != 0) fail_msg("%s: got %s, want %s", in, r.full, full);
    jp_image_ref_free(&r);
}

static void rejects(const char *in, const char *why)
{
    struct jp_image_ref r;
    struct jp_err *err = NULL;
    if (jp_image_ref_parse(in, &r, &err) == 0) fail_msg("%s: accepted as %s", in, r.full);
    if (strstr(err->msg, why) == NULL)
        fail_msg("%s: message \"%s\" lacks \"%s\"", in, err->msg, why);
    assert_int_equal(err->reason, JP_INVALID);
    jp_err_free(err);
}

static void short_names_live_in_docker_io_library(void **state)
{
    (void)state;
    normalizes("busybox", "docker.io/library/busybox:latest");
    normalizes("busybox:latest", "docker.io/library/busybox:latest");
    normalizes("library/busybox", "docker.io/library/busybox:latest");
    normalizes("docker.io/busybox", "docker.io/library/busybox:latest");
    normalizes("index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36");
    normalizes("docker.io/library/busybox:latest", "docker.io/library/busybox:latest");
    normalizes("someone/tool:v1.2_rc-3", "docker.io/someone/tool:v1.2_rc-3");
}

static void registries_ports_and_digests(void **state)
{
    (void)state;
    normalizes("gcr.io/kuar-demo/kuard-amd64:blue", "gcr.io/kuar-demo/kuard-amd64:blue");
    normalizes("localhost/app", "localhost/app:latest");
    normalizes("localhost:5000/a/b/c", "localhost:5000/a/b/c:latest");
    normalizes("registry.example.com:443/x__y.z-w", "registry.example.com:443/x__y.z-w:latest");
    const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char in[200], want[200];
    snprintf(in, sizeof(in), "busybox@%s", d);
    snprintf(want, sizeof(want), "docker.io/library/busybox@%s", d);
    normalizes(in, want);
    snprintf(in, sizeof(in), "busybox:1@%s", d);
    snprintf(want, sizeof(want), "docker.io/library/busybox:1@%s", d);
    normalizes(in, want);
    /* the first part is a registry only with a '.' or ':', as "localhost", or in upper case */
    normalizes("Foo/bar", "Foo/bar:latest");
}

static void bad_references_are_refused_with_the_reason(void **state)
{
    (void)state;
    rejects("", "empty");
    rejects("BusyBox", "lowercase");
    rejects("busybox:", "tag");
    rejects("busybox:-x", "tag");
    rejects("busy box", "space");
    rejects("a//b", "repository name part");
    rejects("a/../b", "repository name part");
    rejects("a/-b", "repository name part");
    rejects("a/b_", "repository name part");
    rejects("a/b___c", "repository name part");
    rejects("busybox@sha256:abc", "digest");
    rejects("busybox@md5", "digest");
    rejects("-host.com/x", "registry");
    rejects("host-.com/x", "registry");
    rejects("host.com:port/x", "registry");
    rejects("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "hexadecimal");
    char tag[200] = "busybox:";
    memset(tag + 8, 'a', 129);
    tag[137] = '\0';
    rejects(tag, "tag");
    char longname[300];
    memset(longname, 'a', 299);
    longname[299] = '\0';
    rejects(longname, "longer than 255");
}

static void dirname_of(const char *in, const char *want)
{
    struct jp_image_ref r;
    assert_int_equal(jp_image_ref_parse(in, &r, NULL), 0);
    char *d = jp_image_ref_dirname(&r);
    if (want == NULL) {
        assert_null(d);
    } else {
        assert_non_null(d);
        assert_string_equal(d, want);
        /* an overlay's lowerdir= option could not hold these */
        assert_null(strpbrk(d, ",:\\/"));
    }
    free(d);
    jp_image_ref_free(&r);
}

static void directory_names_are_safe_and_distinct(void **state)
{
    (void)state;
    dirname_of("busybox", "docker.io+library+busybox%3Alatest");
    dirname_of("localhost:5000/app:V1", "localhost%3A5000+app%3A%561");
    dirname_of("busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
               "docker.io+library+busybox%40sha256%3A0123456789abcdef0123456789abcdef0123456789abcd"
               "ef0123456789abcdef");
    /* a name the grammar allows but that would not fit a directory name */
    char in[300] = "registry.example.com/";
    size_t n = strlen(in);
    memset(in + n, 'a', 230);
    in[n + 230] = '\0';
    dirname_of(in, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_names_live_in_docker_io_library),
        cmocka_unit_test(registries_ports_and_digests),
        cmocka_unit_test(bad_references_are_refused_with_the_reason),
        cmocka_unit_test(directory_names_are_safe_and_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
