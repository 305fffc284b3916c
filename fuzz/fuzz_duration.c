/* Fuzz target for the duration flags' parser (--job-backoff-base 10s): any text is accepted or
 * refused without a crash; an accepted duration is never negative, and the same text parses
 * the same way twice. */
#include "fuzz_check.h"
#include "base/parse.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size);
    int64_t a = -1, b = -1;
    struct jp_err *err = NULL;
    int rc = jp_parse_duration(text, &a, &err);
    FUZZ_CHECK(rc == 0 || (err != NULL && err->msg[0] != '\0'), "a refusal without a message");
    if (rc == 0) {
        FUZZ_CHECK(a >= 0, "negative duration %lld for \"%s\"", (long long)a, text);
        FUZZ_CHECK(jp_parse_duration(text, &b, NULL) == 0 && a == b, "two parses differ");
    }
    jp_err_free(err);
    free(text);
    return 0;
}
