/* podFailurePolicy (job-semantics.md §6.5): the first rule that matches a Failed pod decides
 * what its failure means - FailJob, Ignore, Count or FailIndex. */
#include "api/object.h"
#include "base/alloc.h"
#include "controllers/job-internal.h"

#include <stdio.h>
#include <string.h>

static bool in_values(const json_t *values, json_int_t code)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) if (json_integer_value(v) == code) return true;
    return false;
}

/* The first terminated container (app containers, then init) with a non-zero exit code that
 * the rule's onExitCodes matches, or NULL. */
static const json_t *match_exit_codes(const json_t *pod, const json_t *req)
{
    const char *only = jp_json_str(req, "containerName", NULL);
    const char *op = jp_json_str(req, "operator", NULL) ?: "";
    const json_t *values = json_object_get(req, "values");
    static const char *const lists[] = {"containerStatuses", "initContainerStatuses"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *cs;
        json_array_foreach(jp_json_path(pod, "status", lists[l], NULL), i, cs)
        {
            const json_t *term = jp_json_path(cs, "state", "terminated", NULL);
            if (term == NULL) continue;
            json_int_t code = jp_json_int(term, 0, "exitCode", NULL);
            if (code == 0) continue; /* a success never matches (R53) */
            if (only && strcmp(only, jp_json_str(cs, "name", NULL) ?: "") != 0) continue;
            bool in = in_values(values, code);
            if ((!strcmp(op, "In") && in) || (!strcmp(op, "NotIn") && !in)) return cs;
        }
    }
    return NULL;
}

static const json_t *match_conditions(const json_t *pod, const json_t *patterns)
{
    size_t i, k;
    json_t *want, *c;
    json_array_foreach(patterns, i, want)
    {
        json_array_foreach(jp_json_path(pod, "status", "conditions", NULL), k, c)
        {
            const char *t = jp_json_str(c, "type", NULL), *s = jp_json_str(c, "status", NULL);
            if (t && s && !strcmp(t, jp_json_str(want, "type", NULL) ?: "") &&
                !strcmp(s, jp_json_str(want, "status", NULL) ?: "True"))
                return want;
        }
    }
    return NULL;
}

const char *jobctl__pod_failure_action(const json_t *spec, const json_t *pod, char **message)
{
    *message = NULL;
    const char *ns = jp_json_str(pod, "metadata", "namespace", NULL) ?: "";
    const char *name = jp_json_str(pod, "metadata", "name", NULL) ?: "";
    size_t r;
    json_t *rule;
    json_array_foreach(jp_json_path(spec, "podFailurePolicy", "rules", NULL), r, rule)
    {
        const char *action = jp_json_str(rule, "action", NULL);
        if (action == NULL) continue;
        const json_t *req = json_object_get(rule, "onExitCodes");
        if (req) {
            const json_t *cs = match_exit_codes(pod, req);
            if (cs == NULL) continue;
            *message = jp_xasprintf(
                "Container %s for pod %s/%s failed with exit code %lld matching %s rule at "
                "index %zu",
                jp_json_str(cs, "name", NULL) ?: "", ns, name,
                (long long)jp_json_int(cs, 0, "state", "terminated", "exitCode", NULL), action, r);
            return action;
        }
        const json_t *c = match_conditions(pod, json_object_get(rule, "onPodConditions"));
        if (c == NULL) continue;
        *message = jp_xasprintf("Pod %s/%s has condition %s matching %s rule at index %zu", ns,
                                name, jp_json_str(c, "type", NULL) ?: "", action, r);
        return action;
    }
    return NULL;
}
