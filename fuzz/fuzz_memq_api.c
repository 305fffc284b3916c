/* Fuzz target for kuard's memq request path: a sequence of requests goes through memq_api_handle
 * against one small broker, and every reply and the broker's state are checked against a model.
 *
 * Input: requests separated by '\n' (empty lines are skipped), each one
 *     <m><path>[ <body>]
 *   <m>     one byte, the method: G GET, U PUT, P POST, D DELETE, H HEAD, A PATCH; any other
 *           byte picks "GET PUT POST DELETE HEAD PATCH"[byte % 6].
 *   <path>  the URL path after "/memq/server", up to the first space, still percent-encoded:
 *           kuard_unescape_path decodes it as the server does. Paths the server would never
 *           route here (bad escape, encoded or raw NUL, neither "" nor "/...") are skipped.
 *   <body>  the rest of the line; %XX is decoded so a body can hold '\n' or NUL, and a '%' not
 *           followed by two hex digits stays as it is.
 * e.g. "U/queues/keygen\nP/queues/keygen/enqueue work-item-0\nG/stats\nP/queues/keygen/dequeue".
 */
#include "fuzz_check.h"
#include "base/alloc.h"
#include "kuard/memq/api.h"
#include "kuard/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Inputs are at most 4 KiB in fuzz/run.sh and a message costs ~40 bytes beyond its body, so a
 * 2 KiB budget is reached by a few dozen enqueues or one large body: MEMQ_FULL gets exercised. */
#define BROKER_CAP 2048
/* Upper bound on the broker's per-queue bookkeeping beyond the name (struct memq_queue is
 * private to broker.c, ~90 bytes on LP64). */
#define QUEUE_OVERHEAD_MAX 256

enum op { OP_STATS, OP_CREATE, OP_DELETE, OP_ENQUEUE, OP_DEQUEUE, OP_DRAIN };

struct shadow_msg {
    char *body; /* the bytes enqueued */
    size_t len;
    char *id, *created; /* from the enqueue reply: the dequeue reply must repeat them */
};

struct shadow_queue {
    char *name;
    struct shadow_msg *msgs; /* msgs[head..count) are queued */
    size_t head, count, alloc;
    int64_t enqueued, dequeued, drained;
};

/* What the broker should hold: queues in creation order and the bytes they account for. */
struct shadow {
    struct shadow_queue *queues;
    size_t n, alloc;
    size_t msg_bytes, name_bytes;
};

static bool is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const char *body_text(const struct kuard_reply *r)
{
    return r->body.data ? r->body.data : "";
}

static size_t msg_cost(size_t len)
{
    return sizeof(struct memq_msg) + len + 1; /* header, body and its NUL, as broker.h lays out */
}

static struct shadow_queue *shadow_find(struct shadow *sh, const char *name)
{
    for (size_t i = 0; i < sh->n; i++)
        if (is(sh->queues[i].name, name)) return &sh->queues[i];
    return NULL;
}

static void shadow_clear(struct shadow *sh, struct shadow_queue *q)
{
    for (size_t i = q->head; i < q->count; i++) {
        sh->msg_bytes -= msg_cost(q->msgs[i].len);
        free(q->msgs[i].body);
        free(q->msgs[i].id);
        free(q->msgs[i].created);
    }
    q->head = q->count = 0;
}

static void shadow_delete(struct shadow *sh, struct shadow_queue *q)
{
    shadow_clear(sh, q);
    sh->name_bytes -= strlen(q->name) + 1;
    free(q->name);
    free(q->msgs);
    size_t i = (size_t)(q - sh->queues);
    memmove(q, q + 1, (sh->n - i - 1) * sizeof(*q));
    sh->n--;
}

static void shadow_free(struct shadow *sh)
{
    while (sh->n > 0)
        shadow_delete(sh, &sh->queues[sh->n - 1]);
    free(sh->queues);
}

/* The routing documented at the top of memq/api.c, decided without queue state: returns the
 * status routing alone settles (404, 405, 400), or 0 with *op and *name (OUT: caller frees). */
