/*
 * json_bench.c: times one C JSON library doing what jobplane's store does on each object write,
 * and checks the correctness facts that matter for choosing one. bash bench/json/run.sh builds
 * it, runs it and prints the tables; its header says what each column means.
 *
 * Built once per library with exactly one of -DLIB_JANSSON, -DLIB_JSONC, -DLIB_YAJL, -DLIB_JSMN:
 * jansson and json-c both define json_object_get() and json_type, so they cannot share a program,
 * and a process per library also gives each a clean heap for the mallinfo2() figures.
 *
 *   json_bench POD.json
 *
 * Output, one record per line, tab-separated (run.sh turns them into markdown tables):
 *   perf  <markdown table row>
 *   fact  <key> <row label> <column> <cell text>
 *   info  <text>
 * Environment: JSON_BENCH_MS (length of one timed run, default 300), JSON_BENCH_RUNS (default 5).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(LIB_JANSSON) + defined(LIB_JSONC) + defined(LIB_YAJL) + defined(LIB_JSMN) != 1
#error "define exactly one of LIB_JANSSON, LIB_JSONC, LIB_YAJL, LIB_JSMN"
#endif

/* The edits every write makes (see edit_pod): the new resourceVersion, one added label, a phase. */
#define NEW_RV    "48214"
#define LABEL_KEY "bench.example.org/touched"
#define NEW_PHASE "Failed"

/* One way of using a library. parse() gets NUL-terminated input (len excludes the NUL) and
 * returns NULL with g_err set when it refuses; dump() returns compact bytes the caller owns and
 * frees. child/set_str/get_i64 are the few DOM operations the edit and fact code needs. A
 * library without a DOM (jsmn) leaves them NULL and provides write() instead. */
struct impl {
    const char *name; /* perf table row */
    const char *col;  /* facts table column */
    void *(*parse)(const char *buf, size_t len);
    void (*release)(void *dom);
    char *(*dump)(void *dom, size_t *len);
    void *(*child)(void *obj, const char *key);
    bool (*set_str)(void *obj, const char *key, const char *val);
    bool (*get_i64)(void *array, size_t i, long long *out);
    char *(*write)(const char *buf, size_t len, size_t *outlen);
    const char *note; /* perf table notes column */
    bool perf_only;   /* a variant with no facts column of its own */
};

static char g_err[256];
static const char *g_compact; /* the pod, compact */
static size_t g_compact_len;

static void probe(const struct impl *im, const char *in, size_t len, char *cell, size_t cap);
static void deep_test(const struct impl *im, size_t depth, char *cell, size_t cap);
static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen, char *cell,
                       size_t cap);

static void set_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    /* YAJL's messages span lines; a table cell can't. */
    for (char *p = g_err; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    }
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("json_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) die("out of memory");
    return p;
}

static char *copy_bytes(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out) return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* ---------------------------------------------------------------------------------------------
 * jansson
 */
#ifdef LIB_JANSSON
#include <jansson.h>

static void *jansson_parse_flags(const char *buf, size_t len, size_t flags)
{
    json_error_t e;
    json_t *root = json_loadb(buf, len, flags, &e);
    if (!root) set_err("%s", e.text);
    return root;
}
static void *jansson_parse(const char *buf, size_t len)
{
    return jansson_parse_flags(buf, len, 0);
}
static void *jansson_parse_nodup(const char *buf, size_t len)
{
    return jansson_parse_flags(buf, len, JSON_REJECT_DUPLICATES);
}
static void *jansson_parse_nul(const char *buf, size_t len)
{
    return jansson_parse_flags(buf, len, JSON_ALLOW_NUL);
}
static void jansson_release(void *dom)
{
    json_decref(dom);
}
static char *jansson_dump(void *dom, size_t *len)
{
    char *s = json_dumps(dom, JSON_COMPACT);
    if (!s) {
        set_err("json_dumps failed");
        return NULL;
    }
    *len = strlen(s);
    return s;
}
static void *jansson_child(void *obj, const char *key)
{
    return json_object_get(obj, key);
}
static bool jansson_set_str(void *obj, const char *key, const char *val)
{
    return json_object_set_new(obj, key, json_string(val)) == 0;
}
static bool jansson_get_i64(void *array, size_t i, long long *out)
{
    json_t *v = json_array_get(array, i);
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return true;
}

static const struct impl impls[] = {
    {"jansson " JANSSON_VERSION " (json_loadb, json_dumps COMPACT)", "jansson", jansson_parse,
     jansson_release, jansson_dump, jansson_child, jansson_set_str, jansson_get_i64, NULL, "",
     false},
    {"jansson " JANSSON_VERSION " (json_loadb REJECT_DUPLICATES, json_dumps COMPACT)",
     "jansson REJECT_DUPLICATES", jansson_parse_nodup, jansson_release, jansson_dump, jansson_child,
     jansson_set_str, jansson_get_i64, NULL, "duplicate keys are errors", true},
};

