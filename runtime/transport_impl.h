/* transport_impl.h — the inside of the TCP transport, shared by
 * transport.c (lifecycle, the I/O thread, peers, name resolution),
 * conn.c (one connection: handshake, reading and dispatching frames) and
 * sendq.c (per-peer send queues, batched writes, undeliverable notices).
 *
 * Threads and locks
 *   - A VR waiting in rvr_recv busy-polls the sockets (epoll set ep) and
 *     meanwhile holds a lease that takes ep out of the I/O thread's own
 *     set (ep_io), so the I/O thread sleeps through the messages that VR
 *     reads itself; with no lease it watches ep through ep_io.  A VR whose
 *     poll brought in a stream of messages keeps the lease past its wait
 *     (kept, one VR at most, lease_lock), so it reads the rest of the
 *     stream itself; the I/O thread takes it back when unused for
 *     RVR_LEASE_IDLE_NS.
 *   - Every connection's state and read side belong to whoever holds
 *     net->io_lock: the I/O thread, or a VR waiting in rvr_recv that
 *     polls the sockets itself (receive-side polling, rvr_net_poll).  Both
 *     wait in epoll_wait on the same epoll set without the lock (the
 *     kernel hands each event to one waiter, the latest first) and take
 *     the lock to handle what they got (io_round).  At most one VR polls
 *     at a time (poll_token).  A push into the polling VR's mailbox by
 *     another thread wakes it through pokefd.  A closed connection is
 *     freed only when no other thread can hold an event naming it
 *     (poll_busy: threads between entering epoll_wait and handling its
 *     events).
 *   - Any thread may append to a peer's send queue (q_lock).  The first
 *     appender that finds nobody writing becomes the writer: it takes the
 *     queued frames, drops the lock, writev()s them, and loops while more
 *     arrived (write combining).  On EAGAIN the peer is marked `blocked`
 *     and the I/O thread finishes the job when the socket is writable.
 *     Back-to-back sends are coalesced: appended without writing, the
 *     peer `armed`, and written by the first of the batch size, the I/O
 *     thread cfg.flush_ns later (told through wakefd once, then it keeps
 *     watching while peers are armed, less often while the senders still
 *     append or write; sendq_flush.c) or a VR about to wait
 *     (rvr_net_flush; see sendq.c).  No lock is held across a syscall.
 *   - A writer holds a reference on the connection, so the fd cannot be
 *     closed (and its number reused) under it; the I/O thread only
 *     shutdown()s a failed socket and the last reference closes it.
 *   - net->lock guards the peer list, the seeds, the pending WHOIS
 *     requests and the commands to the I/O thread.  Lock order: net->lock
 *     before a peer's q_lock; never the other way round. */
#ifndef RIVER_TRANSPORT_IMPL_H
#define RIVER_TRANSPORT_IMPL_H

#include <stdatomic.h>
#include <string.h>
#include "log.h"
#include "naming.h"
#include "net.h"
#include "platform.h"
#include "schema_wire.h"
#include "transport.h"
#include "value_impl.h"
#include "vm.h"
#include "wire.h"
#include "wire_shape.h"

typedef struct conn conn;
typedef struct peer peer;

#define RVR_FRAME_MAX_EXT 8
#define RVR_FRAME_SCHEMAS 4
#define RVR_FRAME_EXT_MIN ((size_t)32 << 10)   /* values this large are not copied */
#define RVR_CONN_BATCH 64                       /* messages pushed into a mailbox at once */
/* A VR reading its own stream (kept lease) parses at most this many
 * messages before it takes them: packets its spare list covers (packet.c),
 * made and freed while warm (the receiver's instructions per message fell
 * from 731 to 692).  Other readers fill up to RIVER_MAILBOX_HIGH. */
#define RVR_OWN_HIGH 128

/* One encoded frame waiting in a send queue.  A zero-copy frame (next > 0)
 * is buf's bytes with ext[i] inserted at ext[i].at: the data of large
 * attribute values, inside the packet `hold`, freed once written. */
