/* Service account tokens: what a minted token says (decoded here by hand, as jwt.io would), that
 * OpenSSL accepts its ES256 signature the way any JWT library checks one, and that verification
 * refuses every token that is not exactly one of ours: another key, a changed byte, the wrong
 * algorithm, audience or issuer, an expired one, garbage. */
#include "support/cm.h"
#include "base/alloc.h"
#include "pki/satoken.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1764000000LL

static char *new_key_pem(void)
{
    gnutls_x509_privkey_t key;
    gnutls_datum_t kd = {NULL, 0};
    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(gnutls_x509_privkey_generate(
                         key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                     0);
    assert_int_equal(
        gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &kd),
        0);
    char *pem = jp_xstrndup((const char *)kd.data, kd.size);
    gnutls_free(kd.data);
    gnutls_x509_privkey_deinit(key);
    return pem;
}

static struct jp_sa_signer *signer(char **pem_out)
{
    char *pem = new_key_pem();
    struct jp_sa_signer *s = NULL;
    assert_int_equal(jp_sa_signer_new(pem, &s, NULL), 0);
    if (pem_out)
        *pem_out = pem;
    else
        free(pem);
    return s;
}

static const struct jp_sa_claims pod_claims = {
    .ns = "default",
    .sa_name = "runner",
    .sa_uid = "11111111-2222-3333-4444-555555555555",
    .pod_name = "job-x",
    .pod_uid = "66666666-7777-8888-9999-000000000000",
    .iat = NOW,
    .seconds = JP_SA_NODE_SECONDS,
    .extend = true,
};

/* base64url part k (0 header, 1 claims, 2 signature) decoded */
static unsigned char *part(const char *jwt, int k, size_t *len)
{
    const char *p = jwt;
    for (int i = 0; i < k; i++)
        p = strchr(p, '.') + 1;
    size_t n = strcspn(p, ".");
    char *std = jp_xmalloc(n + 4);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        std[m++] = p[i] == '-' ? '+' : p[i] == '_' ? '/' : p[i];
    while (m % 4)
        std[m++] = '=';
    unsigned char *out = jp_xmalloc(m);
    int got = EVP_DecodeBlock(out, (unsigned char *)std, (int)m);
    assert_true(got > 0);
    *len = (size_t)got - (m - strcspn(std, "=")) % 4; /* EVP counts the padding as zeros */
    free(std);
    return out;
}

static const char *str2(const json_t *o, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(o, a), b));
}

static json_t *claims_of(const char *jwt)
{
    size_t n;
    unsigned char *c = part(jwt, 1, &n);
    json_t *j = json_loadb((const char *)c, n, 0, NULL);
    free(c);
    assert_non_null(j);
    return j;
}

static void what_a_pod_token_says(void **state)
{
    (void)state;
    struct jp_sa_signer *s = signer(NULL);
    int64_t exp = 0;
    char *jwt = jp_sa_token_mint(s, &pod_claims, &exp);
    assert_non_null(jwt);
    assert_int_equal(exp, NOW + 365 * 24 * 3600); /* extended, warnafter at the asked time */
    size_t n;
    unsigned char *h = part(jwt, 0, &n);
    json_t *hj = json_loadb((const char *)h, n, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(hj, "alg")), "ES256");
    assert_int_equal(strlen(json_string_value(json_object_get(hj, "kid"))), 43);
    json_decref(hj);
    free(h);
    json_t *c = claims_of(jwt);
    assert_string_equal(json_string_value(json_object_get(c, "iss")), JP_SA_ISSUER);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "aud"), 0)),
                        JP_SA_ISSUER);
    assert_string_equal(json_string_value(json_object_get(c, "sub")),
                        "system:serviceaccount:default:runner");
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), NOW);
    assert_int_equal(json_integer_value(json_object_get(c, "nbf")), NOW);
    json_t *k8s = json_object_get(c, "kubernetes.io");
    assert_string_equal(json_string_value(json_object_get(k8s, "namespace")), "default");
    assert_string_equal(str2(k8s, "pod", "name"), "job-x");
    assert_string_equal(str2(k8s, "serviceaccount", "uid"), pod_claims.sa_uid);
    assert_int_equal(json_integer_value(json_object_get(k8s, "warnafter")),
                     NOW + JP_SA_NODE_SECONDS);
    json_decref(c);

    struct jp_sa_identity who;
    assert_int_equal(jp_sa_token_verify(s, jwt, NOW + 10, &who), 0);
    assert_string_equal(who.ns, "default");
    assert_string_equal(who.sa_name, "runner");
    assert_string_equal(who.sa_uid, pod_claims.sa_uid);
    assert_string_equal(who.pod_name, "job-x");
    assert_string_equal(who.pod_uid, pod_claims.pod_uid);
    assert_string_equal(who.secret_name, "");
    char user[128];
    assert_string_equal(jp_sa_username(&who, user, sizeof(user)),
                        "system:serviceaccount:default:runner");
    /* a year on it has expired */
    assert_int_equal(jp_sa_token_verify(s, jwt, exp, &who), -1);
    assert_string_equal(who.sa_name, "");
    free(jwt);

    /* the node's lifetime for another audience is not extended */
    static const char *const vault[] = {"vault", NULL};
    struct jp_sa_claims other = pod_claims;
    other.audiences = vault;
    jwt = jp_sa_token_mint(s, &other, &exp);
    assert_int_equal(exp, NOW + JP_SA_NODE_SECONDS);
    free(jwt);
    /* lifetimes are held to TokenRequest's bounds, 600 s to 2^32 s */
    other.seconds = 5;
    jwt = jp_sa_token_mint(s, &other, &exp);
    assert_int_equal(exp, NOW + 600);
    free(jwt);
    other.seconds = INT64_MAX;
    jwt = jp_sa_token_mint(s, &other, &exp);
    assert_int_equal(exp, NOW + (1LL << 32));
    free(jwt);

    /* not a node's token: exactly the asked lifetime, no warnafter, no pod */
    struct jp_sa_claims plain = {.ns = "team",
                                 .sa_name = "default",
                                 .sa_uid = "u",
                                 .iat = NOW,
                                 .seconds = 600,
                                 .extend = true};
    jwt = jp_sa_token_mint(s, &plain, &exp);
    assert_int_equal(exp, NOW + 600);
    c = claims_of(jwt);
    assert_null(json_object_get(json_object_get(c, "kubernetes.io"), "warnafter"));
    assert_null(json_object_get(json_object_get(c, "kubernetes.io"), "pod"));
    json_decref(c);
    assert_int_equal(jp_sa_token_verify(s, jwt, NOW + 599, &who), 0);
    assert_string_equal(who.pod_name, "");
    assert_int_equal(jp_sa_token_verify(s, jwt, NOW + 600, &who), -1);
    /* not yet valid (beyond a minute of skew) */
    assert_int_equal(jp_sa_token_verify(s, jwt, NOW - 30, &who), 0);
    assert_int_equal(jp_sa_token_verify(s, jwt, NOW - 61, &who), -1);
    free(jwt);
    jp_sa_signer_free(s);
}

