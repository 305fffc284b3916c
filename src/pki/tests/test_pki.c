/* Credentials: created once with private modes, reused on restart, verifiable with OpenSSL the
 * way a Go client would check them, reissued when they no longer fit, and compatible with the
 * files an OpenSSL-based jobplane wrote. OpenSSL here is the independent check of GnuTLS' output.
 */
#include "support/cm.h"
#include "base/fsutil.h"
#include "base/rand.h"
#include "pki/pki.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY (24L * 3600L)

static char dir[64];
static char sub[96]; /* dir/data: the data directory under test */

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jp-pki-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/data", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

/* ---- OpenSSL helpers ---- */

static X509 *cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *c = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(c);
    return c;
}

static EVP_PKEY *key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    return k;
}

static char *pem_of(X509 *c, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (c) PEM_write_bio_X509(b, c);
    if (k) PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = strndup(p, (size_t)n);
    BIO_free(b);
    return s;
}

static void put(const char *name, const char *data)
{
    struct jp_err *err = NULL;
    assert_int_equal(jp_write_file_atomic(sub, name, data, strlen(data), &err), 0);
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

/* What the OpenSSL-based pki.c issued, so tests can plant old or unfit certificates. */
struct ossl_spec {
    const char *cn, *org;
    long lifetime; /* seconds from now */
    bool ca;
    const char *san, *eku;
};

static void add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(c, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

static X509 *ossl_issue(const struct ossl_spec *s, EVP_PKEY *k, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *c = X509_new();
    X509_set_version(c, 2);
    unsigned char serial[16];
    jp_rand_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), s->lifetime);
    X509_set_pubkey(c, k);
    X509_NAME *name = X509_get_subject_name(c);
    if (s->org)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)s->org, -1, -1,
                                   0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : c;
    add_ext(c, iss, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(c, iss, NID_key_usage,
            s->ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                  : "critical,digitalSignature,keyEncipherment");
    add_ext(c, iss, NID_subject_key_identifier, "hash");
    if (issuer) add_ext(c, iss, NID_authority_key_identifier, "keyid:always");
    if (s->eku) add_ext(c, iss, NID_ext_key_usage, s->eku);
    if (s->san) add_ext(c, iss, NID_subject_alt_name, s->san);
    assert_int_not_equal(X509_sign(c, issuer_key ? issuer_key : k, EVP_sha256()), 0);
    return c;
}

static const struct ossl_spec ossl_ca = {"jobplane-ca", NULL, 3650 * DAY, true, NULL, NULL};
static const struct ossl_spec ossl_srv = {
    "jobplane", NULL, 730 * DAY, false, "DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth"};
static const struct ossl_spec ossl_adm = {"admin", "system:masters", 730 * DAY, false,
                                          NULL,    "clientAuth"};

/* Writes the pair under name.crt/name.key, signed by ca (self-signed when NULL). Returns the
 * certificate's PEM (caller frees). */
static char *plant(const char *name, const struct ossl_spec *s, EVP_PKEY *k, X509 *ca,
                   EVP_PKEY *ca_key)
{
    X509 *c = ossl_issue(s, k, ca, ca_key);
    char *crt_pem = pem_of(c, NULL), *key_pem = pem_of(NULL, k), file[32];
    snprintf(file, sizeof(file), "%s.key", name);
    put(file, key_pem);
    snprintf(file, sizeof(file), "%s.crt", name);
    put(file, crt_pem);
    free(key_pem);
    X509_free(c);
    return crt_pem;
}

/* ---- properties of what jp_pki_ensure hands out ---- */

struct want {
    bool ca;
    long days;
    uint32_t ku, xku;
};

static const struct want want_ca = {
    true, 3650, KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE, UINT32_MAX};
static const struct want want_srv = {false, 730, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT,
                                     XKU_SSL_SERVER};
static const struct want want_adm = {false, 730, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT,
                                     XKU_SSL_CLIENT};

static long secs_from_now(const ASN1_TIME *t)
{
    int days, secs;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, t), 1);
    return days * DAY + secs;
}

static void assert_critical(X509 *c, int nid, int critical)
{
    int i = X509_get_ext_by_NID(c, nid, -1);
    assert_true(i >= 0);
    assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(c, i)), critical);
}

