/* Fuzz target for the service account token check, which reads whatever a client puts after
 * "Bearer ": any text is accepted or refused without a crash; an accepted token names an account
 * in a namespace and is accepted the same way again; nothing but the seed tokens (minted with the
 * key below, a key of this fuzzer's own) and what the fuzzer derives from them gets that far. */
#include "fuzz_check.h"
#include "pki/satoken.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1764000001 /* the seeds were minted at 1764000000 for an hour or more */

static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgv946qp/i/xkUEMMb\n"
                              "iqYYLScVlmMm/Rsij8W8I0qBxEuhRANCAAR315Z9f0QFpmXGPuLTb8A/4xQjdViS\n"
                              "FRu6hXrz5hN6u93jAhRiV7xb3mJYOPSoNuwRwh+6Z3+uWMjWGHZqmVbD\n"
                              "-----END PRIVATE KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct jp_sa_signer *signer;
    if (signer == NULL && jp_sa_signer_new(key_pem, &signer, NULL) < 0) abort();
    char *text = strndup((const char *)data, size);
    struct jp_sa_identity a, b;
    int rc = jp_sa_token_verify(signer, text, NOW, &a);
    FUZZ_CHECK(rc == 0 || rc == -1, "verify returned %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(a.ns[0] && a.sa_name[0], "an accepted token without namespace or account");
        FUZZ_CHECK(jp_sa_token_verify(signer, text, NOW, &b) == 0 && memcmp(&a, &b, sizeof(a)) == 0,
                   "two checks differ");
    } else {
        FUZZ_CHECK(a.ns[0] == '\0' && a.sa_name[0] == '\0', "a refused token left an identity");
    }
    free(text);
    return 0;
}
