/* Container probes, as the kubelet runs them: startup first (liveness and readiness wait for
 * it), then liveness and readiness every periodSeconds after initialDelaySeconds. A check is an
 * HTTP GET (2xx/3xx passes), a TCP connect, or a command run inside the container's namespaces
 * (exit 0 passes), each bounded by timeoutSeconds. successThreshold passes in a row make a
 * readiness probe ready, failureThreshold failures in a row make it unready; a liveness or
 * startup probe that reaches failureThreshold has the container killed (SIGTERM, SIGKILL after
 * the grace period) and restarted as its restartPolicy says. Every failure is a Warning
 * "Unhealthy" event, as the kubelet records them (the recorder counts repeats).
 *
 * An HTTPS check speaks TLS over the same connection and, as the kubelet's prober, checks no
 * certificate (InsecureSkipVerify): GnuTLS on memory, driven by the loop's reads.
 *
 * HTTP and TCP checks connect from the node's network namespace to the pod's IP, as the kubelet
 * does from the host; a pod without an address is checked on 127.0.0.1 inside its own
 * namespace (or the server's, on the host network). Every handle of a probe is counted, and the
 * probe (with its reference on the pod) is freed once the last one has closed. */
#include "agent/agent-internal.h"
#include "api/object.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define RESPONSE_MAX    4096
#define EXEC_OUTPUT_MAX 10240
#define TLS_IN_MAX      (40 * 1024) /* received, not yet decrypted: over two TLS records */

enum probe_kind { PROBE_STARTUP, PROBE_LIVENESS, PROBE_READINESS };
static const char *const kind_field[] = {"startupProbe", "livenessProbe", "readinessProbe"};
static const char *const kind_name[] = {"Startup", "Liveness", "Readiness"};

struct probe {
    struct container *c;
    enum probe_kind kind;
    const json_t *spec; /* borrowed from the container's spec */
    int64_t period_ms, timeout_ms, delay_ms;
    int success_threshold, failure_threshold;
    int successes, failures;
    uv_timer_t tick, timeout; /* the period; the check's timeout (then the kill's grace) */
    int handles;              /* open handles: the probe is freed when none is left */
    bool closing, in_flight, killing;
    /* the check under way */
    uv_tcp_t tcp;
    bool tcp_open, tcp_closing; /* closing: its memory is libuv's until closed() */
    uv_connect_t connect;
    uv_write_t write;
    char *request;
    char reply[EXEC_OUTPUT_MAX + 1]; /* the response's start, or the command's output */
    size_t len;
    char addr[32];        /* "10.244.0.5:8080" */
    char url[320];        /* "10.244.0.5:8080/ready" */
    const char *scheme;   /* "http" or "https", for messages */
    gnutls_session_t tls; /* an HTTPS check's session, NULL otherwise */
    char *tls_in;         /* what arrived and the session has not read yet: [tls_in_off, _len) */
    size_t tls_in_off, tls_in_len;
    size_t tls_sent; /* bytes of the request sent */
    bool tls_eof, tls_ready, tls_starved;
    uv_process_t proc;
    bool proc_open, proc_running; /* running: spawned, its exit not seen yet */
    uv_pipe_t out;
    bool out_open;
};

static void closed(uv_handle_t *h)
{
    struct probe *pr = h->data;
    if (h == (uv_handle_t *)&pr->tcp) pr->tcp_closing = false;
    if (--pr->handles > 0) return;
    struct pod *p = pr->c->pod;
    free(pr->request);
    free(pr->tls_in);
    if (pr->tls) gnutls_deinit(pr->tls);
    free(pr);
    pod__unref(p);
}

static void close_handle(struct probe *pr, uv_handle_t *h, bool *open)
{
    if (!*open) return;
    *open = false;
    h->data = pr;
    uv_close(h, closed);
}

/* Ends the check under way, whatever its state. */
static void end_check(struct probe *pr)
{
    pr->in_flight = false;
    if (!pr->killing) uv_timer_stop(&pr->timeout);
    pr->tcp_closing |= pr->tcp_open;
    close_handle(pr, (uv_handle_t *)&pr->tcp, &pr->tcp_open);
    /* a command still running is killed; its handle closes once its exit is seen, or the
     * child would stay a zombie (libuv reaps only what a handle watches) */
    if (pr->proc_running)
        uv_process_kill(&pr->proc, SIGKILL);
    else
        close_handle(pr, (uv_handle_t *)&pr->proc, &pr->proc_open);
    close_handle(pr, (uv_handle_t *)&pr->out, &pr->out_open);
    free(pr->request);
    pr->request = NULL;
    if (pr->tls) gnutls_deinit(pr->tls);
    pr->tls = NULL;
    free(pr->tls_in);
    pr->tls_in = NULL;
    pr->tls_in_off = pr->tls_in_len = pr->tls_sent = 0;
    pr->tls_eof = pr->tls_ready = false;
}

