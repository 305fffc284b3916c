/* Fuzz target for the SPDY/3 codec as the port-forward session reads a client: the input is a
 * byte stream of frames parsed in order through one inflater (so header blocks build on each
 * other as on a real connection). No input may crash or read out of bounds; every header block
 * that parses is written again through a second connection's contexts and must read back the
 * same. */
#include "fuzz_check.h"
#include "apiserver/spdy.h"

#include <string.h>

static void same_headers(const struct jp_spdy_headers *a, const struct jp_spdy_headers *b)
{
    FUZZ_CHECK(a->n == b->n, "header count %zu read back as %zu", a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct jp_spdy_header *x = &a->items[i], *y = &b->items[i];
        FUZZ_CHECK(x->name_len == y->name_len && memcmp(x->name, y->name, x->name_len) == 0,
                   "header %zu: name changed", i);
        FUZZ_CHECK(x->value_len == y->value_len && memcmp(x->value, y->value, x->value_len) == 0,
                   "header %zu: value changed", i);
    }
}

/* Writes c's headers as a frame of its type through (w, r) and checks they read back. */
static void round_trip(struct jp_spdy *w, struct jp_spdy *r, const struct jp_spdy_ctrl *c)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    int rc;
    if (c->type == JP_SPDY_SYN_STREAM)
        rc = jp_spdy_put_syn_stream(w, &b, c->stream_id, c->assoc_id, c->priority, c->flags,
                                    c->headers.items, c->headers.n);
    else if (c->type == JP_SPDY_SYN_REPLY)
        rc = jp_spdy_put_syn_reply(w, &b, c->stream_id, c->flags, c->headers.items, c->headers.n);
    else
        rc = jp_spdy_put_headers(w, &b, c->stream_id, c->flags, c->headers.items, c->headers.n);
    FUZZ_CHECK(rc == 0, "a parsed header block could not be written again");
    struct jp_spdy_head h;
    FUZZ_CHECK(jp_spdy_head_parse((const uint8_t *)b.data, b.len, &h) == JP_SPDY_HEAD_LEN,
               "written frame too short");
    FUZZ_CHECK(JP_SPDY_HEAD_LEN + h.length == b.len, "written frame length %u for %zu bytes",
               h.length, b.len);
    if (h.length > JP_SPDY_MAX_CONTROL) { /* an incompressible block may grow past the cap */
        jp_buf_free(&b);
        return;
    }
    struct jp_spdy_ctrl back;
    const char *err = NULL;
    rc = jp_spdy_ctrl_parse(r, &h, (const uint8_t *)b.data + JP_SPDY_HEAD_LEN, &back, &err);
    FUZZ_CHECK(rc == 0, "written frame does not parse: %s", err ? err : "?");
    FUZZ_CHECK(back.type == c->type && back.stream_id == c->stream_id, "frame identity changed");
    same_headers(&c->headers, &back.headers);
    jp_spdy_ctrl_clear(&back);
    jp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jp_spdy *z = jp_spdy_new(), *w = jp_spdy_new(), *r = jp_spdy_new();
    size_t off = 0;
    while (off < size) {
        struct jp_spdy_head h;
        if (jp_spdy_head_parse(data + off, size - off, &h) == 0) break;
        off += JP_SPDY_HEAD_LEN;
        size_t avail = size - off;
        if (!h.control) { /* data payloads are the session's business: skip what is there */
            off += h.length < avail ? h.length : avail;
            continue;
        }
        if (h.length > avail) break;
        struct jp_spdy_ctrl c;
        const char *err = NULL;
        int rc = jp_spdy_ctrl_parse(z, &h, data + off, &c, &err);
        off += h.length;
        if (rc < 0) {
            FUZZ_CHECK(err != NULL && *err, "a refusal without a reason");
        } else {
            FUZZ_CHECK(c.headers.n <= JP_SPDY_MAX_HEADERS, "%zu headers", c.headers.n);
            if (c.type == JP_SPDY_SYN_STREAM || c.type == JP_SPDY_SYN_REPLY ||
                c.type == JP_SPDY_HEADERS)
                round_trip(w, r, &c);
        }
        jp_spdy_ctrl_clear(&c);
    }
    jp_spdy_free(z);
    jp_spdy_free(w);
    jp_spdy_free(r);
    return 0;
}
