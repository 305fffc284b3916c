/* The SPDY/3 codec: frame heads, control payloads and zlib-compressed header blocks (see
 * spdy.h). What a client may make us allocate is capped: a control payload, an inflated block,
 * the header count. */
#include "apiserver/spdy.h"
#include "base/alloc.h"
#include "base/log.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The dictionary both zlib streams of a SPDY/3 connection start from (SPDY/3 draft, section
 * 2.6.10.1): HTTP header names and values, each name as a 4-byte big-endian length and its
 * bytes, then a run of common value fragments. */
#define W(len, word) "\0\0\0" len word
const char jp_spdy_dictionary[] = W("\x07", "options") W("\x04", "head") W("\x04", "post") W(
    "\x03", "put") W("\x06", "delete") W("\x05", "trace") W("\x06", "accept")
    W("\x0e", "accept-charset") W("\x0f", "accept-encoding") W("\x0f", "accept-language") W(
        "\x0d", "accept-ranges") W("\x03", "age") W("\x05", "allow") W("\x0d", "authorization")
        W("\x0d", "cache-control") W("\x0a", "connection") W("\x0c", "content-base") W(
            "\x10", "content-encoding") W("\x10", "content-language") W("\x0e", "content-length")
            W("\x10", "content-location") W("\x0b", "content-md5") W("\x0d", "content-range")
                W("\x0c", "content-type") W("\x04", "date") W("\x04", "etag") W("\x06", "expect") W(
                    "\x07", "expires") W("\x04", "from") W("\x04", "host") W("\x08", "if-match")
                    W("\x11", "if-modified-since") W("\x0d", "if-none-match") W("\x08", "if-range")
                        W("\x13", "if-unmodified-since") W("\x0d", "last-modified") W("\x08",
                                                                                      "location")
                            W("\x0c", "max-forwards") W("\x06", "pragma") W(
                                "\x12",
                                "proxy-authenticate") W("\x13", "proxy-authorization")
                                W("\x05", "range") W("\x07", "referer")
                                    W("\x0b", "retry-after") W("\x06", "server") W("\x02", "te")
                                        W("\x07", "trailer") W("\x11", "transfer-encoding") W(
                                            "\x07",
                                            "upgrade") W("\x0a", "user-agent")
                                            W("\x04", "vary") W("\x03", "via") W("\x07", "warning")
                                                W("\x10", "www-authenticate") W("\x06", "method") W(
                                                    "\x03", "get") W("\x06", "status")
                                                    W("\x06", "200 OK")
                                                        W("\x07", "version") W("\x08", "HTTP/1.1")
                                                            W("\x03", "url") W("\x06", "public")
                                                                W("\x0a", "set-cookie")
                                                                    W("\x0a", "keep-alive")
                                                                        W("\x06", "origin")
    /* status codes, then reason phrases */
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information"
    "204 No Content"
    "301 Moved Permanently"
    "400 Bad Request"
    "401 Unauthorized"
    "403 Forbidden"
    "404 Not Found"
    "500 Internal Server Error"
    "501 Not Implemented"
    "503 Service Unavailable"
    /* dates */
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    /* content types, cache and encoding values */
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,"
    "text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch"
    "charset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
#undef W

const size_t jp_spdy_dictionary_len = sizeof(jp_spdy_dictionary) - 1;

struct jp_spdy {
    z_stream in, out;
    bool in_broken; /* an inflate error leaves the stream unusable for good */
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int put32(struct jp_buf *out, uint32_t v)
{
    uint8_t b[4];
    set32(b, v);
    return jp_buf_append(out, b, 4);
}

/* ---- the compression contexts ---- */

struct jp_spdy *jp_spdy_new(void)
{
    struct jp_spdy *z = jp_xcalloc(1, sizeof(*z));
    /* Our side of the deflate stream uses a small window and little memory (16 KiB instead of
     * 256 KiB): header blocks are a few dozen bytes. The inflater takes what the peer chose. */
    if (inflateInit(&z->in) != Z_OK ||
        deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 11, 4, Z_DEFAULT_STRATEGY) !=
            Z_OK ||
        deflateSetDictionary(&z->out, (const Bytef *)jp_spdy_dictionary,
                             (uInt)jp_spdy_dictionary_len) != Z_OK) {
        jp_log(JP_ERROR, "apiserver", "zlib: out of memory");
        abort();
    }
    return z;
}

