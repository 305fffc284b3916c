/* pods/NAME/exec: kubectl exec over a SPDY/3.1 session (spdysess.c), as the kubelet serves it.
 * kubectl opens one stream per stdio channel it wants (streamtype error, stdin, stdout, stderr,
 * and resize with a TTY); once they are all there the command starts under the agent's shim
 * (`shim --exec PID`, which joins the container's namespaces), its output is framed onto the
 * streams, stdin is copied in, and when it has exited and its output is drained the error stream
 * carries the final Status (exit code included) and every stream ends. kubectl then closes. */
#include "agent/agent.h"
#include "apiserver/execproto.h"
#include "apiserver/internal.h"
#include "apiserver/spdysess.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define TICK_MS           1000
#define STREAM_TIMEOUT_MS 30000 /* the kubelet's wait for the client's streams */
#define DRAIN_MS          2000  /* after the exit: output a leftover child still holds open */
#define LINGER_MS         10000 /* after the status: the client's turn to close */
#define OUT_CHUNK         (32u * 1024)
#define RESIZE_MAX        4096 /* one resize message; kubectl's are about 30 bytes */

enum { S_ERROR, S_STDIN, S_STDOUT, S_STDERR, S_RESIZE, S_N };
static const char *const stream_types[S_N] = {"error", "stdin", "stdout", "stderr", "resize"};

/* stdout, stderr, or the terminal's master side (which takes stdin too) */
struct output {
    struct exec_session *e;
    uv_pipe_t pipe;
    int stream; /* S_STDOUT or S_STDERR: where its bytes go */
    bool open, reading, eof;
};

struct exec_session {
    struct spdy_session *ss; /* set once the connection is upgraded */
    char *ns, *name;
    struct jp_exec_opts o;
    int version; /* of the remotecommand protocol: 2, 3 or 4 */
    uint32_t id[S_N];
    bool want[S_N], ended[S_N], reset[S_N];
    bool started, exited, finished, stdin_fin, stdin_broken, in_open, in_shut;
    int64_t opened_ms, exit_ms, finished_ms;
    uint64_t sent[2]; /* bytes of output passed on, stdout and stderr: the end's log line */
    int exit_code;
    uv_process_t proc;
    bool has_proc;
    int pid;
    struct output out[2];
    uv_pipe_t in; /* no TTY: the command's stdin */
    uv_shutdown_t shut;
    size_t to_child;
    bool out_paused;
    uint16_t cols, rows;
    bool have_size;
    struct jp_buf resize;
    uint8_t buf[OUT_CHUNK];
};

struct wreq {
    uv_write_t req;
    struct exec_session *e;
    size_t len;
    uint8_t data[];
};

static void finish(struct exec_session *e, enum jp_exec_end end, const char *message);

static void exec_free(void *app)
{
    struct exec_session *e = app;
    if (e == NULL) return;
    free(e->ns);
    free(e->name);
    jp_exec_opts_free(&e->o);
    jp_buf_free(&e->resize);
    free(e);
}

static int64_t now_ms(void)
{
    return jp_mono_ns() / 1000000;
}

/* ---- handles ---- */

static void closed(uv_handle_t *h)
{
    struct exec_session *e = h->data;
    spdy_session_unref(e->ss);
}

static void output_closed(uv_handle_t *h)
{
    struct output *op = h->data;
    spdy_session_unref(op->e->ss);
}

static void close_outputs(struct exec_session *e)
{
    for (int i = 0; i < 2; i++) {
        struct output *op = &e->out[i];
        if (op->open && !uv_is_closing((uv_handle_t *)&op->pipe))
            uv_close((uv_handle_t *)&op->pipe, output_closed);
        op->reading = false;
    }
    if (e->in_open && !uv_is_closing((uv_handle_t *)&e->in))
        uv_close((uv_handle_t *)&e->in, closed);
}

/* Where stdin goes: the pipe, or the terminal. NULL once it can take nothing more. */
static uv_stream_t *stdin_target(struct exec_session *e)
{
    if (e->stdin_broken || e->finished) return NULL;
    if (e->o.tty) return e->out[0].open ? (uv_stream_t *)&e->out[0].pipe : NULL;
    return e->in_open && !e->in_shut ? (uv_stream_t *)&e->in : NULL;
}

/* ---- output of the command ---- */

static void out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct output *op = h->data;
    *buf = uv_buf_init((char *)op->e->buf, OUT_CHUNK);
}

