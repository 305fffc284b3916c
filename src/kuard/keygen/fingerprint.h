/* RSA key generation and OpenSSH SHA256 fingerprints, as kuard reports each generated key. */
#ifndef KUARD_KEYGEN_FINGERPRINT_H
#define KUARD_KEYGEN_FINGERPRINT_H

#include "base/err.h"

#include <openssl/evp.h>
#include <stdatomic.h>

/* "SHA256:" + 43 characters of unpadded base64 + NUL */
#define KEYGEN_FP_LEN 51

/* The fingerprint `ssh-keygen -lf` prints for an RSA public key: SHA-256 over the ssh-rsa wire
 * blob (string "ssh-rsa", mpint e, mpint n), base64 without padding. */
int keygen_fingerprint(EVP_PKEY *pkey, char out[KEYGEN_FP_LEN], struct jp_err **err);

/* Generates an RSA key (e = 65537, like Go's rsa.GenerateKey) and fingerprints it. If *cancel
 * becomes true meanwhile, generation is abandoned early and this returns -1 with JP_GONE. */
int keygen_generate(int bits, const atomic_bool *cancel, char out[KEYGEN_FP_LEN],
                    struct jp_err **err);

#endif
