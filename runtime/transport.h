/* transport.h — the TCP transport between VMs (docs/protocol.md).
 *
 * One I/O thread per VM (epoll) accepts connections and reads every one of
 * them; one TCP connection per pair of VMs carries messages both ways,
 * opened lazily by the first send and re-opened after a failure.  When two
 * VMs connect to each other at the same time, the connection initiated by
 * the VM with the smaller UUID survives.
 *
 * A send to a remote VR encodes the packet into a frame on the sender's
 * thread and appends it to the peer's queue; the queue is written with
 * writev by whichever thread finds it idle (see transport_impl.h), so a
 * send never waits for the network except when the queue is over
 * cfg.max_queue bytes (back-pressure).  A send that closely follows the
 * previous one is batched with those after it (sendq.c); the data of large
 * string and bytes attributes goes to writev from the packet itself, and a
 * receiver reads a large trailing value straight into the buffer its packet
 * then keeps (no copies in user space).
 *
 * A typed packet (rvr_send_typed) goes as its schema's protobuf body; the
 * writer puts a SCHEMA frame before the first one of each type on each
 * connection (schema_wire.h).  A MSG to this VM's own UUID is a control
 * request or reply (control.h).
 *
 * Undeliverable messages are never dropped silently: the sender gets a
 * packet tagged "river.undeliverable" whose src is the VR it wrote to, with
 * attributes tag (string, the original tag), dst (uuid), vm (uuid, the VM
 * that was to deliver it) and reason (string). */
#ifndef RIVER_TRANSPORT_H
#define RIVER_TRANSPORT_H

#include <river/vr.h>
#include "net.h"
#include "wire.h"

typedef struct rvr_net rvr_net;
struct rvr_vm;

#define RVR_UNDELIVERABLE_TAG "river.undeliverable"

/* RIVER_BATCH_BYTES when unset (or a config's batch_bytes of 0). */
#define RVR_BATCH_DEFAULT ((size_t)256 << 10)

typedef struct rvr_net_config {
    const char *bind;            /* host to listen on; NULL: all interfaces */
    uint16_t port;               /* 0: ephemeral */
    const char *const *peers;    /* "host:port" of VMs to know from the start */
    size_t npeers;
    rvr_wire_limits limits;      /* what this VM accepts */
    size_t max_queue;            /* bytes queued per peer before senders wait */
    int resolve_ms;              /* how long a send waits for WHOIS answers */
    size_t max_conns;            /* connections at once; more are refused */
    uint64_t coalesce_ns;        /* a send this soon after the previous one is batched; 0: never */
    size_t batch_bytes;          /* a batch is written once this large */
    uint64_t flush_ns;           /* a smaller batch is written this long after it began */
    size_t mailbox_high;         /* a connection is not read while a mailbox it feeds holds
                                    this many packets and its VR takes them; 0: never */
    size_t mailbox_high_bytes;   /* ... or this many bytes (as received); 0: never */
    uint64_t flow_stall_ns;      /* ... unless that VR took nothing for this long */
} rvr_net_config;

/* Defaults: all interfaces, ephemeral port, no peers, rvr_wire_limits_default,
 * 8 MiB queues, 2000 ms resolution, 1024 connections; then the environment: RIVER_BIND,
 * RIVER_PORT, RIVER_MAX_FRAME, RIVER_MAX_ATTRS, RIVER_MAX_DEPTH,
 * RIVER_MAX_QUEUE, RIVER_RESOLVE_MS, RIVER_MAX_CONNS, RIVER_COALESCE_US (default 5;
 * 0 turns write coalescing off), RIVER_BATCH_BYTES (default 256 KiB, at most half the queue),
 * RIVER_FLUSH_US (default 100), RIVER_MAILBOX_HIGH (default 1024; 0: no
 * receive-side flow control), RIVER_MAILBOX_HIGH_BYTES (default 4 MiB; 0:
 * none either), RIVER_FLOW_STALL_MS (default 20)
 * (RIVER_PEERS is read by rvr_main). */
void rvr_net_config_default(rvr_net_config *cfg);

/* Listens and starts the I/O thread.  The config's strings are copied. */
rvr_status rvr_net_start(struct rvr_vm *vm, const rvr_net_config *cfg, rvr_net **out);
/* Tells every connected VM goodbye, writes what is queued (for at most
 * about a second), closes everything and frees the transport. */
void rvr_net_stop(rvr_net *net);

/* The longest frame head a route keeps: tags of up to 32 bytes (and the
 * attributes' field key and length, at most two bytes). */
#define RVR_ROUTE_HEAD (5 + 36 + 2 + 32 + 3)