static void lib_facts(void)
{
    static const struct impl nodup = {
        .parse = jansson_parse_nodup, .release = jansson_release, .dump = jansson_dump};
    static const struct impl nul = {
        .parse = jansson_parse_nul, .release = jansson_release, .dump = jansson_dump};
    char cell[512];
    static const char dup[] = "{\"a\":1,\"a\":2}";
    probe(&nodup, dup, sizeof dup - 1, cell, sizeof cell);
    printf("fact\tdup\t\tjansson\twith JSON_REJECT_DUPLICATES: %s\n", cell);
    static const char nulesc[] = "[\"a\\u0000b\"]";
    probe(&nul, nulesc, sizeof nulesc - 1, cell, sizeof cell);
    printf("fact\tnul_esc\t\tjansson\twith JSON_ALLOW_NUL: %s\n", cell);
}
#endif

/* ---------------------------------------------------------------------------------------------
 * json-c
 */
#ifdef LIB_JSONC
#include <json-c/json.h>

/* What json_tokener_parse() does (it is this call with the error dropped): a fresh tokener per
 * document, default depth 32, no flags, length taken with strlen. */
static void *jsonc_parse(const char *buf, size_t len)
{
    (void)len;
    enum json_tokener_error e;
    struct json_object *o = json_tokener_parse_verbose(buf, &e);
    if (!o) set_err("%s", json_tokener_error_desc(e));
    return o;
}

/* The way a server would use it: one tokener per thread, reset per document, explicit length. */
static void *jsonc_parse_tok(struct json_tokener *tok, const char *buf, size_t len)
{
    json_tokener_reset(tok);
    struct json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    if (e != json_tokener_success) {
        json_object_put(o);
        set_err("%s", e == json_tokener_continue ? "incomplete JSON" : json_tokener_error_desc(e));
        return NULL;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (!strchr(" \t\r\n", buf[i])) {
            json_object_put(o);
            set_err("trailing characters");
            return NULL;
        }
    }
    return o;
}

static struct json_tokener *new_tokener(int depth, int flags)
{
    struct json_tokener *tok = json_tokener_new_ex(depth);
    if (!tok) die("json_tokener_new_ex failed");
    json_tokener_set_flags(tok, flags);
    return tok;
}

