/* Random suffixes, UIDs and bytes: alphabet, format, uniqueness, and no reuse of pool bytes. */
#include "support/cm.h"
#include "base/rand.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void suffix_alphabet_and_spread(void **state)
{
    (void)state;
    const char *alphabet = "bcdfghjklmnpqrstvwxz2456789";
    int seen[256] = {0};
    for (int i = 0; i < 2000; i++) {
        char s[6];
        jp_rand_suffix(s, 5);
        assert_int_equal(strlen(s), 5);
        for (int j = 0; j < 5; j++) {
            assert_non_null(strchr(alphabet, s[j]));
            seen[(unsigned char)s[j]]++;
        }
    }
    /* 10000 draws over 27 symbols: every symbol appears (expected ~370 each). */
    for (const char *p = alphabet; *p; p++)
        assert_true(seen[(unsigned char)*p] > 200);
}

static void uid_is_v4(void **state)
{
    (void)state;
    char a[JP_UID_LEN + 1], b[JP_UID_LEN + 1];
    jp_rand_uid(a);
    jp_rand_uid(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_true(isxdigit((unsigned char)a[i]) && !isupper((unsigned char)a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
}

static int cmp16(const void *x, const void *y)
{
    return memcmp(x, y, 16);
}

static void bytes_never_repeat(void **state)
{
    (void)state;
    enum { N = 5000 };
    uint8_t(*ids)[16] = malloc(sizeof(uint8_t[16]) * N);
    for (int i = 0; i < N; i++)
        jp_rand_bytes(ids[i], 16);
    qsort(ids, N, 16, cmp16);
    for (int i = 1; i < N; i++)
        assert_true(memcmp(ids[i - 1], ids[i], 16) != 0);
    free(ids);
    uint8_t big[1000] = {0}; /* larger than the pool: read straight from getrandom */
    jp_rand_bytes(big, sizeof(big));
    int zeros = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        zeros += big[i] == 0;
    assert_true(zeros < 30);
}

static void hex_encoding(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x7f, 0xab, 0xff};
    char out[9];
    jp_hex(out, in, 4);
    assert_string_equal(out, "007fabff");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suffix_alphabet_and_spread),
        cmocka_unit_test(uid_is_v4),
        cmocka_unit_test(bytes_never_repeat),
        cmocka_unit_test(hex_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
