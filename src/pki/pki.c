/* CA and certificate issuance with OpenSSL: ECDSA P-256 keys, X.509 v3 certificates with the
 * extensions kubectl (Go's crypto/tls) checks: SANs on the server certificate, clientAuth EKU on
 * the client certificate, CA:TRUE on the CA. */
#include "pki/pki.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/rand.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DAY               (24L * 3600L)
#define CA_DAYS           3650
#define LEAF_DAYS         730
#define RENEW_BEFORE_DAYS 30

static char *pem_of_key(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = jp_xstrndup(p, (size_t)n);
    BIO_free(b);
    return s;
}

static char *pem_of_cert(X509 *c)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, c);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = jp_xstrndup(p, (size_t)n);
    BIO_free(b);
    return s;
}

static EVP_PKEY *key_of_pem(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

static X509 *cert_of_pem(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *c = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return c;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) return -1;
    int rc = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
    X509_EXTENSION_free(ext);
    return rc;
}

struct cert_spec {
    const char *cn, *org;
    long days;
    bool ca;
    const char *san; /* "DNS:localhost,IP:127.0.0.1,..." or NULL */
    const char *eku; /* "serverAuth" / "clientAuth" or NULL */
};

/* Issues a certificate for key, signed by issuer/issuer_key (self-signed when issuer is NULL). */
static X509 *issue(const struct cert_spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *c = X509_new();
    X509_set_version(c, 2);
    unsigned char serial[16];
    jp_rand_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600); /* tolerate small clock skew */
    X509_gmtime_adj(X509_getm_notAfter(c), s->days * DAY);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    if (s->org)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)s->org, -1, -1,
                                   0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : c;
    int rc = 0;
    rc |= add_ext(c, iss, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    rc |= add_ext(c, iss, NID_key_usage,
                  s->ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                        : "critical,digitalSignature,keyEncipherment");
    rc |= add_ext(c, iss, NID_subject_key_identifier, "hash");
    if (issuer) rc |= add_ext(c, iss, NID_authority_key_identifier, "keyid:always");
    if (s->eku) rc |= add_ext(c, iss, NID_ext_key_usage, s->eku);
    if (s->san) rc |= add_ext(c, iss, NID_subject_alt_name, s->san);
    if (rc != 0 || X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) == 0) {
        X509_free(c);
        return NULL;
    }
    return c;
}

static bool expires_soon(X509 *c)
{
    time_t limit = time(NULL) + RENEW_BEFORE_DAYS * DAY;
    return X509_cmp_time(X509_get0_notAfter(c), &limit) < 0;
}

static char *san_string(const char *const *extra)
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    jp_buf_printf(&b, "DNS:localhost,IP:127.0.0.1,IP:::1");
    for (size_t i = 0; extra && extra[i]; i++) {
        unsigned char addr[16];
        bool ip =
            inet_pton(AF_INET, extra[i], addr) == 1 || inet_pton(AF_INET6, extra[i], addr) == 1;
        jp_buf_printf(&b, ",%s:%s", ip ? "IP" : "DNS", extra[i]);
    }
    return jp_buf_steal(&b, NULL);
}

/* True when cert carries every SAN in the list (localhost, loopback and the extra names). */
static bool has_sans(X509 *cert, const char *const *extra)
{
    const char *base[] = {"localhost", "127.0.0.1", "::1"};
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
        if (X509_check_host(cert, base[i], 0, 0, NULL) != 1 &&
            X509_check_ip_asc(cert, base[i], 0) != 1)
            return false;
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        if (X509_check_host(cert, extra[i], 0, 0, NULL) != 1 &&
            X509_check_ip_asc(cert, extra[i], 0) != 1)
            return false;
    }
    return true;
}

static int load_or_null(const char *dir, const char *name, char **out, struct jp_err **err)
{
    struct jp_err *e = NULL;
    if (jp_read_file(dir, name, 1 << 20, out, NULL, &e) == 0) return 0;
    if (e->reason == JP_NOT_FOUND) {
        jp_err_free(e);
        *out = NULL;
        return 0;
    }
    jp_err_set(err, e->reason, e->sys_errno, "%s", e->msg);
    jp_err_free(e);
    return -1;
}

static int save(const char *dir, const char *name, const char *pem, struct jp_err **err)
{
    return jp_write_file_atomic(dir, name, pem, strlen(pem), err);
}

