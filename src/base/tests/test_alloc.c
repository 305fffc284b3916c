/* Allocation helpers, and the switch that leaves long-lived memory to the process's end. */
#include "support/cm.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

static void formatting_allocates_the_whole_text(void **state)
{
    (void)state;
    char *s = jp_xasprintf("%s-%05d", "pod", 42);
    assert_string_equal(s, "pod-00042");
    free(s);
    char *t = jp_xstrndup("abcdef", 3);
    assert_string_equal(t, "abc");
    free(t);
}

/* Components free as usual until the command says the process ends; after that only a build
 * whose leak check runs at the end still frees. */
static void memory_is_left_to_the_end_only_once_the_process_ends(void **state)
{
    (void)state;
    assert_true(jp_free_at_stop());
    jp_process_ending();
    assert_int_equal(jp_free_at_stop(), JP_ASAN);
    char *kept = jp_xstrdup("kept");
    jp_keep_until_exit(kept); /* reachable from the library: no leak to report */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formatting_allocates_the_whole_text),
        cmocka_unit_test(memory_is_left_to_the_end_only_once_the_process_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