static int route(const char *method, const char *path, enum op *op, char **name)
{
    static const struct {
        const char *verb;
        enum op op;
    } verbs[] = {{"enqueue", OP_ENQUEUE}, {"dequeue", OP_DEQUEUE}, {"drain", OP_DRAIN}};
    *name = NULL;
    if (is(path, "/stats")) {
        *op = OP_STATS;
        return is(method, "GET") || is(method, "HEAD") ? 0 : 405;
    }
    if (strncmp(path, "/queues/", 8) != 0) return 404;
    const char *q = path + 8, *slash = strchr(q, '/');
    size_t qlen = slash ? (size_t)(slash - q) : strlen(q);
    if (slash && strchr(slash + 1, '/')) return 404;
    if ((qlen == 1 && q[0] == '.') || (qlen == 2 && q[0] == '.' && q[1] == '.')) return 404;
    if (slash == NULL) {
        if (!is(method, "PUT") && !is(method, "DELETE")) return 405;
        *op = is(method, "PUT") ? OP_CREATE : OP_DELETE;
    } else {
        size_t i = 0;
        while (i < sizeof(verbs) / sizeof(verbs[0]) && !is(slash + 1, verbs[i].verb))
            i++;
        if (i == sizeof(verbs) / sizeof(verbs[0])) return 404;
        if (!is(method, "POST")) return 405;
        *op = verbs[i].op;
    }
    if (qlen == 0) return 400;
    *name = fuzz_strndup(q, qlen);
    return 0;
}

/* Go's http.Error: the text, a newline, text/plain; 405 also names the allowed methods. */
static void check_error(const struct kuard_reply *r, int status, const char *text)
{
    size_t n = strlen(text);
    FUZZ_CHECK(r->status == status, "status %d, want %d \"%s\" (body \"%s\")", r->status, status,
               text, body_text(r));
    FUZZ_CHECK(r->ctype == KUARD_CT_ERROR, "error reply %d has content type %d", status, r->ctype);
    FUZZ_CHECK(r->body.len == n + 1 && memcmp(r->body.data, text, n) == 0 &&
                   r->body.data[n] == '\n',
               "error body \"%s\", want \"%s\\n\"", body_text(r), text);
    FUZZ_CHECK((status == 405) == (r->allow != NULL), "Allow header on a %d reply", status);
}

static void check_empty(const struct kuard_reply *r, int status)
{
    FUZZ_CHECK(r->status == status, "status %d, want %d (body \"%s\")", r->status, status,
               body_text(r));
    FUZZ_CHECK(r->ctype == KUARD_CT_NONE && r->body.len == 0, "%d reply has a body \"%s\"", status,
               body_text(r));
}

/* A refusal must mean the broker really is near its cap, and an accepted request must fit under
 * it: catches byte accounting that leaks (a broker full forever) or underflows (no cap). */
static void check_budget(const struct kuard_reply *r, const struct shadow *sh, size_t min_cost,
                         size_t max_cost)
{
    size_t min_used = sh->msg_bytes + sh->name_bytes;
    size_t max_used = min_used + sh->n * QUEUE_OVERHEAD_MAX;
    if (r->status == 503) {
        check_error(r, 503, "queue server full");
        FUZZ_CHECK(max_used + max_cost > BROKER_CAP, "full at <= %zu of %d bytes, needing %zu",
                   max_used, BROKER_CAP, max_cost);
    } else {
        FUZZ_CHECK(min_used + min_cost <= BROKER_CAP, "accepted %zu bytes with >= %zu of %d used",
                   min_cost, min_used, BROKER_CAP);
    }
}

static json_t *parse_json(const struct kuard_reply *r)
{
    json_error_t jerr;
    FUZZ_CHECK(r->status == 200 && r->ctype == KUARD_CT_JSON, "status %d type %d, want JSON 200",
               r->status, r->ctype);
    FUZZ_CHECK(r->body.len > 0 && r->body.data[r->body.len - 1] == '\n',
               "JSON reply does not end in a newline like Go's json.Encoder");
    /* jp_json_quote writes NUL as \u0000; jansson refuses that without JSON_ALLOW_NUL. */
    json_t *doc = json_loadb(r->body.data, r->body.len, JSON_ALLOW_NUL, &jerr);
    FUZZ_CHECK(doc != NULL, "reply is not JSON (%s): %s", jerr.text, body_text(r));
    return doc;
}

static const char *get_string(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    FUZZ_CHECK(s != NULL, "\"%s\" is not a string", key);
    return s;
}

static int64_t get_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    FUZZ_CHECK(json_is_integer(v), "\"%s\" is not an integer", key);
    return json_integer_value(v);
}

/* A JSON string equals the bytes the project quoted, as Go would decode them. */
static void check_string(const json_t *v, const char *what, const char *bytes, size_t len)
{
    size_t want_len;
    char *want = fuzz_go_string(bytes, len, &want_len);
    FUZZ_CHECK(json_is_string(v), "%s is not a string", what);
    FUZZ_CHECK(json_string_length(v) == want_len &&
                   memcmp(json_string_value(v), want, want_len) == 0,
               "%s \"%s\" does not round-trip (%zu bytes, want %zu)", what, json_string_value(v),
               json_string_length(v), want_len);
    free(want);
}

/* {"kind":"message","id":<32 hex>,"body":..,"creationTimestamp":<RFC 3339 UTC>}; checks the
 * body and returns the document. */
