/* kuard's routes (from its app.go), each also served under /a, /b and /c:
 *   GET / and /-/...  the page          GET /healthy, /ready   probes; GET|PUT {probe}/api
 *   GET|PUT /keygen  workload config   /memq/server/...      the MemQ server
 * Unknown paths get httprouter's 404, known paths with other methods its 405. */
#include "kuard/app.h"
#include "kuard/memq/api.h"

#include <string.h>

static bool is(const char *method, const char *want)
{
    return strcmp(method, want) == 0 || (strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void probe_route(struct kuard_probe *p, const char *method, const char *rest,
                        const char *body, size_t len, struct kuard_reply *r)
{
    if (*rest == '\0') {
        if (is(method, "GET"))
            kuard_probe_check(p, r);
        else
            kuard_reply_method_not_allowed(r, "GET");
    } else if (strcmp(rest, "/api") == 0) {
        if (is(method, "GET"))
            kuard_probe_status(p, r);
        else if (is(method, "PUT"))
            kuard_probe_configure(p, body, len, r);
        else
            kuard_reply_method_not_allowed(r, "GET, PUT");
    } else {
        kuard_reply_not_found(r);
    }
}

static void keygen_route(struct kuard_app *app, const char *method, const char *body, size_t len,
                         struct kuard_reply *r)
{
    if (is(method, "PUT")) {
        struct keygen_config c;
        struct jp_err *err = NULL;
        if (keygen_config_parse(body, len, &c, &err) < 0) {
            kuard_reply_error(r, 400, err->msg);
            jp_err_free(err);
            return;
        }
        keygen_load(app->keygen, &c);
        keygen_config_free(&c);
    } else if (!is(method, "GET")) {
        kuard_reply_method_not_allowed(r, "GET, PUT");
        return;
    }
    kuard_reply_json(r);
    if (keygen_status_json(app->keygen, &r->body) < 0) kuard_reply_error(r, 500, "reply too large");
}

static const char *after(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0) return NULL;
    return path[n] == '\0' || path[n] == '/' ? path + n : NULL;
}

void kuard_route(struct kuard_app *app, const char *method, const char *path, const char *body,
                 size_t len, struct kuard_reply *r)
{
    if ((path[1] == 'a' || path[1] == 'b' || path[1] == 'c') && path[2] == '/') path += 2;
    const char *rest;
    if (strcmp(path, "/") == 0 || strncmp(path, "/-/", 3) == 0) {
        if (is(method, "GET"))
            kuard_page(app, r);
        else
            kuard_reply_method_not_allowed(r, "GET");
    } else if ((rest = after(path, "/memq/server")) != NULL) {
        memq_api_handle(app->broker, strcmp(method, "HEAD") == 0 ? "GET" : method, rest, body, len,
                        r);
    } else if ((rest = after(path, "/healthy")) != NULL) {
        probe_route(&app->liveness, method, rest, body, len, r);
    } else if ((rest = after(path, "/ready")) != NULL) {
        probe_route(&app->readiness, method, rest, body, len, r);
    } else if (strcmp(path, "/keygen") == 0) {
        keygen_route(app, method, body, len, r);
    } else {
        kuard_reply_not_found(r);
    }
}
