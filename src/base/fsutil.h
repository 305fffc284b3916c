/* Files the server owns in its data directory: created private (0600/0700), written atomically,
 * opened without following symlinks, so a planted link can't redirect our writes. */
#ifndef JP_BASE_FSUTIL_H
#define JP_BASE_FSUTIL_H

#include "base/err.h"

#include <stddef.h>

/* Creates dir (0700) if missing; fails if it exists as a symlink or non-directory. */
int jp_mkdir_private(const char *dir, struct jp_err **err);
/* Writes data to dir/name atomically (temp file, fsync, rename, fsync dir), mode 0600. */
int jp_write_file_atomic(const char *dir, const char *name, const void *data, size_t len,
                         struct jp_err **err);
/* The same without the fsyncs: readers never see a torn file, and it survives a crash of the
 * process, but not of the machine. For records whose loss on power failure costs nothing. */
int jp_replace_file(const char *dir, const char *name, const void *data, size_t len,
                    struct jp_err **err);
/* Reads all of dir/name (O_NOFOLLOW) up to max bytes. OUT: *data is NUL-terminated, caller frees.
 * A missing file is JP_NOT_FOUND. */
int jp_read_file(const char *dir, const char *name, size_t max, char **data, size_t *len,
                 struct jp_err **err);

/* Holds dir/lock (flock, exclusive) for as long as the returned descriptor stays open, and
 * writes our pid in it: one process per data directory. Another holder is JP_CONFLICT, naming
 * its pid. The descriptor is close-on-exec, so no child keeps the lock after we are gone. */
int jp_lock_dir(const char *dir, struct jp_err **err);

/* rm -rf DIR without following symlinks (a container may plant them); errors are ignored. */
void jp_remove_tree(const char *dir);
/* The running program's path (/proc/self/exe), and a program beside it. OUT: caller frees. */
char *jp_self_exe(void);
char *jp_sibling_exe(const char *self, const char *name);

#endif
