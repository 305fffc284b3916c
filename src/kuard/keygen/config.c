/* Keygen configuration: copying, and its JSON form in both directions. */
#include "kuard/keygen/config.h"
#include "base/alloc.h"
#include "base/jsonstr.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_or_null(const char *s)
{
    return s ? jp_xstrdup(s) : NULL;
}

void keygen_config_copy(struct keygen_config *dst, const struct keygen_config *src)
{
    *dst = *src;
    dst->memq_server = dup_or_null(src->memq_server);
    dst->memq_queue = dup_or_null(src->memq_queue);
}

void keygen_config_free(struct keygen_config *c)
{
    free(c->memq_server);
    free(c->memq_queue);
    c->memq_server = c->memq_queue = NULL;
}

bool keygen_config_uses_memq(const struct keygen_config *c)
{
    return c->memq_server && *c->memq_server && c->memq_queue && *c->memq_queue;
}

static int quote(struct jp_buf *out, const char *s)
{
    s = s ? s : "";
    return jp_json_quote(out, s, strlen(s), JP_JSON_HTML_ESCAPE);
}

int keygen_config_json(const struct keygen_config *c, struct jp_buf *out)
{
    int rc = jp_buf_printf(
        out, "{\"enable\":%s,\"numToGen\":%lld,\"timeToRun\":%lld,\"memQServer\":",
        c->enable ? "true" : "false", (long long)c->num_to_gen, (long long)c->time_to_run);
    rc |= quote(out, c->memq_server);
    rc |= jp_buf_printf(out, ",\"memQQueue\":");
    rc |= quote(out, c->memq_queue);
    rc |= jp_buf_printf(out, ",\"exitOnComplete\":%s,\"exitCode\":%lld}",
                        c->exit_on_complete ? "true" : "false", (long long)c->exit_code);
    return rc ? -1 : 0;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

enum field_type { F_BOOL, F_INT, F_STRING };

static const struct field {
    const char *json;
    enum field_type type;
    size_t offset;
} fields[] = {
    {"enable", F_BOOL, offsetof(struct keygen_config, enable)},
    {"numToGen", F_INT, offsetof(struct keygen_config, num_to_gen)},
    {"timeToRun", F_INT, offsetof(struct keygen_config, time_to_run)},
    {"memQServer", F_STRING, offsetof(struct keygen_config, memq_server)},
    {"memQQueue", F_STRING, offsetof(struct keygen_config, memq_queue)},
    {"exitOnComplete", F_BOOL, offsetof(struct keygen_config, exit_on_complete)},
    {"exitCode", F_INT, offsetof(struct keygen_config, exit_code)},
};

static int set_field(struct keygen_config *c, const struct field *f, json_t *v, struct jp_err **err)
{
    static const char *const go_types[] = {"bool", "int", "string"};
    char *p = (char *)c + f->offset;
    if (json_is_null(v)) return 0; /* Go leaves the field as it was */
    bool ok = (f->type == F_BOOL && json_is_boolean(v)) ||
              (f->type == F_INT && json_is_integer(v)) ||
              (f->type == F_STRING && json_is_string(v));
    if (!ok) {
        if (json_is_real(v))
            return jp_err_set(err, JP_BAD_REQUEST, 0,
                              "json: cannot unmarshal number %g into Go struct field "
                              "Config.%s of type %s",
                              json_real_value(v), f->json, go_types[f->type]);
        return jp_err_set(err, JP_BAD_REQUEST, 0,
                          "json: cannot unmarshal %s into Go struct field Config.%s of type %s",
                          json_type_name(v), f->json, go_types[f->type]);
    }
    if (f->type == F_BOOL) {
        *(bool *)p = json_is_true(v);
    } else if (f->type == F_INT) {
        *(int64_t *)p = json_integer_value(v);
    } else {
        free(*(char **)p);
        *(char **)p = jp_xstrndup(json_string_value(v), json_string_length(v));
    }
    return 0;
}

int keygen_config_parse(const char *body, size_t len, struct keygen_config *out,
                        struct jp_err **err)
{
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len) return jp_err_set(err, JP_BAD_REQUEST, 0, "EOF");
    json_error_t jerr;
    /* Go's Decoder reads one value and ignores what follows it. */
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);
    if (doc == NULL) return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid JSON: %s", jerr.text);
    int rc = 0;
    if (!json_is_object(doc)) {
        if (!json_is_null(doc))
            rc = jp_err_set(err, JP_BAD_REQUEST, 0,
                            "json: cannot unmarshal %s into Go value of type keygen.Config",
                            json_type_name(doc));
        json_decref(doc);
        return rc;
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]) && rc == 0; f++)
            if (strcasecmp(key, fields[f].json) == 0) rc = set_field(out, &fields[f], v, err);
        if (rc < 0) break;
    }
    json_decref(doc);
    if (rc < 0) keygen_config_free(out);
    return rc;
}
