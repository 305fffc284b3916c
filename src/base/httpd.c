/* The libuv <-> libmicrohttpd bridge. One uv_poll watches MHD's epoll fd; a one-shot uv_timer
 * honours MHD_get_timeout. "drive" = MHD_run + re-arm the timer; it runs after every event. */
#include "base/httpd.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* MHD 0.9.75's epoll mode keeps returning a 0 ms timeout for a TLS peer that stalls mid-handshake
 * (and during each handshake): after this many zero timeouts without an epoll event or visible
 * work we wait 1 ms instead, which bounds the CPU a stalled client can burn. A large response
 * also returns 0 after every TLS record it writes (with no epoll event: the socket stays
 * writable), so a run that took long enough to have written something counts as work; without
 * that, LISTs were throttled to one 16 KB record per millisecond. */
#define ZERO_TIMEOUT_STREAK 4
#define RUN_DID_WORK_NS     8000 /* an idle MHD_run takes 1-3 us; writing a TLS record takes more */

struct jp_httpd {
    uv_loop_t *loop;
    struct MHD_Daemon *daemon;
    uv_poll_t poll;
    uv_timer_t timer;
    uint16_t port;
    unsigned zero_streak;
    unsigned kicks; /* extra runs still owed to jp_httpd_kick */
    bool stopping;
    int open_handles;
    struct jp_httpd_susp *suspended; /* doubly linked list of suspended connections */
};

struct jp_httpd_susp {
    struct jp_httpd *h;
    struct MHD_Connection *conn;
    uv_poll_t disconnect; /* UV_DISCONNECT on the socket: MHD can't see a close while suspended */
    bool has_poll;
    void (*gone)(void *arg);
    void *arg;
    struct jp_httpd_susp *prev, *next;
};

static void drive(struct jp_httpd *h);

static void timer_cb(uv_timer_t *t)
{
    drive(t->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    struct jp_httpd *h = p->data;
    h->zero_streak = 0;
    drive(h);
}

static void drive(struct jp_httpd *h)
{
    if (h->daemon == NULL) return;
    int64_t start = jp_mono_ns();
    MHD_run(h->daemon);
    if (jp_mono_ns() - start > RUN_DID_WORK_NS) h->zero_streak = 0;
    MHD_UNSIGNED_LONG_LONG timeout;
    bool have = MHD_get_timeout(h->daemon, &timeout) == MHD_YES;
    if (h->kicks > 0 && (!have || timeout > 0)) {
        h->kicks--;
        have = true;
        timeout = 0;
    }
    if (!have) {
        h->zero_streak = 0;
        uv_timer_stop(&h->timer);
        return;
    }
    if (timeout == 0 && ++h->zero_streak > ZERO_TIMEOUT_STREAK) timeout = 1;
    uv_timer_start(&h->timer, timer_cb, timeout, 0);
}

/* The last thing MHD logged in this thread: while a daemon starts (no thread of its own yet), why
 * it failed - the one place MHD says "address already in use". */
static _Thread_local char last_log[256];

__attribute__((format(printf, 2, 0))) static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    snprintf(last_log, sizeof(last_log), "%.*s", (int)sizeof(last_log) - 1, msg);
    jp_log(JP_DEBUG, "httpd", "%s", msg); /* client hang-ups are routine, not warnings */
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len,
                   bool *any, struct jp_err **err)
{
    memset(ss, 0, sizeof(*ss));
    *any = host == NULL || *host == '\0';
    if (*any) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_addr = in6addr_any;
        a6->sin6_port = htons(port);
        *len = sizeof(*a6);
        return 0;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0)
        return jp_err_set(err, JP_BAD_REQUEST, 0, "listen address \"%s\": %s", host,
                          gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    return 0;
}

