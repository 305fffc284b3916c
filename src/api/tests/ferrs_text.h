/* What validation said, as one string the API tests compare: "field: message" for each error,
 * joined by " | " ("" for none). Frees the errors. */
#ifndef JP_API_TESTS_FERRS_TEXT_H
#define JP_API_TESTS_FERRS_TEXT_H
#include "api/status.h"
#include "base/buf.h"

static inline char *ferrs_text(struct jp_ferrs *fe)
{
    struct jp_buf b;
    jp_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < fe->n; i++) {
        jp_buf_printf(&b, "%s%s: ", i ? " | " : "", fe->items[i].field);
        jp_ferr_message(&fe->items[i], &b);
    }
    jp_ferrs_free(fe);
    return jp_buf_steal(&b, NULL);
}
#endif
