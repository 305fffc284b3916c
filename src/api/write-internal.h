/* Shared by write.c and delete.c only. */
#ifndef JP_API_WRITE_INTERNAL_H
#define JP_API_WRITE_INTERNAL_H

#include "api/write.h"

char *jp_api__now_rfc3339(void);
struct jp_status *jp_api__not_found(const struct jp_kind *k, const char *name);
struct jp_status *jp_api__conflict(const struct jp_kind *k, const char *name);
int jp_api__check_type_meta(const struct jp_kind *k, json_t *obj, const char *want_kind,
                            const char *want_version, struct jp_status **st);
int jp_api__namespace_ready(struct jp_write_ctx *c, struct jp_status **st);
/* Updates cur to obj (taken) with the full update strategy. */
int jp_api__update_object(struct jp_write_ctx *c, const struct jp_obj *cur, json_t *obj,
                          struct jp_write_result *out, struct jp_status **st);
/* Removes cur from the store; final (borrowed) is its last state. */
int jp_api__remove(struct jp_write_ctx *c, const struct jp_obj *cur, json_t *final,
                   struct jp_write_result *out, struct jp_status **st);

#endif