static void maybe_finish(struct exec_session *e)
{
    if (e->finished || !e->exited) return;
    for (int i = 0; i < 2; i++)
        if (e->out[i].open && !e->out[i].eof) return;
    finish(e, e->exit_code ? JP_EXEC_EXITED : JP_EXEC_SUCCESS, NULL);
}

static void pause_outputs(struct exec_session *e)
{
    e->out_paused = true;
    for (int i = 0; i < 2; i++)
        if (e->out[i].reading) {
            e->out[i].reading = false;
            uv_read_stop((uv_stream_t *)&e->out[i].pipe);
        }
}

static void pass_on(struct exec_session *e, struct output *op, const void *p, size_t n)
{
    if (e->id[op->stream] && !e->reset[op->stream]) {
        spdy_session_data(e->ss, e->id[op->stream], 0, p, n);
        e->sent[op->stream == S_STDOUT ? 0 : 1] += n;
    }
}

/* libuv calls a terminal ended when a read comes up short while the other side has hung up,
 * but what the last process wrote can still be on its way through the kernel's buffers then:
 * only the read that fails with EIO has taken it all. (At most the terminal's buffers.) */
static void drain_terminal(struct exec_session *e, struct output *op)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&op->pipe, &fd) < 0) return;
    for (;;) {
        ssize_t n = read(fd, e->buf, OUT_CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        pass_on(e, op, e->buf, (size_t)n);
    }
}

static void out_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct output *op = st->data;
    struct exec_session *e = op->e;
    if (nread == 0 || e->finished || e->ss->closing) return;
    if (nread < 0) { /* EOF; EIO from a terminal whose other side every process has closed */
        if (nread == UV_EOF && e->o.tty) drain_terminal(e, op);
        op->eof = true;
        op->reading = false;
        uv_read_stop(st);
        maybe_finish(e);
        return;
    }
    pass_on(e, op, buf->base, (size_t)nread);
    if (spdy_session_output_full(e->ss)) pause_outputs(e);
}

static void start_outputs(struct exec_session *e)
{
    e->out_paused = false;
    for (int i = 0; i < 2; i++) {
        struct output *op = &e->out[i];
        if (op->open && !op->eof && !op->reading && !e->finished) {
            op->reading = true;
            uv_read_start((uv_stream_t *)&op->pipe, out_alloc, out_read);
        }
    }
}

/* ---- input of the command ---- */

static void written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct exec_session *e = w->e;
    e->to_child -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED) e->stdin_broken = true; /* it closed its stdin */
    if (e->to_child <= SPDY_LOW_WATER) spdy_session_pause_input(e->ss, false);
}

static void to_child(struct exec_session *e, const uint8_t *p, size_t n)
{
    uv_stream_t *st = stdin_target(e);
    if (st == NULL || n == 0) return; /* dropped, as the kubelet drops input nobody reads */
    struct wreq *w = jp_xmalloc(sizeof(*w) + n);
    w->e = e;
    w->len = n;
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    if (uv_write(&w->req, st, &b, 1, written) < 0) {
        free(w);
        e->stdin_broken = true;
        return;
    }
    e->to_child += n;
    if (e->to_child > SPDY_HIGH_WATER) spdy_session_pause_input(e->ss, true);
}

static void shut_done(uv_shutdown_t *req, int status)
{
    (void)req, (void)status; /* a failed half-close only means the command stopped reading */
}

/* The client has sent all its input: the command reads EOF once what is queued is taken. */
static void stdin_ended(struct exec_session *e)
{
    e->stdin_fin = true;
    if (e->o.tty || !e->in_open || e->in_shut || e->finished) return;
    e->in_shut = true;
    if (uv_shutdown(&e->shut, (uv_stream_t *)&e->in, shut_done) < 0)
        uv_close((uv_handle_t *)&e->in, closed);
}

static void apply_size(struct exec_session *e)
{
    if (!e->o.tty || !e->out[0].open || !e->have_size) return;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&e->out[0].pipe, &fd) < 0) return;
    struct winsize ws = {.ws_row = e->rows, .ws_col = e->cols};
    if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
        jp_log(JP_DEBUG, "apiserver", "exec %s: TIOCSWINSZ: %s", e->ss->label, strerror(errno));
}

