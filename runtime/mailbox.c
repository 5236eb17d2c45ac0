/* mailbox.c — see mailbox.h. */
#include "mailbox.h"

#include <stdlib.h>
#include <string.h>

#include "mailbox_index.h"
#include "match_impl.h"
#include "packet_impl.h"

enum { BY_ARRIVAL, BY_TAG, BY_SRC };

/* Parking costs a futex wake on the sender's side and a reschedule on ours
 * (tens of microseconds on virtual machines), so a taker first spins.  The
 * budget follows the waits actually seen: after a spin that ended with news
 * it moves toward four times that wait; after a spin that ran out it
 * halves.  Past the first SPIN_PURE_NS the spinner also yields its core, so
 * when cores are oversubscribed the thread it waits for gets to run. */
#define SPIN_MIN_NS 2000u
#define SPIN_MAX_NS 200000u
#define SPIN_START_NS 50000u
#define SPIN_PURE_NS 3000u
#define SPIN_PROBE_EVERY 8u
#define SPIN_PROBE_NS 100000u
/* With a poller the spinner also polls the sockets without blocking (every
 * SPIN_POLL_EVERY turns), so a reply from another VM is read by the thread
 * that waits for it, with no wake-up on either side: the round trip of a
 * busy-polling TCP reader.  Then it polls blocking for at most POLL_NS
 * before parking; one epoll_wait lasts at most POLL_SLICE_MS, so a poke
 * that went astray costs at most that. */
#define SPIN_POLL_EVERY 4u
#define POLL_NS 50000000u
/* Messages a wait must bring in for its VR to keep the sockets (a stream). */
#define KEEP_MIN 8u
#define POLL_SLICE_MS 5

static rvr_packet **link_next(rvr_packet *p, int by)
{
    return by == BY_TAG ? &p->tnext : by == BY_SRC ? &p->snext : &p->next;
}

static rvr_packet **link_prev(rvr_packet *p, int by)
{
    return by == BY_TAG ? &p->tprev : by == BY_SRC ? &p->sprev : &p->prev;
}

/* ---- lists ---------------------------------------------------------------- */

static void list_append(rvr_packet **head, rvr_packet **tail, rvr_packet *p, int by)
{
    *link_next(p, by) = NULL;
    *link_prev(p, by) = *tail;
    if (*tail != NULL)
        *link_next(*tail, by) = p;
    else
        *head = p;
    *tail = p;
}

static void list_unlink(rvr_packet **head, rvr_packet **tail, rvr_packet *p, int by)
{
    rvr_packet *nx = *link_next(p, by), *pv = *link_prev(p, by);
    if (pv != NULL)
        *link_next(pv, by) = nx;
    else
        *head = nx;
    if (nx != NULL)
        *link_prev(nx, by) = pv;
    else
        *tail = pv;
}

static void group_remove(mb_index *ix, mb_group *g, rvr_packet *p, int by)
{
    list_unlink(&g->head, &g->tail, p, by);
    if (--g->n == 0) {
        ix->nempty++;
        rvr_mb_index_sweep(ix);
    }
}

/* Unlinks p, which is in no index group, from the arrival list. */
static inline void unlink_unindexed(rvr_mailbox *mb, rvr_packet *p)
{
    if (p == mb->unindexed)
        mb->unindexed = p->next;
    list_unlink(&mb->head, &mb->tail, p, BY_ARRIVAL);
    p->next = p->prev = NULL;
}

/* Unlinks p from its index groups, if it is in them, and the arrival list. */
static inline void unlink_packet(rvr_mailbox *mb, rvr_packet *p)
{
    if (p->tgroup != NULL) {
        group_remove(&mb->tags, p->tgroup, p, BY_TAG);
        group_remove(&mb->srcs, p->sgroup, p, BY_SRC);
        p->tgroup = p->sgroup = NULL;   /* its tag and source links are set when indexed */
    }
    unlink_unindexed(mb, p);
}

/* ---- mailbox -------------------------------------------------------------- */