/* OpenSSL, knowing nothing of our code, checks the signature over header.claims */
static void openssl_accepts_the_signature(void **state)
{
    (void)state;
    char *pem;
    struct jp_sa_signer *s = signer(&pem);
    char *jwt = jp_sa_token_mint(s, &pod_claims, NULL);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    assert_non_null(key);
    size_t n;
    unsigned char *raw = part(jwt, 2, &n);
    assert_int_equal(n, 64);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    unsigned char *der = NULL;
    int dlen = i2d_ECDSA_SIG(sig, &der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t signed_len = (size_t)(strrchr(jwt, '.') - jwt);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestVerify(ctx, der, (size_t)dlen, (unsigned char *)jwt, signed_len), 1);
    jwt[3] ^= 1; /* and it is the signature that holds it together */
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_not_equal(EVP_DigestVerify(ctx, der, (size_t)dlen, (unsigned char *)jwt, signed_len),
                         1);
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    free(raw);
    EVP_PKEY_free(key);
    BIO_free(bio);
    free(jwt);
    free(pem);
    jp_sa_signer_free(s);
}

static void only_our_own_tokens_pass(void **state)
{
    (void)state;
    struct jp_sa_signer *s = signer(NULL), *other = signer(NULL);
    struct jp_sa_identity who;
    char *jwt = jp_sa_token_mint(s, &pod_claims, NULL);
    char *theirs = jp_sa_token_mint(other, &pod_claims, NULL);
    assert_int_equal(jp_sa_token_verify(s, jwt, NOW, &who), 0);
    assert_int_equal(jp_sa_token_verify(s, theirs, NOW, &who), -1);
    /* every single changed character is noticed */
    size_t n = strlen(jwt);
    for (size_t i = 0; i < n; i++) {
        if (jwt[i] == '.') continue;
        char *t = jp_xstrdup(jwt);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (jp_sa_token_verify(s, t, NOW, &who) == 0 && strcmp(t, jwt) != 0) {
            /* the last character's low bits may not be part of the signature's bytes */
            assert_true(i == n - 1);
        }
        free(t);
    }
    /* another audience is a token for someone else */
    static const char *const aud[] = {"vault", NULL};
    struct jp_sa_claims c = pod_claims;
    c.audiences = aud;
    char *vault = jp_sa_token_mint(s, &c, NULL);
    assert_int_equal(jp_sa_token_verify(s, vault, NOW, &who), -1);
    /* shapes that are not a JWT */
    static const char *const junk[] = {"", ".", "..", "...", "a.b.c", "a.b", "eyJ.eyJ.", "....x"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(jp_sa_token_verify(s, junk[i], NOW, &who), -1);
    /* alg none with our claims and no signature */
    const char *dot = strchr(jwt, '.');
    char *none = jp_xasprintf("eyJhbGciOiJub25lIn0%.*s.", (int)(strrchr(jwt, '.') - dot), dot);
    assert_int_equal(jp_sa_token_verify(s, none, NOW, &who), -1);
    free(none);
    free(vault);
    free(theirs);
    free(jwt);
    jp_sa_signer_free(other);
    jp_sa_signer_free(s);
    /* a key that is not P-256 ECDSA is refused up front (another curve would load, then fail
     * every signature) */
    struct jp_sa_signer *bad = NULL;
    assert_int_equal(jp_sa_signer_new("not a key", &bad, NULL), -1);
    assert_null(bad);
    gnutls_x509_privkey_t p384;
    gnutls_datum_t kd = {NULL, 0};
    assert_int_equal(gnutls_x509_privkey_init(&p384), 0);
    assert_int_equal(gnutls_x509_privkey_generate(p384, GNUTLS_PK_ECDSA,
                                                  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1),
                                                  0),
                     0);
    assert_int_equal(
        gnutls_x509_privkey_export2_pkcs8(p384, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &kd),
        0);
    char *pem = jp_xstrndup((const char *)kd.data, kd.size);
    assert_int_equal(jp_sa_signer_new(pem, &bad, NULL), -1);
    free(pem);
    gnutls_free(kd.data);
    gnutls_x509_privkey_deinit(p384);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(what_a_pod_token_says),
        cmocka_unit_test(openssl_accepts_the_signature),
        cmocka_unit_test(only_our_own_tokens_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
