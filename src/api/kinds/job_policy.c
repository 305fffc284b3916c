/* batch/v1 Jobs: podFailurePolicy and successPolicy validation (job-semantics.md E17-E34), with
 * upstream's messages. Split from job.c, which calls them from its spec validation. */
#include "api/kinds/job-internal.h"
#include "api/object.h"
#include "api/podspec.h"
#include "base/alloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool in_list(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(v, *list) == 0) return true;
    return false;
}

static bool template_has_container(const json_t *spec, const char *name)
{
    static const char *const lists[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(jp_json_path(spec, "template", "spec", lists[l], NULL), i, c)
        {
            const char *n = jp_json_str(c, "name", NULL);
            if (n && strcmp(n, name) == 0) return true;
        }
    }
    return false;
}

static void validate_exit_codes(const json_t *spec, const json_t *oec, const char *base,
                                struct jp_ferrs *fe)
{
    char path[256];
    const char *op = jp_json_str(oec, "operator", NULL);
    jp_strfmt(path, sizeof(path), "%s.operator", base);
    static const char *const ops[] = {"In", "NotIn", NULL};
    if (op == NULL || *op == '\0') {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, "valid values: [\"In\" \"NotIn\"]");
    } else if (!in_list(op, ops)) {
        char *q = jp_go_quote(op);
        jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, path, q, "supported values: \"In\", \"NotIn\"");
        free(q);
    }
    const char *cn = jp_json_str(oec, "containerName", NULL);
    if (cn && !template_has_container(spec, cn)) {
        jp_strfmt(path, sizeof(path), "%s.containerName", base);
        char *q = jp_go_quote(cn);
        jp_ferrs_add(fe, JP_FERR_INVALID, path, q,
                     "must be one of the container or initContainer names in the pod template");
        free(q);
    }
    json_t *values = json_object_get(oec, "values");
    jp_strfmt(path, sizeof(path), "%s.values", base);
    if (json_array_size(values) == 0) {
        jp_ferrs_add(fe, JP_FERR_INVALID, path, "[]int32{}", "at least one value is required");
        return;
    }
    bool ordered = true;
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        json_int_t x = json_integer_value(v);
        char vp[288], val[32];
        jp_strfmt(vp, sizeof(vp), "%s.values[%zu]", base, i);
        jp_strfmt(val, sizeof(val), "%lld", (long long)x);
        if (op && strcmp(op, "In") == 0 && x == 0)
            jp_ferrs_add(fe, JP_FERR_INVALID, vp, val, "must not be 0 for the In operator");
        if (i > 0) {
            json_int_t prev = json_integer_value(json_array_get(values, i - 1));
            if (prev == x) jp_ferrs_add(fe, JP_FERR_DUPLICATE, vp, val, NULL);
            if (prev > x) ordered = false;
        }
    }
    if (!ordered) {
        char *list = jp_go_slice("int32", values);
        jp_ferrs_add(fe, JP_FERR_INVALID, path, list, "must be ordered");
        free(list);
    }
}

void jp_job__validate_pod_failure_policy(const json_t *spec, struct jp_ferrs *fe)
{
    const json_t *pfp = json_object_get(spec, "podFailurePolicy");
    if (pfp == NULL) return;
    json_t *rules = json_object_get(pfp, "rules");
    if (json_array_size(rules) > 20) {
        char n[32];
        jp_strfmt(n, sizeof(n), "%zu", json_array_size(rules));
        jp_ferrs_add(fe, JP_FERR_TOO_MANY, "spec.podFailurePolicy.rules", n,
                     "must have at most 20 items");
        return;
    }
    static const char *const actions[] = {"Count", "FailIndex", "FailJob", "Ignore", NULL};
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
    {
        char base[128], path[192];
        jp_strfmt(base, sizeof(base), "spec.podFailurePolicy.rules[%zu]", i);
        const char *action = jp_json_str(rule, "action", NULL);
        jp_strfmt(path, sizeof(path), "%s.action", base);
        if (action == NULL || *action == '\0') {
            jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL,
                         "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]");
        } else if (!in_list(action, actions)) {
            char *q = jp_go_quote(action);
            jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, path, q,
                         "supported values: \"Count\", \"FailIndex\", \"FailJob\", \"Ignore\"");
            free(q);
        } else if (strcmp(action, "FailIndex") == 0 &&
                   !json_object_get(spec, "backoffLimitPerIndex")) {
            jp_ferrs_add(fe, JP_FERR_INVALID, path, "\"FailIndex\"",
                         "requires the backoffLimitPerIndex to be set");
        }
        json_t *oec = json_object_get(rule, "onExitCodes");
        json_t *opc = json_object_get(rule, "onPodConditions");
        bool has_opc = json_array_size(opc) > 0;
        if (oec && has_opc)
            jp_ferrs_add(fe, JP_FERR_INVALID, base, NULL,
                         "specifying both OnExitCodes and OnPodConditions is not supported");
        else if (!oec && !has_opc)
            jp_ferrs_add(fe, JP_FERR_INVALID, base, NULL,
                         "specifying one of OnExitCodes and OnPodConditions is required");
        if (oec) {
            jp_strfmt(path, sizeof(path), "%s.onExitCodes", base);
            validate_exit_codes(spec, oec, path, fe);
        }
        size_t j;
        json_t *cond;
        static const char *const statuses[] = {"True", "False", "Unknown", NULL};
        json_array_foreach(opc, j, cond)
        {
            const char *st = jp_json_str(cond, "status", NULL);
            jp_strfmt(path, sizeof(path), "%s.onPodConditions[%zu].status", base, j);
            if (st && !in_list(st, statuses)) {
                char *q = jp_go_quote(st);
                jp_ferrs_add(fe, JP_FERR_NOT_SUPPORTED, path, q,
                             "supported values: \"False\", \"True\", \"Unknown\"");
                free(q);
            }
            jp_strfmt(path, sizeof(path), "%s.onPodConditions[%zu].type", base, j);
            const char *t = jp_json_str(cond, "type", NULL);
            if (t == NULL || *t == '\0') jp_ferrs_add(fe, JP_FERR_REQUIRED, path, NULL, NULL);
        }
    }
}

