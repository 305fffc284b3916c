/* libmicrohttpd driven by a libuv loop on one thread (external polling over MHD's epoll fd), with
 * suspend/resume for streaming responses. Pitfalls this code exists to handle are listed in
 * docs/internals/httpd.md. Requests are handled by the caller's MHD access handler, unchanged. */
#ifndef JP_BASE_HTTPD_H
#define JP_BASE_HTTPD_H

#include "base/err.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct jp_httpd;
struct jp_httpd_susp;

struct jp_httpd_opts {
    const char *host; /* numeric address or name; NULL or "" binds every address (dual stack) */
    uint16_t port;    /* 0 picks a free port: read it back with jp_httpd_port() */
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_RequestCompletedCallback completed; /* optional: frees per-request state */
    void *completed_cls;
    unsigned connection_limit;                  /* 0: 1024 */
    unsigned connection_timeout;                /* seconds of idle keep-alive before close; 0: 60 */
    unsigned extra_flags;                       /* e.g. MHD_USE_TLS, with its options below */
    const struct MHD_OptionItem *extra_options; /* ends with MHD_OPTION_END; may be NULL */
};

/* Starts listening. The loop must be run by the caller. */
int jp_httpd_start(uv_loop_t *loop, const struct jp_httpd_opts *opts, struct jp_httpd **out,
                   struct jp_err **err);

uint16_t jp_httpd_port(const struct jp_httpd *h);
/* True once jp_httpd_close has begun: streaming readers should end their stream. */
bool jp_httpd_stopping(const struct jp_httpd *h);

/* Suspends a connection whose streaming response has nothing to send right now (call it from the
 * content reader, which then returns 0). If the client goes away while suspended, gone(arg) runs
 * once on the loop; the caller should then jp_httpd_resume() so MHD can clean up. A NULL gone
 * means a brief suspension that is not watched for hang-ups. */
struct jp_httpd_susp *jp_httpd_suspend(struct jp_httpd *h, struct MHD_Connection *conn,
                                       void (*gone)(void *arg), void *arg);
/* Resumes and frees the handle; safe to call from any loop callback. */
void jp_httpd_resume(struct jp_httpd_susp *s);

/* Runs MHD now, and a few times more on the next loop turns: after an MHD call made outside
 * MHD's own callbacks whose effect would otherwise wait for some unrelated event
 * (MHD_upgrade_action closing an upgraded connection). Never call it from an MHD callback. */
void jp_httpd_kick(struct jp_httpd *h);

/* Stops accepting, resumes suspended streams (their readers see jp_httpd_stopping), closes all
 * connections and frees h once the loop has closed its handles. */
void jp_httpd_close(struct jp_httpd *h);

#endif
