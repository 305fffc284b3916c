/* Fuzz target for kuard's command line: the input split on NUL bytes is argv after "kuard"
 * (at most MAX_ARGS words), parsed with kuard_flags_parse; the config dump must then be JSON
 * that holds exactly the parsed values, nested as viper's AllSettings nests them. */
#include "fuzz_check.h"
#include "base/err.h"
#include "kuard/flags.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

enum field_type { F_BOOL, F_INT, F_STRING };

/* Where each setting lands in the dump: the group object ("" for the top level) and the key. */
static const struct field {
    const char *group, *key;
    enum field_type type;
    size_t offset;
} fields[] = {
    {"", "address", F_STRING, offsetof(struct kuard_config, address)},
    {"", "debug", F_BOOL, offsetof(struct kuard_config, debug)},
    {"", "debug-sitedata-dir", F_STRING, offsetof(struct kuard_config, debug_sitedata_dir)},
    {"", "memq-max-bytes", F_INT, offsetof(struct kuard_config, memq_max_bytes)},
    {"", "tls-address", F_STRING, offsetof(struct kuard_config, tls_address)},
    {"", "tls-dir", F_STRING, offsetof(struct kuard_config, tls_dir)},
    {"liveness", "fail-next", F_INT, offsetof(struct kuard_config, liveness_fail_next)},
    {"readiness", "fail-next", F_INT, offsetof(struct kuard_config, readiness_fail_next)},
#define KG(f) (offsetof(struct kuard_config, keygen) + offsetof(struct keygen_config, f))
    {"keygen", "enable", F_BOOL, KG(enable)},
    {"keygen", "exit-code", F_INT, KG(exit_code)},
    {"keygen", "exit-on-complete", F_BOOL, KG(exit_on_complete)},
    {"keygen", "memq-queue", F_STRING, KG(memq_queue)},
    {"keygen", "memq-server", F_STRING, KG(memq_server)},
    {"keygen", "num-to-gen", F_INT, KG(num_to_gen)},
    {"keygen", "time-to-run", F_INT, KG(time_to_run)},
#undef KG
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static void check_field(const json_t *doc, const struct kuard_config *c, const struct field *f)
{
    const json_t *obj = *f->group ? json_object_get(doc, f->group) : doc;
    const json_t *v = json_object_get(obj, f->key);
    const void *p = (const char *)c + f->offset;
    FUZZ_CHECK(v != NULL, "dump lacks %s.%s", f->group, f->key);
    if (f->type == F_BOOL) {
        FUZZ_CHECK(json_is_boolean(v) && json_is_true(v) == *(const bool *)p,
                   "dump %s.%s is not the parsed bool", f->group, f->key);
    } else if (f->type == F_INT) {
        FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == *(const int64_t *)p,
                   "dump %s.%s is not the parsed integer", f->group, f->key);
    } else {
        const char *s = *(char *const *)p;
        size_t len;
        char *want = fuzz_go_string(s, strlen(s), &len);
        FUZZ_CHECK(json_is_string(v) && json_string_length(v) == len &&
                       memcmp(json_string_value(v), want, len) == 0,
                   "dump %s.%s is not the parsed string \"%s\"", f->group, f->key, s);
        free(want);
    }
}

/* Every setting appears once, where viper puts it, and nothing else does. */
static void check_dump(const struct kuard_config *c)
{
    char *dump = kuard_config_dump(c);
    json_error_t jerr;
    json_t *doc = json_loads(dump, 0, &jerr);
    FUZZ_CHECK(doc != NULL && json_is_object(doc),
               "config dump is not JSON (%s at byte %d): %.300s", jerr.text, jerr.position, dump);
    size_t top = 0;
    for (size_t i = 0; i < NFIELDS; i++) {
        check_field(doc, c, &fields[i]);
        top += *fields[i].group == '\0' || i == 0 || strcmp(fields[i].group, fields[i - 1].group);
    }
    FUZZ_CHECK(json_object_size(doc) == top &&
                   json_object_size(json_object_get(doc, "keygen")) == 7,
               "config dump has unexpected keys: %.300s", dump);
    json_decref(doc);
    free(dump);
}

/* -h/--help prints the flag table: every flag must be in it. */
static void check_usage(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FUZZ_CHECK(out != NULL, "open_memstream failed");
    kuard_flags_usage(out, "kuard");
    FUZZ_CHECK(fclose(out) == 0, "usage text could not be written");
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        char name[64];
        snprintf(name, sizeof(name), "--%s%s%s ", f->group, *f->group ? "-" : "", f->key);
        FUZZ_CHECK(strstr(text, name) != NULL, "usage lacks %s", name);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char *argv[MAX_ARGS + 2] = {"kuard"};
    int argc = 1;
    /* A trailing NUL ends the last word rather than starting an empty one. */
    for (size_t i = 0; i < size && argc <= MAX_ARGS; i += strlen(text + i) + 1)
        argv[argc++] = text + i;

    struct kuard_config c;
    struct jp_err *err = NULL;
    enum kuard_flags_result res = kuard_flags_parse(argc, argv, &c, &err);
    FUZZ_CHECK((res == KUARD_FLAGS_ERROR) == (err != NULL), "result %d with error %s", res,
               err ? err->msg : "(none)");
    if (err) {
        FUZZ_CHECK(err->msg[0] != '\0' && strpbrk(err->msg, "\r\n") == NULL,
                   "error message is empty or not one line: %s", err->msg);
        jp_err_free(err);
    }
    if (res == KUARD_FLAGS_OK) check_dump(&c);
    if (res == KUARD_FLAGS_HELP) check_usage();
    kuard_config_free(&c);
    free(text);
    return 0;
}