rvr_status rvr_mailbox_init(rvr_mailbox *mb)
{
    memset(mb, 0, sizeof *mb);
    if (rvr_mutex_init(&mb->lock) != 0)
        return RVR_ESYS;
    if (rvr_cond_init(&mb->cond) != 0) {
        rvr_mutex_destroy(&mb->lock);
        return RVR_ESYS;
    }
    atomic_init(&mb->pushed, 0);
    atomic_init(&mb->taken, 0);
    atomic_init(&mb->pushed_bytes, 0);
    atomic_init(&mb->taken_bytes, 0);
    atomic_init(&mb->closed, 0);
    atomic_init(&mb->held, false);
    atomic_init(&mb->stuck, false);
    mb->spin_ns = rvr_ncpus() > 1 ? SPIN_START_NS : 0;
    return RVR_OK;
}

static void free_chain(rvr_packet *p)
{
    while (p != NULL) {
        rvr_packet *nx = p->next;
        p->tgroup = p->sgroup = NULL;
        rvr_packet_free(p);
        p = nx;
    }
}

void rvr_mailbox_fini(rvr_mailbox *mb)
{
    free_chain(mb->head);
    free_chain(mb->in_head);
    rvr_mb_index_fini(&mb->tags);
    rvr_mb_index_fini(&mb->srcs);
    rvr_cond_destroy(&mb->cond);
    rvr_mutex_destroy(&mb->lock);
}

/* The owner: moves what was pushed since it last looked onto its arrival
 * list.  The tag and source index is brought up to date only when a
 * receive names a tag or a source (index_pending): a VR that takes in
 * arrival order never pays for it. */
static void sort_in_now(rvr_mailbox *mb);

/* Inline: a receive's every call, and mostly there is nothing new. */
static inline void sort_in(rvr_mailbox *mb)
{
    if (atomic_load_explicit(&mb->pushed, memory_order_acquire) != mb->sorted)
        sort_in_now(mb);
}

static void sort_in_now(rvr_mailbox *mb)
{
    rvr_mutex_lock(&mb->lock);
    rvr_packet *p = mb->in_head, *last = mb->in_tail;
    mb->in_head = mb->in_tail = NULL;
    rvr_mutex_unlock(&mb->lock);
    if (p == NULL)
        return;
    if (mb->unindexed == NULL)
        mb->unindexed = p;
    /* The inbox is linked both ways already (push_locked): no walk. */
    p->prev = mb->tail;
    if (mb->tail != NULL)
        mb->tail->next = p;
    else
        mb->head = p;
    mb->tail = last;
    mb->sorted = last->seq;
}

/* Indexes by tag and by source the packets sorted in since the last time.
 * False when a group could not be allocated: that packet and the newer
 * ones stay unindexed (and out of reach of tag and source receives). */
static bool index_pending(rvr_mailbox *mb)
{
    for (rvr_packet *p = mb->unindexed; p != NULL; p = p->next) {
        mb_group *tg = rvr_mb_index_get(&mb->tags, p->tag, p->tag_len, rvr_hash_bytes(p->tag, p->tag_len));
        mb_group *sg = tg ? rvr_mb_index_get(&mb->srcs, p->src.bytes, 16, rvr_hash_bytes(p->src.bytes, 8))
                          : NULL;
        if (sg == NULL) {
            if (tg != NULL && tg->n == 0)
                mb->tags.nempty++;
            mb->unindexed = p;
            return false;
        }
        p->tgroup = tg;
        p->sgroup = sg;
        list_append(&tg->head, &tg->tail, p, BY_TAG);
        list_append(&sg->head, &sg->tail, p, BY_SRC);
        tg->n++;
        sg->n++;
    }
    mb->unindexed = NULL;
    return true;
}

/* The mailbox this thread is polling for: its own pushes need no poke. */
static RVR_TLS const rvr_mailbox *polling_for;

bool rvr_mailbox_owner_reads(const rvr_mailbox *mb)
{
    return polling_for == mb && atomic_load_explicit(&mb->kept, memory_order_relaxed);
}

void rvr_mailbox_set_poller(rvr_mailbox *mb, const rvr_mb_poller *pl)
{
    if (mb->poller.ctx == pl->ctx && mb->poller.poll == pl->poll)
        return;
    rvr_mutex_lock(&mb->lock);
    mb->poller = *pl;
    rvr_mutex_unlock(&mb->lock);
}

/* Appends p to the inbox, with mb->lock held. */
static void push_locked(rvr_mailbox *mb, rvr_packet *p)
{
    p->seq = ++mb->seq;
    p->next = NULL;
    p->prev = mb->in_tail;   /* the owner links only the first to its list */
    if (mb->in_tail != NULL)
        mb->in_tail->next = p;
    else
        mb->in_head = p;
    mb->in_tail = p;
}

