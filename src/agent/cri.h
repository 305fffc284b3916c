/* The CRI log format the shims write and pods/log reads back: one record per line,
 * "<RFC3339Nano time> <stdout|stderr> <F|P> <text>", where P marks a partial line that the next
 * record continues. */
#ifndef JP_AGENT_CRI_H
#define JP_AGENT_CRI_H

#include "agent/agent.h"
#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>

struct jp_cri_render {
    const struct jp_log_opts *o; /* timestamps and since_ns apply */
    bool mid_line; /* the last record was partial: no timestamp before its continuation */
};

/* Appends the container output of the complete records in data (malformed lines are skipped);
 * returns the bytes consumed, so an incomplete last record can wait for more. */
size_t jp_cri_render(struct jp_cri_render *r, const char *data, size_t len, struct jp_buf *out);

/* Keeps the last n lines of b (n < 0: all). */
void jp_cri_tail(struct jp_buf *b, int64_t n);

#endif
