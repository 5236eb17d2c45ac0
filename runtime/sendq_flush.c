/* sendq_flush.c — the I/O thread's part in writing send queues (sendq.c):
 * the coalesced batches whose time has come (rvr_net_flush, also called
 * by a VR about to wait), and a socket that drained after EAGAIN
 * (rvr_peer_writable). */
#include "transport_impl.h"

/* The I/O thread writes a coalesced batch cfg.flush_ns after it began,
 * unless its sender is still appending: then it looks again later, so
 * that the sender fills the batch and writes it from its own core; but it
 * writes every batch at most this many cfg.flush_ns after it began.  So
 * no coalesced message waits longer than that (800 us by default).
 *
 * While streams go on (senders append or write their batches
 * themselves), it looks less often: the interval (net->flush_gap) doubles
 * per look that found a sender still appending or writing and no batch
 * due, up to this many cfg.flush_ns, and is cfg.flush_ns again once it
 * writes a batch whose sender went quiet, or after FLUSH_PAUSE_NS without
 * such a look (so a burst after a pause goes out after cfg.flush_ns).
 * Each look wakes the thread, which then preempts a VR: at one look per
 * cfg.flush_ns a stream ran about 4% slower.  (A pause of 1.6 ms was too
 * short: a sender waiting for a full socket that long is still streaming,
 * and starting over cost as much again.) */
#define FLUSH_WAIT_MAX 8
#define FLUSH_PAUSE_NS(net) (100 * (net)->cfg.flush_ns)

/* Takes s unless its holder keeps it for more than a moment. */
static bool spin_briefly(rvr_spin *s)
{
    for (int i = 0; i < 64; i++) {
        if (rvr_spin_trylock(s))
            return true;
        rvr_cpu_relax();
    }
    return false;
}

/* Looks at every peer (with net->lock): those whose batch is due go into
 * todo (at most 64, *n of them); returns when to look again (0: no peer
 * is armed or being written by its sender).  *busy: some sender is still
 * appending to or writing its batch; *quiet: a batch is due whose sender
 * did not append since the last look. */
static uint64_t flush_scan(rvr_net *net, bool all, uint64_t now, peer **todo, int *n,
                           bool *busy, bool *quiet)
{
    uint64_t next = 0, gap = all ? net->cfg.flush_ns : net->flush_gap;   /* flush_gap: io_lock */
    uint64_t most = FLUSH_WAIT_MAX * net->cfg.flush_ns;
    rvr_mutex_lock(&net->lock);
    for (peer *p = net->peers; p != NULL; p = p->next) {
        if (!all && !spin_briefly(&p->q_lock)) {
            /* Its holder was preempted (a stream's sender takes the lock
             * for every message, a few dozen ns): look again soon rather
             * than spin and yield against it (1,700 yields a second). */
            uint64_t due = now + net->cfg.flush_ns;
            if (next == 0 || due < next)
                next = due;
            *busy = true;
            continue;
        }
        if (all)
            rvr_spin_lock(&p->q_lock);
        if (p->armed) {
            uint64_t limit = p->batch_ns + most;
            uint64_t due = p->armed_ns + gap < limit ? p->armed_ns + gap : limit;
            if (!all && due <= now && p->appends != p->appends_seen && now < limit) {
                /* Still appending: its batch fills soon and it writes it
                 * itself, from its own core, where the frames are warm. */
                p->appends_seen = p->appends;
                p->armed_ns = now;
                due = now + gap < limit ? now + gap : limit;
                *busy = true;
            }
            if ((all || due <= now) && *n < 64) {
                todo[(*n)++] = p;
                *quiet |= p->appends == p->appends_seen;
            } else if (next == 0 || due < next) {
                next = due <= now ? now : due;
            }
        } else if (p->writing && !all) {
            /* A stream's sender writing its batch: it arms the next one
             * in a moment.  Looking again then costs less than the
             * wake-up its next batch would need if we stopped. */
            uint64_t due = now + gap;
            if (next == 0 || due < next)
                next = due;
            *busy = true;
        }
        rvr_spin_unlock(&p->q_lock);
    }
    rvr_mutex_unlock(&net->lock);
    return next;
}

uint64_t rvr_net_flush(rvr_net *net, bool all)
{
    if (!atomic_load_explicit(&net->flush_req, memory_order_relaxed))
        return 0;
    /* The flag stays up while someone watches: a sender that finds it up
     * wakes nobody.  (Lowering it for every look made each look end with
     * the streaming sender's eventfd write, which woke the I/O thread
     * again at once: 30,000 wake-ups a second.) */
    peer *todo[64];
    int n = 0;
    bool busy = false, quiet = false;
    uint64_t now = rvr_now_ns();
    if (!all && now - net->flush_busy_ns > FLUSH_PAUSE_NS(net))
        net->flush_gap = net->cfg.flush_ns;   /* no stream lately */
    uint64_t next = flush_scan(net, all, now, todo, &n, &busy, &quiet);
    if (next == 0 && atomic_exchange(&net->flush_req, false)) {
        /* Nothing left to watch.  A peer armed between the scan and the
         * flag going down found it up and woke nobody: look once more. */
        n = 0;
        next = flush_scan(net, all, now, todo, &n, &busy, &quiet);
        if (next != 0)
            atomic_store(&net->flush_req, true);
    }
    if (!all) {   /* the I/O thread's look (io_lock): the gap for the next */
        uint64_t most = FLUSH_WAIT_MAX * net->cfg.flush_ns;
        if (busy)
            net->flush_busy_ns = now;
        if (quiet)
            net->flush_gap = net->cfg.flush_ns;
        else if (busy && n == 0)
            net->flush_gap = net->flush_gap * 2 < most ? net->flush_gap * 2 : most;
    }
    for (int i = 0; i < n; i++) {
        rvr_spin_lock(&todo[i]->q_lock);
        if (todo[i]->armed)
            rvr_peer_drain_locked(net, todo[i]);
        else
            rvr_spin_unlock(&todo[i]->q_lock);
    }
    return next;
}

void rvr_peer_writable(rvr_net *net, peer *p, conn *c)
{
    rvr_spin_lock(&p->q_lock);
    if (p->wconn != c) {
        rvr_spin_unlock(&p->q_lock);
        return;
    }
    if (p->writing) {
        p->kick = true;
        rvr_spin_unlock(&p->q_lock);
        return;
    }
    p->blocked = false;
    rvr_peer_drain_locked(net, p);
}
