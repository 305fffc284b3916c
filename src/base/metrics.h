/* A registry of Prometheus counters and histograms that components outside the API server (the
 * controllers) fill and the API server's /metrics renders. Families are declared once with
 * their type and help; series are found by their label text. Few series: flat arrays. */
#ifndef JP_BASE_METRICS_H
#define JP_BASE_METRICS_H

#include "base/buf.h"

struct jp_metrics;

struct jp_metrics *jp_metrics_new(void);
void jp_metrics_free(struct jp_metrics *m);

/* type: "counter" or "histogram" (with upstream's default buckets .005 .. 10 s). */
void jp_metrics_declare(struct jp_metrics *m, const char *name, const char *type, const char *help);
/* LABELS: 'a="x",b="y"' (already escaped), or "" for none. No-ops when m is NULL. */
void jp_metrics_add(struct jp_metrics *m, const char *name, const char *labels, double v);
void jp_metrics_observe(struct jp_metrics *m, const char *name, const char *labels, double v);
/* Appends every family in Prometheus text format 0.0.4. */
void jp_metrics_render(const struct jp_metrics *m, struct jp_buf *out);

#endif