/* Makes (or keeps) one key + certificate pair. */
static int ensure_pair(const char *dir, const char *crt_name, const char *key_name,
                       const struct cert_spec *spec, X509 *ca, EVP_PKEY *ca_key,
                       const char *const *extra_sans, bool force, char **crt_pem, char **key_pem,
                       struct jp_err **err)
{
    if (load_or_null(dir, crt_name, crt_pem, err) < 0 ||
        load_or_null(dir, key_name, key_pem, err) < 0)
        return -1;
    if (*crt_pem && *key_pem && !force) {
        X509 *c = cert_of_pem(*crt_pem);
        EVP_PKEY *k = key_of_pem(*key_pem);
        bool ok = c && k && X509_check_private_key(c, k) == 1 && !expires_soon(c) &&
                  (ca == NULL || X509_verify(c, ca_key) == 1) &&
                  (spec->san == NULL || has_sans(c, extra_sans));
        X509_free(c);
        EVP_PKEY_free(k);
        if (ok) return 0;
    }
    free(*crt_pem);
    free(*key_pem);
    *crt_pem = *key_pem = NULL;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *cert = key ? issue(spec, key, ca, ca_key) : NULL;
    if (cert == NULL) {
        EVP_PKEY_free(key);
        return jp_err_set(err, JP_INTERNAL, 0, "pki: cannot issue certificate %s", crt_name);
    }
    *key_pem = pem_of_key(key);
    *crt_pem = pem_of_cert(cert);
    EVP_PKEY_free(key);
    X509_free(cert);
    /* key first: a certificate on disk always has its key beside it */
    if (save(dir, key_name, *key_pem, err) < 0 || save(dir, crt_name, *crt_pem, err) < 0) return -1;
    return 1; /* newly issued */
}

int jp_pki_ensure(const char *dir, const char *const *extra_sans, struct jp_pki *out,
                  struct jp_err **err)
{
    memset(out, 0, sizeof(*out));
    if (jp_mkdir_private(dir, err) < 0) return -1;
    char *san = san_string(extra_sans);
    struct cert_spec ca_spec = {"jobplane-ca", NULL, CA_DAYS, true, NULL, NULL};
    struct cert_spec srv_spec = {"jobplane", NULL, LEAF_DAYS, false, san, "serverAuth"};
    struct cert_spec adm_spec = {"admin", "system:masters", LEAF_DAYS, false, NULL, "clientAuth"};
    int rc = -1;
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int fresh_ca = ensure_pair(dir, "ca.crt", "ca.key", &ca_spec, NULL, NULL, NULL, false,
                               &out->ca_crt, &out->ca_key, err);
    if (fresh_ca < 0) goto out;
    ca = cert_of_pem(out->ca_crt);
    ca_key = key_of_pem(out->ca_key);
    if (ca == NULL || ca_key == NULL) {
        jp_err_set(err, JP_INTERNAL, 0, "pki: %s/ca.crt or ca.key unreadable", dir);
        goto out;
    }
    /* A new CA invalidates every certificate it did not sign. */
    if (ensure_pair(dir, "server.crt", "server.key", &srv_spec, ca, ca_key, extra_sans,
                    fresh_ca == 1, &out->server_crt, &out->server_key, err) < 0 ||
        ensure_pair(dir, "admin.crt", "admin.key", &adm_spec, ca, ca_key, NULL, fresh_ca == 1,
                    &out->admin_crt, &out->admin_key, err) < 0)
        goto out;
    if (load_or_null(dir, "token", &out->token, err) < 0) goto out;
    if (out->token == NULL || strlen(out->token) < 32) {
        free(out->token);
        unsigned char raw[32];
        out->token = jp_xmalloc(65);
        jp_rand_bytes(raw, sizeof(raw));
        jp_hex(out->token, raw, sizeof(raw));
        if (save(dir, "token", out->token, err) < 0) goto out;
    }
    out->token[strcspn(out->token, "\r\n")] = '\0';
    rc = 0;
out:
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    free(san);
    if (rc < 0) jp_pki_free(out);
    return rc;
}

void jp_pki_free(struct jp_pki *p)
{
    free(p->ca_crt);
    free(p->ca_key);
    free(p->server_crt);
    free(p->server_key);
    free(p->admin_crt);
    free(p->admin_key);
    free(p->token);
    memset(p, 0, sizeof(*p));
}

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = jp_xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

int jp_pki_write_kubeconfig(const struct jp_pki *p, const char *dir, const char *server_url,
                            struct jp_err **err)
{
    char *ca = b64(p->ca_crt), *crt = b64(p->admin_crt), *key = b64(p->admin_key);
    char *doc = jp_xasprintf("apiVersion: v1\n"
                             "kind: Config\n"
                             "clusters:\n"
                             "- name: jobplane\n"
                             "  cluster:\n"
                             "    server: %s\n"
                             "    certificate-authority-data: %s\n"
                             "users:\n"
                             "- name: admin\n"
                             "  user:\n"
                             "    client-certificate-data: %s\n"
                             "    client-key-data: %s\n"
                             "contexts:\n"
                             "- name: jobplane\n"
                             "  context:\n"
                             "    cluster: jobplane\n"
                             "    user: admin\n"
                             "    namespace: default\n"
                             "current-context: jobplane\n",
                             server_url, ca, crt, key);
    int rc = jp_write_file_atomic(dir, "kubeconfig", doc, strlen(doc), err);
    free(ca);
    free(crt);
    free(key);
    free(doc);
    return rc;
}
