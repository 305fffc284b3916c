/* kuard's HTTP front: libmicrohttpd on the loop (base/httpd), request bodies capped, replies
 * carrying the same headers Go's net/http sends. */
#ifndef KUARD_SERVER_H
#define KUARD_SERVER_H

#include "base/err.h"
#include "kuard/app.h"

#include <stdint.h>
#include <uv.h>

#define KUARD_MAX_BODY (1u << 20) /* request bodies above 1 MiB get 413 */

struct kuard_server;

/* address is Go's "host:port" (":8080", "127.0.0.1:0", "[::1]:8080"). */
int kuard_server_start(uv_loop_t *loop, struct kuard_app *app, const char *address,
                       struct kuard_server **out, struct jp_err **err);
uint16_t kuard_server_port(const struct kuard_server *s);
void kuard_server_close(struct kuard_server *s);

/* Splits "host:port" (host may be empty or [bracketed]); OUT: *host is malloc'd. */
int kuard_split_address(const char *address, char **host, uint16_t *port, struct jp_err **err);
/* Percent-decodes a URL path in place; -1 on a bad escape or an encoded NUL. */
int kuard_unescape_path(char *path);

#endif
