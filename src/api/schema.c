/* Lookups over the generated schema tables of schema_gen.c: both are binary searches, which is
 * why the generator sorts types by name and each type's fields by JSON name (strcmp order). */
#include <string.h>

#include "api/schema.h"

int jp_schema_type_index(const char *name)
{
    unsigned lo = 0, hi = jp_schema_type_count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(name, jp_schema_types[mid].name);
        if (c == 0) return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

const struct jp_field *jp_schema_field(const struct jp_type *t, const char *name)
{
    const struct jp_field *base = jp_schema_fields + t->first;
    unsigned lo = 0, hi = t->count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(name, base[mid].name);
        if (c == 0) return &base[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
