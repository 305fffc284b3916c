/* The YAML event walker: libyaml's events to jansson values with go-yaml v2's mapping rules
 * (scalar keys, merge keys, aliases as copies), under the node and depth caps of yaml.h. */
#include "codec/yaml.h"
#include "codec/yaml-internal.h"
#include "base/alloc.h"

#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define NO_ANCHOR SIZE_MAX

/* The size of a value, what an alias copying it costs: JSON values, bytes of strings and keys
 * (upper bounds when a merge dropped some), and nesting levels. */
struct cost {
    size_t nodes, bytes, height;
};

/* An anchored node, kept for the aliases that follow it in its document. */
struct anchor {
    bool open;   /* still being built: an alias to it now would contain itself */
    json_t *val; /* a sequence or mapping; NULL for a scalar */
    struct cost cost;
    char *tag; /* a scalar is resolved again at each use, since a key and a value differ */
    char *text;
    size_t len;
    bool plain;
};

/* A sequence or mapping being built. */
struct frame {
    json_t *val;
    bool is_map;
    size_t anchor;    /* index in walker.anchors, or NO_ANCHOR */
    struct cost cost; /* of this subtree so far */
    yaml_mark_t mark;
    /* mappings: the key waiting for its value, and what is set already */
    char *key;
    size_t key_len;
    bool have_key, key_is_merge;
    yaml_mark_t key_mark;
    json_t *lines;     /* key -> line it was set at; 0 for a key a merge added */
    size_t merge_line; /* line of this mapping's "<<", 0 if none yet */
};

struct walker {
    yaml_parser_t parser;
    struct jp_err **err;
    struct frame *stack; /* grows up to JP_YAML_MAX_DEPTH */
    size_t depth, stack_alloc;
    struct cost total; /* produced in this call, checked against the caps of yaml.h */
    struct anchor *anchors;
    size_t nanchors, anchors_alloc;
    json_t *anchor_ix; /* anchor name -> index in anchors, for the current document */
    json_t **docs;
    size_t ndocs, docs_alloc;
};

static int fail(struct walker *w, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct walker *w, yaml_mark_t m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = jp_xvasprintf(fmt, ap);
    va_end(ap);
    return jp_err_set(w->err, JP_BAD_REQUEST, 0, "yaml: line %zu, column %zu: %s", m.line + 1,
                      m.column + 1, msg);
}

/* Adds the position to an error the scalar resolver set. */
static int wrap(struct walker *w, yaml_mark_t m)
{
    return jp_err_wrap(w->err, "yaml: line %zu, column %zu", m.line + 1, m.column + 1);
}

static int oom(struct walker *w)
{
    return jp_err_set(w->err, JP_INTERNAL, 0, "yaml: out of memory building JSON");
}

static void grow(void **p, size_t *alloc, size_t used, size_t elem)
{
    if (used < *alloc) return;
    *alloc = *alloc ? *alloc * 2 : 8;
    *p = jp_xrealloc(*p, *alloc * elem);
}

/* Accounts for more JSON values and text: the caps that defuse alias bombs. */
static int count(struct walker *w, size_t nodes, size_t bytes, yaml_mark_t m)
{
    if (nodes > JP_YAML_MAX_NODES - w->total.nodes)
        return fail(w, m, "document expands to more than %d JSON values", JP_YAML_MAX_NODES);
    if (bytes > JP_YAML_MAX_BYTES - w->total.bytes)
        return fail(w, m, "document expands to more than %d bytes of text", JP_YAML_MAX_BYTES);
    w->total.nodes += nodes;
    w->total.bytes += bytes;
    return 0;
}

static int parser_fail(struct walker *w)
{
    const yaml_parser_t *p = &w->parser;
    const char *problem = p->problem ? p->problem : "unknown problem parsing YAML content";
    if (p->error == YAML_MEMORY_ERROR)
        return jp_err_set(w->err, JP_INTERNAL, 0, "yaml: %s", problem);
    if (p->error == YAML_READER_ERROR) { /* encoding problems: no line is known yet */
        if (p->problem_value == -1)
            return jp_err_set(w->err, JP_BAD_REQUEST, 0, "yaml: byte offset %zu: %s",
                              p->problem_offset, problem);
        return jp_err_set(w->err, JP_BAD_REQUEST, 0, "yaml: byte offset %zu: %s #x%X",
                          p->problem_offset, problem, (unsigned)p->problem_value);
    }
    if (p->context != NULL)
        return fail(w, p->problem_mark, "%s (%s at line %zu, column %zu)", problem, p->context,
                    p->context_mark.line + 1, p->context_mark.column + 1);
    return fail(w, p->problem_mark, "%s", problem);
}