static json_t *check_message(const struct kuard_reply *r, const char *body, size_t len)
{
    json_t *doc = parse_json(r);
    FUZZ_CHECK(json_object_size(doc) == 4 && is(get_string(doc, "kind"), "message"),
               "not a message: %s", body_text(r));
    const char *id = get_string(doc, "id");
    FUZZ_CHECK(strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32, "bad id \"%s\"", id);
    const char *ts = get_string(doc, "creationTimestamp");
    FUZZ_CHECK(strlen(ts) >= 20 && ts[strlen(ts) - 1] == 'Z', "bad timestamp \"%s\"", ts);
    check_string(json_object_get(doc, "body"), "message body", body, len);
    return doc;
}

/* {"kind":"stats","queues":[{"name","depth","enqueued","dequeued","drained"}]} in creation
 * order, matching the model. */
static void check_stats(const struct kuard_reply *r, const struct shadow *sh)
{
    json_t *doc = parse_json(r);
    const json_t *queues = json_object_get(doc, "queues");
    FUZZ_CHECK(is(get_string(doc, "kind"), "stats") && json_is_array(queues),
               "not a stats document: %s", body_text(r));
    FUZZ_CHECK(json_array_size(queues) == sh->n, "stats lists %zu queues, want %zu",
               json_array_size(queues), sh->n);
    for (size_t i = 0; i < sh->n; i++) {
        const struct shadow_queue *q = &sh->queues[i];
        const json_t *s = json_array_get(queues, i);
        check_string(json_object_get(s, "name"), "queue name", q->name, strlen(q->name));
        FUZZ_CHECK(json_object_size(s) == 5 &&
                       get_int(s, "depth") == (int64_t)(q->count - q->head) &&
                       get_int(s, "enqueued") == q->enqueued &&
                       get_int(s, "dequeued") == q->dequeued && get_int(s, "drained") == q->drained,
                   "stats for queue %zu disagree with the model: %s", i, body_text(r));
    }
    json_decref(doc);
}

static void do_create(struct shadow *sh, const char *name, const struct kuard_reply *r)
{
    if (shadow_find(sh, name)) {
        check_error(r, 400, "already exists");
        return;
    }
    size_t cost = strlen(name) + 1;
    check_budget(r, sh, cost, cost + QUEUE_OVERHEAD_MAX);
    if (r->status == 503) return;
    check_empty(r, 200);
    if (sh->n == sh->alloc) {
        sh->alloc = sh->alloc ? sh->alloc * 2 : 8;
        sh->queues = jp_xrealloc(sh->queues, sh->alloc * sizeof(*sh->queues));
    }
    sh->queues[sh->n++] = (struct shadow_queue){.name = jp_xstrdup(name)};
    sh->name_bytes += cost;
}

static void do_enqueue(struct shadow *sh, struct shadow_queue *q, const char *body, size_t len,
                       const struct kuard_reply *r)
{
    check_budget(r, sh, msg_cost(len), msg_cost(len));
    if (r->status == 503) return;
    json_t *doc = check_message(r, body, len);
    if (q->count == q->alloc) {
        q->alloc = q->alloc ? q->alloc * 2 : 8;
        q->msgs = jp_xrealloc(q->msgs, q->alloc * sizeof(*q->msgs));
    }
    q->msgs[q->count++] = (struct shadow_msg){
        .body = fuzz_strndup(body, len),
        .len = len,
        .id = jp_xstrdup(get_string(doc, "id")),
        .created = jp_xstrdup(get_string(doc, "creationTimestamp")),
    };
    q->enqueued++;
    sh->msg_bytes += msg_cost(len);
    json_decref(doc);
}

/* FIFO: the dequeued message is the oldest one, with the id and time its enqueue reported. */
static void do_dequeue(struct shadow *sh, struct shadow_queue *q, const struct kuard_reply *r)
{
    if (q->head == q->count) {
        check_empty(r, 204);
        return;
    }
    struct shadow_msg *m = &q->msgs[q->head];
    json_t *doc = check_message(r, m->body, m->len);
    FUZZ_CHECK(is(get_string(doc, "id"), m->id) &&
                   is(get_string(doc, "creationTimestamp"), m->created),
               "dequeued %s, want the oldest message %s", body_text(r), m->id);
    json_decref(doc);
    sh->msg_bytes -= msg_cost(m->len);
    free(m->body);
    free(m->id);
    free(m->created);
    if (++q->head == q->count) q->head = q->count = 0;
    q->dequeued++;
}

