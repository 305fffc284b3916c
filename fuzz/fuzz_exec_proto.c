/* Fuzz target for pods/exec's pure parts. The input is read twice: as query arguments
 * (`key=value&...`, the way MHD hands them over) for the exec options, and whole as one resize
 * message. No input may crash; the options keep their caps and a NULL-terminated argv; an
 * accepted resize message is a JSON object; the final Status built from the fuzzed command is
 * valid JSON (v4) whose ExitCode cause is the code kubectl will exit with. */
#include "fuzz_check.h"
#include "apiserver/execproto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void check_status(const struct jp_exec_opts *o, int code)
{
    struct jp_buf b;
    jp_buf_init(&b, SIZE_MAX);
    FUZZ_CHECK(jp_exec_status(&b, 4, JP_EXEC_EXITED, code, NULL, o->command, o->ncommand) == 0,
               "status not written");
    json_error_t je;
    json_t *doc = json_loadb(b.data, b.len, 0, &je);
    FUZZ_CHECK(doc != NULL, "status is not JSON: %s", je.text);
    const char *cause = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(doc, "details"), "causes"), 0), "message"));
    FUZZ_CHECK(cause && atoi(cause) == code, "exit code cause %s for %d", cause ? cause : "-",
               code);
    json_decref(doc);
    jp_buf_reset(&b);
    FUZZ_CHECK(
        jp_exec_status(&b, 4, JP_EXEC_INTERNAL, 0, o->ncommand ? o->command[0] : "", NULL, 0) == 0,
        "internal status not written");
    doc = json_loadb(b.data, b.len, 0, &je);
    FUZZ_CHECK(doc != NULL, "internal status is not JSON: %s", je.text);
    json_decref(doc);
    jp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct jp_exec_opts o = {0};
    char *save = text, *arg;
    const char *err = NULL;
    while ((arg = strsep(&save, "&")) != NULL) {
        char *eq = strchr(arg, '=');
        if (eq) *eq++ = '\0';
        if (jp_exec_opts_add(&o, arg, eq, &err) < 0) {
            FUZZ_CHECK(err != NULL, "a refusal without a message");
            break;
        }
    }
    FUZZ_CHECK(o.ncommand <= JP_EXEC_MAX_ARGS && o.bytes <= JP_EXEC_MAX_BYTES, "caps broken");
    FUZZ_CHECK(o.ncommand == 0 || o.command[o.ncommand] == NULL, "argv not NULL-terminated");
    jp_exec_opts_check(&o);
    FUZZ_CHECK(!(o.tty && o.stderr_), "a terminal kept its stderr");
    check_status(&o, (int)(size % 256));
    jp_exec_opts_free(&o);
    uint16_t w, h;
    if (jp_exec_resize_parse((const char *)data, size, &w, &h) == 0) {
        json_t *doc = json_loadb((const char *)data, size, 0, NULL);
        FUZZ_CHECK(json_is_object(doc), "accepted a resize message that is not an object");
        json_decref(doc);
    }
    free(text);
    return 0;
}
