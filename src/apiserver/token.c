/* Service account tokens at the API: POST serviceaccounts/NAME/token (authentication.k8s.io/v1
 * TokenRequest, what `kubectl create token` sends) mints one, and a request bearing one is
 * authenticated as its account while the account - and the pod or secret it is bound to - still
 * exists with the uid the token names, as kube-apiserver's service account authenticator checks. */
#include "api/kinds.h"
#include "api/schema_types_gen.h"
#include "api/write.h"
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/timefmt.h"
#include "pki/satoken.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The object a token names, if it is still there as the token knew it. One being deleted still
 * counts until a minute past its deletionTimestamp (the end of its grace period), as
 * kube-apiserver's validator counts it: a terminating pod may still call the API. */
static bool still_there(struct jp_store *store, const char *plural, const char *ns,
                        const char *name, const char *uid)
{
    const struct jp_kind *k = jp_kind_by_plural("", "v1", plural);
    const struct jp_obj *o = jp_store_get(store, (uint16_t)jp_kind_index(k), ns, name);
    if (o == NULL) return false;
    int64_t deleted = jp_proj_of(o)->deleted_ns;
    if (deleted != 0 && deleted < jp_now_ns() - 60 * JP_NS_PER_SEC) return false;
    return *uid == '\0' || strcmp(jp_proj_of(o)->uid, uid) == 0;
}

bool sa_token_authenticates(struct apireq *q, const char *token, struct jp_sa_identity *who)
{
    const struct jp_sa_signer *sa = q->srv->sa;
    if (sa == NULL || jp_sa_token_verify(sa, token, jp_now_ns() / JP_NS_PER_SEC, who) < 0)
        return false;
    struct jp_store *store = q->srv->store;
    return still_there(store, "serviceaccounts", who->ns, who->sa_name, who->sa_uid) &&
           (*who->pod_name == '\0' ||
            still_there(store, "pods", who->ns, who->pod_name, who->pod_uid)) &&
           (*who->secret_name == '\0' ||
            still_there(store, "secrets", who->ns, who->secret_name, who->secret_uid));
}

/* ---- TokenRequest ---- */

static void invalid(struct apireq *q, const char *name, const char *field, const char *value,
                    const char *detail)
{
    struct jp_ferrs fe = {0};
    jp_ferrs_add(&fe, JP_FERR_INVALID, field, value, "%s", detail);
    reply_status(q, jp_status_invalid("TokenRequest", "authentication.k8s.io", name, &fe));
}

/* The pod or secret spec.boundObjectRef names: its uid into uid (NULL: no binding). -1 when
 * the reply is sent. */
static int bound_object(struct apireq *q, const struct route *r, const json_t *ref,
                        const char **kind_out, char *uid, size_t n)
{
    *kind_out = NULL;
    if (!json_is_object(ref)) return 0;
    const char *kind = jp_json_str(ref, "kind", NULL) ?: "";
    const char *av = jp_json_str(ref, "apiVersion", NULL) ?: "";
    const char *name = jp_json_str(ref, "name", NULL) ?: "";
    const char *want = jp_json_str(ref, "uid", NULL) ?: "";
    const char *plural = strcmp(kind, "Pod") == 0      ? "pods"
                         : strcmp(kind, "Secret") == 0 ? "secrets"
                                                       : NULL;
    if (plural == NULL || strcmp(av, "v1") != 0) {
        reply_error(q, JP_BAD_REQUEST, "cannot bind token for %s/%s %s: only v1 Pods and Secrets",
                    av, kind, name);
        return -1;
    }
    const struct jp_kind *k = jp_kind_by_plural("", "v1", plural);
    const struct jp_obj *o = jp_store_get(q->srv->store, (uint16_t)jp_kind_index(k), r->ns, name);
    if (o == NULL) {
        reply_not_found(q, k, name);
        return -1;
    }
    const char *have = jp_proj_of(o)->uid;
    if (*want && strcmp(want, have) != 0) {
        reply_error(q, JP_CONFLICT,
                    "the UID in the bound object reference (%s) does not match the UID in record. "
                    "The object might have been deleted and then recreated",
                    want);
        return -1;
    }
    if (strcmp(plural, "pods") == 0) {
        json_t *pod = jp_api_parse(o);
        const char *sa = jp_json_str(pod, "spec", "serviceAccountName", NULL) ?: "default";
        bool same = strcmp(sa, r->name) == 0;
        json_decref(pod);
        if (!same) {
            reply_error(q, JP_BAD_REQUEST,
                        "cannot bind token for serviceaccount \"%s\" to pod running with different "
                        "serviceaccount name.",
                        r->name);
            return -1;
        }
    }
    *kind_out = kind;
    snprintf(uid, n, "%s", have);
    return 0;
}

