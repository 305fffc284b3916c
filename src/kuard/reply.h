/* A reply as kuard's Go handlers produce it, independent of the HTTP library: status, body and
 * which of Go's header sets goes with it. The HTTP adapter (server.c) turns it into a response;
 * handlers and fuzzers work with it directly. */
#ifndef KUARD_REPLY_H
#define KUARD_REPLY_H

#include "base/buf.h"

#define KUARD_REPLY_MAX                                                                            \
    (64u << 20) /* a reply never grows past this (10k queues of stats ~1 MB)                       \
                 */

enum kuard_ctype {
    KUARD_CT_NONE,  /* no body headers (204, empty 200) */
    KUARD_CT_JSON,  /* apiutils.ServeJSON: application/json + no-cache headers */
    KUARD_CT_ERROR, /* http.Error: text/plain; charset=utf-8 + X-Content-Type-Options: nosniff */
    KUARD_CT_TEXT,  /* text/plain (probes) */
    KUARD_CT_HTML,  /* text/html; charset=utf-8 */
};

struct kuard_reply {
    int status;
    enum kuard_ctype ctype;
    const char *allow; /* Allow header for 405 */
    struct jp_buf body;
};

void kuard_reply_init(struct kuard_reply *r);
void kuard_reply_free(struct kuard_reply *r);
/* Go's http.Error: the text plus a newline, as text/plain. */
void kuard_reply_error(struct kuard_reply *r, int status, const char *text);
/* httprouter's 404 and 405 replies. */
void kuard_reply_not_found(struct kuard_reply *r);
void kuard_reply_method_not_allowed(struct kuard_reply *r, const char *allow);
/* Sets status 200 and JSON type; the caller appends the document to r->body. */
void kuard_reply_json(struct kuard_reply *r);

#endif
