#include "api/emit.h"
#include "base/jsonstr.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* jansson's parser refuses documents nested deeper (JSON_PARSER_MAX_DEPTH) */
#define EMIT_DEPTH_MAX 2048

static int put_integer(struct jp_buf *b, json_int_t v)
{
    char digits[24];
    char *p = digits + sizeof(digits);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return jp_buf_append(b, p, (size_t)(digits + sizeof(digits) - p));
}

static int put_real(struct jp_buf *b, const json_t *v)
{
    /* rare in Kubernetes objects; jansson's own text keeps its exact form (17 digits, ".0") */
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    if (text == NULL) return -1;
    int rc = jp_buf_append(b, text, strlen(text));
    free(text);
    return rc;
}

static int emit(struct jp_buf *b, const json_t *v, int depth)
{
    if (depth > EMIT_DEPTH_MAX) return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (jp_buf_appendc(b, '{') < 0) return -1;
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first && jp_buf_appendc(b, ',') < 0) return -1;
            first = false;
            if (jp_json_quote(b, json_object_iter_key(it), json_object_iter_key_len(it), 0) < 0 ||
                jp_buf_appendc(b, ':') < 0 || emit(b, json_object_iter_value(it), depth + 1) < 0)
                return -1;
        }
        return jp_buf_appendc(b, '}');
    }
    case JSON_ARRAY: {
        if (jp_buf_appendc(b, '[') < 0) return -1;
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++)
            if ((i > 0 && jp_buf_appendc(b, ',') < 0) ||
                emit(b, json_array_get(v, i), depth + 1) < 0)
                return -1;
        return jp_buf_appendc(b, ']');
    }
    case JSON_STRING:
        return jp_json_quote(b, json_string_value(v), json_string_length(v), 0);
    case JSON_INTEGER:
        return put_integer(b, json_integer_value(v));
    case JSON_REAL:
        return put_real(b, v);
    case JSON_TRUE:
        return jp_buf_append(b, "true", 4);
    case JSON_FALSE:
        return jp_buf_append(b, "false", 5);
    case JSON_NULL:
        return jp_buf_append(b, "null", 4);
    }
    return -1;
}

int jp_json_emit(struct jp_buf *b, const json_t *v)
{
    return v ? emit(b, v, 0) : -1;
}