size_t rvr_mailbox_push_many(rvr_mailbox *mb, rvr_packet **ps, size_t n, rvr_status *why)
{
    rvr_mutex_lock(&mb->lock);
    int closed = atomic_load_explicit(&mb->closed, memory_order_relaxed);
    if (closed) {
        rvr_mutex_unlock(&mb->lock);
        *why = (rvr_status)closed;
        return 0;
    }
    uint64_t bytes = atomic_load_explicit(&mb->pushed_bytes, memory_order_relaxed);
    for (size_t k = 0; k < n; k++) {
        push_locked(mb, ps[k]);
        bytes += ps[k]->wire_len;
    }
    atomic_store_explicit(&mb->pushed_bytes, bytes, memory_order_relaxed);
    atomic_store_explicit(&mb->pushed, mb->seq, memory_order_release);
    int waiting = mb->waiting;
    rvr_mb_poller poke = { 0 };
    if (mb->polling && polling_for != mb) {
        poke = mb->poller;
        mb->polling = false;   /* one poke is enough */
    }
    rvr_mutex_unlock(&mb->lock);
    /* Signalled after unlocking so the woken taker does not block on the
     * lock we hold; the caller's reference keeps mb alive. */
    if (waiting)
        rvr_cond_signal(&mb->cond);
    if (poke.ctx != NULL)
        poke.poke(poke.ctx);
    return n;
}

rvr_status rvr_mailbox_push(rvr_mailbox *mb, rvr_packet *p)
{
    rvr_status why = RVR_OK;
    return rvr_mailbox_push_many(mb, &p, 1, &why) == 1 ? RVR_OK : why;
}

void rvr_mailbox_close(rvr_mailbox *mb, rvr_status why)
{
    rvr_mutex_lock(&mb->lock);
    if (!atomic_load_explicit(&mb->closed, memory_order_relaxed))
        atomic_store_explicit(&mb->closed, (int)why, memory_order_release);
    rvr_mb_poller poke = { 0 }, pl = mb->poller;
    if (mb->polling && polling_for != mb)
        poke = mb->poller;
    rvr_mutex_unlock(&mb->lock);
    rvr_cond_broadcast(&mb->cond);
    if (poke.ctx != NULL)
        poke.poke(poke.ctx);
    if (atomic_load(&mb->kept))
        pl.drop(pl.ctx, &mb->kept);   /* the transport must not keep a pointer into mb */
}

/* Gives back a lease kept from an earlier wait (the owner's). */
static void drop_kept(rvr_mailbox *mb)
{
    if (atomic_load_explicit(&mb->kept, memory_order_relaxed))
        mb->poller.drop(mb->poller.ctx, &mb->kept);
}

size_t rvr_mailbox_count(rvr_mailbox *mb)
{
    /* Any thread (the control plane's ps): an instant's view. */
    uint64_t taken = atomic_load_explicit(&mb->taken, memory_order_acquire);
    return (size_t)(atomic_load_explicit(&mb->pushed, memory_order_acquire) - taken);
}

size_t rvr_mailbox_bytes(rvr_mailbox *mb)
{
    uint64_t taken = atomic_load_explicit(&mb->taken_bytes, memory_order_relaxed);
    uint64_t pushed = atomic_load_explicit(&mb->pushed_bytes, memory_order_relaxed);
    return pushed > taken ? (size_t)(pushed - taken) : 0;   /* two loads: may pass each other */
}

/* The oldest packet matching m among those newer than `scanned` (older ones
 * were already found not to match, and packets never change while queued).
 * Scans the smallest list that can hold a match: the tag's, the source's,
 * or all packets. */
