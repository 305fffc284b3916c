/* Process logging to stderr, one line per call: klog's text header by default, klog's JSON
 * format with --logging-format=json, or Go's log package layout for programs (kuard) that must
 * look like their Go originals. */
#ifndef JP_BASE_LOG_H
#define JP_BASE_LOG_H

#include "base/err.h"

enum jp_log_level { JP_DEBUG, JP_INFO, JP_WARN, JP_ERROR };

enum jp_log_format {
    JP_LOG_TEXT,  /* I1128 01:33:24.123456   12345 component] message */
    JP_LOG_JSON,  /* {"ts":1732757604123.456,"caller":"component","msg":"message","v":0} */
    JP_LOG_GOSTD, /* 2024/11/28 01:33:24 message (Go's log.LstdFlags, local time) */
};

/* verbosity: JP_DEBUG lines print only when verbosity >= 1 (klog -v). fd is normally 2. */
void jp_log_setup(enum jp_log_format format, int verbosity, int fd);
int jp_log_format_parse(const char *name, enum jp_log_format *out, struct jp_err **err);

void jp_log(enum jp_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