static void *jsonc_parse_strict(const char *buf, size_t len)
{
    static struct json_tokener *tok;
    if (!tok)
        tok = new_tokener(JSON_TOKENER_DEFAULT_DEPTH,
                          JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    return jsonc_parse_tok(tok, buf, len);
}

/* Only for the nesting tests: what happens once the depth limit is raised out of the way. */
static void *jsonc_parse_deep(const char *buf, size_t len)
{
    static struct json_tokener *tok;
    if (!tok) tok = new_tokener(2000001, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    return jsonc_parse_tok(tok, buf, len);
}

static void jsonc_release(void *dom)
{
    json_object_put(dom);
}

/* The string belongs to the object (its printbuf); the store must own its bytes, so copy. */
static char *jsonc_dump_flags(void *dom, size_t *len, int flags)
{
    const char *s = json_object_to_json_string_length(dom, flags, len);
    char *out = s ? copy_bytes(s, *len) : NULL;
    if (!out) set_err("json_object_to_json_string_length failed");
    return out;
}
static char *jsonc_dump(void *dom, size_t *len)
{
    return jsonc_dump_flags(dom, len, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}
static char *jsonc_dump_plain(void *dom, size_t *len)
{
    return jsonc_dump_flags(dom, len, JSON_C_TO_STRING_PLAIN);
}
static void *jsonc_child(void *obj, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}
static bool jsonc_set_str(void *obj, const char *key, const char *val)
{
    struct json_object *s = json_object_new_string(val);
    if (!s) return false;
    if (json_object_object_add(obj, key, s) != 0) {
        json_object_put(s);
        return false;
    }
    return true;
}
static bool jsonc_get_i64(void *array, size_t i, long long *out)
{
    struct json_object *v = json_object_array_get_idx(array, i);
    if (!json_object_is_type(v, json_type_int)) return false;
    *out = json_object_get_int64(v);
    return true;
}

static const struct impl impls[] = {
    {"json-c " JSON_C_VERSION " (json_tokener_parse, to_json_string_ext PLAIN\\|NOSLASHESCAPE)",
     "json-c", jsonc_parse, jsonc_release, jsonc_dump, jsonc_child, jsonc_set_str, jsonc_get_i64,
     NULL, "", false},
    {"json-c " JSON_C_VERSION " (reused tokener, STRICT\\|VALIDATE_UTF8, same dump)",
     "json-c STRICT\\|VALIDATE_UTF8", jsonc_parse_strict, jsonc_release, jsonc_dump, jsonc_child,
     jsonc_set_str, jsonc_get_i64, NULL, "", false},
};

static void lib_facts(void)
{
    static const struct impl deep = {
        .parse = jsonc_parse_deep, .release = jsonc_release, .dump = jsonc_dump};
    char cell[512];
    for (size_t depth = 10000; depth <= 1000000; depth *= 100) {
        deep_test(&deep, depth, cell, sizeof cell);
        printf("fact\t%s\t\tjson-c\twith the depth limit raised to 2,000,001: %s\n",
               depth == 10000 ? "deep10k" : "deep1m", cell);
    }
    /* JSON_C_TO_STRING_PLAIN alone escapes every '/' (label keys, image names, paths). */
    void *d = jsonc_parse(g_compact, g_compact_len);
    size_t len;
    char *out = d ? jsonc_dump_plain(d, &len) : NULL;
    if (out) {
        same_bytes(out, len, g_compact, g_compact_len, cell, sizeof cell);
        printf("fact\tpod_rt\t\tjson-c\twith PLAIN alone: %s (%zu bytes)\n", cell, len);
    }
    free(out);
    if (d) jsonc_release(d);
}
#endif

/* ---------------------------------------------------------------------------------------------
 * YAJL: yajl_tree for the DOM, yajl_gen driven by a small tree walker for output. The tree has
 * no mutation API; edits change the public struct yajl_val_s directly, with malloc/free as
 * yajl_tree.c itself uses (yajl_tree_free frees our nodes too).
 */
#ifdef LIB_YAJL
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include <yajl/yajl_version.h>

#define STR_(x)          #x
#define STR(x)           STR_(x)
#define YAJL_VERSION_STR STR(YAJL_MAJOR) "." STR(YAJL_MINOR) "." STR(YAJL_MICRO)

static void *yajl_parse_doc(const char *buf, size_t len)
{
    (void)len; /* yajl_tree_parse takes a C string */
    char err[256];
    yajl_val v = yajl_tree_parse(buf, err, sizeof err);
    if (!v) set_err("%.*s", (int)strcspn(err, "\n"), err); /* the rest quotes the input */
    return v;
}
static void yajl_release(void *dom)
{
    yajl_tree_free(dom);
}

static yajl_gen_status gen_value(yajl_gen g, yajl_val v)
{
    yajl_gen_status st;
    switch (v->type) {
    case yajl_t_string:
        return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
    case yajl_t_number: /* the original text, so numbers go out exactly as they came in */
        return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    case yajl_t_object:
        if ((st = yajl_gen_map_open(g)) != yajl_gen_status_ok) return st;
        for (size_t i = 0; i < v->u.object.len; i++) {
            const char *k = v->u.object.keys[i];
            if ((st = yajl_gen_string(g, (const unsigned char *)k, strlen(k))) !=
                    yajl_gen_status_ok ||
                (st = gen_value(g, v->u.object.values[i])) != yajl_gen_status_ok)
                return st;
        }
        return yajl_gen_map_close(g);
    case yajl_t_array:
        if ((st = yajl_gen_array_open(g)) != yajl_gen_status_ok) return st;
        for (size_t i = 0; i < v->u.array.len; i++) {
            if ((st = gen_value(g, v->u.array.values[i])) != yajl_gen_status_ok) return st;
        }
        return yajl_gen_array_close(g);
    case yajl_t_true:
        return yajl_gen_bool(g, 1);
    case yajl_t_false:
        return yajl_gen_bool(g, 0);
    case yajl_t_null:
        return yajl_gen_null(g);
    default:
        return yajl_gen_invalid_string;
    }
}

static char *yajl_dump(void *dom, size_t *len)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) {
        set_err("yajl_gen_alloc failed");
        return NULL;
    }
    char *out = NULL;
    yajl_gen_status st = gen_value(g, dom);
    if (st == yajl_gen_status_ok) {
        const unsigned char *buf;
        yajl_gen_get_buf(g, &buf, len);
        out = copy_bytes((const char *)buf, *len); /* the buffer belongs to the generator */
    } else {
        set_err("yajl_gen status %d%s", (int)st,
                st == yajl_max_depth_exceeded ? " (yajl_max_depth_exceeded)" : "");
    }
    yajl_gen_free(g);
    return out;
}

static void *yajl_child(void *obj, const char *key)
{
    const char *path[] = {key, NULL};
    return yajl_tree_get(obj, path, yajl_t_any);
}

static bool yajl_set_str(void *o, const char *key, const char *val)
{
    yajl_val obj = o;
    if (!YAJL_IS_OBJECT(obj)) return false;
    yajl_val nv = calloc(1, sizeof *nv);
    if (!nv || !(nv->u.string = strdup(val))) {
        free(nv);
        return false;
    }
    nv->type = yajl_t_string;
    size_t n = obj->u.object.len;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(obj->u.object.keys[i], key) == 0) {
            yajl_tree_free(obj->u.object.values[i]);
            obj->u.object.values[i] = nv;
            return true;
        }
    }
    char *k = strdup(key);
    const char **keys = k ? realloc((void *)obj->u.object.keys, (n + 1) * sizeof *keys) : NULL;
    if (keys) obj->u.object.keys = keys;
    yajl_val *vals = keys ? realloc(obj->u.object.values, (n + 1) * sizeof *vals) : NULL;
    if (!vals) {
        free(k);
        yajl_tree_free(nv);
        return false;
    }
    obj->u.object.values = vals;
    keys[n] = k;
    vals[n] = nv;
    obj->u.object.len = n + 1;
    return true;
}

static bool yajl_get_i64(void *array, size_t i, long long *out)
{
    yajl_val a = array;
    if (!YAJL_IS_ARRAY(a) || i >= a->u.array.len) return false;
    yajl_val v = a->u.array.values[i];
    if (!YAJL_IS_INTEGER(v)) return false;
    *out = YAJL_GET_INTEGER(v);
    return true;
}

static const struct impl impls[] = {
    {"YAJL " YAJL_VERSION_STR " (yajl_tree_parse, walker + yajl_gen)", "YAJL", yajl_parse_doc,
     yajl_release, yajl_dump, yajl_child, yajl_set_str, yajl_get_i64, NULL,
     "edits poke struct yajl_val_s (no mutation API)", false},
};

