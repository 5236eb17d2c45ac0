/* bigbuf.h — large value buffers, recycled.
 *
 * A fresh megabyte costs a page fault per 4 KiB page the first time it is
 * written (by the kernel copying from a socket, or by memcpy), which is as
 * much CPU as the copy itself.  Buffers for values of RVR_BIG_MIN bytes or
 * more therefore come from a small cache of buffers freed earlier.  They
 * are ordinary malloc() blocks: free() releases one as well. */
#ifndef RIVER_BIGBUF_H
#define RIVER_BIGBUF_H

#include <stddef.h>

#define RVR_BIG_MIN ((size_t)64 << 10)

/* At least n bytes; NULL on ENOMEM. */
void *rvr_big_alloc(size_t n);
/* Gives a buffer from rvr_big_alloc back (cached or freed), or any
 * malloc() block (freed unless RVR_BIG_MIN or larger).  NULL is fine. */
void rvr_big_free(void *p);

#endif