typedef struct frame {
    struct frame *next;
    rvr_buf buf;
    size_t off;                 /* bytes already written (of the whole frame) */
    size_t extbytes;            /* the whole frame is buf.len + extbytes */
    rvr_packet *hold;           /* zero-copy: the packet ext points into */
    size_t next_ext;            /* ext[0..next_ext) */
    rvr_wire_ext ext[RVR_FRAME_MAX_EXT];
    bool is_msg;                /* MSGs: their senders are told if they are never sent */
    /* The schemas of the typed MSGs in it: each described (SCHEMA) before
     * it on each connection.  Frames of typed MSGs coalesce like others,
     * up to RVR_FRAME_SCHEMAS schemas in one. */
    uint8_t nschemas;
    const rvr_schema *schemas[RVR_FRAME_SCHEMAS];
    /* Where the src of the last MSG that named its src and dst lies in
     * buf, for the next one to leave them out (below); 0: none. */
    size_t ids_at;
    /* Bounced (undeliverable.c): only the MSGs from this offset on; the
     * ones before it were written. */
    size_t bounce_from;
} frame;

/* True if frame f can also carry typed MSGs of schema s. */
static inline bool rvr_frame_takes(const frame *f, const rvr_schema *s)
{
    for (unsigned i = 0; i < f->nschemas; i++)
        if (f->schemas[i] == s)
            return true;
    return f->nschemas < RVR_FRAME_SCHEMAS;
}

/* Records that f carries a typed MSG of schema s (rvr_frame_takes(f, s)). */
static inline void rvr_frame_add_schema(frame *f, const rvr_schema *s)
{
    for (unsigned i = 0; i < f->nschemas; i++)
        if (f->schemas[i] == s)
            return;
    f->schemas[f->nschemas++] = s;
}

/* src and dst left out (wire.h).  A dynamic MSG appended to a queue's
 * frame leaves them out when the MSG before it in the same frame named the
 * same.  Only within a frame, so that whichever connection carries it, its
 * first MSG names them; and only after a dynamic MSG, which stays in its
 * frame: when a frame's typed MSGs are taken out of it (sendq_schema.c),
 * each elided MSG still follows one with its src and dst. */

/* True when a MSG from src to dst appended to t may leave them out. */
static inline bool rvr_frame_elides(const frame *t, const rvr_uuid *src, const rvr_uuid *dst)
{
    const rvr_uuid *ids = (const rvr_uuid *)(t->buf.data + t->ids_at);
    return t->ids_at != 0 && rvr_uuid_same(&ids[0], src) &&
           rvr_uuid_same((const rvr_uuid *)((const uint8_t *)ids + 18), dst);
}

/* The dynamic MSG just written whole at t's end, q (n bytes, header
 * included): without its src and dst if rvr_frame_elides (moved down, its
 * new size returned), else the one the next MSG may elide after. */
static inline size_t rvr_frame_elide(frame *t, uint8_t *q, size_t n)
{
    uint8_t *ids = q + RVR_WIRE_HDR_LEN + 2;
    if (rvr_frame_elides(t, (const rvr_uuid *)ids, (const rvr_uuid *)(ids + 18))) {
        n -= RVR_WIRE_IDS_LEN;
        memmove(q + RVR_WIRE_HDR_LEN, q + RVR_WIRE_HDR_LEN + RVR_WIRE_IDS_LEN,
                n - RVR_WIRE_HDR_LEN);
        rvr_wire_put_header(q, n - RVR_WIRE_HDR_LEN, RVR_FRAME_MSG);
        return n;
    }
    t->ids_at = (size_t)(ids - t->buf.data);
    return n;
}

enum conn_state { C_CONNECTING, C_PREAMBLE, C_HELLO, C_READY, C_CLOSED };

