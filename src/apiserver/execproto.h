/* The pure parts of pods/exec, unit-tested and fuzzed: the request's options (query arguments as
 * the API server's parameter codec reads them), the resize stream's messages, and what the error
 * stream carries at the end (a Status object, per remotecommand protocol version). */
#ifndef JP_APISERVER_EXECPROTO_H
#define JP_APISERVER_EXECPROTO_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JP_EXEC_MAX_ARGS  4096
#define JP_EXEC_MAX_BYTES (256u * 1024) /* of the command, all arguments together */

struct jp_exec_opts {
    char **command; /* NULL-terminated once an argument is added */
    size_t ncommand, bytes;
    char *container; /* NULL: not given */
    bool stdin_, stdout_, stderr_, tty;
    unsigned seen; /* options already set: the first occurrence counts, as in the API server */
};

/* One query argument (value NULL for a bare key). Repeated `command` arguments make the argv in
 * order; other options keep their first value; unknown keys are ignored. -1 with *err (static)
 * when the command goes over the caps. */
int jp_exec_opts_add(struct jp_exec_opts *o, const char *key, const char *value, const char **err);
/* What the kubelet refuses before upgrading: NULL when the options can run, else the message.
 * A TTY gets no stderr stream (its output is the terminal's), as the kubelet rules. */
const char *jp_exec_opts_check(struct jp_exec_opts *o);
void jp_exec_opts_free(struct jp_exec_opts *o);

/* One message of the resize stream (`{"Width":80,"Height":24}`; keys match without regard to
 * case, as Go's decoder does; other keys are ignored). 0, or -1 for anything else. */
int jp_exec_resize_parse(const char *p, size_t n, uint16_t *width, uint16_t *height);

/* How the command ended. */
enum jp_exec_end {
    JP_EXEC_SUCCESS,  /* exit code 0 */
    JP_EXEC_EXITED,   /* a non-zero exit code */
    JP_EXEC_INTERNAL, /* it could not run: message says why */
};

/* Appends what the error stream carries for protocol `version` (2, 3 or 4): v4 a Status JSON
 * object (Success; Failure NonZeroExitCode with the ExitCode cause kubectl exits with; Failure
 * InternalError), older versions the message text alone (nothing on success). argv names the
 * command in the exit message. -1 when b's cap is hit. */
int jp_exec_status(struct jp_buf *b, int version, enum jp_exec_end end, int code,
                   const char *message, char *const *argv, size_t argc);

#endif
