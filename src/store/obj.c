/* Reference-counted stored objects. */
#include "base/alloc.h"
#include "store/store.h"

#include <stdlib.h>

struct jp_obj *jp_obj_new(uint16_t kind, const char *ns, const char *name, char *json, size_t len,
                          void *proj, void (*proj_free)(void *))
{
    struct jp_obj *o = jp_xcalloc(1, sizeof(*o));
    o->refs = 1;
    o->kind = kind;
    o->ns = jp_xstrdup(ns ? ns : "");
    o->name = jp_xstrdup(name);
    o->json = json;
    o->len = len;
    o->proj = proj;
    o->proj_free = proj_free;
    return o;
}

struct jp_obj *jp_obj_ref(const struct jp_obj *o)
{
    struct jp_obj *m = (struct jp_obj *)o; /* the count is the one mutable part */
    m->refs++;
    return m;
}

void jp_obj_unref(struct jp_obj *o)
{
    if (o == NULL || --o->refs > 0) return;
    if (o->proj_free) o->proj_free(o->proj);
    if (o->view && o->view_free) o->view_free(o->view);
    free(o->ns);
    free(o->name);
    free(o->json);
    free(o);
}
