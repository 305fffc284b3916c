/* The local image store: one directory per image under DATA/images, named from its normalized
 * reference, holding the image's root filesystem (rootfs/) and its config.json. Imports go
 * through a temporary directory and appear with one rename; nothing half-made is ever found.
 * See docs/images.md. */
#ifndef JP_IMAGES_H
#define JP_IMAGES_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reference normalized as Kubernetes and containerd do: "busybox" is
 * "docker.io/library/busybox:latest". */
struct jp_image_ref {
    char *repo;   /* docker.io/library/busybox */
    char *tag;    /* latest; NULL when only a digest names the image */
    char *digest; /* sha256:...; NULL unless given */
    char *full;   /* repo[:tag][@digest], what the store keys on */
};

/* Parses and normalizes text (distribution/reference's grammar). JP_INVALID with the reason. */
int jp_image_ref_parse(const char *text, struct jp_image_ref *out, struct jp_err **err);
void jp_image_ref_free(struct jp_image_ref *r);
/* The store's directory name for a normalized reference: [a-z0-9._-] kept, '/' as '+', other
 * bytes as %XX - never ',' or ':', which an overlay's options could not hold. OUT: caller
 * frees; NULL when the name would be too long for a directory. */
char *jp_image_ref_dirname(const struct jp_image_ref *r);

/* An image of the store, as its config.json says. */
struct jp_image {
    char *name;        /* the normalized reference */
    char *dir;         /* DATA/images/<dirname> */
    char *rootfs;      /* dir/rootfs */
    char *digest;      /* sha256:<64 hex>: the image ID */
    char **entrypoint; /* NULL-terminated; NULL for none */
    char **cmd;
    char **env;           /* "K=V", NULL-terminated; never NULL */
    char *workdir, *user; /* "" for none */
    char *source;         /* dir, tar, docker-archive, oci-archive */
    int64_t size;         /* bytes of the files in rootfs */
    int64_t imported_ns;
};
void jp_image_free(struct jp_image *img);
JP_DEFINE_CLEANUP(struct jp_image, jp_image_free)

/* DATA/images. OUT: caller frees. */
char *jp_images_dir(const char *data_dir);

/* The image a reference names. JP_NOT_FOUND when the store has none, JP_INVALID for a
 * reference that is not one. OUT: *out, caller frees. */
int jp_images_get(const char *data_dir, const char *ref, struct jp_image **out,
                  struct jp_err **err);
/* Every image, sorted by name (an unreadable entry is skipped). OUT: the array and its images,
 * caller frees with jp_images_list_free. */
int jp_images_list(const char *data_dir, struct jp_image ***out, size_t *n, struct jp_err **err);
void jp_images_list_free(struct jp_image **list, size_t n);
int jp_images_remove(const char *data_dir, const char *ref, struct jp_err **err);

/* What `jobplane image import` asks for. A set override replaces what the image says;
 * env entries are added to (or replace) the image's. */
struct jp_image_import {
    const char *name;
    const char *source;    /* a directory (a root filesystem), a tar file, or "-": stdin */
    char **entrypoint;     /* NULL: keep the image's */
    char **cmd;            /* NULL: keep the image's */
    char **env;            /* K=V, NULL-terminated, or NULL */
    const char *workdir;   /* NULL: keep the image's */
    const char *user;      /* NULL: keep the image's */
    bool clear_entrypoint; /* --entrypoint "": none at all */
    bool clear_cmd;        /* --cmd "": none at all */
};

/* Imports (or replaces) an image. A docker save or OCI archive has its layers applied in
 * order, with their whiteouts; any other tar is a root filesystem. OUT: the stored image,
 * caller frees (out may be NULL). Blocks for as long as the copy takes: not for the loop. */
int jp_images_import(const char *data_dir, const struct jp_image_import *opts,
                     struct jp_image **out, struct jp_err **err);

/* The image's user ("", "uid", "uid:gid", "name", "name:group") as ids, names looked up in the
 * image's own /etc/passwd and /etc/group. -1 for "not said". */
int jp_image_user(const struct jp_image *img, int64_t *uid, int64_t *gid, struct jp_err **err);

/* Whether a name is the built-in kuard image's (gcr.io/kuar-demo/kuard-<arch>:<tag>, "kuard"):
 * the agent runs our kuard program for it, and the store never holds it. */
bool jp_images_builtin(const char *name);

/* This machine's architecture as image platforms name it (GOARCH): amd64, arm64, ... */
const char *jp_images_arch(void);

/* "2.16MB": Docker's HumanSize (decimal units, 3 significant digits). */
void jp_images_human_size(char *buf, size_t n, int64_t bytes);

#endif
