/* kuard's application state and its route table, independent of the HTTP library. */
#ifndef KUARD_APP_H
#define KUARD_APP_H

#include "kuard/keygen/keygen.h"
#include "kuard/memq/broker.h"
#include "kuard/probe.h"
#include "kuard/reply.h"

#define KUARD_VERSION "v0.10.0-blue"

struct kuard_app {
    struct memq_broker *broker;
    struct keygen *keygen;
    struct kuard_probe liveness, readiness;
    const char *version;
};

/* Handles one request. path is the percent-decoded URL path without the query. */
void kuard_route(struct kuard_app *app, const char *method, const char *path, const char *body,
                 size_t len, struct kuard_reply *r);

/* GET /: the HTML page with the MemQ queues and the keygen history. */
void kuard_page(const struct kuard_app *app, struct kuard_reply *r);

#endif