static int anchor_new(struct walker *w, const char *name, size_t *idx)
{
    grow((void **)&w->anchors, &w->anchors_alloc, w->nanchors, sizeof(*w->anchors));
    /* a later anchor of the same name takes over for the aliases after it */
    if (json_object_set_new(w->anchor_ix, name, json_integer((json_int_t)w->nanchors)) < 0)
        return oom(w);
    *idx = w->nanchors;
    w->anchors[w->nanchors++] = (struct anchor){.open = false};
    return 0;
}

static void clear_anchors(struct walker *w)
{
    for (size_t i = 0; i < w->nanchors; i++) {
        json_decref(w->anchors[i].val);
        free(w->anchors[i].tag);
        free(w->anchors[i].text);
    }
    w->nanchors = 0;
    json_object_clear(w->anchor_ix);
}

static bool in_key(const struct walker *w)
{
    return w->depth > 0 && w->stack[w->depth - 1].is_map && !w->stack[w->depth - 1].have_key;
}

static int set_key(struct walker *w, struct frame *f, const char *key, size_t len, json_t *v)
{
    json_t *seen = json_object_getn(f->lines, key, len);
    if (seen != NULL && json_integer_value(seen) > 0) {
        char buf[72];
        json_decref(v);
        return fail(w, f->key_mark,
                    "mapping key \"%s\" already defined at line %" JSON_INTEGER_FORMAT,
                    jp_yaml__show(key, len, buf, sizeof(buf)), json_integer_value(seen));
    }
    /* a key a merge added is overridden in place: the mapping's own keys win */
    json_t *line = json_integer((json_int_t)f->key_mark.line + 1);
    if (json_object_setn_new(f->val, key, len, v) < 0 ||
        json_object_setn_new(f->lines, key, len, line) < 0)
        return oom(w);
    return 0;
}

/* Adds the keys of src the mapping does not have yet. */
static int merge_one(struct walker *w, struct frame *f, json_t *src)
{
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(src, k, klen, v)
    {
        if (json_object_getn(f->val, k, klen) != NULL) continue;
        if (count(w, 0, klen, f->key_mark) < 0) return -1; /* the mapping copies the key */
        f->cost.bytes += klen;
        if (json_object_setn(f->val, k, klen, v) < 0 ||
            json_object_setn_new(f->lines, k, klen, json_integer(0)) < 0)
            return oom(w);
    }
    return 0;
}

/* "<<: *a" or "<<: [*a, *b]": earlier sources win over later ones. */
static int merge(struct walker *w, struct frame *f, json_t *src, yaml_mark_t m)
{
    size_t i;
    json_t *e;
    if (json_is_object(src)) return merge_one(w, f, src);
    if (!json_is_array(src)) goto bad;
    json_array_foreach(src, i, e) if (!json_is_object(e)) goto bad;
    json_array_foreach(src, i, e) if (merge_one(w, f, e) < 0) return -1;
    return 0;
bad:
    return fail(w, m, "map merge requires map or sequence of maps as the value");
}

/* Hands a finished value (taking ownership) to the open container, or makes it a document. */
static int add_value(struct walker *w, json_t *v, struct cost c, yaml_mark_t m)
{
    if (w->depth == 0) {
        grow((void **)&w->docs, &w->docs_alloc, w->ndocs, sizeof(*w->docs));
        w->docs[w->ndocs++] = v;
        return 0;
    }
    struct frame *f = &w->stack[w->depth - 1];
    f->cost.nodes += c.nodes;
    f->cost.bytes += c.bytes;
    if (c.height + 1 > f->cost.height) f->cost.height = c.height + 1;
    if (!f->is_map) return json_array_append_new(f->val, v) < 0 ? oom(w) : 0;
    _cleanup_free_ char *key = JP_STEAL(f->key);
    f->have_key = false;
    if (f->key_is_merge) {
        f->key_is_merge = false;
        int rc = merge(w, f, v, m);
        json_decref(v);
        return rc;
    }
    return set_key(w, f, key, f->key_len, v);
}

static int add_scalar(struct walker *w, const char *tag, const char *text, size_t len, bool plain,
                      yaml_mark_t m)
{
    struct jp_yaml__scalar s;
    if (jp_yaml__resolve(tag, text, len, plain, &s, w->err) < 0) return wrap(w, m);
    if (count(w, 1, len, m) < 0) return -1;
    json_t *v = jp_yaml__to_json(&s, w->err);
    if (v == NULL) return wrap(w, m);
    return add_value(w, v, (struct cost){.nodes = 1, .bytes = len}, m);
}