static rvr_packet *find(rvr_mailbox *mb, const rvr_match *m, uint64_t scanned,
                        const rvr_packet *tested)
{
    rvr_packet *head = mb->head, *tail = mb->tail;
    int by = BY_ARRIVAL;
    if (m != NULL && (m->has_tag || m->has_src)) {
        mb_group *tg = NULL, *sg = NULL;
        if (m->has_tag && (tg = rvr_mb_index_find(&mb->tags, m->tag, m->tag_len, m->tag_hash)) == NULL)
            return NULL;
        if (m->has_src &&
            (sg = rvr_mb_index_find(&mb->srcs, m->src.bytes, 16, rvr_hash_bytes(m->src.bytes, 8))) == NULL)
            return NULL;
        mb_group *g = tg != NULL && (sg == NULL || tg->n <= sg->n) ? tg : sg;
        head = g->head;
        tail = g->tail;
        by = g == tg ? BY_TAG : BY_SRC;
    }
    if (head == NULL || tail->seq <= scanned)
        return NULL;
    rvr_packet *p = head;
    if (scanned > 0 && head->seq <= scanned) {
        /* Walk back from the newest to the first packet not yet scanned
         * (after a wait on an empty list, that is the head: a batch that
         * arrived meanwhile is not walked through, cold, to find it). */
        p = tail;
        for (rvr_packet *pv; (pv = *link_prev(p, by)) != NULL && pv->seq > scanned;)
            p = pv;
    }
    for (; p != NULL; p = *link_next(p, by))
        if (p != tested && (m == NULL || rvr_match_test(m, p)))
            return p;
    return NULL;
}

/* Spins until a packet newer than `seen` arrives, the mailbox closes, the
 * budget runs out or the deadline (0: none) passes, then adapts the budget.
 * Returns whether something happened.  Runs without the lock. */
static bool spin_for_news(rvr_mailbox *mb, uint64_t seen, uint64_t deadline, bool *leased)
{
    uint64_t start = rvr_now_ns(), now = start;
    uint64_t budget = mb->spin_ns;
    /* The sockets are polled only past the first SPIN_PURE_NS: a reply
     * from a VR of this VM comes sooner, and then costs no system call.
     * But a connection held back for this mailbox (a stream it drained)
     * is read at once, by this thread (mailbox_flow.c). */
    bool sockets = mb->poller.ctx != NULL &&
                   (*leased || atomic_load_explicit(&mb->held, memory_order_relaxed));
    if (sockets && !*leased && mb->poller.lease != NULL) {
        mb->poller.lease(mb->poller.ctx, true);
        *leased = true;
    }
    /* Two threads that both park wake each other through the kernel, and
     * then neither's short spin ever sees the other's reply in time: every
     * SPIN_PROBE_EVERY-th wait spins long enough to catch a reply that is
     * delayed by a wake-up, so such a pair can get back to spinning. */
    bool probe = (++mb->spin_waits % SPIN_PROBE_EVERY) == 0 && budget < SPIN_PROBE_NS;
    if (probe)
        budget = SPIN_PROBE_NS;
    uint64_t until = start + budget;
    if (deadline != 0 && deadline < until)
        until = deadline;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&mb->pushed, memory_order_acquire) != seen ||
            atomic_load_explicit(&mb->closed, memory_order_relaxed)) {
            uint64_t want = 4 * (now - start);
            want = want < SPIN_MIN_NS ? SPIN_MIN_NS : want > SPIN_MAX_NS ? SPIN_MAX_NS : want;
            mb->spin_ns = (uint32_t)((mb->spin_ns + want) / 2);
            return true;
        }
        if ((i & 15) == 0) {
            now = rvr_now_ns();
            if (now >= until)
                break;
            if (now - start > SPIN_PURE_NS) {
                rvr_thread_yield();
                if (!sockets && mb->poller.ctx != NULL) {
                    sockets = true;
                    if (!*leased && mb->poller.lease != NULL) {
                        mb->poller.lease(mb->poller.ctx, true);
                        *leased = true;
                    }
                }
            }
        } else if (sockets && (i % SPIN_POLL_EVERY) == 1) {
            polling_for = mb;   /* our own pushes need no poke */
            mb->poller.poll(mb->poller.ctx, 0, &mb->pushed, seen);
            polling_for = NULL;
        } else {
            rvr_cpu_relax();
        }
    }
    if (!probe)
        mb->spin_ns = mb->spin_ns / 2 < SPIN_MIN_NS ? SPIN_MIN_NS : mb->spin_ns / 2;
    return false;
}

static rvr_status take(rvr_mailbox *mb, const rvr_match *m, int timeout_ms, bool peek,
                       rvr_packet **out);

/* Takes p, found in the mailbox, out of it. */
/* Counts p taken (flow control, mailbox_flow.c). */
static inline __attribute__((always_inline)) void counted(rvr_mailbox *mb, const rvr_packet *p)
{
    if (p->wire_len != 0)
        atomic_store_explicit(&mb->taken_bytes,
                              atomic_load_explicit(&mb->taken_bytes, memory_order_relaxed) + p->wire_len,
                              memory_order_relaxed);
    atomic_store_explicit(&mb->taken, atomic_load_explicit(&mb->taken, memory_order_relaxed) + 1,
                          memory_order_release);
}

