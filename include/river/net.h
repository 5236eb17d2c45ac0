/* river/net.h — a VM on the network.
 *
 * Every VM listens on a TCP port (rvr_main's --port, default ephemeral;
 * --bind picks the interface) and talks to other VMs over one connection
 * per pair, opened by the first rvr_send to one of their VRs.  rvr_send and
 * rvr_recv work the same for remote VRs as for local ones; what differs:
 *
 *   - rvr_send to a VR this VM has never heard of asks the connected VMs
 *     where it lives (waiting up to RIVER_RESOLVE_MS, default 2000 ms) and
 *     returns RVR_ENOTFOUND when none knows.
 *   - A remote send is asynchronous: RVR_OK means the message is queued.
 *     When it later turns out that it cannot be delivered (the VR does not
 *     exist on that VM, or the VM cannot be reached), the sender receives
 *     a packet tagged RVR_UNDELIVERABLE (never a silent drop) whose src is
 *     the VR it wrote to, carrying: tag (string, the original tag),
 *     dst (uuid), vm (uuid, the VM that was to deliver it) and
 *     reason (string).  A message already written to a connection that
 *     then breaks may be lost without notice; see docs/protocol.md.
 *   - FIFO per sender->receiver pair holds across VMs.
 *
 * All functions may be called from a VR's own thread. */
#ifndef RIVER_NET_H
#define RIVER_NET_H

#include <stddef.h>
#include <river/vr.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RVR_UNDELIVERABLE "river.undeliverable"

/* Longest "host:port" text, NUL included. */
#define RVR_ADDR_MAX 300

/* Writes the address this VM listens on ("host:port"; host 0.0.0.0 when it
 * listens on every interface) into buf.  RVR_ELIMIT if len is too small,
 * RVR_ENOTFOUND when the VM has no network (see rvr_main). */
rvr_status rvr_vm_address(rvr_vr *self, char *buf, size_t len);

/* A VM this VM is connected to. */
typedef struct rvr_peer_info {
    rvr_uuid id;
    char addr[RVR_ADDR_MAX];   /* where it accepts connections; "" if unknown */
} rvr_peer_info;

/* The VMs with an open connection to this one.  *out is malloc'ed; the
 * caller frees it with free(). */
rvr_status rvr_vm_peers(rvr_vr *self, rvr_peer_info **out, size_t *n);

/* Connects to the VM listening at addr ("host:port") unless already
 * connected, waiting up to timeout_ms (RVR_FOREVER: no limit), and stores
 * its UUID in *vm.  RVR_ENOTFOUND when it cannot be reached,
 * RVR_ETIMEDOUT. */
rvr_status rvr_vm_connect(rvr_vr *self, const char *addr, int timeout_ms, rvr_uuid *vm);

/* Which VM hosts the VR `vr`: this one, or one found in the naming cache or
 * by asking the connected VMs (waiting up to timeout_ms).  RVR_ENOTFOUND. */
rvr_status rvr_locate(rvr_vr *self, const rvr_uuid *vr, int timeout_ms, rvr_uuid *vm);

#ifdef __cplusplus
}
#endif
#endif
