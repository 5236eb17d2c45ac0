/* control.h — the control plane: small request/response calls between VMs
 * (docs/protocol.md, "Control requests").
 *
 * A request is a dynamic packet tagged "river.ctl" whose attribute `op`
 * (string) names the operation and `req` (uint) numbers the call; it goes
 * over the ordinary connection between the two VMs, from the calling VM's
 * UUID to the called VM's UUID (a VM's UUID is the address of its control
 * plane).  The answer is a packet tagged "river.ctl.reply" with the same
 * `req`, `status` (int, an rvr_status: 0 success) and, on failure, `error`
 * (string), plus whatever the operation returns.
 *
 * Operations are registered by name, process-wide, with rvr_ctl_register;
 * a VM runs the handlers of the requests it receives on one control thread
 * of its own (started with the first request), one at a time, in arrival
 * order, so a handler may block briefly but should not wait for long.  At
 * most RVR_CTL_MAX_QUEUED requests wait; more are answered RVR_ELIMIT.
 * Built in (control.c):
 *   ping  -> vm uuid; addr string (also a barrier: it is answered after every
 *            message the caller sent before it on that connection)
 *   ps    -> vrs: list of maps {id uuid, type string, parent uuid,
 *                                pending uint}; vm uuid; addr string
 *   kill  vr uuid -> closes that VR's mailbox, so its receives return
 *                    RVR_ECLOSED (the VR should then return); RVR_ENOTFOUND
 *                    when no such VR runs on the VM
 * deploy_ops.c and hosting.c add allocate, release, allocation, spawn,
 * host and code the same way (docs/deploy.md).
 *
 * Thread-safety: every function may be called from any thread. */
#ifndef RIVER_CONTROL_H
#define RIVER_CONTROL_H

#include <river/packet.h>
#include <river/status.h>
#include <river/uuid.h>

struct rvr_vm;
struct rvr_net;

#define RVR_CTL_TAG "river.ctl"
#define RVR_CTL_REPLY_TAG "river.ctl.reply"
#define RVR_CTL_MAX_OPS 64
#define RVR_CTL_MAX_QUEUED 256

/* Handles one request: reads `req`'s attributes and adds its results to
 * `reply` (which already holds req and will get status/error).  Runs on the
 * called VM's control thread; `from_vm` is the calling VM. */
typedef rvr_status (*rvr_ctl_handler)(struct rvr_vm *vm, const rvr_uuid *from_vm,
                                      const rvr_packet *req, rvr_packet *reply, void *ctx);

/* Registers op (1..64 bytes).  RVR_EEXIST when op has another handler,
 * RVR_ELIMIT past RVR_CTL_MAX_OPS. */
rvr_status rvr_ctl_register(const char *op, rvr_ctl_handler fn, void *ctx);

/* A new request packet for op (tag RVR_CTL_TAG, attribute op); add the
 * arguments, then pass it to rvr_ctl_call.  NULL on ENOMEM. */
rvr_packet *rvr_ctl_request_new(const char *op);

/* Calls the VM `to` ("host:port", or a VM UUID this VM is connected to or
 * knows the address of; NULL or the VM's own UUID: itself) and waits up to
 * timeout_ms for the answer.  Takes `req` on every outcome.  Returns the
 * reply's status; *reply gets the reply packet whenever one arrived (also
 * with a non-zero status: its `error` says why; the caller frees it) and
 * NULL otherwise.  RVR_ETIMEDOUT without an answer, RVR_ENOTFOUND when
 * `to` cannot be reached, RVR_ECLOSED when this VM stops. */
rvr_status rvr_ctl_call(struct rvr_vm *vm, const char *to, rvr_packet *req, int timeout_ms,
                        rvr_packet **reply);

/* ---- for the transport ---- */
typedef struct rvr_ctl rvr_ctl;
rvr_status rvr_ctl_new(struct rvr_net *net, rvr_ctl **out);
/* Wakes the callers (RVR_ECLOSED) and stops the control thread. */
void rvr_ctl_stop(rvr_ctl *c);
void rvr_ctl_free(rvr_ctl *c);
/* A control packet (request or reply) arrived from from_vm; takes p. */
void rvr_ctl_incoming(struct rvr_net *net, const rvr_uuid *from_vm, rvr_packet *p);

#endif