static void lib_facts(void)
{
}
#endif

/* ---------------------------------------------------------------------------------------------
 * jsmn: a tokenizer, nothing more. Tokens point into the input; there is no DOM and no
 * serializer, so the write path here is hand-written: locate the three values by key, then
 * splice new text into a copy of the input. Strict mode and parent links, the safer setting.
 */
#ifdef LIB_JSMN
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

struct jsmn_doc {
    int n;
    jsmntok_t *tok;
};

static void *jsmn_doc_parse(const char *buf, size_t len)
{
    jsmn_parser p;
    jsmn_init(&p);
    unsigned cap = (unsigned)(len / 8 + 16);
    jsmntok_t *tok = malloc(cap * sizeof *tok);
    struct jsmn_doc *d = malloc(sizeof *d);
    if (!tok || !d) goto fail;
    for (;;) {
        int r = jsmn_parse(&p, buf, len, tok, cap);
        if (r >= 0) { /* shrink to fit, so the heap figure is what the tokens need */
            jsmntok_t *fit = r > 0 ? realloc(tok, (size_t)r * sizeof *tok) : NULL;
            d->n = r;
            d->tok = fit ? fit : tok;
            return d;
        }
        if (r != JSMN_ERROR_NOMEM) {
            set_err("%s", r == JSMN_ERROR_INVAL ? "JSMN_ERROR_INVAL" : "JSMN_ERROR_PART");
            free(tok);
            free(d);
            return NULL;
        }
        cap *= 2; /* jsmn resumes where it stopped */
        jsmntok_t *t = realloc(tok, cap * sizeof *tok);
        if (!t) goto fail;
        tok = t;
    }
fail:
    set_err("out of memory");
    free(tok);
    free(d);
    return NULL;
}

static void jsmn_doc_release(void *dom)
{
    struct jsmn_doc *d = dom;
    free(d->tok);
    free(d);
}

/* Index of the token after token i and everything inside it. */
static int tok_skip(const jsmntok_t *t, int n, int i)
{
    int end = t[i].end;
    for (i++; i < n && t[i].start < end; i++) {
    }
    return i;
}

/* The value token of member `key` of object token obj, or -1. Keys are compared raw: a real
 * decoder would have to unescape them first. */
static int tok_member(const char *js, const jsmntok_t *t, int n, int obj, const char *key)
{
    if (obj < 0 || t[obj].type != JSMN_OBJECT) return -1;
    size_t klen = strlen(key);
    int i = obj + 1;
    for (int m = 0; m < t[obj].size && i + 1 < n; m++) {
        if ((size_t)(t[i].end - t[i].start) == klen && memcmp(js + t[i].start, key, klen) == 0)
            return i + 1;
        i = tok_skip(t, n, i + 1);
    }
    return -1;
}

struct splice {
    size_t from, to; /* bytes [from, to) of the input are replaced by text */
    const char *text;
};

static char *jsmn_write(const char *buf, size_t len, size_t *outlen)
{
    struct jsmn_doc *d = jsmn_doc_parse(buf, len);
    if (!d) return NULL;
    const jsmntok_t *t = d->tok;
    int n = d->n;
    int meta = n > 0 ? tok_member(buf, t, n, 0, "metadata") : -1;
    int status = n > 0 ? tok_member(buf, t, n, 0, "status") : -1;
    int rv = tok_member(buf, t, n, meta, "resourceVersion");
    int labels = tok_member(buf, t, n, meta, "labels");
    int phase = tok_member(buf, t, n, status, "phase");
    char *out = NULL;
    if (rv < 0 || labels < 0 || phase < 0 || t[rv].type != JSMN_STRING ||
        t[labels].type != JSMN_OBJECT || t[phase].type != JSMN_STRING) {
        set_err("pod fields not found");
        goto done;
    }
    /* String tokens exclude their quotes. New values are constants here; real code would have
     * to JSON-escape whatever it writes. */
    struct splice sp[3] = {
        {(size_t)t[rv].start - 1, (size_t)t[rv].end + 1, "\"" NEW_RV "\""},
        {(size_t)t[labels].end - 1, (size_t)t[labels].end - 1,
         t[labels].size ? ",\"" LABEL_KEY "\":\"true\"" : "\"" LABEL_KEY "\":\"true\""},
        {(size_t)t[phase].start - 1, (size_t)t[phase].end + 1, "\"" NEW_PHASE "\""},
    };
    for (int i = 1; i < 3; i++) { /* into input order */
        for (int j = i; j > 0 && sp[j].from < sp[j - 1].from; j--) {
            struct splice tmp = sp[j];
            sp[j] = sp[j - 1];
            sp[j - 1] = tmp;
        }
    }
    size_t size = len + 1;
    for (int i = 0; i < 3; i++)
        size += strlen(sp[i].text);
    if (!(out = malloc(size))) {
        set_err("out of memory");
        goto done;
    }
    size_t o = 0, at = 0;
    for (int i = 0; i < 3; i++) {
        size_t tl = strlen(sp[i].text);
        memcpy(out + o, buf + at, sp[i].from - at);
        o += sp[i].from - at;
        memcpy(out + o, sp[i].text, tl);
        o += tl;
        at = sp[i].to;
    }
    memcpy(out + o, buf + at, len - at);
    o += len - at;
    out[o] = '\0';
    *outlen = o;
done:
    jsmn_doc_release(d);
    return out;
}

