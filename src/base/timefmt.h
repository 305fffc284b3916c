/* Time as Kubernetes and Go print it: RFC 3339 timestamps (metav1.Time, MicroTime and Go's
 * RFC3339Nano) and apimachinery's HumanDuration for AGE columns. */
#ifndef JP_BASE_TIMEFMT_H
#define JP_BASE_TIMEFMT_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define JP_NS_PER_SEC 1000000000LL

/* Enough for "2006-01-02T15:04:05.999999999Z" plus a NUL. */
#define JP_TIME_BUFLEN 40

enum jp_time_frac {
    JP_TIME_SECONDS,   /* 2024-10-21T01:21:05Z (metav1.Time) */
    JP_TIME_MICRO,     /* 2024-10-21T01:21:05.123456Z (metav1.MicroTime) */
    JP_TIME_NANO_TRIM, /* Go RFC3339Nano: nanoseconds, trailing zeros dropped, no dot if zero */
};

int64_t jp_now_ns(void);  /* wall clock (CLOCK_REALTIME), for timestamps */
int64_t jp_mono_ns(void); /* CLOCK_MONOTONIC, for measuring intervals */

/* Formats unix_ns (UTC) into buf; returns the length. Years outside 0..9999 are clamped. */
size_t jp_time_format(char buf[JP_TIME_BUFLEN], int64_t unix_ns, enum jp_time_frac frac);

/* Parses an RFC 3339 timestamp with optional fraction and a Z or ±hh:mm offset. */
int jp_time_parse(const char *s, int64_t *unix_ns, struct jp_err **err);

/* apimachinery duration.HumanDuration: "21s", "2m41s", "6h1m", "3d"; "<invalid>" below -1s.
 * buf needs at least 24 bytes; returns the length. */
size_t jp_human_duration(char *buf, size_t n, int64_t ns);

#endif