static struct probe **slot(struct container *c, enum probe_kind k)
{
    return &c->probes[k];
}

static void start_timer(struct probe *pr, int64_t first_ms);

static void kill_fired(uv_timer_t *t)
{
    struct probe *pr = t->data;
    if (!pr->closing && pr->c->state == C_RUNNING) spawn__kill(pr->c, SIGKILL);
}

/* Liveness or startup gave up: the container goes, and its restartPolicy decides the rest. */
static void kill_container(struct probe *pr)
{
    struct container *c = pr->c;
    struct pod *p = c->pod;
    agent__event(p, c, "Normal", "Killing", "Container %s failed %s probe, will be restarted",
                 c->name, pr->kind == PROBE_STARTUP ? "startup" : "liveness");
    int64_t grace = jp_json_int(pr->spec, -1, "terminationGracePeriodSeconds", NULL);
    if (grace < 0) grace = jp_json_int(p->spec, 30, "terminationGracePeriodSeconds", NULL);
    spawn__kill(c, grace > 0 ? SIGTERM : SIGKILL);
    pr->killing = true;
    uv_timer_stop(&pr->tick);
    uv_timer_start(&pr->timeout, kill_fired, (uint64_t)(grace > 0 ? grace : 0) * 1000, 0);
}

static void result(struct probe *pr, bool ok, const char *why)
{
    struct container *c = pr->c;
    struct pod *p = c->pod;
    end_check(pr);
    if (pr->closing || pr->killing) return;
    if (ok) {
        pr->failures = 0;
        pr->successes++;
    } else {
        pr->successes = 0;
        pr->failures++;
        agent__event(p, c, "Warning", "Unhealthy", "%s probe failed: %s", kind_name[pr->kind], why);
    }
    switch (pr->kind) {
    case PROBE_STARTUP:
        if (ok && pr->successes >= pr->success_threshold) {
            c->probe_started = true;
            uv_timer_stop(&pr->tick); /* done for this container's life */
            for (int k = PROBE_LIVENESS; k <= PROBE_READINESS; k++)
                if (*slot(c, k)) start_timer(*slot(c, k), (*slot(c, k))->delay_ms);
            agent__dirty(p);
        } else if (!ok && pr->failures >= pr->failure_threshold) {
            kill_container(pr);
        }
        break;
    case PROBE_LIVENESS:
        if (!ok && pr->failures >= pr->failure_threshold) kill_container(pr);
        break;
    case PROBE_READINESS:
        if (ok && !c->probe_ready && pr->successes >= pr->success_threshold) {
            c->probe_ready = true;
            agent__dirty(p);
        } else if (!ok && c->probe_ready && pr->failures >= pr->failure_threshold) {
            c->probe_ready = false;
            agent__dirty(p);
        }
        break;
    }
}

static void timed_out(uv_timer_t *t)
{
    struct probe *pr = t->data;
    if (!pr->in_flight) return;
    char why[480];
    if (json_object_get(pr->spec, "exec"))
        snprintf(why, sizeof(why), "command timed out after %llds",
                 (long long)(pr->timeout_ms / 1000));
    else if (json_object_get(pr->spec, "httpGet"))
        snprintf(why, sizeof(why),
                 "Get \"%s://%s\": context deadline exceeded (Client.Timeout exceeded while "
                 "awaiting headers)",
                 pr->scheme, pr->url);
    else
        snprintf(why, sizeof(why), "dial tcp %s: i/o timeout", pr->addr);
    result(pr, false, why);
}