struct conn {
    int fd;
    _Atomic int refs;
    enum conn_state state;
    bool initiated;             /* we connected (else we accepted) */
    bool dup;                   /* refused as a duplicate of the peer's own connection */
    bool bye;                   /* the peer said goodbye */
    bool on_again;              /* on net->again */
    bool hup;                   /* the peer hung up or the socket failed */
    int seed;                   /* index in net->seeds, or -1 */
    uint64_t born_ns;           /* for the handshake deadline */
    peer *peer;                 /* known once the handshake names the VM */
    rvr_uuid expect;            /* initiator: the VM we meant to reach (nil: any) */
    rvr_sockaddr remote;
    char desc[RVR_ADDR_STRLEN + 64];   /* for log lines */
    uint8_t *rbuf;              /* read side: net->io_lock; */
    size_t rpos, rlen, rcap;    /* rbuf[rpos, rlen) read, not yet parsed */
    uint8_t *big;               /* a large MSG's last value, read straight into its own */
    size_t big_len, big_have;   /* buffer (rbuf holds the frame up to it: big_off bytes */
    size_t big_off;             /* of payload); NULL: none (conn.c) */
    bool after_big;             /* the last frame was large: read the next one's head alone */
    rvr_uuid last_src;          /* last src learned into naming */
    rvr_wire_ids rx;            /* the last MSG's src and dst (read side; wire.h) */
    rvr_wire_shape shape;       /* the stream's frame, to read the next ones by (read side) */
    rvr_sdesc_table schemas;    /* descriptions received (net->io_lock) */
    uint64_t *described;        /* fingerprints described to the peer on this */
    size_t ndescribed, capdescribed;   /* connection (guarded by the peer's q_lock) */
    conn *next;                 /* net->conns, then net->dead */
    conn *again_next;           /* net->again */
    struct conn_auth *auth;     /* cluster-secret handshake state (conn_auth.c); NULL: none */
    /* Local delivery (read side): the VR the last MSG went to, referenced,
     * and the messages decoded for it since, pushed as one batch when the
     * destination changes, the batch is full, or the read is done. */
    rvr_vr *dvr;
    rvr_uuid dvr_id;
    rvr_packet *batch[RVR_CONN_BATCH];
    unsigned nbatch;
    /* Flow control (mailbox_flow.c): the VR whose full mailbox this
     * connection waits for, referenced; not read meanwhile.  `reparse`:
     * frames read before the hold may wait in rbuf. */
    rvr_vr *held;
    bool held_watched;          /* held with EPOLLIN still on: its own VR reads (polling) */
    bool reparse;
};

struct peer {
    rvr_uuid id;
    bool has_addr;
    rvr_sockaddr addr;          /* where the VM accepts connections */
    char addr_text[RVR_ADDR_STRLEN];
    uint64_t max_frame;         /* the largest payload it accepts (0: unknown) */
    peer *next;                 /* net->peers */

    /* Guarded by q_lock (a spin lock: taken once per message sent). */
    rvr_spin q_lock;
    /* Senders waiting for queue room (qwaiters) sleep on room_cond until
     * room_gen changes (rvr_peer_room_signal); room_gen changes under
     * both locks. */
    rvr_mutex room_lock;
    rvr_cond room_cond;
    uint64_t room_gen;
    frame *qhead, *qtail;
    frame *wlast;               /* the last frame a writer is writing now (NULL: none) */
    size_t qbytes;
    conn *wconn;                /* the ready connection messages go on */
    conn *out;                  /* our connection being established */
    bool writing, blocked, kick;
    bool waited;                /* a sender waited for the full socket in vain (sendq.c) */
    /* rvr_peer_bounce_all while a writer writes: the writer bounces the
     * queue when its write returns (its frames are in the kernel's hands
     * until then), for this reason. */
    bool bounce_later;
    char bounce_why[160];
    bool armed;                 /* coalesced frames wait: flush soon (sendq.c) */
    uint64_t armed_ns;          /* since when (or the last deferral) */
    uint64_t batch_ns;          /* since when, first: the batch leaves by this + FLUSH_WAIT_MAX */
    uint64_t appends;           /* frames appended so far: is the sender still at it? */
    uint64_t appends_seen;      /* appends when the flush timer last looked */

