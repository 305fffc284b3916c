/* Fuzz target for the completion-index sets of Indexed Jobs (completedIndexes as a user may
 * write it through the status subresource): any text parses without a crash; the set never
 * holds an index >= completions; formatting and parsing again gives the same text; adding an
 * index keeps the ranges sorted, disjoint and apart. */
#include "fuzz_check.h"
#include "controllers/job-internal.h"

#include <stdlib.h>
#include <string.h>

static void check_shape(const struct jp_idx *x, int64_t limit)
{
    for (size_t i = 0; i < x->n; i++) {
        FUZZ_CHECK(x->v[i].first <= x->v[i].last, "range %zu is reversed", i);
        FUZZ_CHECK(x->v[i].first >= 0 && x->v[i].last < limit, "range %zu is outside [0, limit)",
                   i);
        if (i)
            FUZZ_CHECK(x->v[i - 1].last + 1 < x->v[i].first,
                       "ranges %zu-1 and %zu touch or overlap", i, i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    int64_t limit = ((int64_t)data[0] << 16 | (int64_t)data[1] << 8 | data[2]) + 1;
    char *text = strndup((const char *)data + 3, size - 3);
    struct jp_idx x, y;
    jobctl__idx_parse(text, limit, &x);
    check_shape(&x, limit);
    char *f1 = jobctl__idx_format(&x);
    jobctl__idx_parse(f1, limit, &y);
    char *f2 = jobctl__idx_format(&y);
    FUZZ_CHECK(strcmp(f1, f2) == 0, "format/parse round trip differs");
    FUZZ_CHECK(jobctl__idx_count(&x) == jobctl__idx_count(&y),
               "count differs after the round trip");
    int64_t extra = (int64_t)(size * 7919) % limit;
    jobctl__idx_add(&y, extra);
    check_shape(&y, limit);
    FUZZ_CHECK(jobctl__idx_has(&y, extra), "added index missing");
    free(f1);
    free(f2);
    free(text);
    jobctl__idx_free(&x);
    jobctl__idx_free(&y);
    return 0;
}
