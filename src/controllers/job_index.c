/* Completion indexes of Indexed Jobs: index sets in the status' interval
 * format (job-semantics.md §5.3: "1,3-5,7"; a run of two is written "a,b"). Sets are sorted
 * disjoint ranges, so a Job of 100,000 indexes that all succeeded is one range. */
#include "api/object.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/parse.h"
#include "controllers/job-internal.h"

#include <stdlib.h>
#include <string.h>

bool jobctl__idx_has(const struct jp_idx *x, int64_t i)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (i < x->v[mid].first)
            hi = mid;
        else if (i > x->v[mid].last)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* Adds [first, last], merging every range it overlaps or touches. */
static void add_range(struct jp_idx *x, int64_t first, int64_t last)
{
    size_t lo = 0;
    while (lo < x->n && x->v[lo].last < first - 1)
        lo++;
    size_t hi = lo; /* ranges [lo, hi) merge with the new one */
    while (hi < x->n && x->v[hi].first <= last + 1) {
        if (x->v[hi].first < first) first = x->v[hi].first;
        if (x->v[hi].last > last) last = x->v[hi].last;
        hi++;
    }
    if (hi == lo) {
        x->v = jp_xrealloc(x->v, (x->n + 1) * sizeof(x->v[0]));
        memmove(&x->v[lo + 1], &x->v[lo], (x->n - lo) * sizeof(x->v[0]));
        x->n++;
    } else if (hi > lo + 1) {
        memmove(&x->v[lo + 1], &x->v[hi], (x->n - hi) * sizeof(x->v[0]));
        x->n -= hi - lo - 1;
    }
    x->v[lo].first = first;
    x->v[lo].last = last;
}

void jobctl__idx_add(struct jp_idx *x, int64_t i)
{
    add_range(x, i, i);
}

int64_t jobctl__idx_count(const struct jp_idx *x)
{
    int64_t n = 0;
    for (size_t i = 0; i < x->n; i++)
        n += x->v[i].last - x->v[i].first + 1;
    return n;
}

int64_t jobctl__idx_common(const struct jp_idx *a, const struct jp_idx *b)
{
    int64_t n = 0;
    for (size_t i = 0, k = 0; i < a->n && k < b->n;) {
        int64_t lo = a->v[i].first > b->v[k].first ? a->v[i].first : b->v[k].first;
        int64_t hi = a->v[i].last < b->v[k].last ? a->v[i].last : b->v[k].last;
        if (lo <= hi) n += hi - lo + 1;
        if (a->v[i].last < b->v[k].last)
            i++;
        else
            k++;
    }
    return n;
}

/* Reads "0,1,3-5,7"; indexes >= limit and malformed parts are ignored (the status is ours,
 * but a user may have written it through the status subresource). */
void jobctl__idx_parse(const char *s, int64_t limit, struct jp_idx *out)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL) return;
    char *copy = jp_xstrdup(s), *save = NULL;
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(part, '-');
        int64_t a, b;
        if (dash) *dash = '\0';
        if (jp_parse_int(part, 10, 0, INT32_MAX, &a, NULL) < 0) continue;
        if (dash == NULL)
            b = a;
        else if (jp_parse_int(dash + 1, 10, 0, INT32_MAX, &b, NULL) < 0 || b < a)
            continue;
        if (b >= limit) b = limit - 1;
        if (a <= b) add_range(out, a, b);
    }
    free(copy);
}

char *jobctl__idx_format(const struct jp_idx *x)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < x->n; i++) {
        int64_t f = x->v[i].first, l = x->v[i].last;
        const char *sep = i ? "," : "";
        if (l - f >= 2)
            jp_buf_printf(&b, "%s%lld-%lld", sep, (long long)f, (long long)l);
        else if (l > f)
            jp_buf_printf(&b, "%s%lld,%lld", sep, (long long)f, (long long)l);
        else
            jp_buf_printf(&b, "%s%lld", sep, (long long)f);
    }
    char *s = jp_xstrndup(b.data ? b.data : "", b.len);
    jp_buf_free(&b);
    return s;
}

void jobctl__idx_free(struct jp_idx *x)
{
    free(x->v);
    memset(x, 0, sizeof(*x));
}