void jp_spdy_free(struct jp_spdy *z)
{
    if (z == NULL) return;
    inflateEnd(&z->in);
    deflateEnd(&z->out);
    free(z);
}

/* ---- reading ---- */

size_t jp_spdy_head_parse(const uint8_t *p, size_t n, struct jp_spdy_head *h)
{
    if (n < JP_SPDY_HEAD_LEN) return 0;
    uint32_t w0 = get32(p), w1 = get32(p + 4);
    memset(h, 0, sizeof(*h));
    h->control = (w0 & 0x80000000u) != 0;
    if (h->control) {
        h->version = (uint16_t)((w0 >> 16) & 0x7fff);
        h->type = (uint16_t)(w0 & 0xffff);
    } else {
        h->stream_id = w0 & JP_SPDY_MAX_STREAM_ID;
    }
    h->flags = (uint8_t)(w1 >> 24);
    h->length = w1 & JP_SPDY_MAX_LENGTH;
    return JP_SPDY_HEAD_LEN;
}

const char *jp_spdy_header_get(const struct jp_spdy_headers *h, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->n; i++) {
        if (h->items[i].name_len == n && memcmp(h->items[i].name, name, n) == 0) {
            if (len) *len = h->items[i].value_len;
            return h->items[i].value;
        }
    }
    return NULL;
}

void jp_spdy_ctrl_clear(struct jp_spdy_ctrl *c)
{
    free(c->headers.items);
    free(c->headers.block);
    c->headers.items = NULL;
    c->headers.block = NULL;
    c->headers.n = 0;
}

/* Inflates one header block (n > 0 bytes) into *out (OUT: caller frees), at most
 * JP_SPDY_MAX_BLOCK bytes. */
static int inflate_block(struct jp_spdy *z, const uint8_t *src, size_t n, char **out, size_t *len,
                         const char **err)
{
    if (z->in_broken) return *err = "header compression failed earlier", -1;
    char *buf = NULL;
    size_t cap = 0, have = 0;
    z->in.next_in = (Bytef *)src;
    z->in.avail_in = (uInt)n;
    for (;;) {
        if (have == cap) {
            if (cap == JP_SPDY_MAX_BLOCK) {
                *err = "header block too large";
                goto fail;
            }
            cap = cap ? cap * 2 : 512;
            if (cap > JP_SPDY_MAX_BLOCK) cap = JP_SPDY_MAX_BLOCK;
            buf = jp_xrealloc(buf, cap);
        }
        z->in.next_out = (Bytef *)buf + have;
        z->in.avail_out = (uInt)(cap - have);
        int rc = inflate(&z->in, Z_SYNC_FLUSH);
        have = cap - z->in.avail_out;
        if (rc == Z_NEED_DICT) {
            if (inflateSetDictionary(&z->in, (const Bytef *)jp_spdy_dictionary,
                                     (uInt)jp_spdy_dictionary_len) != Z_OK) {
                *err = "header block compressed with another dictionary";
                goto fail;
            }
            continue;
        }
        if (rc == Z_STREAM_END) {
            *err = "header compression stream ended";
            goto fail;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            *err = "header block does not inflate";
            goto fail;
        }
        /* done once all input is in and zlib had room to spare: nothing is held back */
        if (z->in.avail_in == 0 && z->in.avail_out > 0) break;
        if (rc == Z_BUF_ERROR && z->in.avail_out > 0) {
            *err = "header block does not inflate";
            goto fail;
        }
    }
    z->in.next_in = NULL;
    *out = buf;
    *len = have;
    return 0;
fail:
    z->in_broken = true;
    free(buf);
    return -1;
}

/* Splits an inflated block: a 32-bit count, then per header a 32-bit name length, the name, a
 * 32-bit value length and the value. Takes block. */
