/* SSH SHA256 fingerprints: a fixed key against the value `ssh-keygen -lf` printed for it, and
 * freshly generated keys against ssh-keygen itself. */
#include "support/cm.h"
#include "kuard/keygen/fingerprint.h"

#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Generated once with `openssl genrsa 2048`; `ssh-keygen -lf` on its OpenSSH form printed
 * "2048 SHA256:OoEmD3e8jmLLHjjP8y4loFkpaj7YRM3lXfbGaRBLVCM no comment (RSA)". */
static const char fixed_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                                "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyJpqNymPywqVA4+O2iG6\n"
                                "ECSc6UljCD6X5zbclAiHnbZUBEE9pJhwte+yKhlmlBIHT1kkJzZFqSdWjpmQxIbg\n"
                                "HduhozuKIP/+4700ES6OUl/jzESXYyHLwNdvr8nxq+8/S+iWbtg6g2Zhgnw8lQm7\n"
                                "YdliVXyBxaCzTLhDxmBAtC2BJ127aCS3lCUhNro95j5SZaaMXtx/YBPwbDZVuB8w\n"
                                "ycCnB276XXTXT7Pm6iDIkPSNZh2HkhDhjWW7uLGUIU9SjO+q0FHxmfNEUTw94NIY\n"
                                "4E67TAe9crd/3zaxybIvjTvVUSATSLr6wSI5vVEaDej1Q3UfVaM86Ke9ilke2Lu7\n"
                                "2wIDAQAB\n"
                                "-----END PUBLIC KEY-----\n";

/* A 1024-bit key: "1024 SHA256:3l1Ts/LZsdqibxsb7/m5e2J2M3YJ3sgo4cEaQ7ZoKQ0 no comment (RSA)" */
static const char fixed_pub_1024[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCuR8pMShUnsRsyByiWEqzPy4Ly\n"
    "n3AUuLY9mj8ZDX4iKrwzzrTNCDVZNkk90D7olKFmXiMVv7EXRrMV504o4hABjwl4\n"
    "iRFNInO6ccNyB+79H9+XbzU+pQ6LF0td/V1Ru7Im4J+vI43GGO62/zf2XGq1AOIn\n"
    "cAKHas046VVnhRbcYwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static EVP_PKEY *load(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(k);
    return k;
}

static void fixed_keys(void **state)
{
    (void)state;
    char fp[KEYGEN_FP_LEN];
    EVP_PKEY *k = load(fixed_pub);
    assert_int_equal(keygen_fingerprint(k, fp, NULL), 0);
    assert_string_equal(fp, "SHA256:OoEmD3e8jmLLHjjP8y4loFkpaj7YRM3lXfbGaRBLVCM");
    EVP_PKEY_free(k);
    k = load(fixed_pub_1024);
    assert_int_equal(keygen_fingerprint(k, fp, NULL), 0);
    assert_string_equal(fp, "SHA256:3l1Ts/LZsdqibxsb7/m5e2J2M3YJ3sgo4cEaQ7ZoKQ0");
    EVP_PKEY_free(k);
}

static void non_rsa_key_is_refused(void **state)
{
    (void)state;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    char fp[KEYGEN_FP_LEN];
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    assert_int_equal(keygen_fingerprint(k, fp, &err), -1);
    assert_string_equal(err->msg, "fingerprint: not an RSA key");
    EVP_PKEY_free(k);
}

/* Generates keys the way keygen_generate does and asks ssh-keygen for their fingerprints. */
static void generated_keys_match_ssh_keygen(void **state)
{
    (void)state;
    if (system("command -v ssh-keygen >/dev/null 2>&1") != 0) skip();
    for (int i = 0; i < 5; i++) {
        EVP_PKEY *k = EVP_RSA_gen(1024);
        assert_non_null(k);
        char fp[KEYGEN_FP_LEN];
        assert_int_equal(keygen_fingerprint(k, fp, NULL), 0);
        char path[] = "/tmp/jp-fp-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        PEM_write_PUBKEY(f, k);
        fclose(f);
        char cmd[256], line[256] = "";
        snprintf(cmd, sizeof(cmd), "ssh-keygen -i -m PKCS8 -f %s | ssh-keygen -lf - 2>&1", path);
        FILE *p = popen(cmd, "r");
        assert_non_null(fgets(line, sizeof(line), p));
        pclose(p);
        unlink(path);
        char want[128];
        snprintf(want, sizeof(want), "1024 %s ", fp);
        if (strncmp(line, want, strlen(want)) != 0) fail_msg("ssh-keygen: %s ours: %s", line, fp);
        EVP_PKEY_free(k);
    }
}

static void generate_reports_fingerprint_or_cancel(void **state)
{
    (void)state;
    char fp[KEYGEN_FP_LEN];
    assert_int_equal(keygen_generate(1024, NULL, fp, NULL), 0);
    assert_int_equal(strlen(fp), 50);
    assert_memory_equal(fp, "SHA256:", 7);
    atomic_bool cancel = true;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    assert_int_equal(keygen_generate(4096, &cancel, fp, &err), -1);
    assert_int_equal(err->reason, JP_GONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_keys),
        cmocka_unit_test(non_rsa_key_is_refused),
        cmocka_unit_test(generated_keys_match_ssh_keygen),
        cmocka_unit_test(generate_reports_fingerprint_or_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
