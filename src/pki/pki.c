/* CA and certificate issuance with GnuTLS (already loaded for the server's TLS): ECDSA P-256 keys,
 * X.509 v3 certificates with the extensions kubectl (Go's crypto/tls) checks: SANs on the server
 * certificate, clientAuth EKU on the client certificate, CA:TRUE on the CA. */
#include "pki/pki.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/fsutil.h"
#include "base/rand.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY               (24L * 3600L)
#define CA_DAYS           3650
#define LEAF_DAYS         730
#define RENEW_BEFORE_DAYS 30

static void crt_freep(gnutls_x509_crt_t *c)
{
    if (*c != NULL) gnutls_x509_crt_deinit(*c);
}

static void key_freep(gnutls_x509_privkey_t *k)
{
    if (*k != NULL) gnutls_x509_privkey_deinit(*k);
}

static void signer_freep(gnutls_privkey_t *k)
{
    if (*k != NULL) gnutls_privkey_deinit(*k);
}

static void datum_freep(gnutls_datum_t *d)
{
    gnutls_free(d->data);
}

#define _cleanup_crt_    _cleanup_(crt_freep)
#define _cleanup_key_    _cleanup_(key_freep)
#define _cleanup_signer_ _cleanup_(signer_freep)
#define _cleanup_datum_  _cleanup_(datum_freep)

/* Both parsers return NULL on failure, so callers test one pointer. */
static gnutls_x509_crt_t crt_of_pem(const char *pem)
{
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    gnutls_x509_crt_t c = NULL;
    if (gnutls_x509_crt_init(&c) < 0) return NULL;
    if (gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) < 0) {
        gnutls_x509_crt_deinit(c);
        return NULL;
    }
    return c;
}

/* Reads PKCS#8 ("PRIVATE KEY", what OpenSSL wrote before) and the legacy forms alike. */
static gnutls_x509_privkey_t key_of_pem(const char *pem)
{
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    gnutls_x509_privkey_t k = NULL;
    if (gnutls_x509_privkey_init(&k) < 0) return NULL;
    if (gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
        gnutls_x509_privkey_deinit(k);
        return NULL;
    }
    return k;
}

static char *dup_datum(const gnutls_datum_t *d)
{
    return jp_xstrndup((const char *)d->data, d->size);
}

struct cert_spec {
    const char *cn, *org;
    long days;
    bool ca;
    bool sans;       /* localhost, 127.0.0.1, ::1 and the extra names */
    const char *eku; /* GNUTLS_KP_TLS_WWW_SERVER / _CLIENT or NULL */
};

struct issuer {
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
};

/* Adds one SAN: an IP address when inet_pton reads it as one, a DNS name otherwise. */
static int add_san(gnutls_x509_crt_t c, const char *name)
{
    unsigned char addr[16];
    if (*name == '\0') return GNUTLS_E_INVALID_REQUEST;
    if (inet_pton(AF_INET, name, addr) == 1)
        return gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, addr, 4,
                                                    GNUTLS_FSAN_APPEND);
    if (inet_pton(AF_INET6, name, addr) == 1)
        return gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, addr, 16,
                                                    GNUTLS_FSAN_APPEND);
    return gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, name, (unsigned)strlen(name),
                                                GNUTLS_FSAN_APPEND);
}

static const char *const base_sans[] = {"localhost", "127.0.0.1", "::1", NULL};

static int add_sans(gnutls_x509_crt_t c, const char *const *extra)
{
    int rc = 0;
    for (size_t i = 0; rc >= 0 && base_sans[i]; i++)
        rc = add_san(c, base_sans[i]);
    for (size_t i = 0; rc >= 0 && extra && extra[i]; i++)
        rc = add_san(c, extra[i]);
    return rc;
}

/* Version, serial, validity and names. The issuer's name is copied in when signing. */
static int set_identity(gnutls_x509_crt_t c, const struct cert_spec *s, gnutls_x509_privkey_t key)
{
    unsigned char serial[16];
    jp_rand_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f; /* positive */
    time_t now = time(NULL);
    int rc = gnutls_x509_crt_set_version(c, 3);
    if (rc >= 0) rc = gnutls_x509_crt_set_serial(c, serial, sizeof(serial));
    /* tolerate small clock skew */
    if (rc >= 0) rc = gnutls_x509_crt_set_activation_time(c, now - 3600);
    if (rc >= 0) rc = gnutls_x509_crt_set_expiration_time(c, now + s->days * DAY);
    if (rc >= 0) rc = gnutls_x509_crt_set_key(c, key);
    if (rc >= 0 && s->org)
        rc = gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, s->org,
                                           (unsigned)strlen(s->org));
    if (rc >= 0)
        rc = gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, s->cn,
                                           (unsigned)strlen(s->cn));
    return rc;
}