static inline __attribute__((always_inline)) void removed(rvr_mailbox *mb, rvr_packet *p)
{
    unlink_packet(mb, p);
    counted(mb, p);
}

static __attribute__((noinline)) rvr_status take_dynamic(rvr_mailbox *mb, const rvr_match *m,
                                                         int timeout_ms, bool peek,
                                                         rvr_packet **out)
{
    if (m == NULL && !peek && !atomic_load_explicit(&mb->stuck, memory_order_relaxed)) {
        sort_in(mb);
        rvr_packet *p = mb->head;
        if (p != NULL) {
            removed(mb, p);
            rvr_packet_dynamize(p);
            *out = p;
            return RVR_OK;
        }
    }
    rvr_status st = take(mb, m, timeout_ms, peek, out);
    if (st == RVR_OK && !peek)
        rvr_packet_dynamize(*out);   /* a copy (peek) is dynamic already */
    return st;
}

rvr_status rvr_mailbox_take(rvr_mailbox *mb, const rvr_match *m, int timeout_ms, bool peek,
                            rvr_packet **out)
{
    /* A receive of whatever is oldest, with a dynamic packet there and
     * nothing new to sort in (a stream, between batches): no call, so no
     * frame.  Anything else (new packets, a typed one, a wait, after a
     * wait past unwanted packets) goes the long way. */
    if (m == NULL && !peek && !atomic_load_explicit(&mb->stuck, memory_order_relaxed) &&
        atomic_load_explicit(&mb->pushed, memory_order_acquire) == mb->sorted) {
        rvr_packet *p = mb->head;
        if (p != NULL && p->body == NULL && p->tgroup == NULL) {
            unlink_unindexed(mb, p);
            counted(mb, p);
            *out = p;
            return RVR_OK;
        }
    }
    return take_dynamic(mb, m, timeout_ms, peek, out);
}

rvr_status rvr_mailbox_take_raw(rvr_mailbox *mb, const rvr_match *m, int timeout_ms,
                                rvr_packet **out)
{
    return take(mb, m, timeout_ms, false, out);
}

/* Flow control, the taker's side (mailbox_flow.c): gives a held
 * connection back once. */
static void flow_resume(rvr_mailbox *mb)
{
    if (atomic_exchange(&mb->held, false)) {
        void (*resume)(void *) = atomic_load_explicit(&mb->flow.resume, memory_order_relaxed);
        resume(atomic_load_explicit(&mb->flow.ctx, memory_order_relaxed));
    }
}