    bool need_connect;          /* the I/O thread should connect */
    int dup_refusals;           /* DUPLICATE answers in a row */
    uint64_t retry_at;          /* ns: connect again then (after DUPLICATE) */
    int qwaiters;
    uint64_t last_ns;           /* end of the last write by a sender (atomic): coalescing */
};

typedef struct seed {
    char text[RVR_ADDR_STRLEN];
    rvr_sockaddr addr;
    enum { S_IDLE, S_CONNECTING, S_DONE, S_FAILED } state;
    rvr_uuid id;                /* once S_DONE */
} seed;

/* A WHOIS question waiting for answers. */
typedef struct whois_req {
    struct whois_req *next;
    rvr_uuid vr;
    uint64_t id;
    int waiting;                /* asked peers that have not answered */
    peer *asked[64];
    int nasked;
    bool found;
    rvr_uuid vm;
} whois_req;

struct rvr_net {
    rvr_vm *vm;
    rvr_net_config cfg;
    rvr_wire_limits lim;
    rvr_naming *naming;
    const _Atomic uint64_t *naming_gen;   /* rvr_naming_gen_at(naming): every send reads it */
    int ep, wakefd, lfd;
    /* The I/O thread waits on ep_io: wakefd, and ep itself while no VR
     * holds a lease (rvr_net_lease): a VR that busy-polls the sockets takes
     * them over, so the I/O thread is not woken by every message it would
     * only race that VR for. */
    int ep_io;
    rvr_mutex lease_lock;
    int leases;                 /* lease_lock */
    _Atomic bool *kept;         /* lease_lock: the kept lease's holder flag, or NULL */
    _Atomic uint64_t kept_ns;   /* when the kept lease was last in use */
    rvr_sockaddr bound;
    char addr_text[RVR_ADDR_STRLEN];
    pthread_t thread;
    _Atomic bool stopping;

    /* Receive-side polling (see the top of this file). */
    rvr_mutex io_lock;          /* the read side: conns, again, dead, timers */
    _Atomic int poll_busy;      /* threads inside epoll_wait or handling its events */
    _Atomic bool poll_token;    /* a VR is polling */
    _Atomic bool io_active;     /* the I/O thread is handling events: VRs do not poll */
    int pokefd;                 /* eventfd: wakes the polling VR */
    uint64_t next_retry, next_sweep;   /* io_lock */

    rvr_mutex lock;
    rvr_cond cond;              /* WHOIS answers, seeds settling, connects */
    peer *peers;
    seed *seeds;
    int nseeds, seeds_pending;
    bool seeds_retry;
    whois_req *reqs;
    uint64_t next_req;
    _Atomic bool cmd_connect;   /* some peer has need_connect */
    _Atomic bool flush_req;     /* some peer is armed: the I/O thread watches (rvr_net_flush) */
    uint64_t flush_at;          /* io_lock: when the I/O thread flushes next (0: nothing armed) */
    uint64_t flush_gap;         /* io_lock: its look-again interval while streams go on */
    uint64_t flush_busy_ns;     /* io_lock: when a look last found a stream (sendq_flush.c) */

    struct rvr_ctl *ctl;        /* the control plane (control.c) */
    conn *conns;                /* io_lock */
    conn *again;                /* readable connections not yet drained */
    conn *dead;                 /* closed this round; unreferenced after it */
    _Atomic unsigned nheld;     /* connections held by flow control (changed under io_lock) */
};

/* transport.c */
/* Starts connecting to p (the I/O thread: a peer needs a connection). */
void rvr_net_connect_peer(rvr_net *net, peer *p, uint64_t now);
/* Connects to the seeds due now. */
void rvr_net_connect_seeds(rvr_net *net, uint64_t now);

/* ioloop.c: the I/O thread's body. */
void *rvr_net_io_main(void *arg);

peer *rvr_peer_get(rvr_net *net, const rvr_uuid *id, bool create);
void rvr_net_wake(rvr_net *net);
/* Adds (or finds) a seed, net->lock held: its index, -1 on ENOMEM.  A new
 * seed is S_FAILED (unconnected) until rvr_seeds_restart. */
