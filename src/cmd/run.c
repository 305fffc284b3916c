/* jobplane run FILE...: the engine embedded for one run - apply the manifests, follow the Jobs
 * with their logs, print the summary, tear down, exit with the outcome (0 all Jobs completed,
 * 1 one failed, 2 bad input or flags, 130/143 interrupted). */
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/parse.h"
#include "cmd/cmd.h"
#include "cmd/engine.h"
#include "runner/runner.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEARDOWN_MS 35000 /* the default grace period (30 s) and some */

struct run_config {
    char *data_dir;
    char *host;
    uint16_t port;
    bool listen, logs;
    struct jp_engine_flags node;
    int verbosity;
};

struct run_state {
    uv_loop_t *loop;
    struct jp_engine *engine;
    struct jp_run *run;
    json_t *created;
    uv_signal_t sigint, sigterm;
    int rc;
    bool listen, ending, all_finished;
    char *summary;
    size_t summary_len;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: jobplane run [FLAGS] FILE... (\"-\" reads stdin)\n\n"
            "Applies every object in the files (YAML or JSON, several documents each), runs them\n"
            "until every Job has finished, showing progress and pod logs, prints a summary and\n"
            "exits 0 if all Jobs completed, 1 if any failed, 2 for bad input.\n\n"
            "  --logs / --no-logs        stream pod logs, prefixed [pod/NAME/CONTAINER] (default "
            "on)\n"
            "  --data-dir DIR            keep state there (default: a temporary directory, "
            "removed at the end)\n"
            "  --listen HOST:PORT        also serve the Kubernetes API there (port 0 picks one; "
            "loopback only), so kubectl can watch the run\n"
            "%s"
            "  -v N                      log verbosity (default: warnings only)\n",
            jp_engine_flags_help);
}

