/* kuard's command line, parsed like Go's pflag: --flag=value and --flag value, booleans take no
 * separate value (--flag=false to unset), -- ends flags, other arguments are ignored. */
#ifndef KUARD_FLAGS_H
#define KUARD_FLAGS_H

#include "base/err.h"
#include "kuard/keygen/config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct kuard_config {
    char *address; /* ":8080": every address, port 8080 */
    bool debug;
    char *debug_sitedata_dir;
    char *tls_address;
    char *tls_dir;
    int64_t liveness_fail_next;
    int64_t readiness_fail_next;
    int64_t memq_max_bytes; /* jobplane addition: cap on memory held by queued messages */
    struct keygen_config keygen;
};

enum kuard_flags_result { KUARD_FLAGS_OK = 0, KUARD_FLAGS_HELP = 1, KUARD_FLAGS_ERROR = -1 };

/* Fills c (defaults first). On error, err holds pflag's message, e.g. "unknown flag: --x". */
enum kuard_flags_result kuard_flags_parse(int argc, char **argv, struct kuard_config *c,
                                          struct jp_err **err);
void kuard_flags_usage(FILE *out, const char *prog);
/* The Config dump kuard logs at start: the settings as indented JSON, keys sorted. */
char *kuard_config_dump(const struct kuard_config *c);
void kuard_config_free(struct kuard_config *c);

#endif
