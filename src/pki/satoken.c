/* Service account JWTs: ES256 over base64url(header) "." base64url(claims), the signature as
 * JWS wants it (r and s, 32 bytes each, not DER). See satoken.h. */
#include "pki/satoken.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/rand.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JWT     (16 * 1024) /* a token is a few hundred bytes; anything this big is not ours */
#define LEEWAY      60          /* seconds of clock skew allowed on nbf, as Kubernetes allows */
#define YEAR        (365 * 24 * 3600)
#define COORD_BYTES 32 /* P-256 */

struct jp_sa_signer {
    gnutls_privkey_t priv;
    gnutls_pubkey_t pub;
    char kid[64];
};

/* ---- base64url without padding ---- */

static char *b64url(const void *p, size_t n)
{
    gnutls_datum_t in = {(unsigned char *)p, (unsigned)n}, out = {NULL, 0};
    if (gnutls_base64_encode2(&in, &out) < 0) abort(); /* out of memory, as jp_xmalloc */
    char *s = jp_xmalloc(out.size + 1);
    size_t k = 0;
    for (unsigned i = 0; i < out.size; i++) {
        char c = (char)out.data[i];
        if (c == '=' || c == '\n' || c == '\r') continue;
        s[k++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    s[k] = '\0';
    gnutls_free(out.data);
    return s;
}

/* 0 with out (gnutls_free) holding the bytes; -1 for anything but base64url. */
static int unb64url(const char *s, size_t n, gnutls_datum_t *out)
{
    if (n == 0 || n % 4 == 1) return -1;
    char *std = jp_xmalloc(n + 4);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            free(std);
            return -1;
        }
        std[k++] = c;
    }
    while (k % 4)
        std[k++] = '=';
    gnutls_datum_t in = {(unsigned char *)std, (unsigned)k};
    int rc = gnutls_base64_decode2(&in, out);
    free(std);
    return rc < 0 ? -1 : 0;
}

/* ---- the key ---- */

int jp_sa_signer_new(const char *key_pem, struct jp_sa_signer **out, struct jp_err **err)
{
    struct jp_sa_signer *s = jp_xcalloc(1, sizeof(*s));
    gnutls_datum_t pem = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
    gnutls_datum_t der = {NULL, 0};
    unsigned char id[32];
    int rc = gnutls_privkey_init(&s->priv);
    if (rc >= 0) rc = gnutls_privkey_import_x509_raw(s->priv, &pem, GNUTLS_X509_FMT_PEM, NULL, 0);
    /* ES256 is P-256: another curve would load and then fail every signature */
    unsigned bits = 0;
    if (rc >= 0 &&
        (gnutls_privkey_get_pk_algorithm(s->priv, &bits) != GNUTLS_PK_ECDSA || bits != 256))
        rc = GNUTLS_E_UNKNOWN_PK_ALGORITHM;
    if (rc >= 0) rc = gnutls_pubkey_init(&s->pub);
    if (rc >= 0) rc = gnutls_pubkey_import_privkey(s->pub, s->priv, 0, 0);
    /* the key id as Kubernetes makes it: the SHA-256 of the public key's DER, base64url */
    if (rc >= 0) rc = gnutls_pubkey_export2(s->pub, GNUTLS_X509_FMT_DER, &der);
    if (rc >= 0) rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, id);
    gnutls_free(der.data);
    if (rc < 0) {
        jp_sa_signer_free(s);
        return jp_err_set(err, JP_INTERNAL, 0, "service account key: %s", gnutls_strerror(rc));
    }
    char *kid = b64url(id, sizeof(id));
    snprintf(s->kid, sizeof(s->kid), "%s", kid);
    free(kid);
    *out = s;
    return 0;
}

void jp_sa_signer_free(struct jp_sa_signer *s)
{
    if (s == NULL) return;
    if (s->priv) gnutls_privkey_deinit(s->priv);
    if (s->pub) gnutls_pubkey_deinit(s->pub);
    free(s);
}

/* ---- minting ---- */

static json_t *name_uid(const char *name, const char *uid)
{
    return json_pack("{s:s,s:s}", "name", name, "uid", uid ? uid : "");
}

/* A big-endian integer (DER may add a zero byte, or drop leading ones) as exactly 32 bytes. */
static int fixed(const gnutls_datum_t *v, unsigned char out[COORD_BYTES])
{
    unsigned n = v->size;
    const unsigned char *p = v->data;
    while (n > COORD_BYTES && *p == 0)
        p++, n--;
    if (n > COORD_BYTES) return -1;
    memset(out, 0, COORD_BYTES);
    memcpy(out + COORD_BYTES - n, p, n);
    return 0;
}

