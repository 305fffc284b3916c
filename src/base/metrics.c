/* The metrics registry: families in declaration order, each with its series. */
#include "base/metrics.h"
#include "base/alloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* client_golang's DefBuckets, which the job controller's histograms use */
static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
    char *labels;
    double value; /* counters; the sum for histograms */
    unsigned long long count, le[NBUCKETS];
};

struct family {
    char *name, *help;
    bool histogram;
    struct series *v;
    size_t n;
};

struct jp_metrics {
    struct family *f;
    size_t n;
};

struct jp_metrics *jp_metrics_new(void)
{
    return jp_xcalloc(1, sizeof(struct jp_metrics));
}

void jp_metrics_free(struct jp_metrics *m)
{
    if (m == NULL) return;
    for (size_t i = 0; i < m->n; i++) {
        for (size_t k = 0; k < m->f[i].n; k++)
            free(m->f[i].v[k].labels);
        free(m->f[i].v);
        free(m->f[i].name);
        free(m->f[i].help);
    }
    free(m->f);
    free(m);
}

static struct family *family(const struct jp_metrics *m, const char *name)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (!strcmp(m->f[i].name, name)) return &m->f[i];
    return NULL;
}

void jp_metrics_declare(struct jp_metrics *m, const char *name, const char *type, const char *help)
{
    if (m == NULL || family(m, name)) return;
    m->f = jp_xrealloc(m->f, (m->n + 1) * sizeof(*m->f));
    m->f[m->n++] = (struct family){jp_xstrdup(name), jp_xstrdup(help),
                                   strcmp(type, "histogram") == 0, NULL, 0};
}

static struct series *series(struct family *f, const char *labels)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->v[i].labels, labels)) return &f->v[i];
    f->v = jp_xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
    struct series *s = &f->v[f->n++];
    memset(s, 0, sizeof(*s));
    s->labels = jp_xstrdup(labels);
    return s;
}

void jp_metrics_add(struct jp_metrics *m, const char *name, const char *labels, double v)
{
    struct family *f = family(m, name);
    if (f && !f->histogram) series(f, labels)->value += v;
}

void jp_metrics_observe(struct jp_metrics *m, const char *name, const char *labels, double v)
{
    struct family *f = family(m, name);
    if (f == NULL || !f->histogram) return;
    struct series *s = series(f, labels);
    s->value += v;
    s->count++;
    for (size_t b = 0; b < NBUCKETS; b++)
        if (v <= buckets[b]) {
            s->le[b]++;
            break;
        }
}

void jp_metrics_render(const struct jp_metrics *m, struct jp_buf *out)
{
    for (size_t i = 0; m && i < m->n; i++) {
        const struct family *f = &m->f[i];
        jp_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                      f->histogram ? "histogram" : "counter");
        for (size_t k = 0; k < f->n; k++) {
            const struct series *s = &f->v[k];
            const char *sep = *s->labels ? "," : "";
            const char *open = *s->labels ? "{" : "", *close = *s->labels ? "}" : "";
            if (!f->histogram) {
                jp_buf_printf(out, "%s%s%s%s %.17g\n", f->name, open, s->labels, close, s->value);
                continue;
            }
            unsigned long long cum = 0;
            for (size_t b = 0; b < NBUCKETS; b++) {
                cum += s->le[b];
                jp_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", f->name, s->labels, sep,
                              buckets[b], cum);
            }
            jp_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", f->name, s->labels, sep,
                          s->count);
            jp_buf_printf(out, "%s_sum%s%s%s %.17g\n%s_count%s%s%s %llu\n", f->name, open,
                          s->labels, close, s->value, f->name, open, s->labels, close, s->count);
        }
    }
}