static const struct impl impls[] = {
    {"jsmn 1.1.0 (STRICT, PARENT_LINKS; tokens only)", "jsmn", jsmn_doc_parse, jsmn_doc_release,
     NULL, NULL, NULL, NULL, jsmn_write, "write: hand-written splice, no escaping", false},
};

static void lib_facts(void)
{
    struct jsmn_doc *d = jsmn_doc_parse(g_compact, g_compact_len);
    if (!d) die("jsmn: pod: %s", g_err);
    printf("info\tjsmn: the pod is %d tokens of %zu bytes each (%zu bytes)\n", d->n,
           sizeof(jsmntok_t), (size_t)d->n * sizeof(jsmntok_t));
    jsmn_doc_release(d);
}
#endif

/* ---------------------------------------------------------------------------------------------
 * Shared: input, the edits, timing, heap.
 */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (cap - n < 2) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) die("out of memory");
            buf = bigger;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0) break;
        n += r;
    }
    if (ferror(f)) die("%s: read error", path);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Whitespace outside strings dropped: the form the store keeps and serves. */
static char *minify(const char *in, size_t len, size_t *outlen)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    bool str = false;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (str) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len)
                out[o++] = in[++i];
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            out[o++] = c;
            str = true;
        } else if (!strchr(" \t\r\n", c)) {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* Replaces the one occurrence of `from` in s (which must exist) with `to`. */
static char *replace_once(char *s, const char *from, const char *to)
{
    char *at = strstr(s, from);
    if (!at || strstr(at + 1, from)) die("expected exactly one '%s' in the pod", from);
    size_t sl = strlen(s), fl = strlen(from), tl = strlen(to), pre = (size_t)(at - s);
    char *out = xmalloc(sl - fl + tl + 1);
    memcpy(out, s, pre);
    memcpy(out + pre, to, tl);
    memcpy(out + pre + tl, at + fl, sl - pre - fl + 1);
    free(s);
    return out;
}

/* The write our API server makes: new resourceVersion, one more label, new phase. */
static bool edit_pod(const struct impl *im, void *root)
{
    void *meta = im->child(root, "metadata");
    void *labels = meta ? im->child(meta, "labels") : NULL;
    if (!labels || !im->set_str(meta, "resourceVersion", NEW_RV) ||
        !im->set_str(labels, LABEL_KEY, "true"))
        return false;
    void *status = im->child(root, "status");
    return status && im->set_str(status, "phase", NEW_PHASE);
}

/* parse → edit → dump → free, for libraries with a DOM. */
static char *write_pod(const struct impl *im, const char *buf, size_t len, size_t *outlen)
{
    if (im->write) return im->write(buf, len, outlen);
    void *d = im->parse(buf, len);
    if (!d) return NULL;
    char *out = NULL;
    if (edit_pod(im, d))
        out = im->dump(d, outlen);
    else
        set_err("edit failed");
    im->release(d);
    return out;
}

struct bctx {
    const struct impl *im;
    const char *buf;
    size_t len;
    void *dom;
    size_t outlen;
};

static void op_parse(struct bctx *c)
{
    void *d = c->im->parse(c->buf, c->len);
    if (!d) die("%s: parse: %s", c->im->col, g_err);
    c->im->release(d);
}
static void op_dump(struct bctx *c)
{
    char *s = c->im->dump(c->dom, &c->outlen);
    if (!s) die("%s: dump: %s", c->im->col, g_err);
    free(s);
}
static void op_write(struct bctx *c)
{
    char *s = write_pod(c->im, c->buf, c->len, &c->outlen);
    if (!s) die("%s: write: %s", c->im->col, g_err);
    free(s);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double g_run_s = 0.3;
static int g_runs = 5;

struct timing {
    double best, median; /* µs per operation */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Calibrates an iteration count worth g_run_s, then times g_runs runs of it. */
static struct timing measure(void (*op)(struct bctx *), struct bctx *c)
{
    size_t iters = 1;
    double t;
    for (;;) {
        double t0 = now();
        for (size_t i = 0; i < iters; i++)
            op(c);
        t = now() - t0;
        if (t >= 0.03) break;
        iters *= 2;
    }
    iters = (size_t)((double)iters * g_run_s / t) + 1;
    double r[64];
    for (int k = 0; k < g_runs; k++) {
        double t0 = now();
        for (size_t i = 0; i < iters; i++)
            op(c);
        r[k] = (now() - t0) * 1e6 / (double)iters;
    }
    qsort(r, (size_t)g_runs, sizeof r[0], cmp_double);
    return (struct timing){r[0], r[g_runs / 2]};
}

/* Heap held by one parsed document: mallinfo2() in-use bytes (chunk sizes, so malloc's own
 * per-allocation overhead counts) across 64 live documents, divided by 64. */
static double heap_per_doc(const struct impl *im, const char *buf, size_t len)
{
    enum { K = 64 };
    void *docs[K];
    im->release(im->parse(buf, len)); /* any one-time allocations happen outside the window */
    size_t before = mallinfo2().uordblks;
    for (int k = 0; k < K; k++) {
        if (!(docs[k] = im->parse(buf, len))) die("%s: parse: %s", im->col, g_err);
    }
    size_t after = mallinfo2().uordblks;
    for (int k = 0; k < K; k++)
        im->release(docs[k]);
    return (double)(after - before) / K;
}

static void perf_row(const struct impl *im, const char *buf, size_t len)
{
    struct bctx c = {im, buf, len, NULL, 0};
    struct timing tp = measure(op_parse, &c);
    char dump[64] = "n/a (no serializer)", dump_mbs[32] = "n/a";
    if (im->dump) {
        if (!(c.dom = im->parse(buf, len))) die("%s: parse: %s", im->col, g_err);
        struct timing td = measure(op_dump, &c);
        snprintf(dump, sizeof dump, "%.1f (%.1f)", td.best, td.median);
        snprintf(dump_mbs, sizeof dump_mbs, "%.0f", (double)c.outlen / td.best);
        im->release(c.dom);
    }
    struct timing tw = measure(op_write, &c);
    double heap = heap_per_doc(im, buf, len);
    printf("perf\t| %s | %.1f (%.1f) | %.0f | %s | %s | %.1f (%.1f) | %.0f | %.1fx | %s |\n",
           im->name, tp.best, tp.median, (double)len / tp.best, dump, dump_mbs, tw.best, tw.median,
           heap, heap / (double)len, im->note);
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------------
 * Facts
 */

/* Appends s to cell as markdown-safe text: bytes outside printable ASCII become \xNN. */
static void cell_put(char *cell, size_t cap, const char *s, size_t len)
{
    size_t o = strlen(cell);
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f)
            o += (size_t)snprintf(cell + o, cap - o, "\\x%02X", ch);
        else if (ch == '|')
            o += (size_t)snprintf(cell + o, cap - o, "\\|");
        else
            cell[o++] = (char)ch;
    }
    if (o + 5 >= cap) o += (size_t)snprintf(cell + o, cap - o, "…");
    cell[o] = '\0';
}

/* Parses `in`: "rejected (message)", or "accepted → `dump`" (just "accepted" without a dumper). */
static void probe(const struct impl *im, const char *in, size_t len, char *cell, size_t cap)
{
    cell[0] = '\0';
    void *d = im->parse(in, len);
    if (!d) {
        snprintf(cell, cap, "rejected (%s)", g_err);
        return;
    }
    size_t olen;
    char *out = im->dump ? im->dump(d, &olen) : NULL;
    if (out) {
        snprintf(cell, cap, "accepted → `");
        cell_put(cell, cap, out, olen);
        size_t o = strlen(cell);
        snprintf(cell + o, cap - o, "`");
    } else if (im->dump) {
        snprintf(cell, cap, "accepted, dump failed (%s)", g_err);
    } else {
        snprintf(cell, cap, "accepted");
    }
    free(out);
    im->release(d);
}

static void show_input(char *cell, size_t cap, const char *in, size_t len)
{
    size_t o = strlen(cell);
    snprintf(cell + o, cap - o, "`");
    cell_put(cell, cap, in, len);
    o = strlen(cell);
    snprintf(cell + o, cap - o, "`");
}

/* "yes", or "no: first difference at byte N" with a little of each side. */
static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen, char *cell,
                       size_t cap)
{
    if (alen == blen && memcmp(a, b, alen) == 0) {
        snprintf(cell, cap, "yes");
        return true;
    }
    size_t i = 0;
    while (i < alen && i < blen && a[i] == b[i])
        i++;
    size_t from = i > 12 ? i - 12 : 0;
    snprintf(cell, cap, "no: differs at byte %zu: got ", i);
    show_input(cell, cap, a + from, (alen - from < 40 ? alen - from : 40));
    size_t o = strlen(cell);
    snprintf(cell + o, cap - o, ", want ");
    show_input(cell, cap, b + from, (blen - from < 40 ? blen - from : 40));
    return false;
}

static void fact(const char *key, const char *label, const char *col, const char *text)
{
    printf("fact\t%s\t%s\t%s\t%s\n", key, label, col, text);
}

/* Parses a `depth`-deep array ([[[…]]]), dumps it, frees it: in a child process with a 10 s
 * alarm, so a crash or a hang is reported instead of taking the benchmark down. */
static void deep_test(const struct impl *im, size_t depth, char *cell, size_t cap)
{
    char *in = xmalloc(2 * depth + 1);
    memset(in, '[', depth);
    memset(in + depth, ']', depth);
    in[2 * depth] = '\0';
    int fd[2];
    if (pipe(fd) != 0) die("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        alarm(10);
        dprintf(fd[1], "@parse\n");
        double t0 = now();
        void *d = im->parse(in, 2 * depth);
        if (!d) {
            dprintf(fd[1], "refused (%s)\n", g_err);
            _exit(0);
        }
        dprintf(fd[1], "parsed in %.0f ms\n@dump\n", (now() - t0) * 1e3);
        if (im->dump) {
            size_t len;
            char *out = im->dump(d, &len);
            if (out)
                dprintf(fd[1], "dumped\n");
            else
                dprintf(fd[1], "dump refused (%s)\n", g_err);
            free(out);
        }
        dprintf(fd[1], "@free\n");
        im->release(d);
        dprintf(fd[1], "freed\n");
        _exit(0);
    }
    close(fd[1]);
    char log[1024];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof log - 1 && (r = read(fd[0], log + n, sizeof log - 1 - n)) > 0)
        n += (size_t)r;
    log[n] = '\0';
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    free(in);

    /* "@stage" lines mark where the child was; the others are its results. */
    char stage[16] = "?";
    cell[0] = '\0';
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '@') {
            snprintf(stage, sizeof stage, "%s", line + 1);
        } else {
            size_t o = strlen(cell);
            snprintf(cell + o, cap - o, "%s%s", o ? ", " : "", line);
        }
    }
    size_t o = strlen(cell);
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            snprintf(cell + o, cap - o, "%stimeout (>10 s) in %s", o ? ", " : "", stage);
        else
            snprintf(cell + o, cap - o, "%s**crash** (signal %d%s) in %s", o ? ", " : "", sig,
                     sig == SIGSEGV ? ", SIGSEGV" : "", stage);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(cell + o, cap - o, "%sexit status %d in %s", o ? ", " : "", WEXITSTATUS(status),
                 stage);
    }
}