static rvr_status take(rvr_mailbox *mb, const rvr_match *m, int timeout_ms, bool peek,
                       rvr_packet **out)
{
    if (m != NULL && m->err != RVR_OK)
        return m->err;
    uint64_t deadline = timeout_ms > 0 ? rvr_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    uint64_t scanned = 0;
    bool polled = false;
    for (;;) {
        if (atomic_load_explicit(&mb->stuck, memory_order_relaxed))
            atomic_store_explicit(&mb->stuck, false, memory_order_relaxed);   /* after a wait */
        /* Closed first: nothing is pushed after that, so what sort_in
         * brings in is all there will be. */
        bool closed = atomic_load_explicit(&mb->closed, memory_order_acquire) != 0;
        sort_in(mb);
        /* The oldest packet, when it matches, is the one: no index to
         * build or search (a stream of one typed message, read by tag). */
        bool indexed = true;
        rvr_packet *p = mb->head;
        if (p == NULL || p->seq <= scanned || (m != NULL && !rvr_match_test(m, p))) {
            /* Not asked again about the head it just refused (match.h). */
            const rvr_packet *tested = p != NULL && p->seq > scanned ? p : NULL;
            indexed = m == NULL || !(m->has_tag || m->has_src) || index_pending(mb);
            p = find(mb, m, scanned, tested);
        }
        if (p != NULL) {
            if (peek)
                return (*out = rvr_packet_copy(p)) != NULL ? RVR_OK : RVR_ENOMEM;
            removed(mb, p);
            *out = p;
            return RVR_OK;
        }
        if (!indexed)
            return RVR_ENOMEM;   /* newer packets wait for memory to index them */
        scanned = mb->sorted;
        if (closed || timeout_ms == 0 || (deadline != 0 && rvr_now_ns() >= deadline)) {
            drop_kept(mb);   /* not reading on: the I/O thread takes the sockets back */
            return closed ? RVR_ECLOSED : RVR_ETIMEDOUT;
        }
        /* Waiting: spin (past its first microseconds polling the sockets
         * too, with a poller), then wait in epoll_wait once, then park.
         * While this VR polls it holds a lease, so the I/O thread is not
         * woken for what this thread reads anyway; the lease is given back
         * before anything else. */
        bool sockets = mb->poller.ctx != NULL, news = false;
        /* A lease kept since an earlier wait (a stream this VR reads
         * itself): the sockets are ours to poll from the start. */
        bool kept = sockets && atomic_load_explicit(&mb->kept, memory_order_relaxed), leased = kept;
        /* Waiting past packets it does not want (a selective receive): what
         * it waits for may be behind a held connection (mailbox_flow.c). */
        if (mb->head != NULL) {
            atomic_store(&mb->stuck, true);
            if (atomic_load(&mb->held))
                flow_resume(mb);
        } else if (!sockets && atomic_load(&mb->held)) {
            flow_resume(mb);   /* drained, and nobody here reads for us */
        }
        if (mb->spin_ns != 0)
            news = spin_for_news(mb, scanned, deadline, &leased) ||
                   atomic_load_explicit(&mb->pushed, memory_order_acquire) != scanned;
        if (!news && sockets && !polled && (deadline == 0 || rvr_now_ns() < deadline)) {
            if (!leased && mb->poller.lease != NULL) {
                mb->poller.lease(mb->poller.ctx, true);
                leased = true;
            }
            /* Wait for the sockets ourselves: whatever arrives for us is
             * delivered by this thread, with no hand-off. */
            polled = news = true;   /* then look again */
            rvr_mutex_lock(&mb->lock);
            bool quiet = mb->seq == scanned && !atomic_load_explicit(&mb->closed, memory_order_relaxed);
            mb->polling = quiet;
            rvr_mutex_unlock(&mb->lock);
            polling_for = mb;
            uint64_t now = rvr_now_ns(), until = now + POLL_NS;
            if (deadline != 0 && deadline < until)
                until = deadline;
            while (quiet && atomic_load_explicit(&mb->pushed, memory_order_acquire) == scanned &&
                   !atomic_load_explicit(&mb->closed, memory_order_relaxed) && now < until) {
                uint64_t ms = (until - now + 999999u) / 1000000u;
                if (!mb->poller.poll(mb->poller.ctx, ms > POLL_SLICE_MS ? POLL_SLICE_MS : (int)ms,
                                     &mb->pushed, scanned))
                    break;   /* another VR polls: park, it signals us */
                now = rvr_now_ns();
            }
            polling_for = NULL;
            rvr_mutex_lock(&mb->lock);
            mb->polling = false;
            rvr_mutex_unlock(&mb->lock);
        }
        /* A stream of small messages came while this VR held the sockets:
         * it read them itself, and keeps the sockets for what comes next,
         * until a wait brings nothing.  After one message (a reply) or a
         * few large ones they go back: the I/O thread reading while this
         * VR works is then worth more than the hand-off it saves. */
        uint64_t came = atomic_load_explicit(&mb->pushed, memory_order_acquire) - scanned;
        if (leased && !kept) {
            if (came >= KEEP_MIN && mb->poller.keep != NULL)
                mb->poller.keep(mb->poller.ctx, &mb->kept);
            else
                mb->poller.lease(mb->poller.ctx, false);
        } else if (kept && came == 0) {
            drop_kept(mb);
        }
        if (news || (deadline != 0 && rvr_now_ns() >= deadline))
            continue;
        if (atomic_load(&mb->held))
            flow_resume(mb);   /* parking: the I/O thread reads for us */
        rvr_mutex_lock(&mb->lock);
        if (mb->seq == scanned && !atomic_load_explicit(&mb->closed, memory_order_relaxed)) {
            mb->waiting++;
            if (deadline == 0)
                rvr_cond_wait(&mb->cond, &mb->lock);
            else
                rvr_cond_wait_until(&mb->cond, &mb->lock, deadline);
            mb->waiting--;
        }
        rvr_mutex_unlock(&mb->lock);
    }
}
