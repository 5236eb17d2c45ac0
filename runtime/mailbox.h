/* mailbox.h — a VR's message queue with selective receive.
 *
 * Packets are kept in arrival order on one list and, once a receive names a
 * tag or a source, also on a per-tag and a per-src list, so such a receive
 * scans only the packets of that tag or source (a VR that only takes in
 * arrival order never indexes).  Many threads push; only
 * the owning VR takes.  A push only appends to an inbox under the lock; the
 * owner moves the inbox into its indexed lists in one go when it looks, so
 * pushers and the taker meet on the lock once per batch, not per packet.  A taker first spins briefly (the sender is usually
 * on another core and about to answer), then parks on a condition variable;
 * the spin budget adapts to how often spinning pays off.  With a poller
 * (a VM with a transport), a taker spins only briefly, then waits for the
 * sockets itself (rvr_net_poll) for up to POLL_NS, then parks. */
#ifndef RIVER_MAILBOX_H
#define RIVER_MAILBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <river/match.h>
#include "platform.h"

typedef struct mb_group mb_group;

typedef struct mb_index {
    mb_group **slots;        /* chained hash table of groups */
    uint32_t nslots;
    uint32_t ngroups, nempty;
} mb_index;

/* Receive-side polling (transport.h, rvr_net_poll): a taker with nothing
 * to take waits for the network itself; a push by another thread pokes it. */
typedef struct rvr_mb_poller {
    /* false: cannot poll now.  Returns at once when *news != seen once it
     * may poll: a push that came before then was not seen by its poke. */
    bool (*poll)(void *ctx, int timeout_ms, const _Atomic uint64_t *news, uint64_t seen);
    void (*poke)(void *ctx);
    void (*lease)(void *ctx, bool on);         /* around a busy-polling wait */
    /* A lease kept past the wait that took it, while the VR reads a stream
     * itself (rvr_net_lease_keep): keep turns this wait's lease into one
     * kept in *kept (or gives it back if another VR keeps one), drop gives
     * it back if *kept still says so.  Its polls say it is in use; the
     * transport may take it back meanwhile, clearing *kept.  keep NULL:
     * leases end with their wait. */
    void (*keep)(void *ctx, _Atomic bool *kept);
    void (*drop)(void *ctx, _Atomic bool *kept);
    void *ctx;                                 /* NULL: no polling */
} rvr_mb_poller;

/* Receive-side flow control (mailbox_flow.c).  The transport stops reading
 * a connection while a mailbox it delivers to holds `high` packets or more
 * and its VR is taking them.  The connection is read again once the VR
 * has taken them all (by the VR itself when it polls the sockets), or
 * waits past packets it does not want (a selective receive); a VR that
 * waits without polling tells the transport (resume). */
typedef struct rvr_mb_flow {
    void (*_Atomic resume)(void *ctx);   /* set before `held` is raised */
    void *_Atomic ctx;
    uint64_t mark, mark_ns;     /* reader's side: `taken` when last seen moving, and when */
} rvr_mb_flow;

typedef struct rvr_mailbox {
    /* Shared with pushers, under lock: the inbox, pushed packets not yet
     * sorted into the owner's lists. */
    rvr_mutex lock;
    rvr_cond cond;
    rvr_packet *in_head, *in_tail;
    uint64_t seq;             /* arrival number of the newest packet */
    _Atomic uint64_t pushed;  /* == seq, read without the lock by spinners */
    _Atomic uint64_t taken;   /* packets the owner took (rvr_mailbox_count) */
    _Atomic uint64_t pushed_bytes, taken_bytes;   /* the same in wire bytes (wire_len) */
    _Atomic int closed;       /* 0 open; else the status senders get */
    int waiting;              /* takers parked on cond */
    /* The owner's alone (no lock): packets sorted in, by arrival, and
     * indexed by tag and by source up to `unindexed` (the oldest packet
     * not yet indexed, NULL: none; indexing waits for a receive that
     * names a tag or a source). */
    rvr_packet *head, *tail;
    rvr_packet *unindexed;
    uint64_t sorted;          /* arrival number of the newest packet sorted in */
    mb_index tags, srcs;
    uint32_t spin_ns;         /* current spin budget */
    uint32_t spin_waits;      /* waits so far (every few probe longer) */
    rvr_mb_poller poller;     /* set by the owner only (rvr_mailbox_set_poller) */
    bool polling;             /* the taker is polling: pushes poke it (lock) */
    _Atomic bool held;        /* a connection waits for this mailbox to drain */
    _Atomic bool stuck;       /* the taker waits past packets it does not want */
    _Atomic bool kept;        /* the taker keeps a lease on the sockets (poller.keep) */
    rvr_mb_flow flow;
} rvr_mailbox;

/* The owner's thread only, before taking. */
void rvr_mailbox_set_poller(rvr_mailbox *mb, const rvr_mb_poller *pl);
/* True on mb's owner's thread while it polls the sockets under a kept
 * lease: it delivers to itself, and reads again only once it has taken
 * what it delivered. */
bool rvr_mailbox_owner_reads(const rvr_mailbox *mb);

rvr_status rvr_mailbox_init(rvr_mailbox *mb);
/* Frees every queued packet. */
void rvr_mailbox_fini(rvr_mailbox *mb);

/* Queues p (taking it) unless the mailbox is closed: then returns the
 * close status and the caller keeps p. */
rvr_status rvr_mailbox_push(rvr_mailbox *mb, rvr_packet *p);
/* Queues ps[0..n) in order under one lock and one wake-up (a batch read
 * from a socket); returns how many it took, the first k.  When fewer than
 * n, *why says why the next one was refused (closed, RVR_ENOMEM). */
size_t rvr_mailbox_push_many(rvr_mailbox *mb, rvr_packet **ps, size_t n, rvr_status *why);

/* Closes the mailbox: pushes fail with `why`, takers that find nothing get
 * RVR_ECLOSED.  Queued packets stay takeable. */
void rvr_mailbox_close(rvr_mailbox *mb, rvr_status why);

/* Removes (or, with peek, copies) the oldest packet matching m, as a
 * dynamic packet (a typed one shows its fields as attributes). */
rvr_status rvr_mailbox_take(rvr_mailbox *mb, const rvr_match *m, int timeout_ms, bool peek,
                            rvr_packet **out);
/* Removes the oldest packet matching m as it is (typed ones keep their body). */
rvr_status rvr_mailbox_take_raw(rvr_mailbox *mb, const rvr_match *m, int timeout_ms,
                                rvr_packet **out);

size_t rvr_mailbox_count(rvr_mailbox *mb);
/* The frame bytes of the received packets queued (packet wire_len). */
size_t rvr_mailbox_bytes(rvr_mailbox *mb);

/* Flow control, for the one reader of a connection (the transport's
 * io_lock): true when mb is full (`high` packets, or packets received in
 * frames of `high_bytes` in all, or more) while its VR is
 * taking (took a packet within stall_ns), so that connection should not be read further until
 * rvr_mailbox_flow_open.  The VR then calls resume(ctx) when it waits
 * without polling the sockets itself, or past packets it does not want. */
bool rvr_mailbox_flow_full(rvr_mailbox *mb, size_t high, size_t high_bytes, uint64_t stall_ns,
                           void (*resume)(void *), void *ctx);
/* True once the connection held back by mb may be read again (and then
 * mb is no longer marked held): the mailbox is empty or closed, its VR
 * waits past packets it does not want, or took nothing for stall_ns (it
 * is not consuming: holding its senders back would only stall them). */
bool rvr_mailbox_flow_open(rvr_mailbox *mb, uint64_t stall_ns);

#endif