/* The authority key id is the issuer's subject key id as written in its certificate, so leaves
 * chain by id to a CA that OpenSSL made too. */
static int set_authority_key_id(gnutls_x509_crt_t c, gnutls_x509_crt_t issuer)
{
    unsigned char id[64];
    size_t n = sizeof(id);
    unsigned critical;
    int rc = gnutls_x509_crt_get_subject_key_id(issuer, id, &n, &critical);
    if (rc < 0) {
        n = sizeof(id);
        rc = gnutls_x509_crt_get_key_id(issuer, GNUTLS_KEYID_USE_SHA1, id, &n);
    }
    return rc < 0 ? rc : gnutls_x509_crt_set_authority_key_id(c, id, n);
}

/* basicConstraints and keyUsage are marked critical by GnuTLS; EKU and SANs are not. */
static int set_extensions(gnutls_x509_crt_t c, const struct cert_spec *s, const struct issuer *iss,
                          const char *const *extra_sans)
{
    unsigned char id[64];
    size_t n = sizeof(id);
    int rc = gnutls_x509_crt_set_basic_constraints(c, s->ca, -1);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_key_usage(
            c, s->ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE
                     : GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT);
    /* SHA-1 of the whole SubjectPublicKeyInfo (RFC 7093 method 4), where OpenSSL hashed the key
     * bits alone: either is an opaque id, as long as leaves quote the CA's as written. */
    if (rc >= 0) rc = gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA1, id, &n);
    if (rc >= 0) rc = gnutls_x509_crt_set_subject_key_id(c, id, n);
    if (rc >= 0 && iss) rc = set_authority_key_id(c, iss->crt);
    if (rc >= 0 && s->eku) rc = gnutls_x509_crt_set_key_purpose_oid(c, s->eku, 0);
    if (rc >= 0 && s->sans) rc = add_sans(c, extra_sans);
    return rc;
}

/* Issues a certificate for key, signed by iss (self-signed when iss is NULL). Returns a GnuTLS
 * error code < 0 on failure. */
static int issue(const struct cert_spec *s, gnutls_x509_privkey_t key, const struct issuer *iss,
                 const char *const *extra_sans, gnutls_x509_crt_t *out /* OUT: caller frees */)
{
    _cleanup_crt_ gnutls_x509_crt_t c = NULL;
    _cleanup_signer_ gnutls_privkey_t signer = NULL;
    int rc = gnutls_x509_crt_init(&c);
    if (rc >= 0) rc = set_identity(c, s, key);
    if (rc >= 0) rc = set_extensions(c, s, iss, extra_sans);
    if (rc >= 0) rc = gnutls_privkey_init(&signer);
    if (rc >= 0) rc = gnutls_privkey_import_x509(signer, iss ? iss->key : key, 0);
    if (rc >= 0)
        rc = gnutls_x509_crt_privkey_sign(c, iss ? iss->crt : c, signer, GNUTLS_DIG_SHA256, 0);
    if (rc < 0) return rc;
    *out = JP_STEAL(c);
    return 0;
}

static bool has_name(gnutls_x509_crt_t c, const char *name)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, name, addr) == 1) return gnutls_x509_crt_check_ip(c, addr, 4, 0);
    if (inet_pton(AF_INET6, name, addr) == 1) return gnutls_x509_crt_check_ip(c, addr, 16, 0);
    return gnutls_x509_crt_check_hostname2(c, name, 0);
}

/* True when c carries every SAN in the list (localhost, loopback and the extra names). */
static bool has_sans(gnutls_x509_crt_t c, const char *const *extra)
{
    for (size_t i = 0; base_sans[i]; i++)
        if (!has_name(c, base_sans[i])) return false;
    for (size_t i = 0; extra && extra[i]; i++)
        if (!has_name(c, extra[i])) return false;
    return true;
}