/* ---- HTTP and TCP ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct probe *pr = h->data;
    buf->base = pr->reply + pr->len;
    buf->len = RESPONSE_MAX - pr->len;
}

/* The status line, once it is in (or the response ended without one): true once decided. */
static bool check_reply(struct probe *pr, bool ended)
{
    pr->reply[pr->len] = '\0';
    const char *eol = strstr(pr->reply, "\r\n");
    if (eol == NULL && !ended && pr->len < RESPONSE_MAX) return false;
    int code = 0;
    char why[400];
    if (eol == NULL || sscanf(pr->reply, "HTTP/%*d.%*d %d", &code) != 1) {
        snprintf(why, sizeof(why), "Get \"%s://%s\": malformed HTTP response", pr->scheme, pr->url);
        result(pr, false, why);
        return true;
    }
    snprintf(why, sizeof(why), "HTTP probe failed with statuscode: %d", code);
    result(pr, code >= 200 && code < 400, why);
    return true;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct probe *pr = s->data;
    if (n > 0) pr->len += (size_t)n;
    check_reply(pr, n < 0);
}

/* ---- HTTPS ---- */

static gnutls_certificate_credentials_t tls_cred; /* none to trust: nothing is verified */

struct tls_write {
    uv_write_t req;
    char data[];
};

static void tls_written(uv_write_t *w, int status)
{
    (void)status; /* a failed write ends the read too: the read side reports */
    free(w);
}

/* GnuTLS's output goes straight to the socket; the write owns its copy */
static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *data, size_t n)
{
    struct probe *pr = ptr;
    struct tls_write *w = jp_xmalloc(sizeof(*w) + n);
    memcpy(w->data, data, n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&pr->tcp, &b, 1, tls_written) < 0) {
        free(w);
        gnutls_transport_set_errno(pr->tls, EPIPE);
        return -1;
    }
    return (ssize_t)n;
}

/* and its input is what the loop has read */
static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *data, size_t n)
{
    struct probe *pr = ptr;
    size_t have = pr->tls_in_len - pr->tls_in_off;
    if (have == 0) {
        if (pr->tls_eof) return 0;
        pr->tls_starved = true;
        gnutls_transport_set_errno(pr->tls, EAGAIN);
        return -1;
    }
    if (n > have) n = have;
    memcpy(data, pr->tls_in + pr->tls_in_off, n);
    pr->tls_in_off += n;
    return (ssize_t)n;
}

static void tls_failed(struct probe *pr, int error)
{
    char why[480];
    snprintf(why, sizeof(why), "Get \"https://%s\": %s", pr->url, gnutls_strerror(error));
    result(pr, false, why);
}

/* Takes the session as far as what arrived allows: the handshake, the request, the reply. A
 * call that returns AGAIN without having asked for input (tls_starved unset) consumed something
 * of its own - a TLS 1.3 session ticket or key update - and is simply made again. */
static void tls_step(struct probe *pr)
{
    for (int turns = 0;; turns++) {
        if (turns == 10000) { /* no progress: a session that only ever says "again" */
            tls_failed(pr, GNUTLS_E_INTERNAL_ERROR);
            return;
        }
        pr->tls_starved = false;
        ssize_t r;
        if (!pr->tls_ready) {
            r = gnutls_handshake(pr->tls);
            if (r == 0) {
                pr->tls_ready = true;
                continue;
            }
        } else if (pr->tls_sent < strlen(pr->request)) {
            r = gnutls_record_send(pr->tls, pr->request + pr->tls_sent,
                                   strlen(pr->request) - pr->tls_sent);
            if (r > 0) {
                pr->tls_sent += (size_t)r;
                continue;
            }
        } else {
            r = gnutls_record_recv(pr->tls, pr->reply + pr->len, RESPONSE_MAX - pr->len);
            if (r > 0) {
                pr->len += (size_t)r;
                if (check_reply(pr, false)) return;
                continue;
            }
            if (r == 0 || (r < 0 && gnutls_error_is_fatal((int)r))) { /* closed, cleanly or not */
                check_reply(pr, true);
                return;
            }
        }
        if (r == GNUTLS_E_AGAIN && pr->tls_starved) {
            if (pr->tls_eof) tls_failed(pr, GNUTLS_E_PREMATURE_TERMINATION);
            return; /* until more arrives */
        }
        if (r < 0 && gnutls_error_is_fatal((int)r)) {
            tls_failed(pr, (int)r);
            return;
        }
    }
}

static void tls_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct probe *pr = h->data;
    memmove(pr->tls_in, pr->tls_in + pr->tls_in_off, pr->tls_in_len - pr->tls_in_off);
    pr->tls_in_len -= pr->tls_in_off;
    pr->tls_in_off = 0;
    buf->base = pr->tls_in + pr->tls_in_len;
    buf->len = TLS_IN_MAX - pr->tls_in_len;
}