static void check_reply(struct shadow *sh, const char *method, const char *path, const char *body,
                        size_t len, const struct kuard_reply *r)
{
    enum op op;
    char *name;
    int status = route(method, path, &op, &name);
    if (status != 0) {
        check_error(r, status,
                    status == 404   ? "404 page not found"
                    : status == 405 ? "Method Not Allowed"
                                    : "empty name");
        return;
    }
    struct shadow_queue *q = name ? shadow_find(sh, name) : NULL;
    if (op == OP_STATS) {
        check_stats(r, sh);
    } else if (op == OP_CREATE) {
        do_create(sh, name, r);
    } else if (q == NULL) {
        check_error(r, 400, "does not exist");
    } else if (op == OP_DELETE) {
        check_empty(r, 200);
        shadow_delete(sh, q);
    } else if (op == OP_ENQUEUE) {
        do_enqueue(sh, q, body, len, r);
    } else if (op == OP_DEQUEUE) {
        do_dequeue(sh, q, r);
    } else {
        check_empty(r, 200);
        q->drained += (int64_t)(q->count - q->head);
        shadow_clear(sh, q);
    }
    free(name);
}

struct visit_state {
    const struct shadow *sh;
    size_t i;
};

static void visit(const struct memq_queue_stat *st, void *arg)
{
    struct visit_state *v = arg;
    FUZZ_CHECK(v->i < v->sh->n, "broker has more queues than the model (%zu)", v->sh->n);
    const struct shadow_queue *q = &v->sh->queues[v->i++];
    FUZZ_CHECK(is(st->name, q->name) && st->depth == (int64_t)(q->count - q->head) &&
                   st->enqueued == q->enqueued && st->dequeued == q->dequeued &&
                   st->drained == q->drained,
               "queue %zu: broker has \"%s\" %lld/%lld/%lld/%lld, model \"%s\" %zu/%lld/%lld/%lld "
               "(depth/enqueued/dequeued/drained)",
               v->i - 1, st->name, (long long)st->depth, (long long)st->enqueued,
               (long long)st->dequeued, (long long)st->drained, q->name, q->count - q->head,
               (long long)q->enqueued, (long long)q->dequeued, (long long)q->drained);
}

/* After every request the broker's own view must equal the model, whatever the request was. */
static void check_broker(const struct memq_broker *b, const struct shadow *sh)
{
    struct visit_state v = {sh, 0};
    memq_foreach(b, visit, &v);
    FUZZ_CHECK(v.i == sh->n && memq_queue_count(b) == sh->n, "broker has %zu queues, model %zu",
               memq_queue_count(b), sh->n);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* OUT: caller frees; NUL-terminated, *out_len excludes it. */
static char *decode_body(const char *s, size_t n, size_t *out_len)
{
    char *out = jp_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = s[i] == '%' && i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = hi < 0 ? -1 : hexval(s[i + 2]);
        if (lo < 0) {
            out[o++] = s[i];
            continue;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static void run_line(struct memq_broker *b, struct shadow *sh, const char *line, size_t n)
{
    static const char *const methods[] = {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"};
    static const char keys[] = "GUPDHA"; /* the readable spelling of methods[] */
    const char *k = memchr(keys, line[0], 6);
    const char *method = methods[k ? k - keys : (unsigned char)line[0] % 6];
    const char *rest = line + 1, *end = line + n;
    const char *sp = memchr(rest, ' ', (size_t)(end - rest));
    const char *path_end = sp ? sp : end;
    if (memchr(rest, '\0', (size_t)(path_end - rest))) return;
    char *path = fuzz_strndup(rest, (size_t)(path_end - rest));
    if (kuard_unescape_path(path) < 0 || (path[0] != '\0' && path[0] != '/')) {
        free(path);
        return;
    }
    size_t len = 0;
    char *body = sp ? decode_body(sp + 1, (size_t)(end - sp - 1), &len) : jp_xstrdup("");

    struct kuard_reply r;
    kuard_reply_init(&r);
    memq_api_handle(b, method, path, body, len, &r);
    static const int statuses[] = {200, 204, 400, 404, 405, 500, 503};
    size_t i = 0;
    while (i < sizeof(statuses) / sizeof(statuses[0]) && statuses[i] != r.status)
        i++;
    FUZZ_CHECK(i < sizeof(statuses) / sizeof(statuses[0]), "%s %s: status %d", method, path,
               r.status);
    check_reply(sh, method, path, body, len, &r);
    check_broker(b, sh);
    kuard_reply_free(&r);
    free(body);
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct memq_broker *b = memq_broker_new(BROKER_CAP);
    struct shadow sh = {0};
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (eol > p) run_line(b, &sh, p, (size_t)(eol - p));
        p = nl ? nl + 1 : end;
    }
    shadow_free(&sh);
    memq_broker_free(b);
    return 0;
}
