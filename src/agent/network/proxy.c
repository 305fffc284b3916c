/* The Service proxy (kube-proxy's old userspace mode, inside the server): for every TCP port of
 * every Service with a ClusterIP, a listener on ClusterIP:port in the node's network namespace
 * (the node routes the whole Service range to itself, so any ClusterIP can be bound). Each
 * accepted connection goes to the next ready endpoint of the Service's Endpoints for that port,
 * round robin, and bytes are copied both ways with back-pressure: a side stops being read while
 * the other has more than WRITE_HIGH bytes queued. A Service without ready endpoints resets
 * the connection, as a cluster would refuse it. */
#include "agent/agent-internal.h"
#include "api/kinds.h"
#include "base/alloc.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE  (64 << 10)
#define WRITE_HIGH (1 << 20)

struct listener {
    uv_tcp_t tcp;
    struct agent_proxy *px;
    char *ns, *svc, *port_name; /* port_name: "" for an unnamed Service port */
    uint32_t ip;
    int port;
    unsigned next_endpoint;
    bool seen;
    struct listener *next;
};

struct side {
    uv_tcp_t tcp;
    struct conn *conn;
    bool open, reading, paused, eof;
};

struct conn {
    struct side s[2]; /* 0: the client, 1: the endpoint */
    uv_connect_t connect;
    int handles;
    struct agent_proxy *px;
    struct conn *prev, *next; /* open connections: stopping closes them */
};

struct agent_proxy {
    struct jp_agent *a;
    struct listener *listeners;
    struct conn *conns;
};

/* ---- one connection ---- */

static void side_closed(uv_handle_t *h)
{
    struct side *s = h->data;
    struct conn *c = s->conn;
    if (--c->handles > 0) return;
    if (c->prev)
        c->prev->next = c->next;
    else if (c->px)
        c->px->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
}

static void conn_close(struct conn *c)
{
    for (int i = 0; i < 2; i++) {
        if (!c->s[i].open) continue;
        c->s[i].open = false;
        uv_close((uv_handle_t *)&c->s[i].tcp, side_closed);
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = malloc(READ_SIZE);
    buf->len = buf->base ? READ_SIZE : 0;
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf);

static void resume(struct side *s)
{
    if (s->open && s->paused && !s->eof) {
        s->paused = false;
        uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    }
}

struct write {
    uv_write_t req;
    struct side *from;
    char *data;
};

static void on_written(uv_write_t *req, int status)
{
    struct write *w = (struct write *)req;
    struct side *from = w->from;
    struct conn *c = from->conn;
    free(w->data);
    free(w);
    if (status < 0) {
        conn_close(c);
        return;
    }
    struct side *to = &c->s[from == &c->s[0]];
    if (to->tcp.write_queue_size < WRITE_HIGH / 2) resume(from);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct side *to = req->data;
    struct conn *c = to->conn;
    free(req);
    (void)status;
    if (c->s[0].eof && c->s[1].eof) conn_close(c);
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct side *from = stream->data;
    struct conn *c = from->conn;
    struct side *to = &c->s[from == &c->s[0]];
    if (n > 0) {
        struct write *w = jp_xcalloc(1, sizeof(*w));
        w->from = from;
        w->data = buf->base;
        uv_buf_t out = uv_buf_init(buf->base, (unsigned)n);
        if (!to->open || uv_write(&w->req, (uv_stream_t *)&to->tcp, &out, 1, on_written) < 0) {
            free(w->data);
            free(w);
            conn_close(c);
            return;
        }
        if (to->tcp.write_queue_size > WRITE_HIGH) {
            from->paused = true;
            uv_read_stop(stream);
        }
        return;
    }
    free(buf->base);
    if (n == 0) return;
    if (n != UV_EOF) {
        conn_close(c);
        return;
    }
    /* half close: the other side learns of it once what is queued has gone */
    from->eof = true;
    uv_read_stop(stream);
    uv_shutdown_t *req = jp_xcalloc(1, sizeof(*req));
    req->data = to;
    if (!to->open || uv_shutdown(req, (uv_stream_t *)&to->tcp, on_shutdown) < 0) {
        free(req);
        conn_close(c);
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (status < 0 || !c->s[0].open || !c->s[1].open) {
        conn_close(c);
        return;
    }
    for (int i = 0; i < 2; i++) {
        c->s[i].reading = true;
        uv_read_start((uv_stream_t *)&c->s[i].tcp, on_alloc, on_read);
    }
}

/* ---- choosing an endpoint ---- */

/* The next ready address (round robin) serving the listener's port, as ip:port. */
static bool pick(struct listener *l, struct sockaddr_in *to)
{
    struct jp_agent *a = l->px->a;
    const struct jp_obj *o = jp_store_get(a->store, a->kind_endpoints, l->ns, l->svc);
    json_t *ep = o ? json_loadb(o->json, o->len, 0, NULL) : NULL;
    json_t *cands = json_array();
    size_t i, j, k;
    json_t *subset, *port, *addr;
    json_array_foreach(json_object_get(ep, "subsets"), i, subset)
    {
        json_array_foreach(json_object_get(subset, "ports"), j, port)
        {
            const char *name = jp_json_str(port, "name", NULL) ?: "";
            const char *proto = jp_json_str(port, "protocol", NULL) ?: "TCP";
            if (strcmp(name, l->port_name) || strcmp(proto, "TCP")) continue;
            json_array_foreach(json_object_get(subset, "addresses"), k, addr) json_array_append_new(
                cands, json_pack("{s:O,s:O}", "ip", json_object_get(addr, "ip"), "port",
                                 json_object_get(port, "port")));
        }
    }
    bool ok = false;
    size_t n = json_array_size(cands);
    if (n) {
        json_t *chosen = json_array_get(cands, l->next_endpoint++ % n);
        *to =
            (struct sockaddr_in){.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)jp_json_int(chosen, 0, "port", NULL))};
        ok = inet_pton(AF_INET, jp_json_str(chosen, "ip", NULL) ?: "", &to->sin_addr) == 1;
    }
    json_decref(cands);
    json_decref(ep);
    return ok;
}

