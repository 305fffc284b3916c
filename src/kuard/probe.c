/* Probe endpoints with kuard's bodies and history shape. */
#include "kuard/probe.h"
#include "base/timefmt.h"
#include "kuard/reltime.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void kuard_probe_check(struct kuard_probe *p, struct kuard_reply *r)
{
    r->ctype = KUARD_CT_TEXT;
    jp_buf_reset(&r->body);
    if (p->fail_next > 0) {
        p->fail_next--;
        r->status = 500;
        jp_buf_printf(&r->body, "fail, %lld left", (long long)p->fail_next);
    } else if (p->fail_next < 0) {
        r->status = 500;
        jp_buf_printf(&r->body, "fail, permanent");
    } else {
        r->status = 200;
        jp_buf_printf(&r->body, "ok");
    }
    if (p->len == KUARD_PROBE_HISTORY) {
        memmove(&p->history[0], &p->history[1], sizeof(p->history[0]) * (KUARD_PROBE_HISTORY - 1));
        p->len--;
    }
    p->history[p->len].id = ++p->last_id;
    p->history[p->len].when_ns = jp_now_ns();
    p->history[p->len].code = r->status;
    p->len++;
}

void kuard_probe_status(const struct kuard_probe *p, struct kuard_reply *r)
{
    kuard_reply_json(r);
    jp_buf_printf(&r->body, "{\"probePath\":\"\",\"failNext\":%lld,\"history\":[",
                  (long long)p->fail_next);
    int64_t now = jp_now_ns();
    for (int i = p->len - 1; i >= 0; i--) {
        time_t sec = (time_t)(p->history[i].when_ns / JP_NS_PER_SEC);
        struct tm tm;
        char when[32], rel[64];
        localtime_r(&sec, &tm);
        strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm); /* Go's time.Stamp */
        kuard_reltime(rel, sizeof(rel), p->history[i].when_ns, now, "ago", "from now");
        jp_buf_printf(&r->body, "%s{\"id\":%d,\"when\":\"%s\",\"relWhen\":\"%s\",\"code\":%d}",
                      i == p->len - 1 ? "" : ",", p->history[i].id, when, rel, p->history[i].code);
    }
    jp_buf_printf(&r->body, "]}\n");
}

void kuard_probe_configure(struct kuard_probe *p, const char *body, size_t len,
                           struct kuard_reply *r)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, &jerr);
    if (doc == NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "invalid JSON: %s", len ? jerr.text : "EOF");
        kuard_reply_error(r, 400, len ? msg : "EOF");
        return;
    }
    int64_t fail_next = 0;
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (strcasecmp(key, "failNext") != 0 || json_is_null(v)) continue;
        if (!json_is_integer(v)) {
            json_decref(doc);
            kuard_reply_error(r, 400,
                              "json: cannot unmarshal value into Go struct field "
                              "ProbeConfig.failNext of type int");
            return;
        }
        fail_next = json_integer_value(v);
    }
    json_decref(doc);
    p->fail_next = fail_next;
    kuard_probe_status(p, r);
}