static void facts(const struct impl *im, const char *compact, size_t clen, const char *want_write)
{
    char cell[1024], tmp[512];
    const char *col = im->col;

    /* Key order: dump order, an existing key set in place, a new key appended. */
    if (im->set_str) {
        static const char in[] = "{\"z\":1,\"a\":2,\"m\":3}";
        static const char want[] = "{\"z\":1,\"a\":\"x\",\"m\":3,\"b\":\"y\"}";
        void *d = im->parse(in, sizeof in - 1);
        size_t len = 0;
        char *out =
            d && im->set_str(d, "a", "x") && im->set_str(d, "b", "y") ? im->dump(d, &len) : NULL;
        if (!out)
            snprintf(cell, sizeof cell, "test failed (%s)", g_err);
        else if (len == sizeof want - 1 && memcmp(out, want, len) == 0)
            snprintf(cell, sizeof cell, "yes");
        else {
            snprintf(cell, sizeof cell, "**no**: ");
            show_input(cell, sizeof cell, out, len);
        }
        free(out);
        if (d) im->release(d);
    } else {
        snprintf(cell, sizeof cell, "n/a: tokens are in text order; edits splice the text");
    }
    fact("order", "key order kept (`{\"z\",\"a\",\"m\"}`, set a, add b)", col, cell);

    if (im->dump) {
        void *d = im->parse(compact, clen);
        size_t len = 0;
        char *out = d ? im->dump(d, &len) : NULL;
        if (out)
            same_bytes(out, len, compact, clen, cell, sizeof cell);
        else
            snprintf(cell, sizeof cell, "failed (%s)", g_err);
        free(out);
        if (d) im->release(d);
    } else {
        snprintf(cell, sizeof cell, "n/a (no serializer; the stored bytes are the input)");
    }
    fact("pod_rt", "pod parse → compact dump is byte-identical to the input", col, cell);

    {
        size_t len = 0;
        char *out = write_pod(im, compact, clen, &len);
        if (out)
            same_bytes(out, len, want_write, strlen(want_write), cell, sizeof cell);
        else
            snprintf(cell, sizeof cell, "failed (%s)", g_err);
        free(out);
    }
    fact("pod_write", "pod write path output = expected bytes (edits in place, label appended)",
         col, cell);

    {
        static const char in[] = "[9223372036854775807,-9223372036854775808,9007199254740993]";
        static const long long want[] = {INT64_MAX, INT64_MIN, 9007199254740993LL};
        cell[0] = '\0';
        if (im->get_i64) {
            void *d = im->parse(in, sizeof in - 1);
            int exact = 0;
            char miss[128] = "";
            for (size_t i = 0; d && i < 3; i++) {
                long long v;
                if (im->get_i64(d, i, &v) && v == want[i]) {
                    exact++;
                } else {
                    size_t o = strlen(miss);
                    snprintf(miss + o, sizeof miss - o, "%s%lld", o ? ", " : " (not ", want[i]);
                }
            }
            if (d) im->release(d);
            snprintf(cell, sizeof cell, "API reads %d/3 as int64%s%s; ", exact, miss,
                     miss[0] ? ")" : "");
        } else {
            snprintf(cell, sizeof cell, "n/a: values are raw text (caller runs strtoll); ");
        }
        probe(im, in, sizeof in - 1, tmp, sizeof tmp);
        size_t o = strlen(cell);
        snprintf(cell + o, sizeof cell - o, "%s", tmp);
    }
    fact("int64",
         "int64 max, min, 2^53+1: `[9223372036854775807,-9223372036854775808,"
         "9007199254740993]`",
         col, cell);

    static const char big[] = "[9223372036854775808,18446744073709551616]";
    probe(im, big, sizeof big - 1, cell, sizeof cell);
    fact("bigint", "beyond int64: `[9223372036854775808,18446744073709551616]`", col, cell);

    static const char flt[] = "[0.1,1e3,-0.0]";
    probe(im, flt, sizeof flt - 1, cell, sizeof cell);
    fact("float", "floats: `[0.1,1e3,-0.0]`", col, cell);

    {
        static const char *const bad[] = {"[\"\xff\"]", "[\"\xc3\x28\"]", "[\"\xc0\xaf\"]",
                                          "[\"\xed\xa0\x80\"]"};
        int rejected = 0;
        char acc[512] = "";
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            void *d = im->parse(bad[i], strlen(bad[i]));
            if (!d) {
                rejected++;
                continue;
            }
            im->release(d);
            size_t o = strlen(acc);
            snprintf(acc + o, sizeof acc - o, "%s", o ? ", " : "; accepts ");
            cell_put(acc, sizeof acc, bad[i], strlen(bad[i]));
        }
        snprintf(cell, sizeof cell, "%d/4 rejected%s", rejected, acc);
    }
    fact("utf8",
         "invalid UTF-8 rejected (byte FF, truncated C3 28, overlong C0 AF, surrogate ED A0 80)",
         col, cell);

    static const char sur[] = "[\"\\ud800\"]";
    probe(im, sur, sizeof sur - 1, cell, sizeof cell);
    fact("surrogate", "lone surrogate escape `[\"\\ud800\"]`", col, cell);

    static const char nulesc[] = "[\"a\\u0000b\"]";
    probe(im, nulesc, sizeof nulesc - 1, cell, sizeof cell);
    fact("nul_esc", "escaped NUL `[\"a\\u0000b\"]`", col, cell);

    static const char nulraw[] = "[\"a\0b\"]";
    probe(im, nulraw, sizeof nulraw - 1, cell, sizeof cell);
    fact("nul_raw", "raw NUL byte in a string, length given: `[\"a\\x00b\"]`", col, cell);

    static const char dup[] = "{\"a\":1,\"a\":2}";
    probe(im, dup, sizeof dup - 1, cell, sizeof cell);
    fact("dup", "duplicate keys `{\"a\":1,\"a\":2}`", col, cell);

    {
        static const char *const bad[] = {"{\"a\":tru}", "[1,]",        "{\"a\":1,}", "[01]",
                                          "{\"a\" 1}",   "[\"\\x\"]",   "[1 2]",      "{1:2}",
                                          "[\"abc",      "[1]x",        "/*c*/[1]",   "[NaN]",
                                          "[.5]",        "[\"a\x01\"]", "[1] [2]"};
        const int nbad = (int)(sizeof bad / sizeof bad[0]);
        int rejected = 0;
        char acc[512] = "";
        for (int i = 0; i < nbad; i++) {
            void *d = im->parse(bad[i], strlen(bad[i]));
            if (!d) {
                rejected++;
                continue;
            }
            im->release(d);
            size_t o = strlen(acc);
            snprintf(acc + o, sizeof acc - o, "%s", o ? " " : "; accepts ");
            show_input(acc, sizeof acc, bad[i], strlen(bad[i]));
        }
        snprintf(cell, sizeof cell, "%d/%d rejected%s", rejected, nbad, acc);
    }
    fact("malformed",
         "malformed input rejected (`tru`, trailing commas, `01`, missing colon, bad escape, "
         "missing comma, number key, unterminated, trailing text, comment, NaN, `.5`, raw "
         "control char, two values)",
         col, cell);

    deep_test(im, 10000, cell, sizeof cell);
    fact("deep10k", "10,000-deep `[[[…]]]` (20 KB): parse, dump, free", col, cell);
    deep_test(im, 1000000, cell, sizeof cell);
    fact("deep1m", "1,000,000-deep `[[[…]]]` (2 MB, a legal request body size)", col, cell);
}

