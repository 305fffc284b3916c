/* The SPDY/3 codec: frames written by one side's contexts read back by the other's, header
 * blocks across several frames of one zlib stream, a SYN_STREAM as kubectl sends it, and bad
 * input - truncated, garbage, oversized, a zlib bomb - refused without a crash. */
#include "support/cm.h"
#include "apiserver/spdy.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define H(n, v)                                                                                    \
    {                                                                                              \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                                         \
    }

static const struct jp_spdy_header fwd_headers[] = {
    H("streamtype", "error"),
    H("port", "8080"),
    H("requestid", "0"),
};

/* One end of a connection: frames it writes are read by the other end's contexts. */
struct ends {
    struct jp_spdy *client, *server;
};

static int setup(void **state)
{
    struct ends *e = calloc(1, sizeof(*e));
    e->client = jp_spdy_new();
    e->server = jp_spdy_new();
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct ends *e = *state;
    jp_spdy_free(e->client);
    jp_spdy_free(e->server);
    free(e);
    return 0;
}

/* Parses the one frame at the start of b: returns its total length, or -1. */
static int parse(struct jp_spdy *z, const struct jp_buf *b, struct jp_spdy_ctrl *c,
                 const char **err)
{
    struct jp_spdy_head h;
    assert_int_equal(jp_spdy_head_parse((const uint8_t *)b->data, b->len, &h), JP_SPDY_HEAD_LEN);
    assert_true(h.control);
    assert_true(b->len >= JP_SPDY_HEAD_LEN + h.length);
    *err = NULL;
    int rc = jp_spdy_ctrl_parse(z, &h, (const uint8_t *)b->data + JP_SPDY_HEAD_LEN, c, err);
    if (rc < 0) {
        assert_non_null(*err);
        return -1;
    }
    return (int)(JP_SPDY_HEAD_LEN + h.length);
}

static void expect_header(const struct jp_spdy_ctrl *c, const char *name, const char *value)
{
    size_t len = 0;
    const char *v = jp_spdy_header_get(&c->headers, name, &len);
    assert_non_null(v);
    assert_int_equal(len, strlen(value));
    assert_memory_equal(v, value, len);
}

static void dictionary(void **state)
{
    (void)state;
    /* the id every SPDY/3 peer puts in its zlib header (Go's and Chromium's alike) */
    assert_int_equal(jp_spdy_dictionary_len, 1423);
    assert_int_equal(adler32(1, (const Bytef *)jp_spdy_dictionary, 1423), 0xe3c6a7c2);
}

static void heads(void **state)
{
    (void)state;
    struct jp_spdy_head h;
    const uint8_t ctrl[] = {0x80, 0x03, 0x00, 0x01, 0x01, 0x00, 0x01, 0x02};
    assert_int_equal(jp_spdy_head_parse(ctrl, 7, &h), 0);
    assert_int_equal(jp_spdy_head_parse(ctrl, 8, &h), 8);
    assert_true(h.control);
    assert_int_equal(h.version, 3);
    assert_int_equal(h.type, JP_SPDY_SYN_STREAM);
    assert_int_equal(h.flags, JP_SPDY_FLAG_FIN);
    assert_int_equal(h.length, 0x102);
    const uint8_t data[] = {0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff};
    assert_int_equal(jp_spdy_head_parse(data, 8, &h), 8);
    assert_true(h.control); /* the top bit decides */
    const uint8_t d2[] = {0x7f, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff};
    assert_int_equal(jp_spdy_head_parse(d2, 8, &h), 8);
    assert_false(h.control);
    assert_int_equal(h.stream_id, 0x7fffffff);
    assert_int_equal(h.flags, JP_SPDY_FLAG_FIN);
    assert_int_equal(h.length, 0xffffff);
}

static void syn_stream_round_trip(void **state)
{
    struct ends *e = *state;
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(
        jp_spdy_put_syn_stream(e->client, &b, 5, 3, 7, JP_SPDY_FLAG_FIN, fwd_headers, 3), 0);
    struct jp_spdy_ctrl c;
    const char *err;
    assert_int_equal(parse(e->server, &b, &c, &err), (int)b.len);
    assert_int_equal(c.type, JP_SPDY_SYN_STREAM);
    assert_int_equal(c.stream_id, 5);
    assert_int_equal(c.assoc_id, 3);
    assert_int_equal(c.priority, 7);
    assert_int_equal(c.flags, JP_SPDY_FLAG_FIN);
    assert_int_equal(c.headers.n, 3);
    expect_header(&c, "streamtype", "error");
    expect_header(&c, "port", "8080");
    expect_header(&c, "requestid", "0");
    assert_null(jp_spdy_header_get(&c.headers, "Port", NULL));
    jp_spdy_ctrl_clear(&c);
    jp_buf_free(&b);
}