static void refuse(uv_tcp_t *client)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)client, &fd) == 0) {
        struct linger lg = {1, 0}; /* close with a reset, like a refused connection */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    if (status < 0) return;
    uv_loop_t *loop = l->px->a->loop;
    struct conn *c = jp_xcalloc(1, sizeof(*c));
    for (int i = 0; i < 2; i++)
        c->s[i].conn = c;
    c->px = l->px;
    c->next = l->px->conns;
    if (c->next) c->next->prev = c;
    l->px->conns = c;
    uv_tcp_init(loop, &c->s[0].tcp);
    c->s[0].tcp.data = &c->s[0];
    c->s[0].open = true;
    c->handles = 1;
    if (uv_accept(server, (uv_stream_t *)&c->s[0].tcp) < 0) {
        conn_close(c);
        return;
    }
    struct sockaddr_in to;
    int fd = -1;
    /* the API's own Service (controllers/bootstrap.c) leads to the host's loopback, reached from
     * the server's namespace; every other address is one of the pod network's (a loopback one
     * written into another Service's Endpoints reaches nothing of the host's) */
    bool api = !strcmp(l->ns, "default") && !strcmp(l->svc, "kubernetes");
    if (pick(l, &to))
        fd = api && ntohl(to.sin_addr.s_addr) >> 24 == 127
                 ? socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
                 : net__socket(l->px->a, SOCK_STREAM);
    if (fd < 0) {
        refuse(&c->s[0].tcp);
        conn_close(c);
        return;
    }
    uv_tcp_init(loop, &c->s[1].tcp);
    c->s[1].tcp.data = &c->s[1];
    c->s[1].open = true;
    c->handles++;
    c->connect.data = c;
    if (uv_tcp_open(&c->s[1].tcp, fd) < 0) {
        close(fd);
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->s[0].tcp, 1);
    uv_tcp_nodelay(&c->s[1].tcp, 1);
    if (uv_tcp_connect(&c->connect, &c->s[1].tcp, (struct sockaddr *)&to, on_connected) < 0)
        conn_close(c);
}

/* ---- listeners ---- */

static void listener_closed(uv_handle_t *h)
{
    struct listener *l = h->data;
    free(l->ns);
    free(l->svc);
    free(l->port_name);
    free(l);
}

