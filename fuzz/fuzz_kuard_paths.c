/* Fuzz target for the text kuard's HTTP front decodes before routing: kuard_unescape_path on the
 * input as a URL path, and kuard_split_address on it as a listen address. Input: the text (up to
 * its first NUL, as both functions see C strings). */
#include "fuzz_check.h"
#include "base/err.h"
#include "kuard/server.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reference decoder: %XX with two hex digits, anything else as is; a truncated escape or %00 is
 * an error (an encoded NUL would cut the path short in every C string that follows). */
static int unescape_ref(const char *in, char *out)
{
    size_t o = 0;
    for (size_t i = 0; in[i]; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        int hi = hexval(in[i + 1]);
        int lo = hi < 0 ? -1 : hexval(in[i + 2]);
        if (lo < 0 || hi * 16 + lo == 0) return -1;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return 0;
}

static void check_unescape(const char *text)
{
    size_t n = strlen(text);
    char *got = fuzz_strndup(text, n), *want = fuzz_strndup(text, n);
    int rc = kuard_unescape_path(got), want_rc = unescape_ref(text, want);
    FUZZ_CHECK(rc == want_rc, "unescape \"%s\": rc %d, want %d", text, rc, want_rc);
    FUZZ_CHECK(rc < 0 || strcmp(got, want) == 0, "unescape \"%s\": \"%s\", want \"%s\"", text, got,
               want);
    free(got);
    free(want);
}

static void check_error(const struct jp_err *err, const char *address)
{
    FUZZ_CHECK(err != NULL && err->msg != NULL && err->msg[0] != '\0',
               "split \"%s\" failed without an error", address);
    FUZZ_CHECK(strpbrk(err->msg, "\r\n") == NULL, "error message is not one line: %s", err->msg);
}

/* On success the host comes back verbatim or unbracketed, the port is the decimal text after the
 * last colon, and "[host]:port" splits back into the same pair. */
static void check_split(const char *address)
{
    char *host = NULL;
    uint16_t port = 0;
    struct jp_err *err = NULL;
    if (kuard_split_address(address, &host, &port, &err) < 0) {
        check_error(err, address);
        FUZZ_CHECK(host == NULL, "split \"%s\" failed but returned a host", address);
        jp_err_free(err);
        return;
    }
    FUZZ_CHECK(err == NULL && host != NULL, "split \"%s\": error set on success", address);
    const char *colon = strrchr(address, ':');
    FUZZ_CHECK(colon != NULL && strtol(colon + 1, NULL, 10) == port,
               "split \"%s\": port %u does not match its text", address, port);
    size_t hlen = strlen(host), alen = (size_t)(colon - address);
    bool bare = hlen == alen && memcmp(host, address, hlen) == 0;
    bool bracketed = hlen + 2 == alen && address[0] == '[' && memcmp(host, address + 1, hlen) == 0;
    FUZZ_CHECK(bare || bracketed, "split \"%s\": host \"%s\"", address, host);
    FUZZ_CHECK(bracketed || strchr(host, ':') == NULL, "split \"%s\": bare host with a colon",
               address);

    size_t n = hlen + 16;
    char *again = malloc(n);
    FUZZ_CHECK(again != NULL, "out of memory");
    snprintf(again, n, "[%s]:%u", host, port);
    char *host2 = NULL;
    uint16_t port2 = 0;
    FUZZ_CHECK(kuard_split_address(again, &host2, &port2, NULL) == 0 && strcmp(host2, host) == 0 &&
                   port2 == port,
               "\"%s\" from \"%s\" does not split back", again, address);
    free(host2);
    free(again);
    free(host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    check_unescape(text);
    check_split(text);
    free(text);
    return 0;
}
