/* The watch log (a ring of the newest committed events) and in-process subscribers. */
#include "base/alloc.h"
#include "store/store-internal.h"

#include <stdlib.h>

/* The log also stops holding on to more than this many bytes of object JSON, so a burst of
 * large objects can't pin hundreds of megabytes. */
#define LOG_BYTES_MAX (64u << 20)

static size_t event_bytes(const struct jp_event *e)
{
    return e->obj->len + (e->old ? e->old->len : 0);
}

void jp_store__log_init(struct jp_store *s, unsigned cap)
{
    s->log_cap = cap ? cap : 4096;
    s->log = jp_xcalloc(s->log_cap, sizeof(*s->log));
    s->log_floor = s->revision;
}

static void event_release(struct jp_event *e)
{
    jp_obj_unref((struct jp_obj *)e->old);
    jp_obj_unref((struct jp_obj *)e->obj);
}

static void drop_oldest(struct jp_store *s)
{
    struct jp_event *oldest = &s->log[s->log_head];
    s->log_floor = oldest->rev; /* watches from before it get 410 */
    s->log_bytes -= event_bytes(oldest);
    event_release(oldest);
    s->log_head = (s->log_head + 1) % s->log_cap;
    s->log_len--;
}

static void log_append(struct jp_store *s, const struct jp_event *ev)
{
    if (s->log_len == s->log_cap) drop_oldest(s);
    while (s->log_len > 0 && s->log_bytes + event_bytes(ev) > LOG_BYTES_MAX)
        drop_oldest(s);
    s->log_bytes += event_bytes(ev);
    struct jp_event *slot = &s->log[(s->log_head + s->log_len) % s->log_cap];
    *slot = *ev;
    if (slot->old) jp_obj_ref(slot->old);
    jp_obj_ref(slot->obj);
    s->log_len++;
}

static void dispatch(struct jp_store *s, const struct jp_event *ev)
{
    s->dispatching++;
    for (struct jp_store_sub *sub = s->subs; sub; sub = sub->next)
        if (!sub->dead) sub->fn(ev, sub->arg);
    if (--s->dispatching == 0) { /* unsubscribes during dispatch are reaped here */
        for (struct jp_store_sub **p = &s->subs; *p;) {
            if ((*p)->dead) {
                struct jp_store_sub *dead = *p;
                *p = dead->next;
                free(dead);
            } else {
                p = &(*p)->next;
            }
        }
    }
}

void jp_store__publish(struct jp_store *s)
{
    for (size_t i = 0; i < s->nchanges; i++) {
        struct change *c = &s->changes[i];
        struct jp_event ev = {
            .type = c->new ? (c->old ? JP_EV_MODIFIED : JP_EV_ADDED) : JP_EV_DELETED,
            .rev = c->rev,
            .old = c->old,
            .obj = c->new ? c->new : c->final,
        };
        log_append(s, &ev);
        dispatch(s, &ev);
    }
}

void jp_store__log_free(struct jp_store *s)
{
    for (unsigned i = 0; i < s->log_len; i++)
        event_release(&s->log[(s->log_head + i) % s->log_cap]);
    free(s->log);
    while (s->subs) {
        struct jp_store_sub *next = s->subs->next;
        free(s->subs);
        s->subs = next;
    }
}

struct jp_store_sub *jp_store_subscribe(struct jp_store *s,
                                        void (*fn)(const struct jp_event *ev, void *arg), void *arg)
{
    struct jp_store_sub *sub = jp_xcalloc(1, sizeof(*sub));
    sub->fn = fn;
    sub->arg = arg;
    /* append: subscribers are called in the order they subscribed */
    struct jp_store_sub **p = &s->subs;
    while (*p)
        p = &(*p)->next;
    *p = sub;
    return sub;
}

void jp_store_unsubscribe(struct jp_store *s, struct jp_store_sub *sub)
{
    sub->dead = true;
    if (s->dispatching) return;
    for (struct jp_store_sub **p = &s->subs; *p; p = &(*p)->next) {
        if (*p == sub) {
            *p = sub->next;
            free(sub);
            return;
        }
    }
}

uint64_t jp_store_oldest_replayable(const struct jp_store *s)
{
    return s->log_floor;
}

int jp_store_replay(const struct jp_store *s, uint64_t rev,
                    void (*fn)(const struct jp_event *ev, void *arg), void *arg)
{
    if (rev < s->log_floor) return -1;
    for (unsigned i = 0; i < s->log_len; i++) {
        const struct jp_event *ev = &s->log[(s->log_head + i) % s->log_cap];
        if (ev->rev > rev) fn(ev, arg);
    }
    return 0;
}
