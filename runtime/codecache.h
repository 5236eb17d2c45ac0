/* codecache.h — the content-addressed program cache behind code push.
 *
 * A deployer that finds a VM without its program sends the executable,
 * named by its SHA-256.  The receiving host keeps it as DIR/<sha256-hex>
 * (64 lower-case hex digits), mode 0700, and runs it from there; the next
 * deploy of the same program finds it by hash and sends nothing.
 *
 * Trust.  A file enters the cache only after its SHA-256 has been checked
 * against the name it is stored under, and it appears under that name
 * atomically (temporary file in DIR, fsync, rename), so a reader never
 * sees a partial program.  The directory must belong to this user and be
 * closed to group and others (it is created 0700): anyone who could write
 * there could plant a program under a hash.  Lookups therefore trust the
 * directory and do not re-hash; rvr_codecache_verify does, when wanted.
 * Whether code from a peer may be stored at all (only over an
 * authenticated connection) is the caller's decision, not this module's.
 *
 * DIR: the `dir` argument, else $RIVER_CACHE_DIR, else
 * $XDG_CACHE_HOME/river, else $HOME/.cache/river.
 *
 * Thread-safety: a cache handle may be used from several threads at once
 * (the handle is read-only after open, except the limit; set it before
 * sharing).  Several processes may share one directory: concurrent stores
 * of the same program both succeed and leave one whole file. */
#ifndef RIVER_CODECACHE_H
#define RIVER_CODECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <river/status.h>

#include "sha256.h"

#define RVR_CODECACHE_DEFAULT_MAX ((uint64_t)256 << 20)   /* 256 MiB per program */

typedef struct rvr_codecache rvr_codecache;
typedef struct rvr_codecache_writer rvr_codecache_writer;

/* The default directory (see above) into buf.  RVR_ENOTFOUND when neither
 * variable nor a home directory is known; RVR_ELIMIT when buf is short. */
rvr_status rvr_codecache_default_dir(char *buf, size_t len);

/* Opens the cache in `dir` (NULL: the default), creating it (and missing
 * parents) with mode 0700.  RVR_EINVAL when it exists but is not a
 * directory, belongs to another user, or is writable by group or others
 * (the message says which, via the log); RVR_ESYS otherwise. */
rvr_status rvr_codecache_open(const char *dir, rvr_codecache **out);
void rvr_codecache_close(rvr_codecache *c);   /* NULL is fine */
const char *rvr_codecache_dir(const rvr_codecache *c);

/* The largest program accepted, in bytes (default 256 MiB; RIVER_CACHE_MAX
 * overrides it at open).  0 is refused (RVR_EINVAL). */
rvr_status rvr_codecache_set_max_size(rvr_codecache *c, uint64_t max);
uint64_t rvr_codecache_max_size(const rvr_codecache *c);

/* Stores data (len bytes) under `hash` after checking that it is the
 * SHA-256 of data: RVR_EPROTO when not (nothing is stored), RVR_ELIMIT
 * past the size limit, RVR_ESYS on an I/O error.  Storing a program that
 * is already cached is RVR_OK and rewrites nothing.  The file's path goes
 * to path (plen bytes) when path is not NULL. */
rvr_status rvr_codecache_store(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN],
                               const void *data, size_t len, char *path, size_t plen);

/* Streaming store, for a program that arrives in pieces: begin with the
 * expected hash and size (RVR_ELIMIT at once when too large), write the
 * pieces in order, then commit (checks size and hash, RVR_EPROTO on a
 * mismatch, and moves the file into place) or abort.  commit and abort
 * both free the writer, whatever they return. */
rvr_status rvr_codecache_begin(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN],
                               uint64_t size, rvr_codecache_writer **out);
rvr_status rvr_codecache_write(rvr_codecache_writer *w, const void *data, size_t len);
rvr_status rvr_codecache_commit(rvr_codecache_writer *w, char *path, size_t plen);
void rvr_codecache_abort(rvr_codecache_writer *w);

/* The cached program with that hash: RVR_OK and its path, or
 * RVR_ENOTFOUND.  Does not re-hash (see Trust above). */
rvr_status rvr_codecache_lookup(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN],
                                char *path, size_t plen);

/* Re-hashes the cached program: RVR_OK when intact, RVR_EPROTO when its
 * content no longer matches (the file is then removed), RVR_ENOTFOUND. */
rvr_status rvr_codecache_verify(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN]);

/* The SHA-256 of a file (a deployer hashes its own executable), and its
 * size when size is not NULL. */
rvr_status rvr_sha256_file(const char *path, uint8_t out[RVR_SHA256_LEN], uint64_t *size);

#endif
