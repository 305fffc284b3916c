/* RSA keys through OpenSSL 3's EVP API. The generation callback lets a cancelled workload stop
 * within milliseconds instead of finishing a 4096-bit key (which takes ~0.5-2 s). */
#include "kuard/keygen/fingerprint.h"
#include "base/cleanup.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <string.h>

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Appends an SSH mpint: length-prefixed big-endian magnitude, with a 0x00 byte in front when the
 * top bit is set so the value stays positive (RFC 4251 §5). */
static size_t put_mpint(unsigned char *p, const BIGNUM *bn)
{
    int n = BN_num_bytes(bn);
    unsigned char *dst = p + 4;
    BN_bn2bin(bn, dst);
    size_t len = (size_t)n;
    if (n > 0 && (dst[0] & 0x80)) {
        memmove(dst + 1, dst, len);
        dst[0] = 0;
        len++;
    }
    put_u32(p, (uint32_t)len);
    return 4 + len;
}

int keygen_fingerprint(EVP_PKEY *pkey, char out[KEYGEN_FP_LEN], struct jp_err **err)
{
    BIGNUM *n = NULL, *e = NULL;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        BN_free(n);
        BN_free(e);
        return jp_err_set(err, JP_BAD_REQUEST, 0, "fingerprint: not an RSA key");
    }
    size_t cap = 4 + 7 + 4 + 1 + (size_t)BN_num_bytes(e) + 4 + 1 + (size_t)BN_num_bytes(n);
    _cleanup_free_ unsigned char *blob = malloc(cap);
    size_t len = 0;
    if (blob) {
        put_u32(blob, 7);
        memcpy(blob + 4, "ssh-rsa", 7);
        len = 11;
        len += put_mpint(blob + len, e);
        len += put_mpint(blob + len, n);
    }
    BN_free(n);
    BN_free(e);
    if (blob == NULL) return jp_err_set(err, JP_INTERNAL, 0, "fingerprint: out of memory");

    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(blob, len, digest);
    unsigned char b64[48];
    int b64len = EVP_EncodeBlock(b64, digest, sizeof(digest)); /* 44 chars, one '=' */
    while (b64len > 0 && b64[b64len - 1] == '=')
        b64len--;
    memcpy(out, "SHA256:", 7);
    memcpy(out + 7, b64, (size_t)b64len);
    out[7 + b64len] = '\0';
    return 0;
}

static int abort_if_cancelled(EVP_PKEY_CTX *ctx)
{
    const atomic_bool *cancel = EVP_PKEY_CTX_get_app_data(ctx);
    return cancel && atomic_load(cancel) ? 0 : 1; /* 0 stops the generation */
}

int keygen_generate(int bits, const atomic_bool *cancel, char out[KEYGEN_FP_LEN],
                    struct jp_err **err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    int rc = -1;
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1) {
        jp_err_set(err, JP_INTERNAL, 0, "Error generating key: cannot set up RSA-%d", bits);
        goto out;
    }
    EVP_PKEY_CTX_set_app_data(ctx, (void *)cancel);
    EVP_PKEY_CTX_set_cb(ctx, abort_if_cancelled);
    if (EVP_PKEY_generate(ctx, &pkey) != 1) {
        if (cancel && atomic_load(cancel))
            jp_err_set(err, JP_GONE, 0, "key generation cancelled");
        else
            jp_err_set(err, JP_INTERNAL, 0, "Error generating key: RSA-%d failed", bits);
        goto out;
    }
    rc = keygen_fingerprint(pkey, out, err);
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}