/* The resize stream: one JSON message a line; a bad one is skipped, as is an overlong line. */
static void resize_data(struct exec_session *e, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') {
            if (jp_buf_appendc(&e->resize, (char)p[i]) < 0) jp_buf_reset(&e->resize);
            continue;
        }
        uint16_t w, h;
        if (jp_exec_resize_parse(e->resize.data ? e->resize.data : "", e->resize.len, &w, &h) ==
            0) {
            e->cols = w;
            e->rows = h;
            e->have_size = true;
            apply_size(e);
        }
        jp_buf_reset(&e->resize);
    }
}

/* ---- the command ---- */

static void exited(uv_process_t *proc, int64_t status, int sig)
{
    struct exec_session *e = proc->data;
    e->exited = true;
    e->exit_ms = now_ms();
    e->exit_code = sig ? 128 + sig : (int)status; /* a shell's 128+signal, as runtimes report */
    uv_close((uv_handle_t *)proc, closed);
    if (!e->ss->closing) maybe_finish(e);
}

/* A terminal: the master side stays here, the slave becomes the command's stdio. */
static int open_terminal(int *master, int *slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    if (m < 0) return -errno;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0) {
        int err = -errno;
        close(m);
        return err;
    }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        int err = -errno;
        close(m);
        return err;
    }
    *master = m;
    *slave = s;
    return 0;
}

static void init_output(struct exec_session *e, int i, int stream)
{
    struct output *op = &e->out[i];
    op->e = e;
    op->stream = stream;
    uv_pipe_init(e->ss->srv->loop, &op->pipe, 0);
    op->pipe.data = op;
    op->open = true;
    spdy_session_ref(e->ss);
}

/* Starts `SHIM shim --exec PID --split-stderr|--tty -- CMD...` in a session of its own. */
static int spawn(struct exec_session *e, int target, const char *shim)
{
    char pidtext[16];
    snprintf(pidtext, sizeof(pidtext), "%d", target);
    char **argv = jp_xcalloc(e->o.ncommand + 8, sizeof(char *));
    size_t k = 0;
    argv[k++] = (char *)shim;
    argv[k++] = "shim";
    argv[k++] = "--exec";
    argv[k++] = pidtext;
    argv[k++] = e->o.tty ? "--tty" : "--split-stderr";
    argv[k++] = "--";
    for (size_t i = 0; i < e->o.ncommand; i++)
        argv[k++] = e->o.command[i];
    uv_loop_t *loop = e->ss->srv->loop;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
    int master = -1, slave = -1, rc = 0;
    if (e->o.tty) {
        rc = open_terminal(&master, &slave);
        for (int i = 0; i < 3 && rc == 0; i++)
            stdio[i] = (uv_stdio_container_t){.flags = UV_INHERIT_FD, .data.fd = slave};
    } else {
        if (e->want[S_STDIN]) {
            uv_pipe_init(loop, &e->in, 0);
            e->in.data = e;
            e->in_open = true;
            spdy_session_ref(e->ss);
            stdio[0] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_READABLE_PIPE,
                                              .data.stream = (uv_stream_t *)&e->in};
        }
        for (int i = 0; i < 2; i++) {
            if (!e->want[S_STDOUT + i]) continue;
            init_output(e, i, S_STDOUT + i);
            stdio[1 + i] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
                                                  .data.stream = (uv_stream_t *)&e->out[i].pipe};
        }
    }
    if (rc == 0) {
        uv_process_options_t po = {.file = shim,
                                   .args = argv,
                                   .exit_cb = exited,
                                   .flags = UV_PROCESS_DETACHED,
                                   .stdio_count = 3,
                                   .stdio = stdio};
        e->proc.data = e;
        rc = uv_spawn(loop, &e->proc, &po);
        /* a failed uv_spawn still initialised the handle: it must be closed like a live one */
        e->has_proc = true;
        spdy_session_ref(e->ss);
        if (rc < 0) {
            uv_close((uv_handle_t *)&e->proc, closed);
        } else {
            e->pid = e->proc.pid;
        }
    }
    free(argv);
    if (slave >= 0) close(slave);
    if (master >= 0 && rc == 0) {
        init_output(e, 0, S_STDOUT);
        rc = uv_pipe_open(&e->out[0].pipe, master);
        if (rc == 0) master = -1;
    }
    if (master >= 0) close(master);
    return rc;
}

