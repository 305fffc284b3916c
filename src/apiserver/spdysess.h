/* The session core shared by pods/portforward and pods/exec: the upgrade to SPDY/3.1 (headers and
 * X-Stream-Protocol-Version negotiation), then on the loop the frame parser, the replies, pings,
 * GOAWAY, back-pressure both ways and the teardown. What a stream carries is the app's: it gets
 * each new stream, data, FIN and reset through its ops. */
#ifndef JP_APISERVER_SPDYSESS_H
#define JP_APISERVER_SPDYSESS_H

#include "apiserver/internal.h"
#include "apiserver/spdy.h"

#include <stdbool.h>
#include <stdint.h>

/* Bytes waiting toward one side before we stop reading the other (and resume below LOW):
 * spdystream does no flow control, so TCP's is the only back-pressure. */
#define SPDY_HIGH_WATER (1u << 20)
#define SPDY_LOW_WATER  (256u * 1024)

struct spdy_session;

struct spdy_session_ops {
    const char *what; /* "port-forward", "exec": names the session in logs */
    unsigned tick_ms;
    void (*opened)(struct spdy_session *s); /* on the loop, before the first frame is read */
    /* A new stream from the client (odd, increasing id, under the cap): the app replies
     * (spdy_session_reply) or resets it. */
    void (*syn_stream)(struct spdy_session *s, const struct jp_spdy_ctrl *c);
    void (*rst_stream)(struct spdy_session *s, uint32_t id);
    /* Data as it arrives (a frame may come in pieces), then its FIN. */
    void (*data)(struct spdy_session *s, uint32_t id, const uint8_t *p, size_t n);
    void (*data_fin)(struct spdy_session *s, uint32_t id);
    /* What spdy_session_output_full paused may produce again. */
    void (*drained)(struct spdy_session *s);
    void (*tick)(struct spdy_session *s);
    /* The session ends: release every stream and close the app's handles (the session is freed
     * once spdy_session_unref has been called for each spdy_session_ref). */
    void (*closing)(struct spdy_session *s);
    void (*free_app)(void *app); /* at the very end, or when no session could be made */
};

struct spdy_session {
    struct jp_apiserver *srv;
    const struct spdy_session_ops *ops;
    void *app;
    char *label;    /* "ns/name" in log lines */
    bool closing;   /* torn down: send nothing, start nothing */
    bool in_paused; /* the client is not read: the app's writes toward the pod are behind */
    /* private to spdysess.c */
    struct spdy_session *prev, *next;
    struct upgrade *conn;
    struct jp_spdy *z;
    uv_timer_t tick;
    uint8_t *in;
    size_t inlen;
    uint32_t data_id, data_left, last_id;
    uint8_t data_flags;
    unsigned nstreams;
    int refs;
    bool in_mhd, out_paused;
};

/* ---- the request ---- */

/* pods/NAME/{portforward,exec}: the method (GET or POST), the pod, and its node, as the API
 * server checks them before it proxies to a kubelet. NULL when the reply (405, 404, 400) is
 * prepared; else the pod (borrowed from the store). */
const struct jp_obj *spdy_upgrade_pod(struct apireq *q, const struct route *r);

/* Checks the upgrade headers and picks the first of the client's X-Stream-Protocol-Version
 * values that is in `ours` (the kubelet's rule). -1 when the reply (400, 403) is prepared. */
int spdy_upgrade_check(struct apireq *q, const char *const *ours, size_t n, const char **chosen);
/* Queues the 101 answer; the session starts when MHD hands the connection over. Takes app
 * (ops->free_app frees it whatever happens). */
void spdy_upgrade_respond(struct apireq *q, const struct spdy_session_ops *ops, void *app,
                          const char *protocol, const char *label);

/* ---- the session ---- */

void spdy_session_teardown(struct spdy_session *s, const char *why);
/* A libuv handle of the app is open / has closed: the session outlives its handles. */
void spdy_session_ref(struct spdy_session *s);
void spdy_session_unref(struct spdy_session *s);
/* SYN_REPLY for a stream; -1 after tearing the session down (the deflater is out of step). */
int spdy_session_reply(struct spdy_session *s, uint32_t id);
void spdy_session_count_stream(struct spdy_session *s, int delta);
void spdy_session_rst(struct spdy_session *s, uint32_t id, uint32_t status);
/* A data frame of n bytes (n = 0 with FIN ends the stream). */
void spdy_session_data(struct spdy_session *s, uint32_t id, uint8_t flags, const void *p, size_t n);
void spdy_session_goaway(struct spdy_session *s, uint32_t status);
size_t spdy_session_queued(const struct spdy_session *s);
/* After queueing output: true (and ops->drained will be called) when the client's queue is
 * over the high-water mark, so the producer should stop. */
bool spdy_session_output_full(struct spdy_session *s);
/* Stops or resumes reading the client (writes toward the pod are behind). */
void spdy_session_pause_input(struct spdy_session *s, bool pause);
/* A header value as a C string in buf; false when absent, too long or holding a NUL. */
bool spdy_header_str(const struct jp_spdy_ctrl *c, const char *name, char *buf, size_t n);

#endif
