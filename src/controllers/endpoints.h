/* The endpoints controller: keeps an Endpoints object and EndpointSlices for every Service with
 * a selector, listing the IPs and resolved ports of the pods it selects. */
#ifndef JP_CONTROLLERS_ENDPOINTS_H
#define JP_CONTROLLERS_ENDPOINTS_H

#include "store/store.h"

#include <uv.h>

struct jp_epctl;

struct jp_epctl *jp_epctl_start(uv_loop_t *loop, struct jp_store *store);
void jp_epctl_stop(struct jp_epctl *e);

#endif