static void tls_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct probe *pr = s->data;
    if (n == UV_ENOBUFS) { /* 40 KB the session would not read: no HTTP status line is that */
        tls_failed(pr, GNUTLS_E_RECORD_OVERFLOW);
        return;
    }
    if (n > 0) pr->tls_in_len += (size_t)n;
    if (n < 0) pr->tls_eof = true;
    if (n != 0) tls_step(pr);
}

static void tls_start(struct probe *pr)
{
    int r = tls_cred ? 0 : gnutls_certificate_allocate_credentials(&tls_cred);
    if (r == 0) r = gnutls_init(&pr->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    if (r == 0) r = gnutls_set_default_priority(pr->tls);
    if (r == 0) r = gnutls_credentials_set(pr->tls, GNUTLS_CRD_CERTIFICATE, tls_cred);
    if (r < 0) {
        tls_failed(pr, r);
        return;
    }
    gnutls_transport_set_ptr(pr->tls, pr);
    gnutls_transport_set_push_function(pr->tls, tls_push);
    gnutls_transport_set_pull_function(pr->tls, tls_pull);
    pr->tls_in = jp_xmalloc(TLS_IN_MAX);
    if (uv_read_start((uv_stream_t *)&pr->tcp, tls_alloc, tls_read) < 0) {
        result(pr, false, "reading the response failed");
        return;
    }
    tls_step(pr);
}

static void on_written(uv_write_t *w, int status)
{
    (void)w;
    (void)status; /* a failed write ends the read too: the read side reports */
}

static void on_connect(uv_connect_t *req, int status)
{
    struct probe *pr = req->data;
    if (!pr->in_flight) return;
    const json_t *http = json_object_get(pr->spec, "httpGet");
    if (status < 0) {
        char why[480];
        snprintf(why, sizeof(why), "%s%s%s%s%sdial tcp %s: connect: %s", http ? "Get \"" : "",
                 http ? pr->scheme : "", http ? "://" : "", http ? pr->url : "", http ? "\": " : "",
                 pr->addr, uv_strerror(status));
        result(pr, false, why);
        return;
    }
    if (http == NULL) {
        result(pr, true, NULL);
        return;
    }
    if (!strcmp(pr->scheme, "https")) {
        tls_start(pr);
        return;
    }
    uv_buf_t b = uv_buf_init(pr->request, (unsigned)strlen(pr->request));
    pr->write.data = pr;
    if (uv_write(&pr->write, (uv_stream_t *)&pr->tcp, &b, 1, on_written) < 0 ||
        uv_read_start((uv_stream_t *)&pr->tcp, on_alloc, on_read) < 0)
        result(pr, false, "writing the request failed");
}

/* The port a probe names: a number, or one of the container's port names. */
static int probe_port(const struct container *c, const json_t *port)
{
    if (json_is_integer(port)) return (int)json_integer_value(port);
    const char *name = json_string_value(port);
    size_t i;
    json_t *cp;
    json_array_foreach(json_object_get(c->spec, "ports"), i, cp)
    {
        if (name && !strcmp(jp_json_str(cp, "name", NULL) ?: "", name))
            return (int)jp_json_int(cp, 0, "containerPort", NULL);
    }
    return 0;
}

static void check_socket(struct probe *pr, const json_t *action, bool http)
{
    struct pod *p = pr->c->pod;
    int port = probe_port(pr->c, json_object_get(action, "port"));
    struct sockaddr_in to = {0};
    int fd = port > 0 && port < 65536 ? agent__probe_socket(p, (uint16_t)port, &to) : -1;
    char ip[16];
    inet_ntop(AF_INET, &to.sin_addr, ip, sizeof(ip));
    snprintf(pr->addr, sizeof(pr->addr), "%s:%d", ip, port);
    const char *path = jp_json_str(action, "path", NULL) ?: "/";
    const char *scheme = jp_json_str(action, "scheme", NULL);
    pr->scheme = http && scheme && !strcasecmp(scheme, "HTTPS") ? "https" : "http";
    snprintf(pr->url, sizeof(pr->url), "%s%s%.256s", pr->addr, *path == '/' ? "" : "/", path);
    if (fd < 0) {
        result(pr, false, port > 0 ? "no socket to probe with" : "the probe names no valid port");
        return;
    }
    if (http) {
        struct jp_buf b;
        jp_buf_init(&b, 1 << 16);
        jp_buf_printf(&b, "GET %s%s HTTP/1.1\r\nHost: %s\r\n", *path == '/' ? "" : "/", path,
                      pr->addr);
        bool agent = false;
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(action, "httpHeaders"), i, h)
        {
            const char *k = jp_json_str(h, "name", NULL), *v = jp_json_str(h, "value", NULL);
            if (!k || !v || strpbrk(k, "\r\n:") || strpbrk(v, "\r\n")) continue;
            agent |= !strcasecmp(k, "User-Agent");
            jp_buf_printf(&b, "%s: %s\r\n", k, v);
        }
        if (!agent) jp_buf_printf(&b, "User-Agent: kube-probe/1.33\r\n");
        jp_buf_printf(&b, "Accept: */*\r\nConnection: close\r\n\r\n");
        pr->request = jp_buf_steal(&b, NULL);
        pr->len = 0;
    }
    uv_tcp_init(p->agent->loop, &pr->tcp);
    pr->tcp.data = pr;
    pr->tcp_open = true;
    pr->handles++;
    pr->connect.data = pr;
    if (uv_tcp_open(&pr->tcp, fd) < 0) {
        close(fd);
        result(pr, false, "no socket to probe with");
        return;
    }
    int e = uv_tcp_connect(&pr->connect, &pr->tcp, (struct sockaddr *)&to, on_connect);
    if (e < 0) {
        char why[160];
        snprintf(why, sizeof(why), "dial tcp %s: connect: %s", pr->addr, uv_strerror(e));
        result(pr, false, why);
    }
}

