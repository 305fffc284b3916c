/* kuard: the demo workload of the Jobs chapter. Wiring only: flags, the loop, the MemQ broker,
 * the keygen workload and the HTTP server, then run until the workload asks to exit. */
#include "base/log.h"
#include "base/parse.h"
#include "kuard/app.h"
#include "kuard/flags.h"
#include "kuard/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct kuard {
    uv_loop_t loop;
    struct kuard_app app;
    struct kuard_server *server;
    int exit_code;
};

/* exit-on-complete: stop serving and end the loop; main returns the workload's exit code. */
static void on_exit_requested(int code, void *arg)
{
    struct kuard *k = arg;
    k->exit_code = code;
    if (k->server) kuard_server_close(k->server);
    k->server = NULL;
    if (k->app.keygen) keygen_close(k->app.keygen);
    k->app.keygen = NULL;
}

static void banner(const struct kuard_config *cfg)
{
    static const char stars[] = "**********************************************************"
                                "************";
    jp_log(JP_INFO, "kuard", "Starting kuard version: %s", KUARD_VERSION);
    jp_log(JP_INFO, "kuard", "%s", stars);
    jp_log(JP_INFO, "kuard", "* WARNING: This server may expose sensitive");
    jp_log(JP_INFO, "kuard", "* and secret information. Be careful.");
    jp_log(JP_INFO, "kuard", "%s", stars);
    char *dump = kuard_config_dump(cfg);
    jp_log(JP_INFO, "kuard", "Config: \n%s", dump);
    free(dump);
}

static bool tls_files_present(const char *dir)
{
    char crt[4096], key[4096];
    struct stat st;
    snprintf(crt, sizeof(crt), "%s/kuard.crt", dir);
    snprintf(key, sizeof(key), "%s/kuard.key", dir);
    return stat(crt, &st) == 0 && stat(key, &st) == 0;
}

/* Test seam, not a kuard flag: KUARD_RSA_BITS=1024 lets tests that need many keys (the chapter's
 * 100-item queue) run in seconds. Anything else, including unset, means kuard's 4096. */
static int rsa_bits(void)
{
    const char *v = getenv("KUARD_RSA_BITS");
    int64_t bits;
    if (v && jp_parse_int(v, 10, 1024, 16384, &bits, NULL) == 0) return (int)bits;
    return 4096;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a client hanging up must not kill the server */
    jp_log_setup(JP_LOG_GOSTD, 0, 2);
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

    struct kuard_config cfg;
    struct jp_err *err = NULL;
    switch (kuard_flags_parse(argc, argv, &cfg, &err)) {
    case KUARD_FLAGS_HELP:
        kuard_flags_usage(stderr, prog);
        kuard_config_free(&cfg);
        return 0;
    case KUARD_FLAGS_ERROR:
        fprintf(stderr, "%s\n", err->msg);
        kuard_flags_usage(stderr, prog);
        jp_err_free(err);
        kuard_config_free(&cfg);
        return 2;
    case KUARD_FLAGS_OK:
        break;
    }
    banner(&cfg);

    static struct kuard k;
    uv_loop_init(&k.loop);
    k.app.version = KUARD_VERSION;
    k.app.broker = memq_broker_new(cfg.memq_max_bytes > 0 ? (size_t)cfg.memq_max_bytes : 0);
    k.app.liveness.fail_next = cfg.liveness_fail_next;
    k.app.readiness.fail_next = cfg.readiness_fail_next;
    struct keygen_opts kopts = {.rsa_bits = rsa_bits(), .on_exit = on_exit_requested, .arg = &k};
    k.app.keygen = keygen_new(&k.loop, &kopts);
    keygen_load(k.app.keygen, &cfg.keygen);

    if (kuard_server_start(&k.loop, &k.app, cfg.address, &k.server, &err) < 0) {
        jp_log(JP_ERROR, "kuard", "%s", err->msg);
        jp_err_free(err);
        /* The original exits here. In a pod of its own network that only happens when --address
         * is bad; pods that share one network (jobplane without root, hostNetwork) all want
         * :8080, and the chapter's parallel Job runs five keygen kuards at once. Their work
         * does not need the HTTP server, so it goes on without it. */
        if (cfg.keygen.enable)
            jp_log(JP_INFO, "kuard", "keygen runs on without the HTTP server");
        else
            on_exit_requested(1, &k);
    } else {
        if (cfg.tls_dir && tls_files_present(cfg.tls_dir))
            jp_log(JP_INFO, "kuard",
                   "TLS certificates found in %s but TLS is not supported; "
                   "serving HTTP only",
                   cfg.tls_dir);
        else
            jp_log(JP_INFO, "kuard", "Could not find certificates to serve TLS");
        char *colon = strrchr(cfg.address, ':');
        jp_log(JP_INFO, "kuard", "Serving on HTTP on %.*s:%u", (int)(colon - cfg.address),
               cfg.address, kuard_server_port(k.server));
    }

    uv_run(&k.loop, UV_RUN_DEFAULT);
    uv_loop_close(&k.loop);
    memq_broker_free(k.app.broker);
    kuard_config_free(&cfg);
    return k.exit_code;
}
