/* Reading CRI log records back. Parsing happens in place on what was read from the file; a
 * record that does not parse (a torn write after a crash) is skipped, never fatal. */
#include "agent/cri.h"
#include "base/timefmt.h"

#include <stdio.h>
#include <string.h>

/* One CRI record parsed in place. */
struct record {
    const char *ts;
    size_t ts_len;
    int64_t t;
    bool partial;
    const char *text;
    size_t len;
};

static bool parse_record(const char *line, size_t n, struct record *r)
{
    const char *sp1 = memchr(line, ' ', n);
    if (sp1 == NULL) return false;
    const char *rest = sp1 + 1, *end = line + n;
    const char *sp2 = memchr(rest, ' ', (size_t)(end - rest));
    if (sp2 == NULL || sp2 + 2 > end) return false;
    r->ts = line;
    r->ts_len = (size_t)(sp1 - line);
    r->partial = sp2[1] == 'P';
    r->text = sp2 + 3 <= end ? sp2 + 3 : end;
    r->len = (size_t)(end - r->text);
    char ts[64];
    snprintf(ts, sizeof(ts), "%.*s", (int)(r->ts_len < 63 ? r->ts_len : 63), line);
    r->t = 0;
    jp_time_parse(ts, &r->t, NULL);
    return true;
}

size_t jp_cri_render(struct jp_cri_render *st, const char *data, size_t len, struct jp_buf *out)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (nl == NULL) break;
        struct record r;
        size_t n = (size_t)(nl - (data + pos));
        if (parse_record(data + pos, n, &r) && (st->o->since_ns == 0 || r.t >= st->o->since_ns)) {
            if (st->o->timestamps && !st->mid_line) {
                jp_buf_append(out, r.ts, r.ts_len);
                jp_buf_appendc(out, ' ');
            }
            jp_buf_append(out, r.text, r.len);
            if (!r.partial) jp_buf_appendc(out, '\n');
            st->mid_line = r.partial;
        }
        pos += n + 1;
    }
    return pos;
}

void jp_cri_tail(struct jp_buf *b, int64_t n)
{
    if (n < 0) return;
    size_t i = b->len, lines = 0;
    if (i > 0 && b->data[i - 1] == '\n') i--;
    while (i > 0) {
        if (b->data[i - 1] == '\n' && ++lines == (size_t)n) break;
        i--;
    }
    if (n == 0) i = b->len;
    if (i > 0) memmove(b->data, b->data + i, b->len - i);
    b->len -= i;
}
