/* The page at "/": a small server-rendered view of the MemQ queues and the keygen output, so a
 * user can check the queue contents in a browser as the chapter does. Refreshes every 2 s. */
#include "kuard/app.h"

#include <string.h>
#include <unistd.h>

static void html_escape(struct jp_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            jp_buf_append(b, "&lt;", 4);
            break;
        case '>':
            jp_buf_append(b, "&gt;", 4);
            break;
        case '&':
            jp_buf_append(b, "&amp;", 5);
            break;
        case '"':
            jp_buf_append(b, "&#34;", 5);
            break;
        case '\'':
            jp_buf_append(b, "&#39;", 5);
            break;
        default:
            jp_buf_appendc(b, *s);
        }
    }
}

static void queue_row(const struct memq_queue_stat *s, void *arg)
{
    struct jp_buf *b = arg;
    jp_buf_printf(b, "<tr><td>");
    html_escape(b, s->name);
    jp_buf_printf(b, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td></tr>\n",
                  (long long)s->depth, (long long)s->enqueued, (long long)s->dequeued,
                  (long long)s->drained);
}

static void history_line(int id, const char *line, void *arg)
{
    struct jp_buf *b = arg;
    jp_buf_printf(b, "<li value=\"%d\">", id);
    html_escape(b, line);
    jp_buf_printf(b, "</li>\n");
}

void kuard_page(const struct kuard_app *app, struct kuard_reply *r)
{
    r->status = 200;
    r->ctype = KUARD_CT_HTML;
    jp_buf_reset(&r->body);
    struct jp_buf *b = &r->body;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    jp_buf_printf(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta http-equiv=\"refresh\" content=\"2\">\n<title>KUAR Demo</title>\n"
                     "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
                     "collapse}td,th{border:1px solid #ccc;padding:.3em .8em;text-align:left}"
                     "</style>\n</head>\n<body>\n<h1>KUAR Demo</h1>\n<p>Version: <code>");
    html_escape(b, app->version);
    jp_buf_printf(b, "</code> &middot; Hostname: <code>");
    html_escape(b, host);
    jp_buf_printf(b, "</code></p>\n<h2>MemQ Server</h2>\n<table>\n<tr><th>Name</th><th>Depth</th>"
                     "<th>Enqueued</th><th>Dequeued</th><th>Drained</th></tr>\n");
    memq_foreach(app->broker, queue_row, b);
    jp_buf_printf(b, "</table>\n<h2>KeyGen Workload</h2>\n<ol>\n");
    keygen_foreach_line(app->keygen, history_line, b);
    jp_buf_printf(b, "</ol>\n</body>\n</html>\n");
}
