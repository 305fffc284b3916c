/* POST pods/NAME/eviction (policy/v1 Eviction), what `kubectl drain` sends. With no
 * PodDisruptionBudgets to consult, an eviction always goes through: a pod still running first
 * gets the DisruptionTarget condition (reason EvictionByEvictionAPI), so the Job controller's
 * podFailurePolicy can tell an eviction from a failure, then it is deleted with the Eviction's
 * deleteOptions. The answer is a Success Status with code 201, as kube-apiserver's. */
#include "api/kinds.h"
#include "api/write.h"
#include "apiserver/internal.h"
#include "base/buf.h"
#include "base/timefmt.h"

#include <jansson.h>
#include <string.h>

/* The condition on a copy of the pod's status; false if it is already there. */
static bool add_condition(json_t *pod)
{
    json_t *status = jp_json_ensure(pod, "status", NULL);
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    if (jp_json_condition_true(status, "DisruptionTarget")) return false;
    char now[JP_TIME_BUFLEN];
    jp_time_format(now, jp_now_ns(), JP_TIME_SECONDS);
    for (size_t i = json_array_size(conds); i-- > 0;)
        if (!strcmp(jp_json_str(json_array_get(conds, i), "type", NULL) ?: "", "DisruptionTarget"))
            json_array_remove(conds, i);
    json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s,s:s,s:s}", "type", "DisruptionTarget",
                                           "status", "True", "lastProbeTime", "lastTransitionTime",
                                           now, "reason", "EvictionByEvictionAPI", "message",
                                           "Eviction API: evicting"));
    return true;
}

void serve_eviction(struct apireq *q, const struct route *r)
{
    json_error_t jerr;
    json_t *ev = json_loadb(q->body.data ? q->body.data : "", q->body.len, 0, &jerr);
    const char *kind = jp_json_str(ev, "kind", NULL);
    const char *av = jp_json_str(ev, "apiVersion", NULL);
    const char *name = jp_json_str(ev, "metadata", "name", NULL);
    if (!json_is_object(ev) || (kind && strcmp(kind, "Eviction")) ||
        (av && strcmp(av, "policy/v1") && strcmp(av, "policy/v1beta1"))) {
        reply_error(q, JP_BAD_REQUEST,
                    "the body of the request was in an unknown format - "
                    "accepted media types include: application/json");
        json_decref(ev);
        return;
    }
    if (name && strcmp(name, r->name)) {
        reply_error(q, JP_BAD_REQUEST, "name in URL does not match name in Eviction object");
        json_decref(ev);
        return;
    }
    const struct jp_kind *k = r->kind;
    struct jp_store *store = q->srv->store;
    const struct jp_obj *o = jp_store_get(store, (uint16_t)jp_kind_index(k), r->ns, r->name);
    if (o == NULL) {
        reply_not_found(q, k, r->name);
        json_decref(ev);
        return;
    }
    struct jp_status *st = NULL;
    if (!jp_pod_finished(o) && jp_proj_of(o)->deleted_ns == 0) {
        json_t *pod = jp_api_parse(o);
        if (add_condition(pod)) {
            struct jp_write_ctx c = {
                .store = store, .kind = k, .ns = r->ns, .subresource = "status"};
            struct jp_write_result res = {0};
            int rc = jp_api_replace(&c, o, pod, &res, &st);
            pod = NULL;
            jp_write_result_free(&res);
            jp_write_ctx_free(&c);
            if (rc < 0) {
                reply_status(q, st);
                json_decref(ev);
                return;
            }
        }
        json_decref(pod);
    }
    struct jp_write_ctx c = {.store = store, .kind = k, .ns = r->ns};
    struct jp_write_result res = {0};
    int rc = jp_api_delete(&c, r->name, json_object_get(ev, "deleteOptions"), &res, &st);
    jp_write_result_free(&res);
    jp_write_ctx_free(&c);
    json_decref(ev);
    if (rc < 0) {
        reply_status(q, st);
        return;
    }
    struct jp_buf b;
    jp_buf_init(&b, 1 << 10);
    jp_buf_printf(&b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                      "\"status\":\"Success\",\"code\":201}");
    reply_json(q, 201, &b);
}