static bool same_key(gnutls_x509_crt_t c, gnutls_x509_privkey_t k)
{
    unsigned char a[64], b[64];
    size_t na = sizeof(a), nb = sizeof(b);
    return gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA256, a, &na) >= 0 &&
           gnutls_x509_privkey_get_key_id(k, GNUTLS_KEYID_USE_SHA256, b, &nb) >= 0 && na == nb &&
           memcmp(a, b, na) == 0;
}

static bool signed_by(gnutls_x509_crt_t c, gnutls_x509_crt_t ca)
{
    unsigned status = 0;
    return gnutls_x509_crt_verify(c, &ca, 1, 0, &status) >= 0 && status == 0;
}

/* An existing pair is kept when it parses, matches, lasts another RENEW_BEFORE_DAYS, chains to
 * the CA and names every SAN asked for. */
static bool still_good(const struct cert_spec *s, const char *crt_pem, const char *key_pem,
                       const struct issuer *iss, const char *const *extra_sans)
{
    _cleanup_crt_ gnutls_x509_crt_t c = crt_of_pem(crt_pem);
    _cleanup_key_ gnutls_x509_privkey_t k = key_of_pem(key_pem);
    if (c == NULL || k == NULL || !same_key(c, k)) return false;
    time_t not_after = gnutls_x509_crt_get_expiration_time(c);
    if (not_after == (time_t)-1 || not_after < time(NULL) + RENEW_BEFORE_DAYS * DAY) return false;
    return (iss == NULL || signed_by(c, iss->crt)) && (!s->sans || has_sans(c, extra_sans));
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

/* A fresh P-256 key and its certificate, as PEM (the key as unencrypted PKCS#8). */
/* A key of its own, no certificate: what signs service account tokens. */
static int ensure_key(const char *dir, const char *name, char **pem, struct jp_err **err)
{
    if (load_or_null(dir, name, pem, err) < 0) return -1;
    if (*pem) return 0;
    _cleanup_key_ gnutls_x509_privkey_t key = NULL;
    _cleanup_datum_ gnutls_datum_t kd = {NULL, 0};
    int rc = gnutls_x509_privkey_init(&key);
    if (rc >= 0)
        rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (rc >= 0)
        rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                               &kd);
    if (rc < 0)
        return jp_err_set(err, JP_INTERNAL, 0, "pki: cannot make %s: %s", name,
                          gnutls_strerror(rc));
    *pem = dup_datum(&kd);
    return save(dir, name, *pem, err);
}

static int make_pair(const struct cert_spec *s, const struct issuer *iss,
                     const char *const *extra_sans, char **crt_pem, char **key_pem)
{
    _cleanup_key_ gnutls_x509_privkey_t key = NULL;
    _cleanup_crt_ gnutls_x509_crt_t crt = NULL;
    _cleanup_datum_ gnutls_datum_t kd = {NULL, 0};
    _cleanup_datum_ gnutls_datum_t cd = {NULL, 0};
    int rc = gnutls_x509_privkey_init(&key);
    if (rc >= 0)
        rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (rc >= 0) rc = issue(s, key, iss, extra_sans, &crt);
    if (rc >= 0)
        rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                               &kd);
    if (rc >= 0) rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cd);
    if (rc < 0) return rc;
    *key_pem = dup_datum(&kd);
    *crt_pem = dup_datum(&cd);
    return 0;
}

/* Makes (or keeps) one key + certificate pair. Returns 1 when it issued a new one. */
static int ensure_pair(const char *dir, const char *crt_name, const char *key_name,
                       const struct cert_spec *spec, const struct issuer *iss,
                       const char *const *extra_sans, bool force, char **crt_pem, char **key_pem,
                       struct jp_err **err)
{
    if (load_or_null(dir, crt_name, crt_pem, err) < 0 ||
        load_or_null(dir, key_name, key_pem, err) < 0)
        return -1;
    if (*crt_pem && *key_pem && !force && still_good(spec, *crt_pem, *key_pem, iss, extra_sans))
        return 0;
    free(*crt_pem);
    free(*key_pem);
    *crt_pem = *key_pem = NULL;
    int rc = make_pair(spec, iss, extra_sans, crt_pem, key_pem);
    if (rc < 0)
        return jp_err_set(err, JP_INTERNAL, 0, "pki: cannot issue certificate %s: %s", crt_name,
                          gnutls_strerror(rc));
    /* key first: a certificate on disk always has its key beside it */
    if (save(dir, key_name, *key_pem, err) < 0 || save(dir, crt_name, *crt_pem, err) < 0) return -1;
    return 1;
}

