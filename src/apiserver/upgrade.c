/* The byte stream of an HTTP connection MHD has upgraded (101 Switching Protocols), on the loop.
 *
 * Plain HTTP: MHD hands over the socket itself. TLS: MHD 0.9.75 hands over one end of a
 * socketpair and relays it to the TLS session, but its relay buffers come from what is left of
 * the connection's memory pool after the response headers - nothing, since the header buffer
 * took it all - so it falls back to 4-byte buffers: every 4 bytes we write become a TLS record
 * of 26 bytes and a trip round MHD's loop (measured: 3.4 MB of a download took three minutes
 * and 22 MB on the wire; fixed in MHD 0.9.77). So for TLS we drive MHD's gnutls session
 * ourselves on a duplicate of the TCP socket: its transport functions are swapped for ones that
 * move bytes only while one of our own gnutls calls runs. MHD's relay keeps polling the session
 * but its reads see EAGAIN, and it never writes (nothing is written to its socketpair). This
 * holds because GnuTLS reads exactly one record at a time from a stream (no read-ahead) and our
 * reads always have room for a whole record, so no decrypted data is ever left in the session
 * for MHD's relay to pick up. At close the session gets plain socket functions back so MHD can
 * send close_notify, and MHD closes the connection. */
#include "apiserver/internal.h"
#include "base/alloc.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TLS_RECORD 16384 /* the most plaintext one TLS record carries */

struct upgrade {
    uv_poll_t poll;
    int fd;               /* our duplicate of the TCP socket */
    int mhd_fd;           /* MHD's: the TLS session goes back to it at close */
    gnutls_session_t tls; /* NULL for plain HTTP */
    bool ours;            /* one of our gnutls calls is running: the transport may move bytes */
    size_t tls_pending;   /* after GNUTLS_E_AGAIN, the length gnutls must be called with again */
    struct MHD_UpgradeResponseHandle *urh;
    uint8_t *out; /* bytes queued for the client: out[off, off + len) */
    size_t off, len, cap;
    int events; /* what the poll is started with */
    bool want_read, failed;
    void (*cb)(void *arg, int events);
    void *arg;
};

/* ---- the TLS session's transport while we own it ---- */

static ssize_t own_pull(gnutls_transport_ptr_t ptr, void *buf, size_t n)
{
    struct upgrade *u = ptr;
    if (!u->ours) { /* MHD's relay: nothing for it */
        gnutls_transport_set_errno(u->tls, EAGAIN);
        return -1;
    }
    ssize_t r = recv(u->fd, buf, n, 0);
    if (r < 0) gnutls_transport_set_errno(u->tls, errno);
    return r;
}

static ssize_t own_push(gnutls_transport_ptr_t ptr, const void *buf, size_t n)
{
    struct upgrade *u = ptr;
    if (!u->ours) {
        gnutls_transport_set_errno(u->tls, EAGAIN);
        return -1;
    }
    ssize_t r = send(u->fd, buf, n, MSG_NOSIGNAL);
    if (r < 0) gnutls_transport_set_errno(u->tls, errno);
    return r;
}

/* What the session uses once it is MHD's again: the socket, as GnuTLS's defaults would. */
static ssize_t plain_pull(gnutls_transport_ptr_t ptr, void *buf, size_t n)
{
    return recv((int)(intptr_t)ptr, buf, n, 0);
}

static ssize_t plain_push(gnutls_transport_ptr_t ptr, const void *buf, size_t n)
{
    return send((int)(intptr_t)ptr, buf, n, MSG_NOSIGNAL);
}

/* ---- reading and writing ---- */

ssize_t upgrade_read(struct upgrade *u, void *buf, size_t n)
{
    if (u->tls == NULL) {
        ssize_t r = recv(u->fd, buf, n, 0);
        if (r >= 0) return r;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? UV_EAGAIN : -errno;
    }
    if (n < UPGRADE_READ_MIN) return UV_ENOBUFS; /* a partial record would stay in the session */
    u->ours = true;
    ssize_t r = gnutls_record_recv(u->tls, buf, n);
    u->ours = false;
    if (r >= 0) return r;
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) return UV_EAGAIN;
    if (r == GNUTLS_E_PREMATURE_TERMINATION) return 0; /* closed without close_notify */
    jp_log(JP_DEBUG, "apiserver", "upgraded connection: TLS: %s", gnutls_strerror((int)r));
    return UV_EPROTO;
}

static ssize_t send_some(struct upgrade *u, const uint8_t *p, size_t n)
{
    if (u->tls == NULL) {
        ssize_t r = send(u->fd, p, n, MSG_NOSIGNAL);
        if (r >= 0) return r;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? UV_EAGAIN : -errno;
    }
    /* after E_AGAIN gnutls holds an encrypted record and must be called with the same length */
    size_t len = u->tls_pending ? u->tls_pending : n < TLS_RECORD ? n : TLS_RECORD;
    u->ours = true;
    ssize_t r = gnutls_record_send(u->tls, p, len);
    u->ours = false;
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
        u->tls_pending = len;
        return UV_EAGAIN;
    }
    u->tls_pending = 0;
    return r >= 0 ? r : UV_EPROTO;
}

