/* pods/exec's options, resize messages and final status (see execproto.h). No I/O: bytes and
 * strings in, structs and text out. */
#include "apiserver/execproto.h"
#include "base/alloc.h"
#include "base/jsonstr.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { SEEN_CONTAINER = 1, SEEN_STDIN = 2, SEEN_STDOUT = 4, SEEN_STDERR = 8, SEEN_TTY = 16 };

/* The API server's query conversion: the first value; "0" and "false" (any case) are false,
 * anything else - an empty value too - is true. */
static bool query_bool(const char *v)
{
    return !(v && (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0));
}

int jp_exec_opts_add(struct jp_exec_opts *o, const char *key, const char *value, const char **err)
{
    static const struct {
        const char *key;
        unsigned bit;
        size_t off;
    } flags[] = {
        {"stdin", SEEN_STDIN, offsetof(struct jp_exec_opts, stdin_)},
        {"stdout", SEEN_STDOUT, offsetof(struct jp_exec_opts, stdout_)},
        {"stderr", SEEN_STDERR, offsetof(struct jp_exec_opts, stderr_)},
        {"tty", SEEN_TTY, offsetof(struct jp_exec_opts, tty)},
    };
    if (key == NULL) return 0;
    if (strcmp(key, "command") == 0) {
        size_t len = value ? strlen(value) : 0;
        if (o->ncommand >= JP_EXEC_MAX_ARGS || o->bytes + len > JP_EXEC_MAX_BYTES) {
            *err = "the command is too long";
            return -1;
        }
        o->command = jp_xrealloc(o->command, (o->ncommand + 2) * sizeof(char *));
        o->command[o->ncommand++] = jp_xstrdup(value ? value : "");
        o->command[o->ncommand] = NULL;
        o->bytes += len;
        return 0;
    }
    if (strcmp(key, "container") == 0) {
        if (!(o->seen & SEEN_CONTAINER)) o->container = jp_xstrdup(value ? value : "");
        o->seen |= SEEN_CONTAINER;
        return 0;
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strcmp(key, flags[i].key) != 0) continue;
        if (!(o->seen & flags[i].bit)) *(bool *)((char *)o + flags[i].off) = query_bool(value);
        o->seen |= flags[i].bit;
    }
    return 0;
}

const char *jp_exec_opts_check(struct jp_exec_opts *o)
{
    if (o->tty) o->stderr_ = false;
    if (!o->stdin_ && !o->stdout_ && !o->stderr_)
        return "you must specify at least 1 of stdin, stdout, stderr";
    if (o->ncommand == 0) return "you must specify at least one command for the container";
    return NULL;
}

void jp_exec_opts_free(struct jp_exec_opts *o)
{
    for (size_t i = 0; i < o->ncommand; i++)
        free(o->command[i]);
    free(o->command);
    free(o->container);
    memset(o, 0, sizeof(*o));
}

/* ---- resize ---- */

static int dimension(json_t *v, uint16_t *out)
{
    if (json_is_null(v)) return 0; /* Go leaves the field as it was */
    if (!json_is_integer(v)) return -1;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > 65535) return -1;
    *out = (uint16_t)n;
    return 0;
}

int jp_exec_resize_parse(const char *p, size_t n, uint16_t *width, uint16_t *height)
{
    json_t *doc = json_loadb(p, n, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return -1;
    }
    uint16_t w = 0, h = 0;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(doc, key, v)
    {
        if (strcasecmp(key, "width") == 0)
            rc |= dimension(v, &w);
        else if (strcasecmp(key, "height") == 0)
            rc |= dimension(v, &h);
    }
    json_decref(doc);
    if (rc < 0) return -1;
    *width = w;
    *height = h;
    return 0;
}

/* ---- the final status ---- */

static int quoted(struct jp_buf *b, const char *s)
{
    return jp_json_quote(b, s, strlen(s), JP_JSON_HTML_ESCAPE);
}

int jp_exec_status(struct jp_buf *b, int version, enum jp_exec_end end, int code,
                   const char *message, char *const *argv, size_t argc)
{
    if (end == JP_EXEC_SUCCESS)
        return version >= 4 ? jp_buf_printf(b, "{\"metadata\":{},\"status\":\"Success\"}") : 0;
    struct jp_buf text;
    jp_buf_init(&text, SIZE_MAX);
    if (end == JP_EXEC_EXITED) {
        /* the container runtime's words (containerd, CRI-O), wrapped by the kubelet's */
        jp_buf_printf(&text,
                      "command terminated with non-zero exit code: error executing command [");
        for (size_t i = 0; i < argc; i++)
            jp_buf_printf(&text, "%s%s", i ? " " : "", argv[i]);
        jp_buf_printf(&text, "], exit code %d", code);
    } else {
        jp_buf_printf(&text, "Internal error occurred: %s", message ? message : "");
    }
    jp_buf_appendc(&text, '\0');
    int rc = 0;
    if (version < 4) {
        rc = jp_buf_append(b, text.data, text.len - 1);
    } else {
        rc |= jp_buf_printf(b, "{\"metadata\":{},\"status\":\"Failure\",\"message\":");
        rc |= quoted(b, text.data);
        if (end == JP_EXEC_EXITED) {
            rc |= jp_buf_printf(b,
                                ",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{"
                                "\"reason\":\"ExitCode\",\"message\":\"%d\"}]}}",
                                code);
        } else {
            rc |= jp_buf_printf(b, ",\"reason\":\"InternalError\",\"details\":{\"causes\":[{"
                                   "\"message\":");
            rc |= quoted(b, message ? message : "");
            rc |= jp_buf_printf(b, "}]},\"code\":500}");
        }
    }
    jp_buf_free(&text);
    return rc < 0 ? -1 : 0;
}