char *jp_sa_token_mint(const struct jp_sa_signer *s, const struct jp_sa_claims *c, int64_t *exp_out)
{
    /* a projection asks for anything: TokenRequest's bounds */
    int64_t seconds = c->seconds < JP_SA_MIN_SECONDS   ? JP_SA_MIN_SECONDS
                      : c->seconds > JP_SA_MAX_SECONDS ? JP_SA_MAX_SECONDS
                                                       : c->seconds;
    int64_t exp = c->iat + seconds;
    json_t *k8s = json_pack("{s:s,s:o}", "namespace", c->ns, "serviceaccount",
                            name_uid(c->sa_name, c->sa_uid));
    if (c->pod_name) json_object_set_new(k8s, "pod", name_uid(c->pod_name, c->pod_uid));
    if (c->secret_name) json_object_set_new(k8s, "secret", name_uid(c->secret_name, c->secret_uid));
    /* the extension is for the API's own audience only, as kube-apiserver grants it */
    bool api_audience = c->audiences == NULL || c->audiences[0] == NULL ||
                        (strcmp(c->audiences[0], JP_SA_ISSUER) == 0 && c->audiences[1] == NULL);
    if (c->extend && c->pod_name && c->seconds == JP_SA_NODE_SECONDS && api_audience) {
        json_object_set_new(k8s, "warnafter", json_integer(exp));
        exp = c->iat + YEAR;
    }
    json_t *aud = json_array();
    for (const char *const *a = c->audiences; a && *a; a++)
        json_array_append_new(aud, json_string(*a));
    if (json_array_size(aud) == 0) json_array_append_new(aud, json_string(JP_SA_ISSUER));
    char jti[JP_UID_LEN + 1], sub[600];
    jp_rand_uid(jti);
    snprintf(sub, sizeof(sub), "system:serviceaccount:%s:%s", c->ns, c->sa_name);
    json_t *claims =
        json_pack("{s:o,s:I,s:I,s:s,s:s,s:o,s:I,s:s}", "aud", aud, "exp", (json_int_t)exp, "iat",
                  (json_int_t)c->iat, "iss", JP_SA_ISSUER, "jti", jti, "kubernetes.io", k8s, "nbf",
                  (json_int_t)c->iat, "sub", sub);
    json_t *header = json_pack("{s:s,s:s}", "alg", "ES256", "kid", s->kid);
    char *hj = json_dumps(header, JSON_COMPACT | JSON_SORT_KEYS);
    char *cj = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(header);
    json_decref(claims);
    if (hj == NULL || cj == NULL) abort(); /* out of memory */
    char *h64 = b64url(hj, strlen(hj)), *c64 = b64url(cj, strlen(cj));
    free(hj);
    free(cj);
    char *input = jp_xasprintf("%s.%s", h64, c64);
    free(h64);
    free(c64);
    gnutls_datum_t data = {(unsigned char *)input, (unsigned)strlen(input)};
    gnutls_datum_t der = {NULL, 0}, r = {NULL, 0}, sv = {NULL, 0};
    unsigned char raw[2 * COORD_BYTES];
    char *out = NULL;
    if (gnutls_privkey_sign_data(s->priv, GNUTLS_DIG_SHA256, 0, &data, &der) >= 0 &&
        gnutls_decode_rs_value(&der, &r, &sv) >= 0 && fixed(&r, raw) == 0 &&
        fixed(&sv, raw + COORD_BYTES) == 0) {
        char *sig = b64url(raw, sizeof(raw));
        out = jp_xasprintf("%s.%s", input, sig);
        free(sig);
    }
    gnutls_free(der.data);
    gnutls_free(r.data);
    gnutls_free(sv.data);
    free(input);
    if (out && exp_out) *exp_out = exp;
    return out;
}

/* ---- verifying ---- */