static int ensure_token(const char *dir, char **token, struct jp_err **err)
{
    if (load_or_null(dir, "token", token, err) < 0) return -1;
    if (*token == NULL || strlen(*token) < 32) {
        free(*token);
        unsigned char raw[32];
        *token = jp_xmalloc(65);
        jp_rand_bytes(raw, sizeof(raw));
        jp_hex(*token, raw, sizeof(raw));
        if (save(dir, "token", *token, err) < 0) return -1;
    }
    (*token)[strcspn(*token, "\r\n")] = '\0';
    return 0;
}

static const struct cert_spec ca_spec = {"jobplane-ca", NULL, CA_DAYS, true, false, NULL};
static const struct cert_spec srv_spec = {"jobplane", NULL, LEAF_DAYS,
                                          false,      true, GNUTLS_KP_TLS_WWW_SERVER};
static const struct cert_spec adm_spec = {"admin", "system:masters",        LEAF_DAYS, false,
                                          false,   GNUTLS_KP_TLS_WWW_CLIENT};

/* The serving and admin pairs under the CA already in out. A new CA invalidates every certificate
 * it did not sign. */
static int ensure_leaves(const char *dir, const char *const *extra_sans, bool fresh_ca,
                         struct jp_pki *out, struct jp_err **err)
{
    _cleanup_crt_ gnutls_x509_crt_t ca = crt_of_pem(out->ca_crt);
    _cleanup_key_ gnutls_x509_privkey_t ca_key = key_of_pem(out->ca_key);
    if (ca == NULL || ca_key == NULL)
        return jp_err_set(err, JP_INTERNAL, 0, "pki: %s/ca.crt or ca.key unreadable", dir);
    struct issuer iss = {ca, ca_key};
    if (ensure_pair(dir, "server.crt", "server.key", &srv_spec, &iss, extra_sans, fresh_ca,
                    &out->server_crt, &out->server_key, err) < 0 ||
        ensure_pair(dir, "admin.crt", "admin.key", &adm_spec, &iss, NULL, fresh_ca, &out->admin_crt,
                    &out->admin_key, err) < 0)
        return -1;
    return 0;
}

int jp_pki_ensure(const char *dir, const char *const *extra_sans, struct jp_pki *out,
                  struct jp_err **err)
{
    memset(out, 0, sizeof(*out));
    if (jp_mkdir_private(dir, err) < 0) return -1;
    int fresh_ca = ensure_pair(dir, "ca.crt", "ca.key", &ca_spec, NULL, NULL, false, &out->ca_crt,
                               &out->ca_key, err);
    if (fresh_ca < 0 || ensure_leaves(dir, extra_sans, fresh_ca == 1, out, err) < 0 ||
        ensure_token(dir, &out->token, err) < 0 ||
        ensure_key(dir, "sa.key", &out->sa_key, err) < 0) {
        jp_pki_free(out);
        return -1;
    }
    return 0;
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
    free(p->sa_key);
    memset(p, 0, sizeof(*p));
}

/* Standard base64 on one line, as kubeconfig's *-data fields want; NULL on failure. */
static char *b64(const char *s)
{
    gnutls_datum_t in = {(unsigned char *)s, (unsigned)strlen(s)};
    _cleanup_datum_ gnutls_datum_t out = {NULL, 0};
    if (gnutls_base64_encode2(&in, &out) < 0) return NULL;
    return dup_datum(&out);
}

int jp_pki_write_kubeconfig(const struct jp_pki *p, const char *dir, const char *server_url,
                            struct jp_err **err)
{
    _cleanup_free_ char *ca = b64(p->ca_crt);
    _cleanup_free_ char *crt = b64(p->admin_crt);
    _cleanup_free_ char *key = b64(p->admin_key);
    if (ca == NULL || crt == NULL || key == NULL)
        return jp_err_set(err, JP_INTERNAL, 0, "pki: cannot base64-encode %s/kubeconfig", dir);
    _cleanup_free_ char *doc = jp_xasprintf("apiVersion: v1\n"
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
    return jp_write_file_atomic(dir, "kubeconfig", doc, strlen(doc), err);
}
