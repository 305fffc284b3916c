/* Server-side printing: meta.k8s.io Tables built from the projections' precomputed cells, with
 * time-dependent cells (ages, durations) rendered for this request. */
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/jsonstr.h"

#include <stdlib.h>
#include <string.h>

bool wants_table(struct apireq *q, const char **content_type)
{
    const char *accept = req_header(q, "Accept");
    if (accept == NULL || strstr(accept, "as=Table") == NULL) return false;
    bool found = false, v1 = false;
    char *copy = jp_xstrdup(accept), *save = NULL;
    for (char *range = strtok_r(copy, ",", &save); range; range = strtok_r(NULL, ",", &save)) {
        if (!strstr(range, "as=Table") || !strstr(range, "g=meta.k8s.io")) continue;
        found = true;
        const char *v = strstr(range, "v=v1");
        if (v && (v[4] == '\0' || v[4] == ';' || v[4] == ' ')) v1 = true;
    }
    free(copy);
    if (!found) return false;
    *content_type = v1 ? "application/json;as=Table;v=v1;g=meta.k8s.io"
                       : "application/json;as=Table;v=v1beta1;g=meta.k8s.io";
    return true;
}

static void quoted(struct jp_buf *b, const char *s)
{
    jp_json_quote(b, s, strlen(s), 0);
}

void table_begin(struct jp_buf *b, const struct jp_kind *k, bool columns, uint64_t rv,
                 const char *cont)
{
    jp_buf_printf(b, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{");
    if (rv) jp_buf_printf(b, "\"resourceVersion\":\"%llu\"", (unsigned long long)rv);
    if (cont && *cont) jp_buf_printf(b, ",\"continue\":\"%s\"", cont);
    jp_buf_printf(b, "},\"columnDefinitions\":");
    if (!columns) {
        jp_buf_printf(b, "null,\"rows\":[");
        return;
    }
    jp_buf_appendc(b, '[');
    for (const struct jp_column *c = k->ops->columns; c->name; c++) {
        jp_buf_printf(b, "%s{\"name\":", c == k->ops->columns ? "" : ",");
        quoted(b, c->name);
        jp_buf_printf(b, ",\"type\":\"%s\",\"format\":\"%s\",\"description\":", c->type, c->format);
        quoted(b, c->description);
        jp_buf_printf(b, ",\"priority\":%d}", c->priority);
    }
    jp_buf_printf(b, "],\"rows\":[");
}

void table_row(struct jp_buf *b, const struct jp_obj *o, int64_t now, const char *include,
               bool first)
{
    const struct jp_proj *p = jp_proj_of(o);
    jp_buf_printf(b, "%s{\"cells\":[", first ? "" : ",");
    struct jp_buf cell;
    jp_buf_init(&cell, 1 << 20);
    for (size_t i = 0; i < p->ncells; i++) {
        if (i) jp_buf_appendc(b, ',');
        if (p->cells[i].type == JP_CELL_INT) {
            jp_buf_printf(b, "%lld", (long long)p->cells[i].num);
            continue;
        }
        jp_buf_reset(&cell);
        jp_cell_render(&p->cells[i], now, &cell);
        quoted(b, cell.data ? cell.data : "");
    }
    jp_buf_free(&cell);
    jp_buf_appendc(b, ']');
    if (include == NULL || strcmp(include, "Metadata") == 0) {
        jp_buf_printf(b, ",\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":"
                         "\"meta.k8s.io/v1\",\"metadata\":");
        jp_buf_append(b, o->json + p->meta_off, p->meta_len);
        jp_buf_appendc(b, '}');
    } else if (strcmp(include, "Object") == 0) {
        jp_buf_printf(b, ",\"object\":");
        jp_buf_append(b, o->json, o->len);
    }
    jp_buf_appendc(b, '}');
}

void table_end(struct jp_buf *b)
{
    jp_buf_printf(b, "]}");
}
