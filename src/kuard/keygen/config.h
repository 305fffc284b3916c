/* The keygen workload's configuration, with the JSON shape of kuard's /keygen API. */
#ifndef KUARD_KEYGEN_CONFIG_H
#define KUARD_KEYGEN_CONFIG_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

struct keygen_config {
    bool enable;
    int64_t num_to_gen;  /* 0 = unlimited */
    int64_t time_to_run; /* seconds; 0 = unlimited */
    char *memq_server;   /* with memq_queue: pull one work item per key from a memq server */
    char *memq_queue;
    bool exit_on_complete;
    int64_t exit_code;
};

void keygen_config_copy(struct keygen_config *dst, const struct keygen_config *src);
void keygen_config_free(struct keygen_config *c);
bool keygen_config_uses_memq(const struct keygen_config *c);

/* {"enable":..,"numToGen":..,"timeToRun":..,"memQServer":..,"memQQueue":..,"exitOnComplete":..,
 *  "exitCode":..} in Go's field order. */
int keygen_config_json(const struct keygen_config *c, struct jp_buf *out);
/* Decodes a PUT body the way Go's json.Decoder fills a zero Config: missing fields stay zero,
 * unknown ones are ignored, keys match case-insensitively; type errors are JP_BAD_REQUEST with
 * Go's wording. */
int keygen_config_parse(const char *body, size_t len, struct keygen_config *out,
                        struct jp_err **err);

#endif
