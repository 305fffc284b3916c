/* Repeats are matched the way client-go's event correlator does it: same source, object, type,
 * reason and message update the count and lastTimestamp of the event already written. The memory
 * of what was written is bounded; forgetting only means a repeat starts a new Event. */
#include "api/record.h"
#include "api/object.h"
#include "api/write-internal.h"
#include "api/write.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMEMBER_MAX 4096

struct jp_recorder {
    struct jp_store *store;
    char *component, *host;
    const struct jp_kind *events;
    json_t *seen; /* correlation key -> event name */
};

struct jp_recorder *jp_recorder_new(struct jp_store *s, const char *component, const char *host)
{
    struct jp_recorder *r = jp_xcalloc(1, sizeof(*r));
    r->store = s;
    r->component = jp_xstrdup(component);
    r->host = host ? jp_xstrdup(host) : NULL;
    r->events = jp_kind_by_plural("", "v1", "events");
    r->seen = json_object();
    return r;
}

void jp_recorder_free(struct jp_recorder *r)
{
    if (r == NULL) return;
    json_decref(r->seen);
    free(r->component);
    free(r->host);
    free(r);
}

static json_t *opt_string(const char *s)
{
    return s ? json_string(s) : NULL;
}

static json_t *involved(const struct jp_event_about *a)
{
    json_t *io = json_pack("{s:s,s:s}", "kind", a->kind, "name", a->name);
    if (a->ns && *a->ns) json_object_set_new(io, "namespace", json_string(a->ns));
    json_object_set_new_nocheck(io, "uid", opt_string(a->uid));
    json_object_set_new_nocheck(io, "apiVersion", opt_string(a->api_version));
    json_object_set_new_nocheck(io, "resourceVersion", opt_string(a->resource_version));
    json_object_set_new_nocheck(io, "fieldPath", opt_string(a->field_path));
    return io;
}

/* Counts a repeat up on the stored event; false when that event is gone. */
static bool count_up(struct jp_recorder *r, const char *ns, const char *name, const char *now)
{
    const struct jp_obj *cur = jp_store_get(r->store, (uint16_t)jp_kind_index(r->events), ns, name);
    if (cur == NULL) return false;
    json_t *ev = jp_api_parse(cur);
    json_object_set_new(ev, "count", json_integer(jp_json_int(ev, 1, "count", NULL) + 1));
    json_object_set_new(ev, "lastTimestamp", json_string(now));
    struct jp_write_ctx c = {.store = r->store, .kind = r->events, .ns = ns, .fv = JP_FV_IGNORE};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    if (jp_api_replace(&c, cur, ev, &res, &st) < 0) {
        jp_log(JP_WARN, "events", "updating event %s/%s: %s", ns, name, st->message);
        jp_status_free(st);
    }
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
    return true;
}

void jp_record(struct jp_recorder *r, const struct jp_event_about *about, const char *type,
               const char *reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *ns = about->ns && *about->ns ? about->ns : "default";
    char *key = jp_xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", r->component, ns,
                             about->kind, about->name, about->uid ? about->uid : "", reason, msg);
    char *now = jp_api__now_rfc3339();
    const char *known = json_string_value(json_object_get(r->seen, key));
    if (known && count_up(r, ns, known, now)) goto out;
    char *name = jp_xasprintf("%s.%llx", about->name, (unsigned long long)jp_now_ns());
    json_t *ev = json_pack(
        "{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:{s:s},s:s,s:s,s:i,s:s,s:n,s:s,s:s}", "apiVersion", "v1",
        "kind", "Event", "metadata", "name", name, "namespace", ns, "involvedObject",
        involved(about), "reason", reason, "message", msg, "source", "component", r->component,
        "firstTimestamp", now, "lastTimestamp", now, "count", 1, "type", type, "eventTime",
        "reportingComponent", r->component, "reportingInstance", r->host ? r->host : "");
    if (r->host) json_object_set_new(json_object_get(ev, "source"), "host", json_string(r->host));
    struct jp_write_ctx c = {.store = r->store, .kind = r->events, .ns = ns, .fv = JP_FV_IGNORE};
    struct jp_write_result res = {0};
    struct jp_status *st = NULL;
    if (jp_api_create(&c, ev, &res, &st) < 0) {
        /* a namespace being deleted refuses new events; that loses nothing anyone can read */
        jp_log(JP_DEBUG, "events", "recording %s on %s/%s: %s", reason, ns, about->name,
               st->message);
        jp_status_free(st);
    } else {
        if (json_object_size(r->seen) >= REMEMBER_MAX) json_object_clear(r->seen);
        json_object_set_new(r->seen, key, json_string(name));
    }
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
    free(name);
out:
    free(now);
    free(key);
}