static void add_listener(struct agent_proxy *px, const char *ns, const char *svc,
                         const char *port_name, uint32_t ip, int port)
{
    struct listener *l = jp_xcalloc(1, sizeof(*l));
    l->px = px;
    l->ns = jp_xstrdup(ns);
    l->svc = jp_xstrdup(svc);
    l->port_name = jp_xstrdup(port_name);
    l->ip = ip;
    l->port = port;
    l->seen = true;
    uv_tcp_init(px->a->loop, &l->tcp);
    l->tcp.data = l;
    int fd = net__socket(px->a, SOCK_STREAM);
    struct sockaddr_in at = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(ip)};
    const char *why = fd < 0 ? strerror(-fd) : NULL;
    int rc = fd < 0 ? fd : uv_tcp_open(&l->tcp, fd);
    if (fd >= 0 && rc < 0) close(fd); /* not the handle's yet */
    if (rc == 0) rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&at, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
    if (rc < 0) {
        char text[16];
        jp_log(JP_WARN, "proxy", "service %s/%s: listening on %s:%d: %s", ns, svc,
               net__ip_str(ip, text), port, why ? why : uv_strerror(rc));
        uv_close((uv_handle_t *)&l->tcp, listener_closed);
        return;
    }
    l->next = px->listeners;
    px->listeners = l;
}

static struct listener *find(struct agent_proxy *px, uint32_t ip, int port)
{
    for (struct listener *l = px->listeners; l; l = l->next)
        if (l->ip == ip && l->port == port) return l;
    return NULL;
}

static bool sync_service(const struct jp_obj *o, void *arg)
{
    struct agent_proxy *px = arg;
    json_t *svc = json_loadb(o->json, o->len, 0, NULL);
    const char *text = jp_json_str(svc, "spec", "clusterIP", NULL);
    struct in_addr in;
    if (text && inet_pton(AF_INET, text, &in) == 1) {
        uint32_t ip = ntohl(in.s_addr);
        size_t i;
        json_t *port;
        json_array_foreach(jp_json_path(svc, "spec", "ports", NULL), i, port)
        {
            int number = (int)jp_json_int(port, 0, "port", NULL);
            const char *name = jp_json_str(port, "name", NULL) ?: "";
            if (strcmp(jp_json_str(port, "protocol", NULL) ?: "TCP", "TCP") || number <= 0)
                continue;
            struct listener *l = find(px, ip, number);
            if (l == NULL) {
                add_listener(px, o->ns, o->name, name, ip, number);
                continue;
            }
            if (strcmp(l->ns, o->ns) || strcmp(l->svc, o->name) || strcmp(l->port_name, name)) {
                /* the address passed to another Service (or port): the socket stays */
                free(l->ns), free(l->svc), free(l->port_name);
                l->ns = jp_xstrdup(o->ns);
                l->svc = jp_xstrdup(o->name);
                l->port_name = jp_xstrdup(name);
            }
            l->seen = true;
        }
    }
    json_decref(svc);
    return true;
}

void proxy__sync(struct jp_agent *a)
{
    struct agent_proxy *px = a->proxy;
    if (px == NULL) return;
    for (struct listener *l = px->listeners; l; l = l->next)
        l->seen = false;
    jp_store_scan(a->store, a->kind_services, NULL, NULL, NULL, sync_service, px);
    for (struct listener **pl = &px->listeners; *pl;) {
        struct listener *l = *pl;
        if (l->seen) {
            pl = &l->next;
            continue;
        }
        *pl = l->next; /* open connections carry on; new ones are no longer accepted */
        uv_close((uv_handle_t *)&l->tcp, listener_closed);
    }
}

void proxy__start(struct jp_agent *a)
{
    struct agent_proxy *px = jp_xcalloc(1, sizeof(*px));
    px->a = a;
    a->proxy = px;
    proxy__sync(a);
}

void proxy__stop(struct jp_agent *a)
{
    struct agent_proxy *px = a->proxy;
    if (px == NULL) return;
    for (struct listener *l = px->listeners, *next; l; l = next) {
        next = l->next;
        uv_close((uv_handle_t *)&l->tcp, listener_closed);
    }
    for (struct conn *c = px->conns; c; c = c->next) {
        c->px = NULL; /* the list goes with px; the connections free themselves when closed */
        conn_close(c);
    }
    free(px);
    a->proxy = NULL;
}