static int split_block(char *block, size_t len, struct jp_spdy_headers *h, const char **err)
{
    h->block = block;
    const uint8_t *p = (const uint8_t *)block;
    if (len < 4) return *err = "header block too short", -1;
    uint32_t n = get32(p);
    size_t off = 4;
    if (n > JP_SPDY_MAX_HEADERS) return *err = "too many headers", -1;
    if (n > (len - off) / 8) return *err = "header count exceeds the block", -1;
    h->items = jp_xcalloc(n ? n : 1, sizeof(*h->items));
    for (uint32_t i = 0; i < n; i++) {
        struct jp_spdy_header *x = &h->items[i];
        if (len - off < 4) return *err = "header block truncated", -1;
        uint32_t nl = get32(p + off);
        off += 4;
        if (nl == 0) return *err = "empty header name", -1;
        if (nl > len - off) return *err = "header name overruns the block", -1;
        x->name = block + off;
        x->name_len = nl;
        off += nl;
        if (len - off < 4) return *err = "header block truncated", -1;
        uint32_t vl = get32(p + off);
        off += 4;
        if (vl > len - off) return *err = "header value overruns the block", -1;
        x->value = block + off;
        x->value_len = vl;
        off += vl;
        h->n = i + 1;
    }
    if (off != len) return *err = "bytes after the last header", -1;
    return 0;
}

static int read_headers(struct jp_spdy *z, const uint8_t *p, size_t n, struct jp_spdy_headers *h,
                        const char **err)
{
    if (n == 0) return *err = "missing header block", -1;
    char *block;
    size_t len;
    if (inflate_block(z, p, n, &block, &len, err) < 0) return -1;
    return split_block(block, len, h, err);
}

static int stream_frame(struct jp_spdy *z, const struct jp_spdy_head *h, const uint8_t *p,
                        struct jp_spdy_ctrl *c, const char **err)
{
    size_t fixed = h->type == JP_SPDY_SYN_STREAM ? 10 : 4;
    if (h->length < fixed) return *err = "control frame too short", -1;
    c->stream_id = get32(p) & JP_SPDY_MAX_STREAM_ID;
    if (h->type == JP_SPDY_SYN_STREAM) {
        c->assoc_id = get32(p + 4) & JP_SPDY_MAX_STREAM_ID;
        c->priority = p[8] >> 5;
    }
    /* inflate before judging the id: the block must pass through the shared stream either way */
    if (read_headers(z, p + fixed, h->length - fixed, &c->headers, err) < 0) return -1;
    if (c->stream_id == 0) return *err = "stream id 0", -1;
    return 0;
}

int jp_spdy_ctrl_parse(struct jp_spdy *z, const struct jp_spdy_head *h, const uint8_t *p,
                       struct jp_spdy_ctrl *c, const char **err)
{
    memset(c, 0, sizeof(*c));
    c->type = h->type;
    c->flags = h->flags;
    if (!h->control) return *err = "not a control frame", -1;
    if (h->version != JP_SPDY_VERSION) return *err = "unsupported SPDY version", -1;
    if (h->length > JP_SPDY_MAX_CONTROL) return *err = "control frame too large", -1;
    switch (h->type) {
    case JP_SPDY_SYN_STREAM:
    case JP_SPDY_SYN_REPLY:
    case JP_SPDY_HEADERS:
        return stream_frame(z, h, p, c, err);
    case JP_SPDY_RST_STREAM:
        if (h->length != 8) return *err = "RST_STREAM of the wrong length", -1;
        c->stream_id = get32(p) & JP_SPDY_MAX_STREAM_ID;
        c->status = get32(p + 4);
        if (c->stream_id == 0 || c->status == 0) return *err = "invalid RST_STREAM", -1;
        return 0;
    case JP_SPDY_SETTINGS:
        if (h->length < 4) return *err = "SETTINGS too short", -1;
        c->nsettings = get32(p);
        if (c->nsettings > (h->length - 4) / 8 || h->length != 4 + 8 * c->nsettings)
            return *err = "SETTINGS count does not match its length", -1;
        return 0;
    case JP_SPDY_PING:
        if (h->length != 4) return *err = "PING of the wrong length", -1;
        c->ping_id = get32(p);
        return 0;
    case JP_SPDY_GOAWAY:
        if (h->length != 8) return *err = "GOAWAY of the wrong length", -1;
        c->last_good = get32(p) & JP_SPDY_MAX_STREAM_ID;
        c->status = get32(p + 4);
        return 0;
    case JP_SPDY_WINDOW_UPDATE:
        if (h->length != 8) return *err = "WINDOW_UPDATE of the wrong length", -1;
        c->stream_id = get32(p) & JP_SPDY_MAX_STREAM_ID;
        c->delta = get32(p + 4) & 0x7fffffffu;
        return 0;
    default:
        return 0; /* SPDY/3: unknown control frames are ignored */
    }
}