/* ---- exec ---- */

static void exec_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct probe *pr = h->data;
    buf->base = pr->reply + pr->len;
    buf->len = EXEC_OUTPUT_MAX - pr->len;
}

static void exec_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct probe *pr = s->data;
    if (n > 0) pr->len += (size_t)n;
    pr->reply[pr->len] = '\0';
    if (n < 0 || pr->len >= EXEC_OUTPUT_MAX) uv_read_stop(s);
}

static void exec_exited(uv_process_t *proc, int64_t status, int sig)
{
    struct probe *pr = proc->data;
    pr->proc_running = false;
    if (!pr->in_flight) { /* timed out or stopped: it was killed, and is reaped now */
        close_handle(pr, (uv_handle_t *)&pr->proc, &pr->proc_open);
        return;
    }
    /* the output, without its last newline, is the kubelet's failure message */
    while (pr->len && pr->reply[pr->len - 1] == '\n')
        pr->reply[--pr->len] = '\0';
    char why[EXEC_OUTPUT_MAX + 64];
    if (pr->len)
        snprintf(why, sizeof(why), "%s", pr->reply);
    else
        snprintf(why, sizeof(why), "command exited with %lld", (long long)status);
    result(pr, status == 0 && sig == 0, why);
}

static void check_exec(struct probe *pr, const json_t *action)
{
    struct container *c = pr->c;
    struct pod *p = c->pod;
    int pid = spawn__container_pid(c);
    const json_t *cmd = json_object_get(action, "command");
    if (pid <= 0) { /* its shim has not started it yet: no check this period */
        end_check(pr);
        return;
    }
    if (json_array_size(cmd) == 0) {
        result(pr, false, "no command");
        return;
    }
    p->entered = true; /* what the command starts is no shim's to kill */
    size_t n = json_array_size(cmd);
    char **argv = jp_xcalloc(n + 6, sizeof(char *));
    char pidtext[16];
    snprintf(pidtext, sizeof(pidtext), "%d", pid);
    argv[0] = p->agent->self_exe;
    argv[1] = "shim";
    argv[2] = "--exec";
    argv[3] = pidtext;
    argv[4] = "--";
    for (size_t i = 0; i < n; i++)
        argv[5 + i] = (char *)(json_string_value(json_array_get(cmd, i)) ?: "");
    uv_pipe_init(p->agent->loop, &pr->out, 0);
    pr->out.data = pr;
    pr->out_open = true;
    pr->handles++;
    /* stdout only: the shim's --exec mode sends the command's stderr there too */
    uv_stdio_container_t stdio[2] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&pr->out}};
    uv_process_options_t o = {.file = p->agent->self_exe,
                              .args = argv,
                              .exit_cb = exec_exited,
                              .stdio_count = 2,
                              .stdio = stdio};
    pr->proc.data = pr;
    pr->len = 0;
    int e = uv_spawn(p->agent->loop, &pr->proc, &o);
    free(argv);
    /* a failed uv_spawn still initialised the handle: it must be closed like a live one */
    pr->proc_open = true;
    pr->handles++;
    if (e < 0) {
        char why[160];
        snprintf(why, sizeof(why), "starting the probe command: %s", uv_strerror(e));
        result(pr, false, why);
        return;
    }
    pr->proc_running = true;
    uv_read_start((uv_stream_t *)&pr->out, exec_alloc, exec_read);
}