/* Both directions stay in step over many blocks, and later blocks reuse the earlier ones. */
static void one_zlib_stream_per_direction(void **state)
{
    struct ends *e = *state;
    size_t first = 0, last = 0;
    for (uint32_t id = 1; id < 200; id += 2) {
        char rid[16];
        snprintf(rid, sizeof(rid), "%u", id / 4);
        struct jp_spdy_header hs[] = {
            H("streamtype", "data"),
            H("port", "8080"),
            {"requestid", 9, rid, strlen(rid)},
        };
        struct jp_buf b;
        jp_buf_init(&b, SIZE_MAX);
        assert_int_equal(jp_spdy_put_syn_stream(e->client, &b, id, 0, 0, 0, hs, 3), 0);
        if (id == 1) first = b.len;
        last = b.len;
        struct jp_spdy_ctrl c;
        const char *err;
        assert_int_equal(parse(e->server, &b, &c, &err), (int)b.len);
        expect_header(&c, "requestid", rid);
        jp_spdy_ctrl_clear(&c);
        jp_buf_reset(&b);
        /* and the reply the other way, through the other pair of contexts */
        assert_int_equal(jp_spdy_put_syn_reply(e->server, &b, id, 0, NULL, 0), 0);
        assert_int_equal(parse(e->client, &b, &c, &err), (int)b.len);
        assert_int_equal(c.type, JP_SPDY_SYN_REPLY);
        assert_int_equal(c.stream_id, id);
        assert_int_equal(c.headers.n, 0);
        jp_spdy_ctrl_clear(&c);
        jp_buf_free(&b);
    }
    assert_true(last < first);
}

static void multi_valued_headers(void **state)
{
    struct ends *e = *state;
    static const char two[] = "a\0b";
    struct jp_spdy_header hs[] = {{"x", 1, two, 3}, H("empty", "")};
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_spdy_put_headers(e->client, &b, 9, 0, hs, 2), 0);
    struct jp_spdy_ctrl c;
    const char *err;
    assert_int_equal(parse(e->server, &b, &c, &err), (int)b.len);
    assert_int_equal(c.type, JP_SPDY_HEADERS);
    size_t len;
    const char *v = jp_spdy_header_get(&c.headers, "x", &len);
    assert_int_equal(len, 3);
    assert_memory_equal(v, two, 3);
    expect_header(&c, "empty", "");
    jp_spdy_ctrl_clear(&c);
    jp_buf_free(&b);
}

/* A SYN_STREAM kubectl 1.33 sent (its first frame of a port-forward connection): Go's
 * compress/zlib at BestCompression with the dictionary. */
static const uint8_t kubectl_syn[] = {
    0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x02, 0x25, 0x3a, 0x48,
    0xf9, 0x5b, 0x04, 0x4e, 0xea, 0x16, 0x06, 0x16, 0x06, 0x0c, 0x0c, 0x0c, 0x9c, 0x45,
    0x90, 0xf8, 0xca, 0x04, 0xa5, 0x63, 0x46, 0x03, 0x70, 0x4a, 0x2c, 0x29, 0x4a, 0x4d,
    0xcc, 0x85, 0x16, 0x36, 0xac, 0xa9, 0xa0, 0xa8, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff};

static void kubectl_frame(void **state)
{
    struct ends *e = *state;
    struct jp_spdy_head h;
    assert_int_equal(jp_spdy_head_parse(kubectl_syn, sizeof(kubectl_syn), &h), 8);
    assert_int_equal(JP_SPDY_HEAD_LEN + h.length, sizeof(kubectl_syn));
    struct jp_spdy_ctrl c;
    const char *err = NULL;
    assert_int_equal(jp_spdy_ctrl_parse(e->server, &h, kubectl_syn + 8, &c, &err), 0);
    assert_int_equal(c.type, JP_SPDY_SYN_STREAM);
    assert_int_equal(c.stream_id, 1);
    expect_header(&c, "streamtype", "error");
    expect_header(&c, "port", "8080");
    expect_header(&c, "requestid", "0");
    jp_spdy_ctrl_clear(&c);
}