/* ---- writing ---- */

static int ctrl_head(struct jp_buf *out, uint16_t type, uint8_t flags, size_t len)
{
    if (len > JP_SPDY_MAX_LENGTH) return -1;
    uint8_t b[JP_SPDY_HEAD_LEN] = {0x80, JP_SPDY_VERSION, (uint8_t)(type >> 8), (uint8_t)type,
                                   flags};
    b[5] = (uint8_t)(len >> 16);
    b[6] = (uint8_t)(len >> 8);
    b[7] = (uint8_t)len;
    return jp_buf_append(out, b, sizeof(b));
}

void jp_spdy_data_head(uint8_t out[JP_SPDY_HEAD_LEN], uint32_t stream_id, uint8_t flags,
                       uint32_t len)
{
    set32(out, stream_id & JP_SPDY_MAX_STREAM_ID);
    set32(out + 4, (uint32_t)flags << 24 | (len & JP_SPDY_MAX_LENGTH));
}

int jp_spdy_put_data(struct jp_buf *out, uint32_t stream_id, uint8_t flags, const void *data,
                     size_t n)
{
    if (stream_id == 0 || stream_id > JP_SPDY_MAX_STREAM_ID || n > JP_SPDY_MAX_LENGTH) return -1;
    uint8_t h[JP_SPDY_HEAD_LEN];
    jp_spdy_data_head(h, stream_id, flags, (uint32_t)n);
    if (jp_buf_append(out, h, sizeof(h)) < 0) return -1;
    return n ? jp_buf_append(out, data, n) : 0;
}

/* Compresses a header block into *zb (unbounded: the input is capped). Once deflate has run the
 * peer's inflater expects these bytes: a frame that is then not sent ends the connection. */
static int deflate_block(struct jp_spdy *z, const struct jp_spdy_header *hs, size_t n,
                         struct jp_buf *zb)
{
    _cleanup_buf_ struct jp_buf raw;
    jp_buf_init(&raw, JP_SPDY_MAX_BLOCK);
    if (n > JP_SPDY_MAX_HEADERS || put32(&raw, (uint32_t)n) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (hs[i].name_len == 0 || hs[i].name_len > UINT32_MAX || hs[i].value_len > UINT32_MAX ||
            put32(&raw, (uint32_t)hs[i].name_len) < 0 ||
            jp_buf_append(&raw, hs[i].name, hs[i].name_len) < 0 ||
            put32(&raw, (uint32_t)hs[i].value_len) < 0 ||
            jp_buf_append(&raw, hs[i].value, hs[i].value_len) < 0)
            return -1;
    }
    z->out.next_in = (Bytef *)raw.data;
    z->out.avail_in = (uInt)raw.len;
    do {
        uint8_t chunk[1024];
        z->out.next_out = chunk;
        z->out.avail_out = sizeof(chunk);
        if (deflate(&z->out, Z_SYNC_FLUSH) == Z_STREAM_ERROR) return -1;
        jp_buf_append(zb, chunk, sizeof(chunk) - z->out.avail_out);
    } while (z->out.avail_out == 0);
    z->out.next_in = NULL;
    return 0;
}

