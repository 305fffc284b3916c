/* The process logger. Each record is formatted into one buffer and written with one write(2), so
 * lines from threads never interleave (records are far below PIPE_BUF in practice). */
#include "base/log.h"
#include "base/buf.h"
#include "base/jsonstr.h"
#include "base/timefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX (16 * 1024) /* longer messages are cut: a log line is not a data channel */

/* The one logging global of the process (STYLE §6): set once in main before threads start. */
static struct {
    enum jp_log_format format;
    int verbosity;
    int fd;
} g_log = {JP_LOG_TEXT, 0, 2};

void jp_log_setup(enum jp_log_format format, int verbosity, int fd)
{
    g_log.format = format;
    g_log.verbosity = verbosity;
    g_log.fd = fd;
}

int jp_log_format_parse(const char *name, enum jp_log_format *out, struct jp_err **err)
{
    if (strcmp(name, "text") == 0) {
        *out = JP_LOG_TEXT;
    } else if (strcmp(name, "json") == 0) {
        *out = JP_LOG_JSON;
    } else {
        return jp_err_set(err, JP_BAD_REQUEST, 0,
                          "unsupported logging format \"%s\" (want text or json)", name);
    }
    return 0;
}

static void header(struct jp_buf *b, enum jp_log_level level, const char *component, int64_t ns)
{
    time_t sec = (time_t)(ns / JP_NS_PER_SEC);
    struct tm tm;
    if (g_log.format == JP_LOG_GOSTD) {
        localtime_r(&sec, &tm);
        jp_buf_printf(b, "%04d/%02d/%02d %02d:%02d:%02d ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        return;
    }
    static const char letters[] = {'I', 'I', 'W', 'E'}; /* klog has no debug letter */
    gmtime_r(&sec, &tm);
    jp_buf_printf(b, "%c%02d%02d %02d:%02d:%02d.%06d %7d %s] ", letters[level], tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((ns % JP_NS_PER_SEC) / 1000),
                  (int)getpid(), component);
}

void jp_log(enum jp_log_level level, const char *component, const char *fmt, ...)
{
    if (level == JP_DEBUG && g_log.verbosity < 1) return;
    if (level == JP_INFO && g_log.verbosity < 0) return; /* -1: warnings and errors only */
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;

    struct jp_buf b;
    jp_buf_init(&b, LOG_LINE_MAX * 7); /* worst case: every byte escaped as \u00XX */
    int64_t ns = jp_now_ns();
    if (g_log.format == JP_LOG_JSON) {
        jp_buf_printf(&b, "{\"ts\":%lld.%03d,\"caller\":", (long long)(ns / 1000000),
                      (int)(ns % 1000000 / 1000));
        jp_json_quote(&b, component, strlen(component), 0);
        jp_buf_printf(&b, ",\"msg\":");
        jp_json_quote(&b, msg, len, 0);
        if (level >= JP_WARN)
            jp_buf_printf(&b, ",\"level\":\"%s\"}\n", level == JP_WARN ? "warning" : "error");
        else
            jp_buf_printf(&b, ",\"v\":%d}\n", level == JP_DEBUG ? 1 : 0);
    } else {
        header(&b, level, component, ns);
        jp_buf_append(&b, msg, len);
        jp_buf_appendc(&b, '\n');
    }
    const char *p = b.data;
    size_t left = b.len;
    while (left > 0) {
        ssize_t w = write(g_log.fd, p, left);
        if (w <= 0) break; /* nowhere left to report a failing log write */
        p += w;
        left -= (size_t)w;
    }
    jp_buf_free(&b);
}
