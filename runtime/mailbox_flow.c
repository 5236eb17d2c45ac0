/* mailbox_flow.c — receive-side flow control (see mailbox.h).
 *
 * Without it a reader that decodes faster than its VR takes fills the
 * mailbox without bound: memory grows with the backlog and every packet
 * is cold by the time it is taken.  With it the backlog stays at `high`
 * packets and the rest waits in the socket, then in the sender's queue
 * (whose senders then wait for room: TCP's own back-pressure).
 *
 * Holding a connection back must never deadlock, so a VR that is not
 * taking is never waited for: one that waits past packets it does not
 * want (a selective receive whose match may be behind the held bytes)
 * releases the connection, and so does one that has taken nothing for a
 * while (RIVER_FLOW_STALL_MS: two VRs that send to each other before
 * either receives). */
#include "mailbox.h"

/* Whether the VR took a packet within stall_ns (reader's side). */
static bool consuming(rvr_mailbox *mb, uint64_t stall_ns)
{
    uint64_t now = rvr_now_ns();
    uint64_t t = atomic_load_explicit(&mb->taken, memory_order_relaxed);
    if (t != mb->flow.mark) {
        mb->flow.mark = t;
        mb->flow.mark_ns = now;
    }
    return now - mb->flow.mark_ns < stall_ns;
}

bool rvr_mailbox_flow_full(rvr_mailbox *mb, size_t high, size_t high_bytes, uint64_t stall_ns,
                           void (*resume)(void *), void *ctx)
{
    if ((rvr_mailbox_count(mb) < high && rvr_mailbox_bytes(mb) < high_bytes) ||
        !consuming(mb, stall_ns))
        return false;
    /* The taker may be reading these (a resume from an earlier hold):
     * atomics, always set to the same values by one transport. */
    atomic_store_explicit(&mb->flow.resume, resume, memory_order_relaxed);
    atomic_store_explicit(&mb->flow.ctx, ctx, memory_order_relaxed);
    /* Raised before looking at stuck, as the taker sets stuck before
     * looking at held (both sequentially consistent): either it sees held
     * and resumes us, or we see it stuck and do not hold. */
    atomic_store(&mb->held, true);
    return !atomic_load(&mb->stuck) && !atomic_load_explicit(&mb->closed, memory_order_relaxed);
}

bool rvr_mailbox_flow_open(rvr_mailbox *mb, uint64_t stall_ns)
{
    /* Empty, not "below a low mark": the VR drains what it has, then reads
     * the next part itself when it polls, and the packets it decodes go
     * into blocks it has just freed, still in its cache. */
    if (rvr_mailbox_count(mb) != 0 && !atomic_load(&mb->stuck) &&
        !atomic_load_explicit(&mb->closed, memory_order_relaxed) && consuming(mb, stall_ns))
        return false;
    atomic_store(&mb->held, false);
    return true;
}