int jp_httpd_start(uv_loop_t *loop, const struct jp_httpd_opts *o, struct jp_httpd **out,
                   struct jp_err **err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool any;
    if (resolve(o->host, o->port, &ss, &sslen, &any, err) < 0) return -1;

    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | o->extra_flags;
    if (any)
        flags |= MHD_USE_DUAL_STACK;
    else if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;

    static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    struct jp_httpd *h = jp_xcalloc(1, sizeof(*h));
    h->loop = loop;
    last_log[0] = '\0';
    h->daemon = MHD_start_daemon(
        flags, o->port, NULL, NULL, o->handler, o->handler_cls, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_NOTIFY_COMPLETED, o->completed, o->completed_cls, MHD_OPTION_CONNECTION_LIMIT,
        o->connection_limit ? o->connection_limit : 1024u, MHD_OPTION_CONNECTION_TIMEOUT,
        o->connection_timeout ? o->connection_timeout : 60u, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger,
        NULL, MHD_OPTION_ARRAY, o->extra_options ? o->extra_options : none, MHD_OPTION_END);
    if (h->daemon == NULL) {
        free(h);
        /* MHD reports the reason (e.g. address in use) only through the logger */
        return jp_err_set(err, JP_INTERNAL, 0, "listen on %s:%u: cannot start HTTP server%s%s",
                          any ? "" : o->host, (unsigned)o->port, last_log[0] ? ": " : "", last_log);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : o->port;
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    uv_poll_init(loop, &h->poll, info->epoll_fd);
    h->poll.data = h;
    uv_poll_start(&h->poll, UV_READABLE, poll_cb);
    h->open_handles = 2;
    drive(h);
    *out = h;
    return 0;
}

uint16_t jp_httpd_port(const struct jp_httpd *h)
{
    return h->port;
}

bool jp_httpd_stopping(const struct jp_httpd *h)
{
    return h->stopping;
}

static void susp_unlink(struct jp_httpd_susp *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        s->h->suspended = s->next;
    if (s->next) s->next->prev = s->prev;
}

static void susp_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void disconnect_cb(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    struct jp_httpd_susp *s = p->data;
    uv_poll_stop(p); /* level-triggered: a closed peer would fire forever */
    if (s->gone) s->gone(s->arg);
}

struct jp_httpd_susp *jp_httpd_suspend(struct jp_httpd *h, struct MHD_Connection *conn,
                                       void (*gone)(void *arg), void *arg)
{
    struct jp_httpd_susp *s = jp_xcalloc(1, sizeof(*s));
    s->h = h;
    s->conn = conn;
    s->gone = gone;
    s->arg = arg;
    s->next = h->suspended;
    if (h->suspended) h->suspended->prev = s;
    h->suspended = s;
    MHD_suspend_connection(conn);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->disconnect.data = s;
    /* without a gone callback the suspension is brief (e.g. waiting for a commit): no watch */
    if (gone && ci && uv_poll_init_socket(h->loop, &s->disconnect, ci->connect_fd) == 0) {
        s->has_poll = true;
        uv_poll_start(&s->disconnect, UV_DISCONNECT, disconnect_cb);
    }
    return s;
}

/* Unlinks, resumes and releases one suspended connection (the drive is the caller's). */
static void susp_release(struct jp_httpd_susp *s)
{
    susp_unlink(s);
    MHD_resume_connection(s->conn);
    if (s->has_poll)
        uv_close((uv_handle_t *)&s->disconnect, susp_closed);
    else
        free(s);
}

void jp_httpd_resume(struct jp_httpd_susp *s)
{
    struct jp_httpd *h = s->h;
    susp_release(s);
    /* In external-polling mode a resume does not wake MHD: drive now or the stream stalls. */
    drive(h);
}

/* Closing an upgraded TLS connection takes MHD three runs - relay the end, resume, clean up -
 * and only the first has an event to wake it: MHD_get_timeout does not count a pending resume. */
#define KICK_RUNS 3

void jp_httpd_kick(struct jp_httpd *h)
{
    h->kicks = KICK_RUNS;
    drive(h);
}

static void handle_closed(uv_handle_t *handle)
{
    struct jp_httpd *h = handle->data;
    if (--h->open_handles == 0) free(h);
}

void jp_httpd_close(struct jp_httpd *h)
{
    h->stopping = true;
    /* MHD aborts if stopped with suspended connections: resume them so their readers can end. */
    while (h->suspended)
        susp_release(h->suspended);
    uv_timer_stop(&h->timer);
    uv_poll_stop(&h->poll); /* before MHD closes the fd under it */
    MHD_run(h->daemon);
    MHD_stop_daemon(h->daemon);
    h->daemon = NULL;
    uv_close((uv_handle_t *)&h->timer, handle_closed);
    uv_close((uv_handle_t *)&h->poll, handle_closed);
}
