/* frame.c — the frames of send queues (transport_impl.h), pooled.
 *
 * Frames of RVR_FRAME_POOL_CAP bytes are recycled through a per-thread
 * cache: a VR that sends usually writes (and so frees) its own frames, so
 * the common path takes no lock and calls no allocator. */
#include <stdlib.h>

#include "packet_impl.h"
#include "thread_exit.h"
#include "transport_impl.h"

#define POOL_MAX 64   /* frames a thread keeps */

static RVR_TLS frame *pool_head;
static RVR_TLS int pool_n;
static RVR_TLS bool pool_registered;

static void frame_destroy(frame *f)
{
    free(f->buf.data);
    free(f);
}

/* The thread ends: its cache goes back to malloc. */
static void pool_release(void)
{
    while (pool_head != NULL) {
        frame *f = pool_head;
        pool_head = f->next;
        frame_destroy(f);
    }
    pool_n = 0;
}

frame *rvr_frame_new(size_t cap)
{
    frame *f = pool_head;
    if (cap <= RVR_FRAME_POOL_CAP && f != NULL) {
        pool_head = f->next;
        pool_n--;
    } else {
        if ((f = malloc(sizeof *f)) == NULL)
            return NULL;
        size_t c = cap <= RVR_FRAME_POOL_CAP ? RVR_FRAME_POOL_CAP : cap;
        if ((f->buf.data = malloc(c)) == NULL) {
            free(f);
            return NULL;
        }
        f->buf.cap = c;
    }
    f->next = NULL;
    f->buf.len = 0;
    f->off = 0;
    f->extbytes = 0;
    f->hold = NULL;
    f->next_ext = 0;
    f->is_msg = false;
    f->nschemas = 0;
    f->ids_at = 0;
    f->bounce_from = 0;
    return f;
}

void rvr_frame_free(frame *f)
{
    if (f == NULL)
        return;
    if (f->hold != NULL) {
        rvr_packet_free(f->hold);
        f->hold = NULL;
    }
    if (f->buf.cap != RVR_FRAME_POOL_CAP || pool_n >= POOL_MAX) {
        frame_destroy(f);
        return;
    }
    rvr_thread_on_exit(&pool_registered, pool_release);
    f->next = pool_head;
    pool_head = f;
    pool_n++;
}