static void small_frames(void **state)
{
    struct ends *e = *state;
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    struct jp_spdy_ctrl c;
    const char *err;
    const uint32_t settings[2][2] = {{(1u << 24) | 7, 65536}, {4, 100}};

    assert_int_equal(jp_spdy_put_rst(&b, 7, JP_SPDY_CANCEL), 0);
    assert_int_equal(jp_spdy_put_ping(&b, 3), 0);
    assert_int_equal(jp_spdy_put_goaway(&b, 41, JP_SPDY_GOAWAY_PROTOCOL_ERROR), 0);
    assert_int_equal(jp_spdy_put_window_update(&b, 5, 1000), 0);
    assert_int_equal(jp_spdy_put_settings(&b, settings, 2), 0);
    struct jp_buf rest = b;
    rest.data = b.data;
    int n = parse(e->server, &rest, &c, &err);
    assert_int_equal(n, 16);
    assert_int_equal(c.type, JP_SPDY_RST_STREAM);
    assert_int_equal(c.stream_id, 7);
    assert_int_equal(c.status, JP_SPDY_CANCEL);
    rest.data += n, rest.len -= (size_t)n;
    assert_int_equal(n = parse(e->server, &rest, &c, &err), 12);
    assert_int_equal(c.type, JP_SPDY_PING);
    assert_int_equal(c.ping_id, 3);
    rest.data += n, rest.len -= (size_t)n;
    assert_int_equal(n = parse(e->server, &rest, &c, &err), 16);
    assert_int_equal(c.type, JP_SPDY_GOAWAY);
    assert_int_equal(c.last_good, 41);
    assert_int_equal(c.status, JP_SPDY_GOAWAY_PROTOCOL_ERROR);
    rest.data += n, rest.len -= (size_t)n;
    assert_int_equal(n = parse(e->server, &rest, &c, &err), 16);
    assert_int_equal(c.type, JP_SPDY_WINDOW_UPDATE);
    assert_int_equal(c.stream_id, 5);
    assert_int_equal(c.delta, 1000);
    rest.data += n, rest.len -= (size_t)n;
    assert_int_equal(n = parse(e->server, &rest, &c, &err), 28);
    assert_int_equal(c.type, JP_SPDY_SETTINGS);
    assert_int_equal(c.nsettings, 2);
    assert_int_equal(rest.len, (size_t)n);
    jp_buf_free(&b);
}

static void data_frames(void **state)
{
    (void)state;
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_spdy_put_data(&b, 3, 0, "hello", 5), 0);
    assert_int_equal(jp_spdy_put_data(&b, 3, JP_SPDY_FLAG_FIN, NULL, 0), 0);
    struct jp_spdy_head h;
    assert_int_equal(jp_spdy_head_parse((const uint8_t *)b.data, b.len, &h), 8);
    assert_false(h.control);
    assert_int_equal(h.stream_id, 3);
    assert_int_equal(h.flags, 0);
    assert_int_equal(h.length, 5);
    assert_memory_equal(b.data + 8, "hello", 5);
    assert_int_equal(jp_spdy_head_parse((const uint8_t *)b.data + 13, b.len - 13, &h), 8);
    assert_int_equal(h.flags, JP_SPDY_FLAG_FIN);
    assert_int_equal(h.length, 0);
    assert_int_equal(b.len, 21);
    jp_buf_free(&b);
}

static void serializer_refusals(void **state)
{
    struct ends *e = *state;
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_spdy_put_data(&b, 0, 0, "x", 1), -1);
    assert_int_equal(jp_spdy_put_data(&b, 0x80000000u, 0, "x", 1), -1);
    assert_int_equal(jp_spdy_put_data(&b, 1, 0, NULL, JP_SPDY_MAX_LENGTH + 1), -1);
    assert_int_equal(jp_spdy_put_syn_reply(e->server, &b, 0, 0, NULL, 0), -1);
    assert_int_equal(jp_spdy_put_rst(&b, 1, 0), -1);
    assert_int_equal(jp_spdy_put_window_update(&b, 1, 0), -1);
    struct jp_spdy_header unnamed = {"", 0, "v", 1};
    assert_int_equal(jp_spdy_put_syn_stream(e->client, &b, 1, 0, 0, 0, &unnamed, 1), -1);
    assert_int_equal(b.len, 0);
    /* a capped buffer refuses the frame */
    struct jp_buf small;
    jp_buf_init(&small, 4);
    assert_int_equal(jp_spdy_put_ping(&small, 1), -1);
    jp_buf_free(&small);
    jp_buf_free(&b);
}