static void check_cert(const char *ca_pem, const char *crt_pem, const char *key_pem,
                       const struct want *w)
{
    X509 *ca = cert(ca_pem), *c = cert(crt_pem);
    assert_int_equal(X509_get_version(c), X509_VERSION_3);
    BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
    assert_false(BN_is_negative(serial) || BN_is_zero(serial));
    assert_true(BN_num_bytes(serial) <= 16 && BN_num_bytes(serial) >= 8);
    BN_free(serial);
    assert_int_equal(X509_get_signature_nid(c), NID_ecdsa_with_SHA256);
    char group[32] = "";
    assert_int_equal(EVP_PKEY_get_utf8_string_param(X509_get0_pubkey(c), OSSL_PKEY_PARAM_GROUP_NAME,
                                                    group, sizeof(group), NULL),
                     1);
    assert_string_equal(group, "prime256v1");
    /* PKCS#8, readable by OpenSSL, and the key of this certificate */
    assert_int_equal(strncmp(key_pem, "-----BEGIN PRIVATE KEY-----\n", 28), 0);
    EVP_PKEY *k = key(key_pem);
    assert_int_equal(X509_check_private_key(c, k), 1);
    EVP_PKEY_free(k);
    long nb = secs_from_now(X509_get0_notBefore(c)), na = secs_from_now(X509_get0_notAfter(c));
    assert_true(nb > -3600 - 300 && nb <= -3600 + 5);
    assert_true(na > w->days * DAY - 300 && na <= w->days * DAY + 5);
    assert_critical(c, NID_basic_constraints, 1);
    assert_critical(c, NID_key_usage, 1);
    assert_int_equal(!!(X509_get_extension_flags(c) & EXFLAG_CA), w->ca);
    assert_int_equal(X509_get_key_usage(c), w->ku);
    assert_int_equal(X509_get_extended_key_usage(c), w->xku);
    if (!w->ca) assert_critical(c, NID_ext_key_usage, 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(ca)), 0);
    assert_non_null(X509_get0_subject_key_id(c));
    if (w->ca) {
        assert_null(X509_get0_authority_key_id(c));
        assert_int_equal(X509_verify(c, X509_get0_pubkey(c)), 1);
    } else {
        assert_non_null(X509_get0_authority_key_id(c));
        assert_int_equal(
            ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(c), X509_get0_subject_key_id(ca)), 0);
        assert_int_equal(X509_verify(c, X509_get0_pubkey(ca)), 1);
    }
    X509_free(c);
    X509_free(ca);
}

static void check_all(const struct jp_pki *p)
{
    check_cert(p->ca_crt, p->ca_crt, p->ca_key, &want_ca);
    check_cert(p->ca_crt, p->server_crt, p->server_key, &want_srv);
    check_cert(p->ca_crt, p->admin_crt, p->admin_key, &want_adm);
    assert_int_equal(verify(p->ca_crt, p->server_crt, X509_PURPOSE_SSL_SERVER), 1);
    assert_int_equal(verify(p->ca_crt, p->admin_crt, X509_PURPOSE_SSL_CLIENT), 1);
}

static void mode_of(const char *name, mode_t want)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    if ((st.st_mode & 0777) != want) fail_msg("%s has mode %o", name, st.st_mode & 0777);
}

/* Decodes the base64 value of "field: " in the kubeconfig with OpenSSL. */
static char *kubeconfig_field(const char *doc, const char *field)
{
    const char *v = strstr(doc, field);
    assert_non_null(v);
    v += strlen(field);
    int n = (int)strcspn(v, "\n");
    unsigned char *out = calloc(1, (size_t)n + 1);
    int len = EVP_DecodeBlock(out, (const unsigned char *)v, n);
    assert_true(len >= 0);
    for (int i = n - 1; i >= 0 && v[i] == '='; i--)
        len--; /* EVP_DecodeBlock counts padding as NUL bytes */
    out[len] = '\0';
    return (char *)out;
}

