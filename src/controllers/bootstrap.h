/* What a fresh cluster has before anyone asks: the four system namespaces, a "default"
 * ServiceAccount in every namespace (kept up as namespaces are created), and this machine's
 * Node object. */
#ifndef JP_CONTROLLERS_BOOTSTRAP_H
#define JP_CONTROLLERS_BOOTSTRAP_H

#include "base/err.h"
#include "store/store.h"

struct jp_bootstrap;

int jp_bootstrap_start(struct jp_store *store, const char *node_name, struct jp_bootstrap **out,
                       struct jp_err **err);
void jp_bootstrap_stop(struct jp_bootstrap *b);

#endif
