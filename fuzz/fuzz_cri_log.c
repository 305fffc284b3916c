/* Fuzz target for the CRI log reader behind pods/log: any bytes (a torn or tampered log file)
 * must render without a crash; the output never holds more text than the input; rendering in
 * two pieces (as a follower reads) gives the same output as one pass; tail never grows it. */
#include "fuzz_check.h"
#include "agent/cri.h"

#include <string.h>

static void render(const struct jp_log_opts *o, const char *d, size_t n, struct jp_buf *out,
                   size_t split)
{
    struct jp_cri_render r = {o, false};
    struct jp_buf pending;
    jp_buf_init(&pending, SIZE_MAX);
    jp_buf_append(&pending, d, split);
    size_t used = jp_cri_render(&r, pending.data ? pending.data : "", pending.len, out);
    struct jp_buf rest;
    jp_buf_init(&rest, SIZE_MAX);
    jp_buf_append(&rest, pending.data + used, pending.len - used);
    jp_buf_append(&rest, d + split, n - split);
    jp_cri_render(&r, rest.data ? rest.data : "", rest.len, out);
    jp_buf_free(&rest);
    jp_buf_free(&pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    struct jp_log_opts o = {.timestamps = data[0] & 1, .tail_lines = -1};
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    struct jp_buf whole, parts;
    jp_buf_init(&whole, SIZE_MAX);
    jp_buf_init(&parts, SIZE_MAX);
    render(&o, d, n, &whole, 0);
    render(&o, d, n, &parts, n / 2);
    FUZZ_CHECK(whole.len <= n + n / 2 + 1, "output %zu bytes from %zu", whole.len, n);
    FUZZ_CHECK(whole.len == parts.len &&
                   (whole.len == 0 || memcmp(whole.data, parts.data, whole.len) == 0),
               "split rendering differs (%zu vs %zu bytes)", whole.len, parts.len);
    size_t before = whole.len;
    jp_cri_tail(&whole, data[0] >> 1);
    FUZZ_CHECK(whole.len <= before, "tail grew the text");
    jp_buf_free(&whole);
    jp_buf_free(&parts);
    return 0;
}