/* Every stream the options call for is there: run the command. */
static void start(struct exec_session *e)
{
    e->started = true;
    int target;
    const char *shim;
    struct jp_status *st = NULL;
    if (jp_agent_exec_target(e->ss->srv->agent, e->ns, e->name, e->o.container, &target, &shim,
                             &st) < 0) {
        finish(e, JP_EXEC_INTERNAL, st ? st->message : "the container is not running");
        jp_status_free(st);
        return;
    }
    int rc = spawn(e, target, shim);
    if (rc < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "error executing command in container: starting %s: %s", shim,
                 uv_strerror(rc));
        if (e->has_proc && e->pid > 0) kill(-e->pid, SIGKILL);
        finish(e, JP_EXEC_INTERNAL, msg);
        return;
    }
    jp_log(JP_DEBUG, "apiserver", "exec %s: started %s (pid %d)", e->ss->label, e->o.command[0],
           e->pid);
    apply_size(e);
    start_outputs(e);
    if (e->stdin_fin) stdin_ended(e);
}

/* The end: the remaining output is dropped, the status goes out, every stream ends; the client
 * closes the connection once it has read them (LINGER_MS at most). */
static void finish(struct exec_session *e, enum jp_exec_end end, const char *message)
{
    if (e->finished) return;
    e->finished = true;
    e->finished_ms = now_ms();
    struct spdy_session *ss = e->ss;
    close_outputs(e);
    for (int i = S_STDOUT; i <= S_STDERR; i++)
        if (e->id[i] && !e->reset[i] && !e->ended[i])
            spdy_session_data(ss, e->id[i], JP_SPDY_FLAG_FIN, NULL, 0);
    e->ended[S_STDOUT] = e->ended[S_STDERR] = true;
    if (e->id[S_ERROR] && !e->reset[S_ERROR]) {
        struct jp_buf b;
        jp_buf_init(&b, 1 << 20);
        if (jp_exec_status(&b, e->version, end, e->exit_code, message, e->o.command,
                           e->o.ncommand) == 0 &&
            b.len)
            spdy_session_data(ss, e->id[S_ERROR], 0, b.data, b.len);
        jp_buf_free(&b);
    }
    for (int i = 0; i < S_N; i++)
        if (e->id[i] && !e->reset[i] && !e->ended[i])
            spdy_session_data(ss, e->id[i], JP_SPDY_FLAG_FIN, NULL, 0);
    for (int i = 0; i < S_N; i++)
        e->ended[i] = true;
    jp_log(JP_DEBUG, "apiserver", "exec %s: %s %d, %" PRIu64 "+%" PRIu64 " bytes out%s", ss->label,
           end == JP_EXEC_INTERNAL ? "failed:" : "exit code",
           end == JP_EXEC_INTERNAL ? 0 : e->exit_code, e->sent[0], e->sent[1],
           e->exited && !(e->out[0].eof && (!e->out[1].open || e->out[1].eof)) ? " (output left)"
                                                                               : "");
    if (end == JP_EXEC_INTERNAL) jp_log(JP_INFO, "apiserver", "exec %s: %s", ss->label, message);
}

/* ---- the session's streams ---- */

static int stream_of(const struct exec_session *e, uint32_t id)
{
    for (int i = 0; i < S_N; i++)
        if (e->id[i] == id) return i;
    return -1;
}

static void on_syn_stream(struct spdy_session *ss, const struct jp_spdy_ctrl *c)
{
    struct exec_session *e = ss->app;
    char type[16];
    int k = -1;
    if (spdy_header_str(c, "streamtype", type, sizeof(type)))
        for (int i = 0; i < S_N; i++)
            if (strcmp(type, stream_types[i]) == 0) k = i;
    if (k < 0 || e->id[k] || e->finished) { /* unknown, or a second one of its type */
        spdy_session_rst(ss, c->stream_id, JP_SPDY_CANCEL);
        return;
    }
    if (spdy_session_reply(ss, c->stream_id) < 0) return;
    spdy_session_count_stream(ss, 1);
    e->id[k] = c->stream_id;
    if (k == S_STDIN && (c->flags & JP_SPDY_FLAG_FIN)) e->stdin_fin = true;
    for (int i = 0; i < S_N; i++)
        if (e->want[i] && e->id[i] == 0) return;
    if (!e->started) start(e);
}

static void on_rst_stream(struct spdy_session *ss, uint32_t id)
{
    struct exec_session *e = ss->app;
    int k = stream_of(e, id);
    if (k >= 0) e->reset[k] = true;
}

