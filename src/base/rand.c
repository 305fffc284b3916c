/* getrandom-backed randomness with a small per-thread pool, so a busy server doesn't make one
 * system call per generated id. */
#include "base/rand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define POOL_SIZE 256

static __thread struct {
    uint8_t bytes[POOL_SIZE];
    size_t left;
} pool;

static void fill(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            /* Without entropy we cannot make unique ids; continuing would risk collisions. */
            fprintf(stderr, "fatal: getrandom: %s\n", strerror(errno));
            abort();
        }
        p += r;
        n -= (size_t)r;
    }
}

void jp_rand_bytes(void *buf, size_t n)
{
    if (n > POOL_SIZE / 2) {
        fill(buf, n);
        return;
    }
    if (pool.left < n) {
        fill(pool.bytes, POOL_SIZE);
        pool.left = POOL_SIZE;
    }
    uint8_t *src = pool.bytes + POOL_SIZE - pool.left;
    memcpy(buf, src, n);
    memset(src, 0, n); /* a used byte is never handed out twice */
    pool.left -= n;
}

void jp_rand_suffix(char *out, size_t n)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    const unsigned size = sizeof(alphabet) - 1; /* 27 */
    const unsigned limit = 256 - (256 % size);  /* reject bytes that would bias the modulo */
    size_t i = 0;
    while (i < n) {
        uint8_t b[16];
        jp_rand_bytes(b, sizeof(b));
        for (size_t j = 0; j < sizeof(b) && i < n; j++)
            if (b[j] < limit) out[i++] = alphabet[b[j] % size];
    }
    out[n] = '\0';
}

void jp_hex(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void jp_rand_uid(char out[JP_UID_LEN + 1])
{
    uint8_t b[16];
    char hex[33];
    jp_rand_bytes(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    jp_hex(hex, b, sizeof(b));
    snprintf(out, JP_UID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
}
