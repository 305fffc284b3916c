/* Routes of kuard's memq server, with its status codes and plain-text errors:
 *   GET /stats, PUT|DELETE /queues/{q}, POST /queues/{q}/enqueue|dequeue|drain.
 * A queue name is one path segment; "." and ".." never reach kuard's handlers (Go cleans the
 * path first), so they are 404 here too, and an empty name is 400 "empty name". */
#include "kuard/memq/api.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

static int status_of(enum memq_result res)
{
    switch (res) {
    case MEMQ_OK:
        return 200;
    case MEMQ_EMPTY:
        return 204;
    case MEMQ_FULL:
        return 503;
    default:
        return 400;
    }
}

static void queue_op(struct memq_broker *b, const char *method, const char *name, const char *op,
                     const char *body, size_t len, struct kuard_reply *r)
{
    bool post = strcmp(method, "POST") == 0;
    if (op == NULL) {
        bool put = strcmp(method, "PUT") == 0, del = strcmp(method, "DELETE") == 0;
        if (!put && !del) {
            kuard_reply_method_not_allowed(r, "PUT, DELETE");
            return;
        }
        if (*name == '\0') {
            kuard_reply_error(r, 400, "empty name");
            return;
        }
        enum memq_result res = put ? memq_create(b, name) : memq_delete(b, name);
        if (res != MEMQ_OK) {
            kuard_reply_error(r, status_of(res), memq_result_text(res));
            return;
        }
        r->status = 200; /* Go writes nothing: 200 with an empty body */
        return;
    }
    bool enqueue = strcmp(op, "enqueue") == 0, dequeue = strcmp(op, "dequeue") == 0;
    if (!enqueue && !dequeue && strcmp(op, "drain") != 0) {
        kuard_reply_not_found(r);
        return;
    }
    if (!post) {
        kuard_reply_method_not_allowed(r, "POST");
        return;
    }
    if (*name == '\0') {
        kuard_reply_error(r, 400, "empty name");
        return;
    }
    enum memq_result res;
    if (enqueue) {
        const struct memq_msg *m = NULL;
        res = memq_enqueue(b, name, body, len, &m);
        if (res == MEMQ_OK) {
            kuard_reply_json(r);
            if (memq_msg_json(m, &r->body) < 0) kuard_reply_error(r, 500, "reply too large");
            return;
        }
    } else if (dequeue) {
        struct memq_msg *m = NULL;
        res = memq_dequeue(b, name, &m);
        if (res == MEMQ_OK) {
            kuard_reply_json(r);
            if (memq_msg_json(m, &r->body) < 0) kuard_reply_error(r, 500, "reply too large");
            memq_msg_free(b, m);
            return;
        }
        if (res == MEMQ_EMPTY) {
            r->status = 204;
            return;
        }
    } else {
        res = memq_drain(b, name);
        if (res == MEMQ_OK) return;
    }
    kuard_reply_error(r, status_of(res), memq_result_text(res));
}

void memq_api_handle(struct memq_broker *b, const char *method, const char *path, const char *body,
                     size_t len, struct kuard_reply *r)
{
    if (strcmp(path, "/stats") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            kuard_reply_method_not_allowed(r, "GET");
            return;
        }
        kuard_reply_json(r);
        if (memq_stats_json(b, &r->body) < 0) kuard_reply_error(r, 500, "reply too large");
        return;
    }
    static const char prefix[] = "/queues/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0) {
        kuard_reply_not_found(r);
        return;
    }
    const char *name = path + sizeof(prefix) - 1;
    const char *slash = strchr(name, '/');
    const char *op = slash ? slash + 1 : NULL;
    if (op && strchr(op, '/')) {
        kuard_reply_not_found(r);
        return;
    }
    char *qname = jp_xstrndup(name, slash ? (size_t)(slash - name) : strlen(name));
    if (strcmp(qname, ".") == 0 || strcmp(qname, "..") == 0)
        kuard_reply_not_found(r);
    else
        queue_op(b, method, qname, op, body, len, r);
    free(qname);
}