void serve_token_request(struct apireq *q, const struct route *r)
{
    json_t *tr = body_object(q, JP_T_AuthenticationV1TokenRequest);
    const char *kind = jp_json_str(tr, "kind", NULL);
    if (!json_is_object(tr) || (kind && strcmp(kind, "TokenRequest") != 0)) {
        reply_error(q, JP_BAD_REQUEST,
                    "the body of the request was in an unknown format - "
                    "accepted media types include: application/json");
        json_decref(tr);
        return;
    }
    const struct jp_kind *k = r->kind;
    const struct jp_obj *sa =
        jp_store_get(q->srv->store, (uint16_t)jp_kind_index(k), r->ns, r->name);
    if (sa == NULL) {
        reply_not_found(q, k, r->name);
        json_decref(tr);
        return;
    }
    json_t *spec = jp_json_ensure(tr, "spec", NULL);
    json_t *secs = json_object_get(spec, "expirationSeconds");
    int64_t seconds = json_is_integer(secs) ? json_integer_value(secs) : JP_SA_DEFAULT_SECONDS;
    const char *problem = jp_sa_lifetime_problem(seconds);
    if (problem) {
        char text[32];
        snprintf(text, sizeof(text), "%lld", (long long)seconds);
        invalid(q, r->name, "spec.expirationSeconds", text, problem);
        json_decref(tr);
        return;
    }
    const char *bound_kind;
    char bound_uid[64] = "";
    json_t *ref = json_object_get(spec, "boundObjectRef");
    if (bound_object(q, r, ref, &bound_kind, bound_uid, sizeof(bound_uid)) < 0) {
        json_decref(tr);
        return;
    }
    json_t *aud = json_object_get(spec, "audiences");
    size_t naud = json_array_size(aud);
    const char **audiences = jp_xcalloc(naud + 1, sizeof(char *));
    for (size_t i = 0; i < naud; i++)
        audiences[i] = json_string_value(json_array_get(aud, i)) ?: "";
    const char *bound_name = bound_kind ? jp_json_str(ref, "name", NULL) : NULL;
    bool pod = bound_kind && strcmp(bound_kind, "Pod") == 0;
    struct jp_sa_claims c = {.ns = r->ns,
                             .sa_name = r->name,
                             .sa_uid = jp_proj_of(sa)->uid,
                             .pod_name = pod ? bound_name : NULL,
                             .pod_uid = pod ? bound_uid : NULL,
                             .secret_name = bound_kind && !pod ? bound_name : NULL,
                             .secret_uid = bound_kind && !pod ? bound_uid : NULL,
                             .audiences = naud ? audiences : NULL,
                             .iat = jp_now_ns() / JP_NS_PER_SEC,
                             .seconds = seconds,
                             .extend = true};
    int64_t exp = 0;
    char *jwt = jp_sa_token_mint(q->srv->sa, &c, &exp);
    free(audiences);
    if (jwt == NULL) {
        reply_error(q, JP_INTERNAL, "failed to generate token");
        json_decref(tr);
        return;
    }
    if (naud == 0) json_object_set_new(spec, "audiences", json_pack("[s]", JP_SA_ISSUER));
    json_object_set_new(spec, "expirationSeconds", json_integer(seconds));
    if (!json_is_object(ref)) json_object_set_new(spec, "boundObjectRef", json_null());
    char when[JP_TIME_BUFLEN];
    jp_time_format(when, exp * JP_NS_PER_SEC, JP_TIME_SECONDS);
    json_object_set_new(tr, "kind", json_string("TokenRequest"));
    json_object_set_new(tr, "apiVersion", json_string("authentication.k8s.io/v1"));
    json_object_set_new(
        tr, "metadata",
        json_pack("{s:s,s:s,s:n}", "name", r->name, "namespace", r->ns, "creationTimestamp"));
    json_object_set_new(tr, "status",
                        json_pack("{s:s,s:s}", "token", jwt, "expirationTimestamp", when));
    free(jwt);
    reply_json_object(q, 201, tr);
}
