/* Fuzz target for label and field selectors: the input is a label selector, or (first byte
 * '#') a field selector for pods. A parsed label selector's canonical text must parse again and
 * select exactly the same label sets. */
#include "fuzz_check.h"
#include "api/kinds.h"
#include "api/selector.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

static const char *const sample_labels[] = {
    "{}", "{\"app\":\"web\"}", "{\"app\":\"web\",\"tier\":\"1\"}", "{\"a\":\"\",\"b\":\"x\"}",
    "{\"job-name\":\"oneshot\",\"x\":\"10\"}"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct jp_status *st = NULL;
    struct jp_selector *s = NULL;
    if (size > 0 && text[0] == '#') {
        const struct jp_kind *pods = jp_kind_by_plural("", "v1", "pods");
        if (jp_field_selector_parse(pods, text + 1, &s, &st) == 0) jp_field_selector_name(s);
    } else if (jp_label_selector_parse(text, &s, &st) == 0) {
        struct jp_buf canon;
        jp_buf_init(&canon, 1 << 20);
        jp_label_selector_string(s, &canon);
        struct jp_selector *again = NULL;
        struct jp_status *st2 = NULL;
        FUZZ_CHECK(jp_label_selector_parse(canon.data ? canon.data : "", &again, &st2) == 0,
                   "canonical form \"%s\" of \"%s\" does not parse: %s", canon.data, text,
                   st2 ? st2->message : "");
        for (size_t i = 0; i < sizeof(sample_labels) / sizeof(sample_labels[0]); i++) {
            json_t *labels = json_loads(sample_labels[i], 0, NULL);
            FUZZ_CHECK(jp_label_selector_matches_json(s, labels) ==
                           jp_label_selector_matches_json(again, labels),
                       "\"%s\" and its canonical form \"%s\" disagree on %s", text, canon.data,
                       sample_labels[i]);
            json_decref(labels);
        }
        jp_selector_free(again);
        jp_status_free(st2);
        jp_buf_free(&canon);
    } else {
        FUZZ_CHECK(st && jp_status_code(st) == 400, "a selector error must be a 400 Status");
    }
    jp_selector_free(s);
    jp_status_free(st);
    free(text);
    return 0;
}
