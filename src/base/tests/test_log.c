/* Log record layouts: klog text, klog JSON, Go log; verbosity gating. */
#include "support/cm.h"
#include "base/log.h"

#include <regex.h>
#include <string.h>
#include <unistd.h>

static char out[4096];

static const char *capture(enum jp_log_format f, int v, enum jp_log_level level, const char *msg)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    jp_log_setup(f, v, p[1]);
    jp_log(level, "kuard", "%s", msg);
    close(p[1]);
    ssize_t n = read(p[0], out, sizeof(out) - 1);
    close(p[0]);
    out[n < 0 ? 0 : n] = '\0';
    jp_log_setup(JP_LOG_TEXT, 0, 2);
    return out;
}

static void matches(const char *s, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, s, 0, NULL, 0);
    regfree(&re);
    if (rc != 0) fail_msg("\"%s\" does not match %s", s, pattern);
}

static void text_format(void **state)
{
    (void)state;
    matches(capture(JP_LOG_TEXT, 0, JP_INFO, "hello"),
            "^I[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} +[0-9]+ kuard\\] hello\n$");
    matches(capture(JP_LOG_TEXT, 0, JP_WARN, "w"), "^W[0-9]{4} .* kuard\\] w\n$");
    matches(capture(JP_LOG_TEXT, 0, JP_ERROR, "e"), "^E[0-9]{4} .* kuard\\] e\n$");
}

static void json_format(void **state)
{
    (void)state;
    matches(capture(JP_LOG_JSON, 0, JP_INFO, "a \"q\"\n"),
            "^\\{\"ts\":[0-9]+\\.[0-9]{3},\"caller\":\"kuard\",\"msg\":\"a \\\\\"q\\\\\"\\\\n\","
            "\"v\":0\\}\n$");
    matches(capture(JP_LOG_JSON, 0, JP_ERROR, "bad"), "\"msg\":\"bad\",\"level\":\"error\"\\}\n$");
}

static void go_format(void **state)
{
    (void)state;
    matches(capture(JP_LOG_GOSTD, 0, JP_INFO, "(ID 0 1/10) Item done: SHA256:x"),
            "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \\(ID 0 1/10\\) Item done: "
            "SHA256:x\n$");
}

static void debug_needs_verbosity(void **state)
{
    (void)state;
    assert_string_equal(capture(JP_LOG_TEXT, 0, JP_DEBUG, "quiet"), "");
    matches(capture(JP_LOG_TEXT, 1, JP_DEBUG, "loud"), "kuard\\] loud\n$");
}

static void long_message_is_cut_not_overflowed(void **state)
{
    (void)state;
    static char big[20000];
    memset(big, 'x', sizeof(big) - 1);
    int p[2];
    assert_int_equal(pipe(p), 0);
    jp_log_setup(JP_LOG_TEXT, 0, p[1]);
    jp_log(JP_INFO, "t", "%s", big);
    close(p[1]);
    size_t total = 0;
    ssize_t n;
    while ((n = read(p[0], out, sizeof(out))) > 0)
        total += (size_t)n;
    close(p[0]);
    jp_log_setup(JP_LOG_TEXT, 0, 2);
    assert_true(total > 16000 && total < 16500);
}

static void format_names(void **state)
{
    (void)state;
    enum jp_log_format f;
    assert_int_equal(jp_log_format_parse("json", &f, NULL), 0);
    assert_int_equal(f, JP_LOG_JSON);
    assert_int_equal(jp_log_format_parse("text", &f, NULL), 0);
    assert_int_equal(f, JP_LOG_TEXT);
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    assert_int_equal(jp_log_format_parse("xml", &f, &err), -1);
    assert_string_equal(err->msg, "unsupported logging format \"xml\" (want text or json)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_format),
        cmocka_unit_test(json_format),
        cmocka_unit_test(go_format),
        cmocka_unit_test(debug_needs_verbosity),
        cmocka_unit_test(long_message_is_cut_not_overflowed),
        cmocka_unit_test(format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