/* ---- the period ---- */

static void tick(uv_timer_t *t)
{
    struct probe *pr = t->data;
    /* (a killed command not yet reaped still holds its handle, as a connection being closed
     * does its own: this period is skipped) */
    if (pr->closing || pr->in_flight || pr->killing || pr->proc_open || pr->tcp_closing ||
        pr->c->state != C_RUNNING)
        return;
    pr->in_flight = true;
    uv_timer_start(&pr->timeout, timed_out, (uint64_t)pr->timeout_ms, 0);
    const json_t *a;
    if ((a = json_object_get(pr->spec, "httpGet")))
        check_socket(pr, a, true);
    else if ((a = json_object_get(pr->spec, "tcpSocket")))
        check_socket(pr, a, false);
    else if ((a = json_object_get(pr->spec, "exec")))
        check_exec(pr, a);
    else
        result(pr, false, "the probe has no handler (gRPC probes are not supported)");
}

static void start_timer(struct probe *pr, int64_t first_ms)
{
    uv_timer_start(&pr->tick, tick, (uint64_t)(first_ms > 0 ? first_ms : 0),
                   (uint64_t)pr->period_ms);
}

void probe__start(struct container *c)
{
    struct pod *p = c->pod;
    c->probe_ready = json_object_get(c->spec, kind_field[PROBE_READINESS]) == NULL;
    c->probe_started = json_object_get(c->spec, kind_field[PROBE_STARTUP]) == NULL;
    if (c->init) return; /* init containers are not probed */
    for (int k = 0; k < 3; k++) {
        const json_t *spec = json_object_get(c->spec, kind_field[k]);
        if (!json_is_object(spec) || *slot(c, k)) continue;
        struct probe *pr = jp_xcalloc(1, sizeof(*pr));
        pr->c = c;
        pr->kind = (enum probe_kind)k;
        pr->spec = spec;
        pr->delay_ms = jp_json_int(spec, 0, "initialDelaySeconds", NULL) * 1000;
        pr->period_ms = jp_json_int(spec, 10, "periodSeconds", NULL) * 1000;
        pr->timeout_ms = jp_json_int(spec, 1, "timeoutSeconds", NULL) * 1000;
        pr->success_threshold = (int)jp_json_int(spec, 1, "successThreshold", NULL);
        pr->failure_threshold = (int)jp_json_int(spec, 3, "failureThreshold", NULL);
        if (pr->period_ms <= 0) pr->period_ms = 10000;
        if (pr->timeout_ms <= 0) pr->timeout_ms = 1000;
        uv_timer_init(p->agent->loop, &pr->tick);
        uv_timer_init(p->agent->loop, &pr->timeout);
        pr->tick.data = pr->timeout.data = pr;
        pr->handles = 2;
        p->handles++; /* the pod outlives its probes */
        *slot(c, k) = pr;
        if (k == PROBE_STARTUP || c->probe_started) start_timer(pr, pr->delay_ms);
    }
}

void probe__stop(struct container *c)
{
    for (int k = 0; k < 3; k++) {
        struct probe *pr = *slot(c, k);
        if (pr == NULL) continue;
        *slot(c, k) = NULL;
        pr->closing = true;
        end_check(pr);
        uv_close((uv_handle_t *)&pr->tick, closed);
        uv_close((uv_handle_t *)&pr->timeout, closed);
    }
}

/* ---- exec targets (the API's pods/exec shares the probes' way in) ---- */

int jp_agent_exec_target(struct jp_agent *a, const char *ns, const char *pod, const char *container,
                         int *pid, const char **shim_exe, struct jp_status **st)
{
    struct jp_log_opts o = {.container = container, .tail_lines = -1};
    int attempt;
    const struct container *c = agent__pick(a, ns, pod, &o, &attempt, st);
    if (c == NULL) return -1;
    if ((*pid = spawn__container_pid(c)) <= 0) {
        *st = jp_status_new(JP_BAD_REQUEST, "container %s is not running in pod %s", c->name, pod);
        return -1;
    }
    *shim_exe = a->self_exe;
    c->pod->entered = true; /* what the command starts is no shim's to kill */
    return 0;
}