static json_t *json_part(const char *p, size_t n)
{
    gnutls_datum_t d = {NULL, 0};
    if (unb64url(p, n, &d) < 0) return NULL;
    json_t *j = json_loadb((const char *)d.data, d.size, JSON_REJECT_DUPLICATES, NULL);
    gnutls_free(d.data);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static bool signature_ok(const struct jp_sa_signer *s, const char *jwt, size_t signed_len,
                         const char *sig, size_t sig_len)
{
    gnutls_datum_t raw = {NULL, 0}, der = {NULL, 0};
    bool ok = false;
    if (unb64url(sig, sig_len, &raw) == 0 && raw.size == 2 * COORD_BYTES) {
        gnutls_datum_t r = {raw.data, COORD_BYTES}, sv = {raw.data + COORD_BYTES, COORD_BYTES};
        gnutls_datum_t data = {(unsigned char *)jwt, (unsigned)signed_len};
        ok = gnutls_encode_rs_value(&der, &r, &sv) >= 0 &&
             gnutls_pubkey_verify_data2(s->pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &der) >= 0;
    }
    gnutls_free(raw.data);
    gnutls_free(der.data);
    return ok;
}

static bool audience_ok(const json_t *aud)
{
    if (json_is_string(aud)) return strcmp(json_string_value(aud), JP_SA_ISSUER) == 0;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a) if (json_is_string(a) &&
                                      strcmp(json_string_value(a), JP_SA_ISSUER) == 0) return true;
    return false;
}

/* name and uid of a {"name","uid"} claim into the identity's fields; false when malformed */
static bool copy_ref(const json_t *ref, char *name, size_t nn, char *uid, size_t un)
{
    if (ref == NULL) return true;
    const char *n = json_string_value(json_object_get(ref, "name"));
    const char *u = json_string_value(json_object_get(ref, "uid"));
    if (n == NULL || *n == '\0' || strlen(n) >= nn || (u && strlen(u) >= un)) return false;
    snprintf(name, nn, "%s", n);
    snprintf(uid, un, "%s", u ? u : "");
    return true;
}

static int claims_ok(const json_t *c, int64_t now, struct jp_sa_identity *who)
{
    const char *iss = json_string_value(json_object_get(c, "iss"));
    json_t *exp = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf");
    if (iss == NULL || strcmp(iss, JP_SA_ISSUER) != 0 || !audience_ok(json_object_get(c, "aud")))
        return -1;
    if (!json_is_integer(exp) || json_integer_value(exp) <= now) return -1;
    if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > now + LEEWAY)) return -1;
    const json_t *k8s = json_object_get(c, "kubernetes.io");
    const char *ns = json_string_value(json_object_get(k8s, "namespace"));
    if (ns == NULL || *ns == '\0' || strlen(ns) >= sizeof(who->ns)) return -1;
    snprintf(who->ns, sizeof(who->ns), "%s", ns);
    const json_t *sa = json_object_get(k8s, "serviceaccount");
    if (sa == NULL ||
        !copy_ref(sa, who->sa_name, sizeof(who->sa_name), who->sa_uid, sizeof(who->sa_uid)) ||
        !copy_ref(json_object_get(k8s, "pod"), who->pod_name, sizeof(who->pod_name), who->pod_uid,
                  sizeof(who->pod_uid)) ||
        !copy_ref(json_object_get(k8s, "secret"), who->secret_name, sizeof(who->secret_name),
                  who->secret_uid, sizeof(who->secret_uid)))
        return -1;
    char want[600];
    const char *sub = json_string_value(json_object_get(c, "sub"));
    return sub && strcmp(sub, jp_sa_username(who, want, sizeof(want))) == 0 ? 0 : -1;
}

int jp_sa_token_verify(const struct jp_sa_signer *s, const char *jwt, int64_t now,
                       struct jp_sa_identity *who)
{
    memset(who, 0, sizeof(*who));
    size_t n = strnlen(jwt, MAX_JWT + 1);
    const char *d1 = memchr(jwt, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jwt)) : NULL;
    if (n > MAX_JWT || d2 == NULL || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jwt))) return -1;
    json_t *header = json_part(jwt, (size_t)(d1 - jwt));
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    bool ours = alg && strcmp(alg, "ES256") == 0 && (kid == NULL || strcmp(kid, s->kid) == 0);
    json_decref(header);
    if (!ours || !signature_ok(s, jwt, (size_t)(d2 - jwt), d2 + 1, n - (size_t)(d2 + 1 - jwt)))
        return -1;
    json_t *claims = json_part(d1 + 1, (size_t)(d2 - d1 - 1));
    int rc = claims ? claims_ok(claims, now, who) : -1;
    json_decref(claims);
    if (rc < 0) memset(who, 0, sizeof(*who));
    return rc;
}

const char *jp_sa_username(const struct jp_sa_identity *who, char *buf, size_t n)
{
    snprintf(buf, n, "system:serviceaccount:%s:%s", who->ns, who->sa_name);
    return buf;
}