/* A scalar in key position. direct: written here, not reached through an alias. */
static int add_key(struct walker *w, const char *tag, const char *text, size_t len, bool plain,
                   yaml_mark_t m, bool direct)
{
    struct frame *f = &w->stack[w->depth - 1];
    struct jp_yaml__scalar s;
    f->key_mark = m;
    if (direct && len == 2 && memcmp(text, "<<", 2) == 0 &&
        ((tag == NULL && plain) || (tag != NULL && strcmp(tag, JP_YAML__TAG_MERGE) == 0))) {
        if (f->merge_line != 0)
            return fail(w, m, "mapping key \"<<\" already defined at line %zu", f->merge_line);
        f->merge_line = m.line + 1;
        f->have_key = f->key_is_merge = true;
        return 0;
    }
    if (jp_yaml__resolve(tag, text, len, plain, &s, w->err) < 0) return wrap(w, m);
    f->key = jp_yaml__to_key(&s, &f->key_len, w->err);
    if (f->key == NULL) return wrap(w, m);
    f->have_key = true;
    if (count(w, 0, f->key_len, m) < 0) return -1;
    f->cost.bytes += f->key_len;
    return 0;
}

static int on_scalar(struct walker *w, const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *text = (const char *)ev->data.scalar.value;
    const char *anchor = (const char *)ev->data.scalar.anchor;
    size_t len = ev->data.scalar.length, a;
    bool plain = ev->data.scalar.plain_implicit;
    if (anchor != NULL) {
        if (anchor_new(w, anchor, &a) < 0) return -1;
        w->anchors[a].tag = tag ? jp_xstrdup(tag) : NULL;
        w->anchors[a].text = jp_xmalloc(len + 1);
        memcpy(w->anchors[a].text, text, len + 1);
        w->anchors[a].len = len;
        w->anchors[a].plain = plain;
    }
    if (w->depth == 0 && len == 0 && plain && tag == NULL && anchor == NULL)
        return 0; /* a document with no content */
    if (in_key(w)) return add_key(w, tag, text, len, plain, ev->start_mark, true);
    return add_scalar(w, tag, text, len, plain, ev->start_mark);
}

static int on_alias(struct walker *w, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    yaml_mark_t m = ev->start_mark;
    char buf[72];
    json_t *ix = json_object_get(w->anchor_ix, name);
    if (ix == NULL)
        return fail(w, m, "unknown anchor '%s' referenced",
                    jp_yaml__show(name, strlen(name), buf, sizeof(buf)));
    const struct anchor *a = &w->anchors[json_integer_value(ix)];
    if (a->open)
        return fail(w, m, "anchor '%s' value contains itself",
                    jp_yaml__show(name, strlen(name), buf, sizeof(buf)));
    if (in_key(w)) {
        if (a->val != NULL)
            return fail(w, m, "invalid map key: alias '%s' is a %s",
                        jp_yaml__show(name, strlen(name), buf, sizeof(buf)),
                        json_is_object(a->val) ? "mapping" : "sequence");
        return add_key(w, a->tag, a->text, a->len, a->plain, m, false);
    }
    if (a->val == NULL) return add_scalar(w, a->tag, a->text, a->len, a->plain, m);
    if (w->depth + a->cost.height > JP_YAML_MAX_DEPTH)
        return fail(w, m, "alias '%s' nests deeper than %d levels",
                    jp_yaml__show(name, strlen(name), buf, sizeof(buf)), JP_YAML_MAX_DEPTH);
    if (count(w, a->cost.nodes, a->cost.bytes, m) < 0) return -1;
    json_t *copy = json_deep_copy(a->val);
    if (copy == NULL) return oom(w);
    return add_value(w, copy, a->cost, m);
}

/* A tag on a sequence or mapping: its own, or the non-specific "!". */
static int check_container_tag(struct walker *w, const char *tag, bool is_map, yaml_mark_t m)
{
    char tbuf[64];
    if (tag == NULL || strcmp(tag, "!") == 0 ||
        strcmp(tag, is_map ? JP_YAML__TAG_MAP : JP_YAML__TAG_SEQ) == 0)
        return 0;
    if (strncmp(tag, JP_YAML__TAG_PREFIX, strlen(JP_YAML__TAG_PREFIX)) == 0)
        return fail(w, m, "cannot decode %s as a %s", is_map ? "!!map" : "!!seq",
                    jp_yaml__short_tag(tag, tbuf, sizeof(tbuf)));
    return fail(w, m, "unknown tag %s", jp_yaml__short_tag(tag, tbuf, sizeof(tbuf)));
}