static void update_poll(struct upgrade *u);

static void flush(struct upgrade *u)
{
    while (u->len > 0 && !u->failed) {
        ssize_t r = send_some(u, u->out + u->off, u->len);
        if (r == UV_EAGAIN) break;
        if (r <= 0) {
            u->failed = true; /* reported from the poll callback, outside our caller's frame */
            break;
        }
        u->off += (size_t)r;
        u->len -= (size_t)r;
    }
    if (u->len == 0) u->off = 0;
    update_poll(u);
}

void upgrade_write(struct upgrade *u, const void *a, size_t an, const void *b, size_t bn)
{
    if (u->failed) return;
    if (u->off > 0 && u->off + u->len + an + bn > u->cap) {
        memmove(u->out, u->out + u->off, u->len);
        u->off = 0;
    }
    if (u->len + an + bn > u->cap) {
        size_t cap = u->cap ? u->cap : 64 * 1024;
        while (cap < u->len + an + bn)
            cap *= 2;
        u->out = jp_xrealloc(u->out, cap);
        u->cap = cap;
    }
    memcpy(u->out + u->off + u->len, a, an);
    u->len += an;
    if (bn) memcpy(u->out + u->off + u->len, b, bn);
    u->len += bn;
    if (!(u->events & UV_WRITABLE)) flush(u); /* else the poll says when there is room */
}

size_t upgrade_queued(const struct upgrade *u)
{
    return u->len;
}

void upgrade_read_start(struct upgrade *u, bool on)
{
    u->want_read = on;
    update_poll(u);
}

/* ---- the poll ---- */

static void poll_cb(uv_poll_t *p, int status, int events)
{
    struct upgrade *u = p->data;
    if (status < 0 || u->failed) {
        u->cb(u->arg, UPGRADE_ERROR);
        return;
    }
    if (events & UV_WRITABLE) {
        flush(u);
        if (u->failed) {
            u->cb(u->arg, UPGRADE_ERROR);
            return;
        }
    }
    u->cb(u->arg, events & (UV_READABLE | UV_WRITABLE));
}

static void update_poll(struct upgrade *u)
{
    int want = (u->want_read ? UV_READABLE : 0) | (u->len || u->failed ? UV_WRITABLE : 0);
    if (want == u->events) return;
    u->events = want;
    if (want)
        uv_poll_start(&u->poll, want, poll_cb);
    else
        uv_poll_stop(&u->poll);
}

struct upgrade *upgrade_open(uv_loop_t *loop, struct MHD_Connection *conn, MHD_socket sock,
                             struct MHD_UpgradeResponseHandle *urh,
                             void (*cb)(void *arg, int events), void *arg)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int mhd_fd = ci ? ci->connect_fd : sock;
    int fd = fcntl(mhd_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return NULL;
    struct upgrade *u = jp_xcalloc(1, sizeof(*u));
    u->fd = fd;
    u->mhd_fd = mhd_fd;
    u->urh = urh;
    u->cb = cb;
    u->arg = arg;
    /* MHD turns TCP_NODELAY off for upgraded connections: small frames (a reply, a short answer)
     * would then wait for delayed ACKs, 40 ms at a time */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (mhd_fd != sock) {
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (ci == NULL || ci->tls_session == NULL) {
            close(fd);
            free(u);
            return NULL;
        }
        u->tls = (gnutls_session_t)ci->tls_session;
        gnutls_transport_set_ptr(u->tls, u);
        gnutls_transport_set_pull_function(u->tls, own_pull);
        gnutls_transport_set_push_function(u->tls, own_push);
    }
    if (uv_poll_init_socket(loop, &u->poll, fd) < 0) {
        if (u->tls) {
            gnutls_transport_set_ptr(u->tls, (gnutls_transport_ptr_t)(intptr_t)mhd_fd);
            gnutls_transport_set_pull_function(u->tls, plain_pull);
            gnutls_transport_set_push_function(u->tls, plain_push);
        }
        close(fd);
        free(u);
        return NULL;
    }
    u->poll.data = u;
    return u;
}

static void upgrade_freed(uv_handle_t *h)
{
    struct upgrade *u = h->data;
    close(u->fd);
    free(u->out);
    free(u);
}

void upgrade_close(struct upgrade *u, struct jp_httpd *kick)
{
    if (u->tls) {
        gnutls_transport_set_ptr(u->tls, (gnutls_transport_ptr_t)(intptr_t)u->mhd_fd);
        gnutls_transport_set_pull_function(u->tls, plain_pull);
        gnutls_transport_set_push_function(u->tls, plain_push);
    }
    /* MHD closes the connection (we only close our duplicate) once it has cleaned up */
    MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
    uv_close((uv_handle_t *)&u->poll, upgrade_freed);
    if (kick) jp_httpd_kick(kick);
}
