/* Randomness from getrandom(2): name suffixes (generateName), UIDs and opaque ids. */
#ifndef JP_BASE_RAND_H
#define JP_BASE_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf with n random bytes. Thread-safe (each thread keeps its own pool). */
void jp_rand_bytes(void *buf, size_t n);

/* n characters from Kubernetes' suffix alphabet "bcdfghjklmnpqrstvwxz2456789" (no vowels, so no
 * words; no 0/1/3 lookalikes), as apiserver's generateName uses with n = 5. out has n+1 bytes. */
void jp_rand_suffix(char *out, size_t n);

/* A random (version 4) UUID in its 36-character text form. out has 37 bytes. */
#define JP_UID_LEN 36
void jp_rand_uid(char out[JP_UID_LEN + 1]);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void jp_hex(char *out, const uint8_t *in, size_t n);

#endif