static int on_start(struct walker *w, const yaml_event_t *ev, bool is_map)
{
    const char *tag =
        (const char *)(is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
    const char *anchor =
        (const char *)(is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
    yaml_mark_t m = ev->start_mark;
    size_t a = NO_ANCHOR;
    if (in_key(w)) return fail(w, m, "invalid map key: a %s", is_map ? "mapping" : "sequence");
    if (check_container_tag(w, tag, is_map, m) < 0) return -1;
    if (w->depth >= JP_YAML_MAX_DEPTH)
        return fail(w, m, "nesting deeper than %d levels", JP_YAML_MAX_DEPTH);
    if (count(w, 1, 0, m) < 0) return -1;
    if (anchor != NULL) {
        if (anchor_new(w, anchor, &a) < 0) return -1;
        w->anchors[a].open = true;
    }
    grow((void **)&w->stack, &w->stack_alloc, w->depth, sizeof(*w->stack));
    struct frame *f = &w->stack[w->depth];
    *f = (struct frame){.is_map = is_map, .anchor = a, .cost = {1, 0, 1}, .mark = m};
    f->val = is_map ? json_object() : json_array();
    f->lines = is_map ? json_object() : NULL;
    w->depth++; /* now the walker frees what was allocated */
    if (f->val == NULL || (is_map && f->lines == NULL)) return oom(w);
    return 0;
}

static int on_end(struct walker *w)
{
    struct frame *f = &w->stack[--w->depth];
    json_t *v = JP_STEAL(f->val);
    json_decref(JP_STEAL(f->lines));
    free(JP_STEAL(f->key));
    if (f->anchor != NO_ANCHOR) {
        struct anchor *a = &w->anchors[f->anchor];
        a->val = json_incref(v);
        a->cost = f->cost;
        a->open = false;
    }
    return add_value(w, v, f->cost, f->mark);
}

static int on_event(struct walker *w, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return on_scalar(w, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(w, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(w, ev, false);
    case YAML_MAPPING_START_EVENT:
        return on_start(w, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(w);
    case YAML_DOCUMENT_END_EVENT: /* anchors do not cross documents */
        clear_anchors(w);
        return 0;
    default: /* stream and document starts */
        return 0;
    }
}

static int walk(struct walker *w)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&w->parser, &ev)) return parser_fail(w);
        int rc = on_event(w, &ev);
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (rc < 0 || end) return rc;
    }
}

static void walker_free(struct walker *w)
{
    while (w->depth > 0) {
        struct frame *f = &w->stack[--w->depth];
        json_decref(f->val);
        json_decref(f->lines);
        free(f->key);
    }
    free(w->stack);
    clear_anchors(w);
    free(w->anchors);
    json_decref(w->anchor_ix);
    jp_yaml_docs_free(w->docs, w->ndocs);
    yaml_parser_delete(&w->parser);
    free(w);
}

int jp_yaml_load(const char *text, size_t len, json_t ***docs, size_t *ndocs, struct jp_err **err)
{
    *docs = NULL;
    *ndocs = 0;
    /* strtod and printf read the decimal point from the locale; YAML's is always '.' */
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0) return jp_err_sys(err, "yaml: newlocale");
    struct walker *w = jp_xcalloc(1, sizeof(*w));
    w->err = err;
    if (!yaml_parser_initialize(&w->parser)) {
        free(w);
        freelocale(c_locale);
        return jp_err_set(err, JP_INTERNAL, 0, "yaml: cannot initialise the parser");
    }
    yaml_parser_set_input_string(&w->parser, (const unsigned char *)(text ? text : ""),
                                 text ? len : 0);
    locale_t saved = uselocale(c_locale);
    w->anchor_ix = json_object();
    int rc = w->anchor_ix == NULL ? oom(w) : walk(w);
    uselocale(saved);
    freelocale(c_locale);
    if (rc == 0) {
        *docs = JP_STEAL(w->docs);
        *ndocs = w->ndocs;
        w->ndocs = 0;
    }
    walker_free(w);
    return rc;
}

int jp_yaml_load_one(const char *text, size_t len, json_t **doc, struct jp_err **err)
{
    json_t **docs;
    size_t n;
    *doc = NULL;
    if (jp_yaml_load(text, len, &docs, &n, err) < 0) return -1;
    if (n != 1) {
        jp_yaml_docs_free(docs, n);
        if (n == 0) return jp_err_set(err, JP_BAD_REQUEST, 0, "yaml: no document found");
        return jp_err_set(err, JP_BAD_REQUEST, 0, "yaml: %zu documents where one was expected", n);
    }
    *doc = docs[0];
    free(docs);
    return 0;
}

void jp_yaml_docs_free(json_t **docs, size_t ndocs)
{
    for (size_t i = 0; i < ndocs; i++)
        json_decref(docs[i]);
    free(docs);
}