/* A frame around a raw (uncompressed) header block, compressed by a fresh zlib stream. */
static size_t raw_syn(const uint8_t *raw, size_t n, uint8_t *out, size_t cap)
{
    z_stream zs = {0};
    assert_int_equal(deflateInit(&zs, Z_BEST_COMPRESSION), Z_OK);
    assert_int_equal(
        deflateSetDictionary(&zs, (const Bytef *)jp_spdy_dictionary, jp_spdy_dictionary_len), Z_OK);
    zs.next_in = (Bytef *)raw;
    zs.avail_in = (uInt)n;
    zs.next_out = out + 18;
    zs.avail_out = (uInt)(cap - 18);
    assert_int_equal(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
    assert_int_equal(zs.avail_in, 0);
    size_t zlen = cap - 18 - zs.avail_out;
    deflateEnd(&zs);
    uint32_t len = (uint32_t)(10 + zlen);
    const uint8_t head[18] = {0x80,         3, 0, 1, 0, (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                              (uint8_t)len, 0, 0, 0, 1};
    memcpy(out, head, sizeof(head));
    return 18 + zlen;
}

static void expect_refused(const uint8_t *frame, size_t n, const char *why)
{
    struct jp_spdy *z = jp_spdy_new();
    struct jp_spdy_head h;
    assert_int_equal(jp_spdy_head_parse(frame, n, &h), 8);
    struct jp_spdy_ctrl c;
    const char *err = NULL;
    assert_int_equal(jp_spdy_ctrl_parse(z, &h, frame + 8, &c, &err), -1);
    assert_non_null(err);
    if (why) assert_string_equal(err, why);
    jp_spdy_ctrl_clear(&c);
    jp_spdy_free(z);
}

static void bad_header_blocks(void **state)
{
    (void)state;
    static uint8_t frame[1 << 16];
    /* a zlib bomb: 1 MiB of one byte inflates past the cap */
    uint8_t *big = calloc(1, 1 << 20);
    assert_int_equal(raw_syn(big, 1 << 20, frame, sizeof(frame)) < sizeof(frame), 1);
    expect_refused(frame, raw_syn(big, 1 << 20, frame, sizeof(frame)), "header block too large");
    free(big);
    /* a count the block can't hold, or over the cap */
    const uint8_t count_big[] = {0, 0, 0, 9, 0, 0, 0, 1, 'a', 0, 0, 0, 0};
    expect_refused(frame, raw_syn(count_big, sizeof(count_big), frame, sizeof(frame)),
                   "header count exceeds the block");
    uint8_t many[4 + 8 * 65] = {0, 0, 0, 65};
    expect_refused(frame, raw_syn(many, sizeof(many), frame, sizeof(frame)), "too many headers");
    const uint8_t empty_name[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'v'};
    expect_refused(frame, raw_syn(empty_name, sizeof(empty_name), frame, sizeof(frame)),
                   "empty header name");
    const uint8_t overrun[] = {0, 0, 0, 1, 0, 0, 0, 1, 'n', 0, 0, 0x10, 0, 'v'};
    expect_refused(frame, raw_syn(overrun, sizeof(overrun), frame, sizeof(frame)),
                   "header value overruns the block");
    const uint8_t trailing[] = {0, 0, 0, 0, 'x'};
    expect_refused(frame, raw_syn(trailing, sizeof(trailing), frame, sizeof(frame)),
                   "bytes after the last header");
    const uint8_t short_block[] = {0, 0};
    expect_refused(frame, raw_syn(short_block, sizeof(short_block), frame, sizeof(frame)),
                   "header block too short");
    /* not zlib at all, and no block */
    const uint8_t garbage[] = {0x80, 3, 0, 1, 0, 0, 0, 14,   0,    0,    0,
                               1,    0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
    expect_refused(garbage, sizeof(garbage), "header block does not inflate");
    const uint8_t none[] = {0x80, 3, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1};
    expect_refused(none, sizeof(none), "missing header block");
}

static void bad_control_frames(void **state)
{
    (void)state;
    const uint8_t rst_len[] = {0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1};
    expect_refused(rst_len, sizeof(rst_len), "RST_STREAM of the wrong length");
    const uint8_t rst_zero[] = {0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5};
    expect_refused(rst_zero, sizeof(rst_zero), "invalid RST_STREAM");
    const uint8_t ping_len[] = {0x80, 3, 0, 6, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 1};
    expect_refused(ping_len, sizeof(ping_len), "PING of the wrong length");
    const uint8_t settings[] = {0x80, 3, 0, 4, 0, 0, 0, 12, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1};
    expect_refused(settings, sizeof(settings), "SETTINGS count does not match its length");
    const uint8_t huge_count[] = {0x80, 3, 0, 4, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff};
    expect_refused(huge_count, sizeof(huge_count), "SETTINGS count does not match its length");
    const uint8_t v2[] = {0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1};
    expect_refused(v2, sizeof(v2), "unsupported SPDY version");
    const uint8_t syn_short[] = {0x80, 3, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1};
    expect_refused(syn_short, sizeof(syn_short), "control frame too short");
    uint8_t too_big[8] = {0x80, 3, 0, 6, 0, 0x01, 0x00, 0x01};
    expect_refused(too_big, sizeof(too_big), "control frame too large");
    /* an unknown type is ignored, not refused */
    struct jp_spdy *z = jp_spdy_new();
    const uint8_t unknown[] = {0x80, 3, 0, 10, 0, 0, 0, 2, 'h', 'i'};
    struct jp_spdy_head h;
    jp_spdy_head_parse(unknown, sizeof(unknown), &h);
    struct jp_spdy_ctrl c;
    const char *err = NULL;
    assert_int_equal(jp_spdy_ctrl_parse(z, &h, unknown + 8, &c, &err), 0);
    assert_int_equal(c.type, 10);
    jp_spdy_ctrl_clear(&c);
    jp_spdy_free(z);
}

/* Every prefix of a valid frame's payload is refused or yields exactly the whole header block
 * (the bytes that end a sync flush carry no data); garbage leaves the inflater refusing. */
static void truncated_and_garbage(void **state)
{
    struct ends *e = *state;
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    assert_int_equal(jp_spdy_put_syn_stream(e->client, &b, 1, 0, 0, 0, fwd_headers, 3), 0);
    for (size_t cut = 0; cut < b.len - JP_SPDY_HEAD_LEN; cut++) {
        struct jp_spdy *z = jp_spdy_new();
        struct jp_spdy_head h;
        jp_spdy_head_parse((const uint8_t *)b.data, b.len, &h);
        h.length = (uint32_t)cut;
        struct jp_spdy_ctrl c;
        const char *err = NULL;
        int rc = jp_spdy_ctrl_parse(z, &h, (const uint8_t *)b.data + 8, &c, &err);
        if (rc == 0) {
            assert_int_equal(c.headers.n, 3);
            expect_header(&c, "requestid", "0");
        } else {
            assert_non_null(err);
        }
        jp_spdy_ctrl_clear(&c);
        jp_spdy_free(z);
    }
    /* after garbage the stream is out of step for good, even for a valid frame */
    struct jp_spdy *z = jp_spdy_new();
    uint8_t junk[40];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    struct jp_spdy_head h = {.control = true, .version = 3, .type = JP_SPDY_HEADERS, .length = 40};
    junk[0] = 0, junk[1] = 0, junk[2] = 0, junk[3] = 1;
    struct jp_spdy_ctrl c;
    const char *err = NULL;
    assert_int_equal(jp_spdy_ctrl_parse(z, &h, junk, &c, &err), -1);
    jp_spdy_ctrl_clear(&c);
    jp_spdy_head_parse((const uint8_t *)b.data, b.len, &h);
    assert_int_equal(jp_spdy_ctrl_parse(z, &h, (const uint8_t *)b.data + 8, &c, &err), -1);
    assert_string_equal(err, "header compression failed earlier");
    jp_spdy_ctrl_clear(&c);
    jp_spdy_free(z);
    jp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dictionary),
        cmocka_unit_test(heads),
        cmocka_unit_test_setup_teardown(syn_stream_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(one_zlib_stream_per_direction, setup, teardown),
        cmocka_unit_test_setup_teardown(multi_valued_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(kubectl_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(small_frames, setup, teardown),
        cmocka_unit_test(data_frames),
        cmocka_unit_test_setup_teardown(serializer_refusals, setup, teardown),
        cmocka_unit_test(bad_header_blocks),
        cmocka_unit_test(bad_control_frames),
        cmocka_unit_test_setup_teardown(truncated_and_garbage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
