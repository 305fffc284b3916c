/* Credentials: created once with private modes, reused on restart, verifiable with OpenSSL the
 * way a Go client would check them, and reissued when a SAN is added. */
#include "support/cm.h"
#include "pki/pki.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jp-pki-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static X509 *cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *c = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(c);
    return c;
}

static int verify(const char *ca_pem, const char *leaf_pem, int purpose)
{
    X509 *ca = cert(ca_pem), *leaf = cert(leaf_pem);
    X509_STORE *st = X509_STORE_new();
    X509_STORE_add_cert(st, ca);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_STORE_CTX_set_purpose(ctx, purpose);
    int ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    X509_free(ca);
    X509_free(leaf);
    return ok;
}

static void mode_of(const char *name, mode_t want)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    if ((st.st_mode & 0777) != want) fail_msg("%s has mode %o", name, st.st_mode & 0777);
}

static void creates_valid_private_credentials(void **state)
{
    (void)state;
    struct jp_pki p;
    struct jp_err *err = NULL;
    char sub[96];
    snprintf(sub, sizeof(sub), "%s/data", dir);
    assert_int_equal(jp_pki_ensure(sub, NULL, &p, &err), 0);
    assert_int_equal(verify(p.ca_crt, p.server_crt, X509_PURPOSE_SSL_SERVER), 1);
    assert_int_equal(verify(p.ca_crt, p.admin_crt, X509_PURPOSE_SSL_CLIENT), 1);
    assert_int_equal(verify(p.ca_crt, p.admin_crt, X509_PURPOSE_SSL_SERVER),
                     0); /* clientAuth only */
    X509 *srv = cert(p.server_crt);
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "10.0.0.1", 0), 0);
    X509_free(srv);
    X509 *adm = cert(p.admin_crt);
    char cn[64], o[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(adm), NID_commonName, cn, sizeof(cn));
    X509_NAME_get_text_by_NID(X509_get_subject_name(adm), NID_organizationName, o, sizeof(o));
    assert_string_equal(cn, "admin");
    assert_string_equal(o, "system:masters");
    X509_free(adm);
    assert_int_equal(strlen(p.token), 64);
    const char *files[] = {"ca.crt",    "ca.key",    "server.crt", "server.key",
                           "admin.crt", "admin.key", "token"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "data/%s", files[i]);
        mode_of(name, 0600);
    }
    mode_of("data", 0700);
    assert_int_equal(jp_pki_write_kubeconfig(&p, sub, "https://127.0.0.1:6443", &err), 0);
    mode_of("data/kubeconfig", 0600);

    /* a restart reuses everything */
    struct jp_pki again;
    assert_int_equal(jp_pki_ensure(sub, NULL, &again, &err), 0);
    assert_string_equal(again.ca_crt, p.ca_crt);
    assert_string_equal(again.server_crt, p.server_crt);
    assert_string_equal(again.token, p.token);
    jp_pki_free(&again);

    /* a new SAN reissues only the serving certificate, under the same CA */
    const char *sans[] = {"10.0.0.1", "jobplane.example", NULL};
    assert_int_equal(jp_pki_ensure(sub, sans, &again, &err), 0);
    assert_string_equal(again.ca_crt, p.ca_crt);
    assert_string_not_equal(again.server_crt, p.server_crt);
    assert_string_equal(again.admin_crt, p.admin_crt);
    srv = cert(again.server_crt);
    assert_int_equal(X509_check_ip_asc(srv, "10.0.0.1", 0), 1);
    assert_int_equal(X509_check_host(srv, "jobplane.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    X509_free(srv);
    assert_int_equal(verify(again.ca_crt, again.server_crt, X509_PURPOSE_SSL_SERVER), 1);
    jp_pki_free(&again);
    jp_pki_free(&p);
}

static void symlinked_dir_is_refused(void **state)
{
    (void)state;
    char target[96], link[96];
    snprintf(target, sizeof(target), "%s/real", dir);
    snprintf(link, sizeof(link), "%s/link", dir);
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(symlink(target, link), 0);
    struct jp_pki p;
    struct jp_err *err = NULL;
    assert_int_equal(jp_pki_ensure(link, NULL, &p, &err), -1);
    assert_non_null(strstr(err->msg, "symlinks are refused"));
    jp_err_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_valid_private_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(symlinked_dir_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