static int parse_args(int argc, char **argv, struct run_config *c)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"logs", no_argument, NULL, 'L'},
        {"no-logs", no_argument, NULL, 'Q'},
        JP_ENGINE_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    argv[0] = (char *)"jobplane run"; /* how getopt names us in its complaints */
    while ((ch = getopt_long(argc, argv, "v:h", opts, NULL)) != -1) {
        int64_t n;
        switch (ch) {
        case 'd':
            free(c->data_dir);
            c->data_dir = jp_xstrdup(optarg);
            break;
        case 'l': {
            const char *colon = strrchr(optarg, ':');
            if (colon == NULL || jp_parse_int(colon + 1, 10, 0, 65535, &n, NULL) < 0) {
                fprintf(stderr, "jobplane run: --listen wants HOST:PORT, got \"%s\"\n", optarg);
                return 2;
            }
            free(c->host);
            c->host = jp_xstrndup(optarg, (size_t)(colon - optarg));
            if (strcmp(c->host, "127.0.0.1") && strcmp(c->host, "localhost")) {
                fprintf(stderr, "jobplane run: --listen serves loopback only (127.0.0.1)\n");
                return 2;
            }
            c->port = (uint16_t)n;
            c->listen = true;
            break;
        }
        case 'L':
            c->logs = true;
            break;
        case 'Q':
            c->logs = false;
            break;
        case 'v':
            if (jp_parse_int(optarg, 10, 0, 10, &n, NULL) < 0) {
                fprintf(stderr, "jobplane run: -v wants 0..10\n");
                return 2;
            }
            c->verbosity = (int)n;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: {
            int taken = jp_engine_flag(&c->node, ch, optarg, "run");
            if (taken < 0) return 2;
            if (taken) break;
            usage(stderr);
            return 2;
        }
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "jobplane run: which manifests? (FILE..., or - for stdin)\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

static void drained(void *arg)
{
    struct run_state *s = arg;
    fwrite(s->summary, 1, s->summary_len, stdout);
    fflush(stdout);
    uv_stop(s->loop);
}

static void torn_down(void *arg)
{
    struct run_state *s = arg;
    jp_run_drain(s->run, drained, s); /* the stopped pods' last words */
}

/* The summary is taken before the teardown (which deletes an interrupted run's Jobs) and printed
 * after it, below the last log lines of the stopping pods. */
static void end_run(struct run_state *s, bool interrupted)
{
    if (s->ending) return;
    s->ending = true;
    FILE *mem = open_memstream(&s->summary, &s->summary_len);
    int rc = jp_run_summary(s->run, mem);
    fclose(mem);
    s->rc = interrupted ? s->rc : rc;
    jp_run_freeze(s->run);
    /* finished Jobs stay (with --data-dir they are the record); an interrupted run stops all */
    jp_teardown(s->loop, jp_engine_store(s->engine), s->created, !interrupted, TEARDOWN_MS,
                torn_down, s);
}

static void finished(void *arg)
{
    struct run_state *s = arg;
    s->all_finished = true;
    if (!s->listen) end_run(s, false);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct run_state *s = h->data;
    if (s->ending) { /* a second Ctrl-C: stop waiting for the pods */
        uv_stop(s->loop);
        return;
    }
    if (s->all_finished ||
        jp_run_finished(s->run)) { /* --listen: the Jobs are done, the API was being served */
        end_run(s, false);
        return;
    }
    fprintf(stderr, "jobplane run: interrupted, stopping the pods\n");
    s->rc = 128 + signum;
    end_run(s, true);
}

static int run(struct run_config *c, char **files, size_t nfiles)
{
    struct jp_manifests m;
    if (jp_manifests_load(files, nfiles, &m, stderr) < 0) return 2;
    bool temporary = c->data_dir == NULL;
    if (temporary) {
        const char *tmp = getenv("TMPDIR");
        char *tmpl = jp_xasprintf("%s/jobplane-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(tmpl) == NULL) {
            fprintf(stderr, "jobplane run: cannot make a temporary directory in %s\n",
                    tmp && *tmp ? tmp : "/tmp");
            free(tmpl);
            jp_manifests_free(&m);
            return 1;
        }
        c->data_dir = tmpl;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct run_state s = {.loop = &loop, .created = json_array(), .listen = c->listen};
    const char *sans[] = {NULL};
    /* a temporary run uses the images `jobplane image import` put in the default data dir */
    char *images_from = temporary ? jp_cmd_default_data_dir() : NULL;
    struct jp_engine_opts eo = {.data_dir = c->data_dir,
                                .images_from = images_from,
                                .temporary = temporary,
                                .sync_full = !temporary,
                                .flags = c->node,
                                .serve = c->listen,
                                .host = c->host,
                                .port = c->port,
                                .sans = sans};
    struct jp_err *err = NULL;
    int rc = 1;
    if (jp_engine_start(&loop, &eo, &s.engine, &err) < 0) {
        fprintf(stderr, "jobplane run: %s\n", err->msg);
        jp_err_free(err);
        goto out;
    }
    if (c->listen)
        fprintf(stderr,
                "jobplane run: serving the Kubernetes API on %s\nexport KUBECONFIG=%s/kubeconfig\n",
                jp_engine_url(s.engine), c->data_dir);
    struct jp_run_opts ro = {.logs = c->logs,
                             .tty = isatty(STDOUT_FILENO) && getenv("TERM") &&
                                    strcmp(getenv("TERM"), "dumb") != 0,
                             .out = stdout};
    s.run = jp_run_start(&loop, jp_engine_store(s.engine), jp_engine_agent(s.engine), &ro, finished,
                         &s);
    if (jp_manifests_apply(jp_engine_store(s.engine), &m,
                           jp_agent_services(jp_engine_agent(s.engine)), s.created, stdout,
                           stderr) < 0) {
        rc = 2;
        jp_run_stop(s.run);
        goto out;
    }
    jp_run_track(s.run, s.created);
    uv_signal_init(&loop, &s.sigint);
    uv_signal_init(&loop, &s.sigterm);
    s.sigint.data = s.sigterm.data = &s;
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&s.sigint, NULL);
    uv_close((uv_handle_t *)&s.sigterm, NULL);
    jp_run_stop(s.run);
    rc = s.rc;
out:
    jp_engine_stop(s.engine);
    uv_run(&loop, UV_RUN_DEFAULT); /* let closing handles finish */
    uv_loop_close(&loop);
    json_decref(s.created);
    free(s.summary);
    jp_manifests_free(&m);
    free(images_from);
    if (temporary) jp_remove_tree(c->data_dir);
    return rc;
}

int jp_cmd_run(int argc, char **argv)
{
    struct run_config c = {.host = jp_xstrdup("127.0.0.1"), .logs = true, .verbosity = -1};
    int rc = parse_args(argc, argv, &c);
    if (rc < 0) {
        jp_log_setup(JP_LOG_TEXT, c.verbosity, 2);
        rc = run(&c, argv + optind, (size_t)(argc - optind));
    }
    free(c.data_dir);
    free(c.host);
    return rc;
}
