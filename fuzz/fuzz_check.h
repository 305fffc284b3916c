/* Shared by the fuzz targets: the libFuzzer entry point's prototype, the check that aborts with a
 * message (libFuzzer and the replay driver both report it), and Go's reading of quoted bytes. */
#ifndef JP_FUZZ_CHECK_H
#define JP_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz check failed: <what>" and aborts: a broken invariant must be a finding even in a
 * build without sanitizers, where a plain assert() may be compiled out. */
void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                                   \
    } while (0)

/* What a JSON decoder returns for bytes the project quoted like Go (jp_json_quote): valid UTF-8
 * unchanged, each byte of invalid UTF-8 as U+FFFD. Written independently of base/jsonstr.c so
 * the two can disagree. OUT: caller frees; *out_len excludes the NUL added for convenience. */
char *fuzz_go_string(const char *s, size_t n, size_t *out_len);

/* Copies n bytes into a new NUL-terminated string. OUT: caller frees. */
char *fuzz_strndup(const void *s, size_t n);

#endif