static int put_block_frame(struct jp_spdy *z, struct jp_buf *out, uint16_t type, uint8_t flags,
                           const uint8_t *fixed, size_t nfixed, const struct jp_spdy_header *hs,
                           size_t n)
{
    _cleanup_buf_ struct jp_buf zb;
    jp_buf_init(&zb, SIZE_MAX);
    if (deflate_block(z, hs, n, &zb) < 0) return -1;
    if (ctrl_head(out, type, flags, nfixed + zb.len) < 0 || jp_buf_append(out, fixed, nfixed) < 0 ||
        jp_buf_append(out, zb.data, zb.len) < 0)
        return -1;
    return 0;
}

int jp_spdy_put_syn_stream(struct jp_spdy *z, struct jp_buf *out, uint32_t stream_id,
                           uint32_t assoc_id, uint8_t priority, uint8_t flags,
                           const struct jp_spdy_header *hs, size_t n)
{
    if (stream_id == 0 || stream_id > JP_SPDY_MAX_STREAM_ID || assoc_id > JP_SPDY_MAX_STREAM_ID)
        return -1;
    uint8_t fixed[10] = {0};
    set32(fixed, stream_id);
    set32(fixed + 4, assoc_id);
    fixed[8] = (uint8_t)((priority & 7) << 5);
    return put_block_frame(z, out, JP_SPDY_SYN_STREAM, flags, fixed, sizeof(fixed), hs, n);
}

int jp_spdy_put_syn_reply(struct jp_spdy *z, struct jp_buf *out, uint32_t stream_id, uint8_t flags,
                          const struct jp_spdy_header *hs, size_t n)
{
    if (stream_id == 0 || stream_id > JP_SPDY_MAX_STREAM_ID) return -1;
    uint8_t fixed[4];
    set32(fixed, stream_id);
    return put_block_frame(z, out, JP_SPDY_SYN_REPLY, flags, fixed, sizeof(fixed), hs, n);
}

int jp_spdy_put_headers(struct jp_spdy *z, struct jp_buf *out, uint32_t stream_id, uint8_t flags,
                        const struct jp_spdy_header *hs, size_t n)
{
    if (stream_id == 0 || stream_id > JP_SPDY_MAX_STREAM_ID) return -1;
    uint8_t fixed[4];
    set32(fixed, stream_id);
    return put_block_frame(z, out, JP_SPDY_HEADERS, flags, fixed, sizeof(fixed), hs, n);
}

static int put_two(struct jp_buf *out, uint16_t type, uint32_t a, uint32_t b)
{
    if (ctrl_head(out, type, 0, 8) < 0 || put32(out, a) < 0 || put32(out, b) < 0) return -1;
    return 0;
}

int jp_spdy_put_rst(struct jp_buf *out, uint32_t stream_id, uint32_t status)
{
    if (stream_id == 0 || stream_id > JP_SPDY_MAX_STREAM_ID || status == 0) return -1;
    return put_two(out, JP_SPDY_RST_STREAM, stream_id, status);
}

int jp_spdy_put_settings(struct jp_buf *out, const uint32_t (*id_values)[2], size_t n)
{
    if (n > (JP_SPDY_MAX_LENGTH - 4) / 8) return -1;
    if (ctrl_head(out, JP_SPDY_SETTINGS, 0, 4 + 8 * n) < 0 || put32(out, (uint32_t)n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (put32(out, id_values[i][0]) < 0 || put32(out, id_values[i][1]) < 0) return -1;
    return 0;
}

int jp_spdy_put_ping(struct jp_buf *out, uint32_t id)
{
    if (ctrl_head(out, JP_SPDY_PING, 0, 4) < 0 || put32(out, id) < 0) return -1;
    return 0;
}

int jp_spdy_put_goaway(struct jp_buf *out, uint32_t last_good, uint32_t status)
{
    if (last_good > JP_SPDY_MAX_STREAM_ID) return -1;
    return put_two(out, JP_SPDY_GOAWAY, last_good, status);
}

int jp_spdy_put_window_update(struct jp_buf *out, uint32_t stream_id, uint32_t delta)
{
    if (stream_id > JP_SPDY_MAX_STREAM_ID || delta == 0 || delta > 0x7fffffffu) return -1;
    return put_two(out, JP_SPDY_WINDOW_UPDATE, stream_id, delta);
}