/* Where a VR's last remote send went: a repeated send to the same VR skips
 * the registry, the naming cache and the peer list (each behind a lock
 * every sender shares).  Valid while the naming cache's generation is. */
typedef struct rvr_net_route {
    rvr_uuid dst;
    void *peer;                  /* NULL: none yet */
    uint64_t gen;
    /* The head of the last small frame sent along it, up to its
     * attributes (length, src, dst, tag): a stream's next frame of the
     * same tag and attributes' length has the same, copied instead of
     * written field by field (rvr_net_send_small).  head_len 0: none. */
    uint8_t head_len, head_tag_len;
    uint16_t head_raw_len;
    uint8_t head[RVR_ROUTE_HEAD];
} rvr_net_route;

/* Sends p (src already set) to the remote VR dst, taking p on RVR_OK.
 * RVR_ENOTFOUND when no known VM hosts dst (after asking the connected
 * VMs), RVR_ELIMIT when the frame is larger than the receiver accepts,
 * RVR_ECLOSED when stopping.  `route` (NULL: none) is the sender's cache,
 * used and updated; `valid`: the caller just saw rvr_net_route_valid. */
rvr_status rvr_net_send(rvr_net *net, const rvr_uuid *dst, rvr_packet *p, rvr_net_route *route,
                        bool valid);
/* rvr_net_send's common case in one step: p, from the VR src, in wire
 * form (rvr_packet_new's, flat and small) along a valid route, its frame
 * written straight into the tail of a queue that has room.  True: sent,
 * p taken.  False: nothing done (p->src unchanged); use rvr_net_send. */
bool rvr_net_send_small(rvr_net *net, const rvr_uuid *src, const rvr_uuid *dst, rvr_packet *p,
                        rvr_net_route *route);
/* True when route still names dst's VM: dst is remote, not local. */
bool rvr_net_route_valid(rvr_net *net, const rvr_net_route *route, const rvr_uuid *dst);

/* Receive-side polling: a VR waiting in rvr_recv waits for the sockets
 * itself instead of waiting for the I/O thread to hand it a message (one
 * thread wake-up per message instead of two).  Waits up to timeout_ms in
 * epoll_wait and handles what arrives (delivering to any VR); false at
 * once when another VR is polling.  rvr_net_poke wakes the polling VR. */
bool rvr_net_poll(rvr_net *net, int timeout_ms, const _Atomic uint64_t *news, uint64_t seen);
void rvr_net_poke(rvr_net *net);
/* A VR about to busy-poll (on) or done (off): while any VR holds a lease,
 * the I/O thread leaves the sockets to the polling VRs (its own timers and
 * wake-ups still run).  A lease must not outlive the wait it was taken
 * for: the sockets would go unwatched. */
void rvr_net_lease(rvr_net *net, bool on);
/* A VR that read a stream itself keeps its lease past the wait, so that
 * it goes on reading what comes next on its own core instead of the I/O
 * thread handing it over: rvr_net_lease_keep turns the caller's lease
 * into the kept one (*kept set; one VR at most, else the lease is given
 * back), rvr_net_lease_drop gives it back if *kept is still set.  Every
 * rvr_net_poll says the sockets are in use; the I/O thread takes back a
 * kept lease when none came for RVR_LEASE_IDLE_NS (the VR went off to do
 * something else), clearing *kept. */
#define RVR_LEASE_IDLE_NS 2000000u
void rvr_net_lease_keep(rvr_net *net, _Atomic bool *kept);
void rvr_net_lease_drop(rvr_net *net, _Atomic bool *kept);

/* The address this VM listens on ("host:port"; the host may be 0.0.0.0). */
const char *rvr_net_address(const rvr_net *net);

/* Which VM hosts the remote VR `vr` (asking connected VMs if needed). */
rvr_status rvr_net_locate(rvr_net *net, const rvr_uuid *vr, int timeout_ms, rvr_uuid *vm);

/* Connects to the VM at `addr` (if not connected) and returns its UUID. */
rvr_status rvr_net_connect(rvr_net *net, const char *addr, int timeout_ms, rvr_uuid *vm);

/* The VMs with an established connection: ids and addresses.  *out is
 * malloc'ed (free()). */
typedef struct rvr_net_peer_info {
    rvr_uuid id;
    char addr[RVR_ADDR_STRLEN];
} rvr_net_peer_info;
rvr_status rvr_net_peers(rvr_net *net, rvr_net_peer_info **out, size_t *n);

/* Records that `vr` lives on the VM `vm` (spawns and deploys on remote VMs). */
void rvr_net_learn(rvr_net *net, const rvr_uuid *vr, const rvr_uuid *vm, const char *vm_addr);

#endif