int rvr_seed_add(rvr_net *net, const char *text, const rvr_sockaddr *a);
/* Restarts the unconnected seeds (net->lock held); true if any. */
bool rvr_seeds_restart(rvr_net *net);
/* A connection came or went: wakes threads waiting for one. */
void rvr_net_peer_changed(rvr_net *net);
void rvr_net_whois_answer(rvr_net *net, conn *c, const rvr_wire_whois *w);
void rvr_net_whois_peer_lost(rvr_net *net, peer *p);
void rvr_net_answer_whois(rvr_net *net, conn *c, const rvr_wire_whois *w);
/* The connection to seed `seed` settled: connected to p, or failed (p NULL
 * or unconnected); `dup`: refused because p is connecting to us. */
void rvr_net_seed_done(rvr_net *net, int seed, bool ok, peer *p);
void rvr_net_learn_addr(rvr_net *net, peer *p, const char *text, const conn *c);

/* conn.c */
conn *rvr_conn_new(rvr_net *net, int fd, bool initiated);
void rvr_conn_ref(conn *c);
void rvr_conn_unref(conn *c);
/* conn_msg.c: a MSG frame's payload; a large MSG read in two parts (rbuf
 * up to c->big_off, then c->big), decoded without a copy. */
void rvr_conn_on_msg(rvr_net *net, conn *c, const uint8_t *payload, size_t n);
void rvr_conn_on_big_msg(rvr_net *net, conn *c);
/* Reads the run of frames at buf[0..avail) that rvr_conn_on_msg would
 * batch for the same VR by the kept shape (conn->shape), in one go;
 * returns their bytes (0: the first is not one, read it as usual). */
size_t rvr_conn_on_stream(rvr_net *net, conn *c, const uint8_t *buf, size_t avail);
/* The handshake (conn_hello.c): a HELLO frame received; the connection now
 * carries p's messages. */
void rvr_conn_on_hello(rvr_net *net, conn *c, const uint8_t *p, size_t n);
void rvr_conn_attach(rvr_net *net, conn *c, peer *p);
/* Reads again the connections whose mailbox has drained (conn_msg.c;
 * io_lock, when net->nheld > 0). */
