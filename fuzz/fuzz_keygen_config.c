/* Fuzz target for the keygen config decoder behind PUT /keygen: keygen_config_parse on the input
 * as a request body; what it accepts must re-encode (keygen_config_json) to JSON that decodes to
 * the same config. */
#include "fuzz_check.h"
#include "base/err.h"
#include "kuard/keygen/config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_JSON_MAX (1u << 20)

static bool same_string(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0; /* the JSON form writes NULL as "" */
}

static void check_same(const struct keygen_config *a, const struct keygen_config *b,
                       const char *json)
{
    FUZZ_CHECK(a->enable == b->enable && a->num_to_gen == b->num_to_gen &&
                   a->time_to_run == b->time_to_run && a->exit_on_complete == b->exit_on_complete &&
                   a->exit_code == b->exit_code && same_string(a->memq_server, b->memq_server) &&
                   same_string(a->memq_queue, b->memq_queue),
               "config does not round-trip through %s", json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keygen_config c, again;
    struct jp_err *err = NULL;
    if (keygen_config_parse((const char *)data, size, &c, &err) < 0) {
        FUZZ_CHECK(err != NULL && err->msg[0] != '\0', "parse failed without an error");
        FUZZ_CHECK(c.memq_server == NULL && c.memq_queue == NULL,
                   "failed parse left strings behind");
        jp_err_free(err);
        return 0;
    }
    FUZZ_CHECK(err == NULL, "parse succeeded with an error: %s", err->msg);

    struct jp_buf json;
    jp_buf_init(&json, CONFIG_JSON_MAX);
    FUZZ_CHECK(keygen_config_json(&c, &json) == 0, "config JSON over %u bytes", CONFIG_JSON_MAX);
    FUZZ_CHECK(keygen_config_parse(json.data, json.len, &again, &err) == 0,
               "re-encoded config %s does not parse: %s", json.data, err ? err->msg : "");
    check_same(&c, &again, json.data);
    keygen_config_free(&again);
    keygen_config_free(&c);
    jp_buf_free(&json);
    return 0;
}