/* Parses an index interval list ("1,3-5,7") the way the job controller does: increasing,
 * each index < completions. Returns the number of indexes, or -1 with *why set. */
static long long count_indexes(const char *text, long long completions, char *why, size_t n)
{
    long long count = 0, prev = -1;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char frag[64];
        jp_strfmt(frag, sizeof(frag), "%.*s", (int)len, p);
        char *dash = strchr(frag, '-');
        if (dash && strchr(dash + 1, '-')) {
            jp_strfmt(why, n,
                      "the fragment \"%s\" violates the requirement that an index interval "
                      "can have at most two parts separated by '-'",
                      frag);
            return -1;
        }
        long long lo, hi;
        char *e;
        if (dash) *dash = '\0';
        lo = strtoll(frag, &e, 10);
        if (*frag == '\0' || *e) {
            jp_strfmt(why, n, "cannot convert string to integer for index: \"%s\"", frag);
            return -1;
        }
        hi = lo;
        if (dash) {
            hi = strtoll(dash + 1, &e, 10);
            if (dash[1] == '\0' || *e) {
                jp_strfmt(why, n, "cannot convert string to integer for index: \"%s\"", dash + 1);
                return -1;
            }
        }
        if (lo <= prev || hi < lo) {
            jp_strfmt(why, n, "non-increasing order, previous: %lld, current: %lld", prev, lo);
            return -1;
        }
        if (hi >= completions) {
            jp_strfmt(why, n, "too large index: \"%lld\"", hi);
            return -1;
        }
        count += hi - lo + 1;
        prev = hi;
        p += len;
        if (*p == ',') p++;
    }
    return count;
}

void jp_job__validate_success_policy(const json_t *spec, struct jp_ferrs *fe)
{
    const json_t *sp = json_object_get(spec, "successPolicy");
    if (sp == NULL) return;
    json_t *rules = json_object_get(sp, "rules");
    if (json_array_size(rules) == 0) {
        jp_ferrs_add(fe, JP_FERR_REQUIRED, "spec.successPolicy.rules", NULL,
                     "at least one rules must be specified when the successPolicy is specified");
        return;
    }
    if (json_array_size(rules) > 20) {
        char n[32];
        jp_strfmt(n, sizeof(n), "%zu", json_array_size(rules));
        jp_ferrs_add(fe, JP_FERR_TOO_MANY, "spec.successPolicy.rules", n,
                     "must have at most 20 items");
        return;
    }
    long long completions = jp_json_int(spec, 0, "completions", NULL);
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
    {
        char base[64], path[128];
        jp_strfmt(base, sizeof(base), "spec.successPolicy.rules[%zu]", i);
        json_t *count = json_object_get(rule, "succeededCount");
        const char *idx = jp_json_str(rule, "succeededIndexes", NULL);
        if (!count && !idx) {
            jp_ferrs_add(fe, JP_FERR_REQUIRED, base, NULL,
                         "at least one of succeededCount or succeededIndexes must be specified");
            continue;
        }
        long long nidx = -1;
        if (idx) {
            char why[256];
            nidx = count_indexes(idx, completions, why, sizeof(why));
            if (nidx < 0) {
                jp_strfmt(path, sizeof(path), "%s.succeededIndexes", base);
                char *q = jp_go_quote(idx);
                jp_ferrs_add(fe, JP_FERR_INVALID, path, q, "error parsing succeededIndexes: %s",
                             why);
                free(q);
            }
        }
        if (count) {
            long long c = json_integer_value(count);
            char val[32];
            jp_strfmt(val, sizeof(val), "%lld", c);
            jp_strfmt(path, sizeof(path), "%s.succeededCount", base);
            if (c < 0)
                jp_ferrs_add(fe, JP_FERR_INVALID, path, val, "must be greater than or equal to 0");
            else if (c > completions)
                jp_ferrs_add(fe, JP_FERR_INVALID, path, val,
                             "must be less than or equal to %lld (the number of specified "
                             "completions)",
                             completions);
            else if (nidx >= 0 && c > nidx)
                jp_ferrs_add(fe, JP_FERR_INVALID, path, val,
                             "must be less than or equal to %lld (the number of indexes in the "
                             "specified succeededIndexes field)",
                             nidx);
        }
    }
}