void rvr_conn_flow_check(rvr_net *net);
/* Lets c be read again (conn_msg.c; io_lock). */
void rvr_conn_unhold(rvr_net *net, conn *c);
/* Pushes the messages decoded for the local VR c->dvr (conn_msg.c). */
void rvr_conn_deliver(rvr_net *net, conn *c);
/* Handles an epoll event on c. */
void rvr_conn_event(rvr_net *net, conn *c, uint32_t events);
/* Keeps reading a connection left readable by the previous round. */
void rvr_conn_read(rvr_net *net, conn *c);
/* Closes c and tells its peer; reason is logged at `lvl`. */
void rvr_conn_fail(rvr_net *net, conn *c, rvr_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Writes a handshake frame (b, a few dozen bytes on a fresh socket) at
 * once; false, with c failed, when it does not all go: the socket is
 * broken.  `what` names the frame in the log. */
bool rvr_conn_send_now(rvr_net *net, conn *c, const rvr_buf *b, const char *what);
/* Sends the preamble (and the initiator's HELLO) once connected. */
void rvr_conn_start(rvr_net *net, conn *c);

/* frame.c */
#define RVR_FRAME_POOL_CAP 16384   /* bytes of a pooled frame */
/* An empty frame with room for cap bytes (pooled when it fits), NULL on
 * ENOMEM; rvr_frame_free frees its held packet and recycles it. */
frame *rvr_frame_new(size_t cap);
void rvr_frame_free(frame *f);

/* rvr_net_route_valid, inline for the send path. */
static inline bool rvr_route_valid(rvr_net *net, const rvr_net_route *route, const rvr_uuid *dst)
{
    return route != NULL && route->peer != NULL && rvr_uuid_same(&route->dst, dst) &&
           route->gen == atomic_load_explicit(net->naming_gen, memory_order_acquire);
}

/* The largest MSG payload pe accepts: ours, or less if it said so (HELLO). */
static inline size_t rvr_peer_limit(const rvr_net *net, peer *pe)
{
    uint64_t theirs = __atomic_load_n(&pe->max_frame, __ATOMIC_RELAXED);
    return theirs != 0 && theirs < net->lim.max_frame ? (size_t)theirs : net->lim.max_frame;
}

/* sendq.c */
/* Writes the queues of the armed peers (coalesced frames): every one when
 * `all` (a VR about to wait for the sockets), else those armed for
 * cfg.flush_ns (the I/O thread, every round).  Returns when the earliest
 * peer left armed is due (ns), 0 when none is. */
uint64_t rvr_net_flush(rvr_net *net, bool all);
/* Encodes p as a MSG to dst and queues it to peer (taking p on RVR_OK);
 * RVR_ELIMIT when the frame's payload exceeds `limit`.  `wait`: waits for
 * queue room first (back-pressure, cfg.max_queue) like any VR's send;
 * false never blocks (the I/O thread's notices). */
rvr_status rvr_peer_send_packet(rvr_net *net, peer *pe, const rvr_uuid *dst, rvr_packet *p,
                                size_t limit, bool wait);
/* Encodes the typed packet p as a MSG to dst and queues it (taking p on
 * RVR_OK); RVR_ELIMIT when the frame's payload exceeds `limit`.  Waits for
 * queue room like any send. */
rvr_status rvr_peer_send_typed(rvr_net *net, peer *pe, const rvr_uuid *dst, rvr_packet *p,
                               size_t limit);
/* Appends f (taking it) and writes if nobody is.  Never blocks. */
void rvr_peer_enqueue(rvr_net *net, peer *p, frame *f);
/* With q_lock held, before the first `max` frames of p's queue go to c
 * (sendq_schema.c): puts SCHEMA frames before those holding typed MSGs of
 * schemas c has not carried yet.  The MSGs whose schema cannot be
 * described (RVR_SCHEMA_MAX_PER_CONN reached, no memory) move to frames
 * on *refused. */
void rvr_peer_describe_schemas(peer *p, conn *c, frame **refused, int max);
/* Writes what is queued (the I/O thread, when the socket is writable). */
void rvr_peer_writable(rvr_net *net, peer *p, conn *c);
/* Called with q_lock held by a would-be writer: becomes the writer, drains,
 * and returns with q_lock released. */
void rvr_peer_drain_locked(rvr_net *net, peer *p);
/* Tells the local sender of each queued MSG that it was not delivered and
 * empties the queue; reason goes into the notice.  While a writer writes,
 * the writer does it when its write returns. */
void rvr_peer_bounce_all(rvr_net *net, peer *p, const char *reason);
/* With q_lock held, after the queue shrank: wakes senders waiting for room. */
void rvr_peer_room_signal(peer *p);
/* With q_lock held: empties the queue, returning its frames. */
frame *rvr_peer_take_all_locked(peer *p);
/* Bounces (as above) and frees a list of frames taken from p's queue. */
void rvr_bounce_frames(rvr_net *net, peer *p, frame *f, const char *reason);
/* A queued MSG frame f (is_msg) that will not be written: a notice to the
 * (local) sender of each MSG in it from f->bounce_from on (a coalesced
 * frame holds several back to back). */
void rvr_bounce_frame(rvr_net *net, const frame *f, const rvr_uuid *vm, const char *reason);
/* A notice for a message from `src` (remote or local) to the missing `dst`. */
rvr_packet *rvr_undeliverable_new(const rvr_uuid *dst, const char *tag, size_t tag_len,
                                  const rvr_uuid *vm, const char *reason);
/* Pushes p into a local VR's mailbox, taking it on RVR_OK; RVR_ENOTFOUND
 * when no such VR runs here, the mailbox's close status when it is ending. */
rvr_status rvr_deliver_local(rvr_net *net, const rvr_uuid *dst, rvr_packet *p);
/* With q_lock held, the connection gone: moves a partly written head frame
 * onto *bounced (unless a writer is active: it does that itself). */
void rvr_peer_drop_partial(peer *p, frame **bounced);

#endif