static void check_kubeconfig(const struct jp_pki *p)
{
    char *doc = NULL;
    struct jp_err *err = NULL;
    assert_int_equal(jp_read_file(sub, "kubeconfig", 1 << 20, &doc, NULL, &err), 0);
    assert_non_null(strstr(doc, "    server: https://127.0.0.1:6443\n"));
    const char *fields[] = {
        "certificate-authority-data: ", "client-certificate-data: ", "client-key-data: "};
    const char *want[] = {p->ca_crt, p->admin_crt, p->admin_key};
    for (size_t i = 0; i < 3; i++) {
        char *got = kubeconfig_field(doc, fields[i]);
        assert_string_equal(got, want[i]);
        free(got);
    }
    free(doc);
}

static void creates_valid_private_credentials(void **state)
{
    (void)state;
    struct jp_pki p;
    struct jp_err *err = NULL;
    assert_int_equal(jp_pki_ensure(sub, NULL, &p, &err), 0);
    check_all(&p);
    assert_int_equal(verify(p.ca_crt, p.admin_crt, X509_PURPOSE_SSL_SERVER),
                     0); /* clientAuth only */
    assert_int_equal(verify(p.ca_crt, p.server_crt, X509_PURPOSE_SSL_CLIENT), 0);
    X509 *srv = cert(p.server_crt);
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "10.0.0.1", 0), 0);
    assert_critical(srv, NID_subject_alt_name, 0);
    X509_free(srv);
    X509 *adm = cert(p.admin_crt);
    char cn[64], o[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(adm), NID_commonName, cn, sizeof(cn));
    X509_NAME_get_text_by_NID(X509_get_subject_name(adm), NID_organizationName, o, sizeof(o));
    assert_string_equal(cn, "admin");
    assert_string_equal(o, "system:masters");
    assert_int_equal(X509_get_ext_by_NID(adm, NID_subject_alt_name, -1), -1);
    X509_free(adm);
    assert_int_equal(strlen(p.token), 64);
    assert_int_equal(strspn(p.token, "0123456789abcdef"), 64);
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
    check_kubeconfig(&p);

    /* a restart reuses everything */
    struct jp_pki again;
    assert_int_equal(jp_pki_ensure(sub, NULL, &again, &err), 0);
    assert_string_equal(again.ca_crt, p.ca_crt);
    assert_string_equal(again.ca_key, p.ca_key);
    assert_string_equal(again.server_crt, p.server_crt);
    assert_string_equal(again.server_key, p.server_key);
    assert_string_equal(again.admin_crt, p.admin_crt);
    assert_string_equal(again.token, p.token);
    jp_pki_free(&again);

    /* a new SAN reissues only the serving certificate, under the same CA */
    const char *sans[] = {"10.0.0.1", "jobplane.example", "fd00::7", NULL};
    assert_int_equal(jp_pki_ensure(sub, sans, &again, &err), 0);
    assert_string_equal(again.ca_crt, p.ca_crt);
    assert_string_not_equal(again.server_crt, p.server_crt);
    assert_string_equal(again.admin_crt, p.admin_crt);
    srv = cert(again.server_crt);
    assert_int_equal(X509_check_ip_asc(srv, "10.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "fd00::7", 0), 1);
    assert_int_equal(X509_check_host(srv, "jobplane.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(srv, "10.0.0.1", 0, 0, NULL), 0); /* an IP, not a name */
    X509_free(srv);
    check_all(&again);

    /* ... and is kept once it has them */
    struct jp_pki third;
    assert_int_equal(jp_pki_ensure(sub, sans, &third, &err), 0);
    assert_string_equal(third.server_crt, again.server_crt);
    jp_pki_free(&third);
    jp_pki_free(&again);
    jp_pki_free(&p);
}

/* Ensures again and checks that the serving certificate was replaced by a valid one. */
static void assert_server_reissued(const char *old_crt)
{
    struct jp_pki p;
    struct jp_err *err = NULL;
    assert_int_equal(jp_pki_ensure(sub, NULL, &p, &err), 0);
    assert_string_not_equal(p.server_crt, old_crt);
    check_all(&p);
    jp_pki_free(&p);
}

static void reissues_what_no_longer_fits(void **state)
{
    (void)state;
    struct jp_pki p;
    struct jp_err *err = NULL;
    assert_int_equal(jp_pki_ensure(sub, NULL, &p, &err), 0);

    /* a key that is not the certificate's */
    put("server.key", p.admin_key);
    assert_server_reissued(p.server_crt);

    /* a certificate the CA did not sign */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *planted = plant("server", &ossl_srv, k, NULL, NULL);
    assert_server_reissued(planted);
    free(planted);

    /* signed by the CA but expiring within 30 days; 60 days left is kept */
    X509 *ca = cert(p.ca_crt);
    EVP_PKEY *ca_key = key(p.ca_key);
    struct ossl_spec s = ossl_srv;
    s.lifetime = 60 * DAY;
    planted = plant("server", &s, k, ca, ca_key);
    struct jp_pki kept;
    assert_int_equal(jp_pki_ensure(sub, NULL, &kept, &err), 0);
    assert_string_equal(kept.server_crt, planted);
    free(planted);
    jp_pki_free(&kept);
    s.lifetime = 20 * DAY;
    planted = plant("server", &s, k, ca, ca_key);
    assert_server_reissued(planted);
    free(planted);

    /* a new CA reissues both leaves */
    char path[128];
    snprintf(path, sizeof(path), "%s/ca.key", sub);
    assert_int_equal(unlink(path), 0);
    struct jp_pki fresh;
    assert_int_equal(jp_pki_ensure(sub, NULL, &fresh, &err), 0);
    assert_string_not_equal(fresh.ca_crt, p.ca_crt);
    assert_string_not_equal(fresh.server_crt, p.server_crt);
    assert_string_not_equal(fresh.admin_crt, p.admin_crt);
    assert_string_equal(fresh.token, p.token);
    check_all(&fresh);
    assert_int_equal(verify(p.ca_crt, fresh.admin_crt, X509_PURPOSE_SSL_CLIENT), 0);
    jp_pki_free(&fresh);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(k);
    jp_pki_free(&p);
}

/* A data directory written by the OpenSSL-based jobplane is reused as it is. */
static void reuses_openssl_made_credentials(void **state)
{
    (void)state;
    struct jp_err *err = NULL;
    assert_int_equal(jp_mkdir_private(sub, &err), 0);
    EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *srv_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *adm_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *ca = ossl_issue(&ossl_ca, ca_key, NULL, NULL);
    char *ca_pem = pem_of(ca, NULL), *ca_key_pem = pem_of(NULL, ca_key);
    put("ca.key", ca_key_pem);
    put("ca.crt", ca_pem);
    char *srv_pem = plant("server", &ossl_srv, srv_key, ca, ca_key);
    char *adm_pem = plant("admin", &ossl_adm, adm_key, ca, ca_key);
    put("token", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");

    struct jp_pki p;
    assert_int_equal(jp_pki_ensure(sub, NULL, &p, &err), 0);
    assert_string_equal(p.ca_crt, ca_pem);
    assert_string_equal(p.ca_key, ca_key_pem);
    assert_string_equal(p.server_crt, srv_pem);
    assert_string_equal(p.admin_crt, adm_pem);
    assert_string_equal(p.token,
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    jp_pki_free(&p);

    /* a new SAN: GnuTLS issues the serving certificate under the OpenSSL-made CA */
    const char *sans[] = {"10.1.2.3", NULL};
    assert_int_equal(jp_pki_ensure(sub, sans, &p, &err), 0);
    assert_string_equal(p.ca_crt, ca_pem);
    assert_string_equal(p.admin_crt, adm_pem);
    assert_string_not_equal(p.server_crt, srv_pem);
    check_all(&p);
    jp_pki_free(&p);
    free(srv_pem);
    free(adm_pem);
    free(ca_pem);
    free(ca_key_pem);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(adm_key);
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

static void empty_san_is_refused(void **state)
{
    (void)state;
    const char *sans[] = {"", NULL};
    struct jp_pki p;
    struct jp_err *err = NULL;
    assert_int_equal(jp_pki_ensure(sub, sans, &p, &err), -1);
    assert_non_null(strstr(err->msg, "cannot issue certificate server.crt"));
    jp_err_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_valid_private_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(reissues_what_no_longer_fits, setup, teardown),
        cmocka_unit_test_setup_teardown(reuses_openssl_made_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(symlinked_dir_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_san_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
