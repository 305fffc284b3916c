/* Reply helpers that reproduce the bodies Go's net/http and httprouter send. */
#include "kuard/reply.h"

#include <string.h>

void kuard_reply_init(struct kuard_reply *r)
{
    r->status = 200;
    r->ctype = KUARD_CT_NONE;
    r->allow = NULL;
    jp_buf_init(&r->body, KUARD_REPLY_MAX);
}

void kuard_reply_free(struct kuard_reply *r)
{
    jp_buf_free(&r->body);
}

void kuard_reply_error(struct kuard_reply *r, int status, const char *text)
{
    r->status = status;
    r->ctype = KUARD_CT_ERROR;
    jp_buf_reset(&r->body);
    jp_buf_append(&r->body, text, strlen(text));
    jp_buf_appendc(&r->body, '\n');
}

void kuard_reply_not_found(struct kuard_reply *r)
{
    kuard_reply_error(r, 404, "404 page not found");
}

void kuard_reply_method_not_allowed(struct kuard_reply *r, const char *allow)
{
    kuard_reply_error(r, 405, "Method Not Allowed");
    r->allow = allow;
}

void kuard_reply_json(struct kuard_reply *r)
{
    r->status = 200;
    r->ctype = KUARD_CT_JSON;
    jp_buf_reset(&r->body);
}
