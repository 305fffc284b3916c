/* The garbage collector: dependents follow their owners (ownerReferences). It deletes the
 * dependents of owners that are gone (background), empties owners in foreground deletion before
 * releasing them, strips owner references for orphan deletion, and empties terminating
 * namespaces. It keeps its own graph of owner -> dependents from store events. */
#ifndef JP_CONTROLLERS_GC_H
#define JP_CONTROLLERS_GC_H

#include "base/err.h"
#include "store/store.h"

#include <uv.h>

struct jp_gc;

int jp_gc_start(uv_loop_t *loop, struct jp_store *store, struct jp_gc **out, struct jp_err **err);
void jp_gc_stop(struct jp_gc *gc);

#endif
