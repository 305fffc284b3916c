/* Relative time in go-humanize's words: "now", "1 second left", "9 minutes ago". */
#ifndef KUARD_RELTIME_H
#define KUARD_RELTIME_H

#include <stddef.h>
#include <stdint.h>

/* humanize.RelTime(a, b, a_label, b_label): a_label when a is before b, else b_label. */
void kuard_reltime(char *buf, size_t n, int64_t a_ns, int64_t b_ns, const char *a_label,
                   const char *b_label);

#endif
