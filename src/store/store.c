/* In-memory index (a sorted array per kind), the batch of uncommitted changes, group commit at
 * the end of each loop turn, undo on a failed commit, the watch log and subscribers. */
#include "store/store.h"
#include "base/alloc.h"
#include "base/log.h"
#include "store/store-internal.h"

#include <stdlib.h>
#include <string.h>

static int key_cmp(const char *ns_a, const char *name_a, const char *ns_b, const char *name_b)
{
    int c = strcmp(ns_a, ns_b);
    return c ? c : strcmp(name_a, name_b);
}

/* Position of (ns, name) in the kind's array; *found tells whether it is there. */
static size_t find(const struct kind_index *ix, const char *ns, const char *name, bool *found)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(ix->items[mid]->ns, ix->items[mid]->name, ns, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Replaces or inserts obj (taken) and returns the previous object (owned by the caller), or
 * removes the entry when obj is NULL. */
static struct jp_obj *index_set(struct jp_store *s, uint16_t kind, const char *ns, const char *name,
                                struct jp_obj *obj)
{
    struct kind_index *ix = &s->index[kind];
    bool found;
    size_t at = find(ix, ns, name, &found);
    struct jp_obj *old = found ? ix->items[at] : NULL;
    if (obj && found) {
        ix->items[at] = obj;
    } else if (obj) {
        if (ix->n == ix->cap) {
            ix->cap = ix->cap ? ix->cap * 2 : 16;
            ix->items = jp_xrealloc(ix->items, ix->cap * sizeof(*ix->items));
        }
        memmove(&ix->items[at + 1], &ix->items[at], (ix->n - at) * sizeof(*ix->items));
        ix->items[at] = obj;
        ix->n++;
    } else if (found) {
        memmove(&ix->items[at], &ix->items[at + 1], (ix->n - at - 1) * sizeof(*ix->items));
        ix->n--;
    }
    return old;
}

uint64_t jp_store_revision(const struct jp_store *s)
{
    return s->revision;
}

uint64_t jp_store_next_revision(const struct jp_store *s)
{
    return s->revision + 1;
}

const struct jp_obj *jp_store_get(const struct jp_store *s, uint16_t kind, const char *ns,
                                  const char *name)
{
    if (kind >= s->hooks.nkinds) return NULL;
    const struct kind_index *ix = &s->index[kind];
    bool found;
    size_t at = find(ix, ns ? ns : "", name, &found);
    return found ? ix->items[at] : NULL;
}

size_t jp_store_count(const struct jp_store *s, uint16_t kind)
{
    return kind < s->hooks.nkinds ? s->index[kind].n : 0;
}

void jp_store_scan(const struct jp_store *s, uint16_t kind, const char *ns, const char *after_ns,
                   const char *after_name, bool (*fn)(const struct jp_obj *o, void *arg), void *arg)
{
    if (kind >= s->hooks.nkinds) return;
    const struct kind_index *ix = &s->index[kind];
    bool found;
    size_t at = 0;
    if (after_name) {
        at = find(ix, after_ns ? after_ns : "", after_name, &found);
        if (found) at++;
    } else if (ns) {
        at = find(ix, ns, "", &found);
    }
    for (; at < ix->n; at++) {
        const struct jp_obj *o = ix->items[at];
        if (ns && strcmp(o->ns, ns) != 0) break; /* sorted by namespace first */
        if (!fn(o, arg)) break;
    }
}

static void record(struct jp_store *s, uint16_t kind, struct jp_obj *old, struct jp_obj *new,
                   struct jp_obj *final)
{
    if (s->nchanges == s->cchanges) {
        s->cchanges = s->cchanges ? s->cchanges * 2 : 64;
        s->changes = jp_xrealloc(s->changes, s->cchanges * sizeof(*s->changes));
    }
    struct change *c = &s->changes[s->nchanges++];
    c->kind = kind;
    c->old = old;
    c->new = new;
    c->final = final;
    c->rev = s->revision;
    jp_store__schedule_commit(s);
}

void jp_store_put(struct jp_store *s, struct jp_obj *obj)
{
    if (s->nchanges == 0) s->batch_start = s->revision;
    obj->rv = ++s->revision;
    struct jp_obj *old = index_set(s, obj->kind, obj->ns, obj->name, jp_obj_ref(obj));
    record(s, obj->kind, old, obj, NULL);
}

void jp_store_delete(struct jp_store *s, struct jp_obj *final)
{
    if (s->nchanges == 0) s->batch_start = s->revision;
    final->rv = ++s->revision;
    struct jp_obj *old = index_set(s, final->kind, final->ns, final->name, NULL);
    record(s, final->kind, old, NULL, final);
}

/* Undoes the batch in reverse after a failed commit: the index returns to its state before. */
void jp_store__undo(struct jp_store *s)
{
    for (size_t i = s->nchanges; i-- > 0;) {
        struct change *c = &s->changes[i];
        const struct jp_obj *key = c->new ? c->new : c->final;
        struct jp_obj *cur =
            index_set(s, c->kind, key->ns, key->name, c->old ? jp_obj_ref(c->old) : NULL);
        jp_obj_unref(cur);
    }
    s->revision = s->batch_start;
}

void jp_store__release_changes(struct jp_store *s)
{
    for (size_t i = 0; i < s->nchanges; i++) {
        jp_obj_unref(s->changes[i].old);
        jp_obj_unref(s->changes[i].new);
        jp_obj_unref(s->changes[i].final);
    }
    s->nchanges = 0;
}

void jp_store__index_load(struct jp_store *s, struct jp_obj *o)
{
    struct kind_index *ix = &s->index[o->kind];
    if (ix->n == ix->cap) {
        ix->cap = ix->cap ? ix->cap * 2 : 16;
        ix->items = jp_xrealloc(ix->items, ix->cap * sizeof(*ix->items));
    }
    ix->items[ix->n++] = o; /* sorted once loading is done */
}

static int obj_cmp(const void *a, const void *b)
{
    const struct jp_obj *x = *(const struct jp_obj *const *)a,
                        *y = *(const struct jp_obj *const *)b;
    return key_cmp(x->ns, x->name, y->ns, y->name);
}

void jp_store__index_sort(struct jp_store *s)
{
    for (unsigned k = 0; k < s->hooks.nkinds; k++)
        if (s->index[k].n > 1)
            qsort(s->index[k].items, s->index[k].n, sizeof(struct jp_obj *), obj_cmp);
}

void jp_store__index_free(struct jp_store *s)
{
    for (unsigned k = 0; k < s->hooks.nkinds; k++) {
        for (size_t i = 0; i < s->index[k].n; i++)
            jp_obj_unref(s->index[k].items[i]);
        free(s->index[k].items);
    }
    free(s->index);
}
