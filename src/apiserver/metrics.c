/* /metrics in Prometheus text: apiserver_request_total and apiserver_request_duration_seconds
 * with the labels kube-apiserver uses (verb LIST/GET/WATCH/POST/PUT/PATCH/DELETE..., group,
 * version, resource, subresource, scope, component, code, dry_run). Series are few (kinds x
 * verbs x codes), so a flat array is enough. */
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/timefmt.h"

#include <stdlib.h>
#include <string.h>

/* kube-apiserver's buckets for apiserver_request_duration_seconds */
static const double buckets[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2,
                                 3,     4,     5,    6,   8,   10,  15,  20,  30,  45,   60};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct metric_series {
    char *labels; /* without code: verb="GET",group="batch",... */
    int code;
    uint64_t count;
    uint64_t le[NBUCKETS]; /* cumulative at render time, per-bucket here */
    double sum;
    uint64_t timed; /* observations in the histogram (above the last bucket included) */
};

void metrics_label(struct apireq *q, const struct route *r)
{
    const char *m = q->method;
    bool collection = r->type == R_COLLECTION;
    bool is_watch = watch_requested(q);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        q->m_verb = collection ? (is_watch ? "WATCH" : "LIST") : "GET";
    else if (strcmp(m, "DELETE") == 0)
        q->m_verb = collection ? "DELETECOLLECTION" : "DELETE";
    else if (strcmp(m, "POST") == 0)
        q->m_verb = "POST";
    else if (strcmp(m, "PUT") == 0)
        q->m_verb = "PUT";
    else if (strcmp(m, "PATCH") == 0)
        q->m_verb = "PATCH";
    else
        q->m_verb = "OTHER";
    if (r->kind) {
        q->m_group = r->kind->group;
        q->m_version = r->kind->version;
        q->m_resource = r->kind->plural;
        memcpy(q->m_subresource, r->sub, sizeof(q->m_subresource));
        q->m_scope = r->type == R_OBJECT ? "resource" : *r->ns ? "namespace" : "cluster";
    } else {
        q->m_group = q->m_version = q->m_resource = q->m_scope = "";
        q->m_subresource[0] = '\0';
    }
    const char *dry = req_arg(q, "dryRun");
    q->dry_run = dry && *dry;
}

void metrics_observe(struct apireq *q)
{
    struct jp_apiserver *s = q->srv;
    if (q->m_verb == NULL || s == NULL) return;
    char *labels =
        jp_xasprintf("component=\"apiserver\",dry_run=\"%s\",group=\"%s\",resource=\"%s\","
                     "scope=\"%s\",subresource=\"%s\",verb=\"%s\",version=\"%s\"",
                     q->dry_run ? "All" : "", q->m_group, q->m_resource, q->m_scope,
                     q->m_subresource, q->m_verb, q->m_version);
    int code = q->status ? q->status : 200;
    struct metric_series *m = NULL;
    for (size_t i = 0; i < s->nseries && !m; i++)
        if (s->series[i].code == code && strcmp(s->series[i].labels, labels) == 0)
            m = &s->series[i];
    if (m == NULL) {
        if (s->nseries == s->cseries) {
            s->cseries = s->cseries ? s->cseries * 2 : 32;
            s->series = jp_xrealloc(s->series, s->cseries * sizeof(*s->series));
        }
        m = &s->series[s->nseries++];
        memset(m, 0, sizeof(*m));
        m->labels = labels;
        m->code = code;
        labels = NULL;
    }
    free(labels);
    m->count++;
    if (strcmp(q->m_verb, "WATCH") != 0) { /* long-running requests have no latency */
        double secs = (double)(jp_mono_ns() - q->start_ns) / 1e9;
        m->timed++;
        m->sum += secs;
        for (size_t b = 0; b < NBUCKETS; b++)
            if (secs <= buckets[b]) {
                m->le[b]++;
                break;
            }
    }
}

void serve_metrics(struct apireq *q)
{
    struct jp_apiserver *s = q->srv;
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    jp_buf_printf(&b, "# HELP apiserver_request_total Counter of apiserver requests broken out for "
                      "each verb, dry run value, group, version, resource, scope, component, and "
                      "HTTP response code.\n# TYPE apiserver_request_total counter\n");
    for (size_t i = 0; i < s->nseries; i++)
        jp_buf_printf(&b, "apiserver_request_total{code=\"%d\",%s} %llu\n", s->series[i].code,
                      s->series[i].labels, (unsigned long long)s->series[i].count);
    jp_buf_printf(&b, "# HELP apiserver_request_duration_seconds Response latency distribution in "
                      "seconds for each verb, dry run value, group, version, resource, "
                      "subresource, scope and component.\n"
                      "# TYPE apiserver_request_duration_seconds histogram\n");
    /* the histogram has no code label: merge series that differ only by code */
    for (size_t i = 0; i < s->nseries; i++) {
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(s->series[j].labels, s->series[i].labels) != 0;
        if (!first || !s->series[i].timed) continue;
        uint64_t le[NBUCKETS] = {0}, count = 0;
        double sum = 0;
        for (size_t j = i; j < s->nseries; j++) {
            if (strcmp(s->series[j].labels, s->series[i].labels) != 0) continue;
            for (size_t k = 0; k < NBUCKETS; k++)
                le[k] += s->series[j].le[k];
            sum += s->series[j].sum;
            count += s->series[j].timed;
        }
        uint64_t cum = 0;
        for (size_t k = 0; k < NBUCKETS; k++) {
            cum += le[k];
            jp_buf_printf(&b, "apiserver_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                          s->series[i].labels, buckets[k], (unsigned long long)cum);
        }
        jp_buf_printf(&b, "apiserver_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
                      s->series[i].labels, (unsigned long long)count);
        jp_buf_printf(&b, "apiserver_request_duration_seconds_sum{%s} %g\n", s->series[i].labels,
                      sum);
        jp_buf_printf(&b, "apiserver_request_duration_seconds_count{%s} %llu\n",
                      s->series[i].labels, (unsigned long long)count);
    }
    jp_metrics_render(s->metrics, &b);
    size_t len;
    char *data = jp_buf_steal(&b, &len);
    reply(q, 200, "text/plain; version=0.0.4; charset=utf-8", data, len);
}

void metrics_free(struct jp_apiserver *s)
{
    for (size_t i = 0; i < s->nseries; i++)
        free(s->series[i].labels);
    free(s->series);
}
