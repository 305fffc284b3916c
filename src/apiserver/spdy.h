/* SPDY/3 framing as kubectl's port-forward speaks it (client-go over moby/spdystream): frame
 * headers, control frame payloads, and header blocks compressed with one zlib stream per
 * direction and the protocol's dictionary. A pure codec: bytes in, structs out, no I/O, so it can
 * be unit-tested and fuzzed. Every length read from the peer is bounds-checked and capped. */
#ifndef JP_APISERVER_SPDY_H
#define JP_APISERVER_SPDY_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JP_SPDY_VERSION       3
#define JP_SPDY_HEAD_LEN      8
#define JP_SPDY_MAX_LENGTH    0xffffffu /* 24-bit frame length */
#define JP_SPDY_MAX_STREAM_ID 0x7fffffffu
/* Caps on what a peer can make us hold: a control frame's payload, a header block once inflated
 * (a few hundred bytes in practice; the cap stops a zlib bomb) and the headers in one block. */
#define JP_SPDY_MAX_CONTROL (64u * 1024)
#define JP_SPDY_MAX_BLOCK   (64u * 1024)
#define JP_SPDY_MAX_HEADERS 64u

enum jp_spdy_type {
    JP_SPDY_SYN_STREAM = 1,
    JP_SPDY_SYN_REPLY = 2,
    JP_SPDY_RST_STREAM = 3,
    JP_SPDY_SETTINGS = 4,
    JP_SPDY_PING = 6,
    JP_SPDY_GOAWAY = 7,
    JP_SPDY_HEADERS = 8,
    JP_SPDY_WINDOW_UPDATE = 9,
};

enum {
    JP_SPDY_FLAG_FIN = 0x01,
    JP_SPDY_FLAG_UNIDIRECTIONAL = 0x02, /* SYN_STREAM only */
};

/* RST_STREAM status codes. */
enum jp_spdy_rst {
    JP_SPDY_PROTOCOL_ERROR = 1,
    JP_SPDY_INVALID_STREAM = 2,
    JP_SPDY_REFUSED_STREAM = 3,
    JP_SPDY_UNSUPPORTED_VERSION = 4,
    JP_SPDY_CANCEL = 5,
    JP_SPDY_INTERNAL_ERROR = 6,
    JP_SPDY_FLOW_CONTROL_ERROR = 7,
    JP_SPDY_STREAM_IN_USE = 8,
    JP_SPDY_STREAM_ALREADY_CLOSED = 9,
    JP_SPDY_FRAME_TOO_LARGE = 11,
};

/* GOAWAY status codes. */
enum {
    JP_SPDY_GOAWAY_OK = 0,
    JP_SPDY_GOAWAY_PROTOCOL_ERROR = 1,
    JP_SPDY_GOAWAY_INTERNAL_ERROR = 2
};

/* The 8 bytes every frame starts with. */
struct jp_spdy_head {
    bool control;
    uint16_t version;   /* control frames */
    uint16_t type;      /* control frames: enum jp_spdy_type (others are to be ignored) */
    uint32_t stream_id; /* data frames */
    uint8_t flags;
    uint32_t length; /* of the payload that follows */
};

/* Returns 0 with fewer than 8 bytes (read more), else 8 with *h filled in. Any 8 bytes form a
 * head; what they claim is checked when the payload is parsed. */
size_t jp_spdy_head_parse(const uint8_t *p, size_t n, struct jp_spdy_head *h);

/* One name/value pair. Names and values point into the owning block and are not
 * NUL-terminated; a value may hold several values separated by NUL bytes. */
struct jp_spdy_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct jp_spdy_headers {
    struct jp_spdy_header *items;
    size_t n;
    char *block; /* the inflated block the items point into */
};

/* The value of the first header named `name` (lowercase, as SPDY/3 sends names), or NULL. */
const char *jp_spdy_header_get(const struct jp_spdy_headers *h, const char *name, size_t *len);

/* A parsed control frame; which fields are set depends on the type. */
struct jp_spdy_ctrl {
    uint16_t type;
    uint8_t flags;
    uint32_t stream_id;             /* SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE */
    uint32_t assoc_id;              /* SYN_STREAM */
    uint8_t priority;               /* SYN_STREAM: 0 (highest) to 7 */
    uint32_t status;                /* RST_STREAM, GOAWAY */
    uint32_t last_good;             /* GOAWAY */
    uint32_t ping_id;               /* PING */
    uint32_t delta;                 /* WINDOW_UPDATE */
    uint32_t nsettings;             /* SETTINGS (the values themselves are not kept) */
    struct jp_spdy_headers headers; /* SYN_STREAM, SYN_REPLY, HEADERS */
};

void jp_spdy_ctrl_clear(struct jp_spdy_ctrl *c);

/* The compression state of one connection: an inflater for the header blocks we read and a
 * deflater for those we write. Each direction is one zlib stream for the life of the connection,
 * so every header block must pass through in order. */
struct jp_spdy;

struct jp_spdy *jp_spdy_new(void); /* OUT: free with jp_spdy_free */
void jp_spdy_free(struct jp_spdy *z);

/* Parses the payload of a control frame (h->length bytes at p; h from jp_spdy_head_parse).
 * Frames of unknown types parse to an empty ctrl with the type set: the caller ignores them.
 * -1 with *err set (a static string) means the connection can't go on: a malformed frame, or a
 * header block that doesn't inflate or parse (the shared zlib stream is then out of step).
 * OUT: *out, clear with jp_spdy_ctrl_clear (also after a failure). */
int jp_spdy_ctrl_parse(struct jp_spdy *z, const struct jp_spdy_head *h, const uint8_t *p,
                       struct jp_spdy_ctrl *out, const char **err);

/* Serializers: each appends one frame to out and returns 0, or -1 when out's cap is reached or
 * an argument can't be encoded (a stream id over 31 bits, a payload over 24 bits). */
void jp_spdy_data_head(uint8_t out[JP_SPDY_HEAD_LEN], uint32_t stream_id, uint8_t flags,
                       uint32_t len);
int jp_spdy_put_data(struct jp_buf *out, uint32_t stream_id, uint8_t flags, const void *data,
                     size_t n);
int jp_spdy_put_syn_stream(struct jp_spdy *z, struct jp_buf *out, uint32_t stream_id,
                           uint32_t assoc_id, uint8_t priority, uint8_t flags,
                           const struct jp_spdy_header *hs, size_t n);
int jp_spdy_put_syn_reply(struct jp_spdy *z, struct jp_buf *out, uint32_t stream_id, uint8_t flags,
                          const struct jp_spdy_header *hs, size_t n);
int jp_spdy_put_headers(struct jp_spdy *z, struct jp_buf *out, uint32_t stream_id, uint8_t flags,
                        const struct jp_spdy_header *hs, size_t n);
int jp_spdy_put_rst(struct jp_buf *out, uint32_t stream_id, uint32_t status);
int jp_spdy_put_settings(struct jp_buf *out, const uint32_t (*id_values)[2], size_t n);
int jp_spdy_put_ping(struct jp_buf *out, uint32_t id);
int jp_spdy_put_goaway(struct jp_buf *out, uint32_t last_good, uint32_t status);
int jp_spdy_put_window_update(struct jp_buf *out, uint32_t stream_id, uint32_t delta);

/* The SPDY/3 header dictionary (for tests: its zlib id is 0xe3c6a7c2). */
extern const char jp_spdy_dictionary[];
extern const size_t jp_spdy_dictionary_len;

#endif
