/* jobplane server: flags, then the engine (cmd/engine.c) until SIGINT/SIGTERM. */
#include "base/alloc.h"
#include "base/log.h"
#include "base/parse.h"
#include "cmd/cmd.h"
#include "cmd/engine.h"

#include <arpa/inet.h>
#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct server_config {
    char *data_dir;
    char *host;
    uint16_t port;
    bool allow_remote;
    bool sync_full;
    const char *sans[16];
    int nsans;
    int verbosity;
    enum jp_log_format log_format;
    struct jp_engine_flags node;
    bool no_node;
    char *controllers;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: jobplane server [FLAGS]\n\n"
            "  --data-dir DIR            state, credentials and kubeconfig (default: "
            "/var/lib/jobplane as root, else ~/.local/share/jobplane)\n"
            "  --listen HOST:PORT        where to serve the API (default 127.0.0.1:6443; port 0 "
            "picks a free one)\n"
            "  --allow-non-loopback      permit --listen on an address other than loopback\n"
            "  --tls-san NAME            extra name or IP for the serving certificate "
            "(repeatable)\n"
            "  --sync full|normal        SQLite synchronous mode (default full: no acknowledged "
            "write is lost on power loss)\n"
            "%s"
            "  --controllers LIST        controllers to run: * (all: " JP_ENGINE_CONTROLLERS
            "), NAME "
            "adds, -NAME removes (default *)\n"
            "  --no-node                 serve the API only: no scheduler, no node agent (pods "
            "stay Pending)\n"
            "  --logging-format text|json\n"
            "  -v N                      log verbosity\n",
            jp_engine_flags_help);
}

char *jp_cmd_default_data_dir(void)
{
    if (geteuid() == 0) return jp_xstrdup("/var/lib/jobplane");
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) return jp_xasprintf("%s/jobplane", xdg);
    return jp_xasprintf("%s/.local/share/jobplane", home ? home : ".");
}

static bool loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0) return true;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

static int parse_listen(const char *v, struct server_config *c)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL) return -1;
    int64_t port;
    if (jp_parse_int(colon + 1, 10, 0, 65535, &port, NULL) < 0) return -1;
    const char *h = v;
    size_t hl = (size_t)(colon - v);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') h++, hl -= 2;
    free(c->host);
    c->host = jp_xstrndup(h, hl);
    c->port = (uint16_t)port;
    return 0;
}

static int parse_args(int argc, char **argv, struct server_config *c)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"allow-non-loopback", no_argument, NULL, 'a'},
        {"tls-san", required_argument, NULL, 's'},
        {"sync", required_argument, NULL, 'y'},
        {"logging-format", required_argument, NULL, 'f'},
        JP_ENGINE_LONG_OPTIONS,
        {"no-node", no_argument, NULL, 'N'},
        {"controllers", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    argv[0] = (char *)"jobplane server"; /* how getopt names us in its complaints */
    while ((ch = getopt_long(argc, argv, "v:h", opts, NULL)) != -1) {
        struct jp_err *err = NULL;
        int64_t n;
        switch (ch) {
        case 'd':
            free(c->data_dir);
            c->data_dir = jp_xstrdup(optarg);
            break;
        case 'l':
            if (parse_listen(optarg, c) < 0) {
                fprintf(stderr, "jobplane server: --listen wants HOST:PORT, got \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'a':
            c->allow_remote = true;
            break;
        case 's':
            if (c->nsans == 14) {
                fprintf(stderr, "jobplane server: at most 14 --tls-san values\n");
                return 2;
            }
            c->sans[c->nsans++] = optarg;
            break;
        case 'y':
            if (strcmp(optarg, "full") && strcmp(optarg, "normal")) {
                fprintf(stderr, "jobplane server: --sync wants full or normal\n");
                return 2;
            }
            c->sync_full = strcmp(optarg, "full") == 0;
            break;
        case 'f':
            if (jp_log_format_parse(optarg, &c->log_format, &err) < 0) {
                fprintf(stderr, "jobplane server: %s\n", err->msg);
                jp_err_free(err);
                return 2;
            }
            break;
        case 'N':
            c->no_node = true;
            break;
        case 'C':
            if (!jp_engine_known_controllers(optarg)) {
                fprintf(stderr,
                        "jobplane server: --controllers: unknown controller in \"%s\" "
                        "(known: " JP_ENGINE_CONTROLLERS ")\n",
                        optarg);
                return 2;
            }
            free(c->controllers);
            c->controllers = jp_xstrdup(optarg);
            break;
        case 'v':
            if (jp_parse_int(optarg, 10, 0, 10, &n, NULL) < 0) {
                fprintf(stderr, "jobplane server: -v wants 0..10\n");
                return 2;
            }
            c->verbosity = (int)n;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: {
            int taken = jp_engine_flag(&c->node, ch, optarg, "server");
            if (taken < 0) return 2;
            if (taken) break;
            usage(stderr);
            return 2;
        }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "jobplane server: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!loopback(c->host) && !c->allow_remote) {
        fprintf(stderr,
                "jobplane server: refusing to listen on %s, which is not a loopback "
                "address; pass --allow-non-loopback to do it anyway\n",
                c->host);
        return 2;
    }
    return -1; /* go on */
}

static uv_signal_t sigint, sigterm;

static void on_signal(uv_signal_t *h, int signum)
{
    jp_log(JP_INFO, "server", "signal %d: shutting down", signum);
    uv_stop(h->loop);
}

int jp_cmd_server(int argc, char **argv)
{
    struct server_config c = {
        .host = jp_xstrdup("127.0.0.1"),
        .port = 6443,
        .sync_full = true,
    };
    int rc = parse_args(argc, argv, &c);
    if (rc >= 0) goto done;
    rc = 1;
    jp_log_setup(c.log_format, c.verbosity, 2);
    if (c.data_dir == NULL) c.data_dir = jp_cmd_default_data_dir();
    if (strcmp(c.host, "127.0.0.1") && strcmp(c.host, "::1") && strcmp(c.host, "localhost"))
        c.sans[c.nsans++] = c.host;
    c.sans[c.nsans] = NULL;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct jp_engine_opts eo = {.data_dir = c.data_dir,
                                .sync_full = c.sync_full,
                                .flags = c.node,
                                .no_node = c.no_node,
                                .controllers = c.controllers,
                                .serve = true,
                                .host = c.host,
                                .port = c.port,
                                .sans = c.sans};
    struct jp_engine *e = NULL;
    struct jp_err *err = NULL;
    if (jp_engine_start(&loop, &eo, &e, &err) < 0) {
        jp_log(JP_ERROR, "server", "%s", err->msg);
        jp_err_free(err);
    } else {
        jp_log(JP_INFO, "server", "serving the Kubernetes API on %s", jp_engine_url(e));
        printf("export KUBECONFIG=%s/kubeconfig\n", c.data_dir);
        fflush(stdout);
        uv_signal_init(&loop, &sigint);
        uv_signal_init(&loop, &sigterm);
        uv_signal_start(&sigint, on_signal, SIGINT);
        uv_signal_start(&sigterm, on_signal, SIGTERM);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_close((uv_handle_t *)&sigint, NULL);
        uv_close((uv_handle_t *)&sigterm, NULL);
        rc = 0;
    }
    jp_engine_stop(e);
    uv_run(&loop, UV_RUN_DEFAULT); /* let closing handles finish */
    uv_loop_close(&loop);
done:
    free(c.controllers);
    free(c.data_dir);
    free(c.host);
    return rc;
}