int main(int argc, char **argv)
{
    if (argc != 2) die("usage: json_bench POD.json");
    const char *e;
    if ((e = getenv("JSON_BENCH_MS")) && atoi(e) > 0) g_run_s = atoi(e) / 1000.0;
    if ((e = getenv("JSON_BENCH_RUNS")) && atoi(e) > 0 && atoi(e) <= 64) g_runs = atoi(e);

    size_t plen, clen;
    char *pretty = read_file(argv[1], &plen);
    char *compact = minify(pretty, plen, &clen);
    g_compact = compact;
    g_compact_len = clen;

    /* The bytes the write must produce, made by plain text edits on the compact pod. */
    char *want = copy_bytes(compact, clen);
    if (!want) die("out of memory");
    want =
        replace_once(want, "\"resourceVersion\":\"48213\"", "\"resourceVersion\":\"" NEW_RV "\"");
    want = replace_once(want, "\"job-name\":\"nightly-report-29471520\"}",
                        "\"job-name\":\"nightly-report-29471520\",\"" LABEL_KEY "\":\"true\"}");
    want = replace_once(want, "\"phase\":\"Succeeded\"", "\"phase\":\"" NEW_PHASE "\"");

#ifdef LIB_JANSSON
    printf("info\tfixture: %s, %zu bytes as written, %zu bytes compact (the benchmark input)\n",
           argv[1], plen, clen);
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0) {
        if (rl.rlim_cur == RLIM_INFINITY)
            printf("info\tstack limit: unlimited\n");
        else
            printf("info\tstack limit (matters for the nesting tests): %llu KiB\n",
                   (unsigned long long)rl.rlim_cur / 1024);
    }
    printf("info\ttimes: %d runs of ~%.0f ms each per cell\n", g_runs, g_run_s * 1e3);
#endif

    const size_t nimpl = sizeof impls / sizeof impls[0];
    for (size_t i = 0; i < nimpl; i++)
        perf_row(&impls[i], compact, clen);
    for (size_t i = 0; i < nimpl; i++) {
        if (!impls[i].perf_only) facts(&impls[i], compact, clen, want);
    }
    lib_facts();

    free(want);
    free(compact);
    free(pretty);
    return 0;
}
