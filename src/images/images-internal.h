/* Shared inside src/images: path rules, the archive formats' manifests, and extraction. */
#ifndef JP_IMAGES_INTERNAL_H
#define JP_IMAGES_INTERNAL_H

#include "images/images.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- paths (path.c) ---- */

/* A tar entry's or a manifest's path made relative to the root it lands in: leading "/" and
 * "./" dropped, "//" and "." parts removed. -1 for a ".." part, a NUL-free overlong path or an
 * empty name; "" (0) is the root itself. */
int jp_images__clean_path(const char *in, char *out, size_t n);

enum jp_whiteout { JP_WH_NONE, JP_WH_FILE, JP_WH_OPAQUE, JP_WH_META };
/* Whether a cleaned path is an OCI/AUFS whiteout: ".wh.NAME" hides DIR/NAME of lower layers
 * (target: DIR/NAME), ".wh..wh..opq" hides all of DIR's lower entries (target: DIR), other
 * ".wh..wh.*" are AUFS bookkeeping (JP_WH_META, skipped). JP_WH_NONE otherwise. */
enum jp_whiteout jp_images__whiteout(const char *clean, char *target, size_t n);

/* An fd for path inside root (an open directory), resolved as the container would resolve it
 * (absolute links and ".." stay inside; no magic links). flags: O_* for openat2. -1 with errno;
 * ENOSYS before Linux 5.6. */
int jp_images__open_in(int root, const char *path, int flags, mode_t mode);
/* rm -rf of name under dir (never following links; unreadable directories made readable). */
int jp_images__remove_at(int dir, const char *name);
/* Removes every entry of an open directory, keeping the directory. */
int jp_images__empty_dir(int dir);

/* ---- archive manifests (manifest.c) ---- */

/* What an image archive says about the image: its config file and its layers, bottom first,
 * as cleaned paths inside the archive. */
struct jp_images__plan {
    char *config;  /* path of the image config (JSON) */
    char **layers; /* NULL-terminated */
    size_t nlayers;
};
void jp_images__plan_free(struct jp_images__plan *p);

/* docker save's manifest.json: the entry tagged `want` (a normalized reference; matched against
 * each RepoTag normalized), or the only entry. JP_INVALID with why when it is not usable. */
int jp_images__docker_plan(const char *text, size_t len, const char *want,
                           struct jp_images__plan *out, struct jp_err **err);
/* An OCI layout's index.json: the manifest whose ref.name annotation matches `want`'s tag or
 * reference, or the only one. Gives the blob path of that manifest (blobs/ALG/HEX). */
int jp_images__oci_pick(const char *index, size_t len, const char *want, char **manifest_path,
                        bool *is_index, struct jp_err **err);
/* An OCI image manifest (or, with is_index, an image index: the linux manifest of this
 * machine's architecture is picked and its path given in out->config = NULL). */
int jp_images__oci_plan(const char *text, size_t len, struct jp_images__plan *out,
                        struct jp_err **err);
/* "sha256:<hex>" -> "blobs/sha256/<hex>"; NULL when the digest is not well formed. */
char *jp_images__blob_path(const char *digest);

/* The parts of an image config ({"config": {"Entrypoint", "Cmd", "Env", "WorkingDir", "User"}})
 * the store keeps, into img. Missing fields stay as they are. */
int jp_images__read_config(const char *text, size_t len, struct jp_image *img, struct jp_err **err);

/* ---- extraction (extract.c) ---- */

struct jp_images__sink;
/* Entries land in rootfs (an existing directory). layered: whiteouts apply and an entry
 * replaces whatever was there (files over directories too). */
struct jp_images__sink *jp_images__sink_new(const char *rootfs, bool layered, struct jp_err **err);
/* Reads a tar (any compression libarchive knows) from fd into the sink. */
int jp_images__sink_tar(struct jp_images__sink *s, int fd, const char *what, struct jp_err **err);
/* Copies a directory tree (not crossing mount points) into the sink. */
int jp_images__sink_dir(struct jp_images__sink *s, const char *dir, struct jp_err **err);
/* Finishes (directory modes and times) and frees. The content digest of what went in (an
 * order-free sum of the entries' hashes) and the count of device nodes skipped. */
int jp_images__sink_close(struct jp_images__sink *s, unsigned char digest[32], size_t *skipped,
                          struct jp_err **err);

/* ---- the store's directory (store.c) ---- */

/* Writes DIR/config.json durably: the rename that publishes the image comes next. */
int jp_images__save(const char *dir, const struct jp_image *img, struct jp_err **err);
/* Moves top/tmp to top/name, replacing an image there in one step (RENAME_EXCHANGE), then
 * removes the old one. */
int jp_images__publish(const char *top, const char *tmp, const char *name, struct jp_err **err);
/* Removes what dead processes' imports and removals left in top (".tmp-PID-*", ".rm-PID-*"). */
void jp_images__sweep(const char *top);

/* ---- strings ---- */
char **jp_images__strv_dup(char *const *v); /* NULL stays NULL */
void jp_images__strv_free(char **v);
json_t *jp_images__strv_json(char *const *v); /* NULL -> json null */
char **jp_images__json_strv(const json_t *a); /* a JSON array of strings -> vector; else NULL */

#endif