static void on_data(struct spdy_session *ss, uint32_t id, const uint8_t *p, size_t n)
{
    struct exec_session *e = ss->app;
    int k = stream_of(e, id);
    if (k == S_STDIN && !e->stdin_fin)
        to_child(e, p, n);
    else if (k == S_RESIZE)
        resize_data(e, p, n);
}

static void on_data_fin(struct spdy_session *ss, uint32_t id)
{
    struct exec_session *e = ss->app;
    if (stream_of(e, id) == S_STDIN && !e->stdin_fin) stdin_ended(e);
}

static void on_drained(struct spdy_session *ss)
{
    struct exec_session *e = ss->app;
    if (e->out_paused && !e->finished) start_outputs(e);
}

static void on_tick(struct spdy_session *ss)
{
    struct exec_session *e = ss->app;
    int64_t now = now_ms();
    if (!e->started && now - e->opened_ms > STREAM_TIMEOUT_MS)
        spdy_session_teardown(ss, "timed out waiting for the client to create streams");
    else if (e->exited && !e->finished && now - e->exit_ms > DRAIN_MS)
        finish(e, e->exit_code ? JP_EXEC_EXITED : JP_EXEC_SUCCESS, NULL); /* output held open */
    else if (e->finished && now - e->finished_ms > LINGER_MS)
        spdy_session_teardown(ss, "the client did not close the connection");
}

static void on_opened(struct spdy_session *ss)
{
    struct exec_session *e = ss->app;
    e->ss = ss;
    e->opened_ms = now_ms();
}

/* The client went away (or the server stops): the command goes too, with everything it
 * started in its session, so nothing outlives the connection. */
static void on_closing(struct spdy_session *ss)
{
    struct exec_session *e = ss->app;
    if (e->has_proc && !e->exited && e->pid > 0) {
        kill(-e->pid, SIGKILL);
        uv_process_kill(&e->proc, SIGKILL);
    }
    close_outputs(e);
    e->finished = true;
}

static const struct spdy_session_ops exec_ops = {
    .what = "exec",
    .tick_ms = TICK_MS,
    .opened = on_opened,
    .syn_stream = on_syn_stream,
    .rst_stream = on_rst_stream,
    .data = on_data,
    .data_fin = on_data_fin,
    .drained = on_drained,
    .tick = on_tick,
    .closing = on_closing,
    .free_app = exec_free,
};

/* ---- the request ---- */

struct args {
    struct jp_exec_opts *o;
    const char *err;
};

static enum MHD_Result arg_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct args *a = cls;
    return jp_exec_opts_add(a->o, key, value, &a->err) == 0 ? MHD_YES : MHD_NO;
}

void serve_exec(struct apireq *q, const struct route *r)
{
    const struct jp_obj *o = spdy_upgrade_pod(q, r);
    if (o == NULL) return;
    struct exec_session *e = jp_xcalloc(1, sizeof(*e));
    struct args a = {&e->o, NULL};
    MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, arg_value, &a);
    const char *bad = a.err ? a.err : jp_exec_opts_check(&e->o);
    int target;
    const char *shim;
    struct jp_status *st = NULL;
    const char *chosen = NULL;
    static const char *const protocols[] = {"v4.channel.k8s.io", "v3.channel.k8s.io",
                                            "v2.channel.k8s.io"};
    if (bad) {
        reply_error(q, JP_BAD_REQUEST, "%s", bad);
    } else if (jp_agent_exec_target(q->srv->agent, r->ns, r->name, e->o.container, &target, &shim,
                                    &st) < 0) {
        reply_status(q, st);
    } else if (spdy_upgrade_check(q, protocols, sizeof(protocols) / sizeof(protocols[0]),
                                  &chosen) == 0) {
        e->version = chosen[1] - '0';
        e->ns = jp_xstrdup(r->ns);
        e->name = jp_xstrdup(r->name);
        e->want[S_ERROR] = true;
        e->want[S_STDIN] = e->o.stdin_;
        e->want[S_STDOUT] = e->o.stdout_;
        e->want[S_STDERR] = e->o.stderr_;
        e->want[S_RESIZE] = e->o.tty && e->version >= 3;
        jp_buf_init(&e->resize, RESIZE_MAX);
        char label[520];
        snprintf(label, sizeof(label), "%s/%s", r->ns, r->name);
        spdy_upgrade_respond(q, &exec_ops, e, chosen, label);
        return;
    }
    exec_free(e);
}
