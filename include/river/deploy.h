/* river/deploy.h — reserving VMs and deploying VRs onto them.
 *
 * Allocation.  A VR reserves VMs so that two programs do not take the
 * same ones: rvr_allocate asks each VM in turn ("allocate" control
 * operation); a VM grants itself to one owner at a time (the check and
 * the grant are one step on the VM, so of two programs asking at the same
 * moment exactly one wins), records the owner (VR UUID and VM UUID) and
 * advertises status "allocated" in discovery.  It becomes "available"
 * again on rvr_release, when the owner VR's function returns (its VM
 * releases what the VR still holds), or when the owner's VM is lost (no
 * connection to it for RIVER_ALLOC_GRACE_MS, default 5000 ms).
 *
 * Deployment.  rvr_spawn(self, &vm, type, args, &id) with a remote VM, the
 * generated <pkg>_<Vr>_deploy and rvr_deploy_by_name start VRs on that VM;
 * the caller is their parent (rvr_parent in the new VR names it, and sends
 * to it cross VMs).  The target VM runs them as threads when it has the
 * VR type (the same program running there).  A bare riverd does not: the
 * deployer then sends its own executable (named by its SHA-256, verified
 * and cached by the target, see docs/deploy.md), and riverd runs it as a
 * child VM process that hosts the VRs; later deploys of the same program
 * to that riverd reuse the running child.  Code is sent only when both
 * VMs have the cluster secret (every connection authenticated); the
 * target's arch must be the deployer's (checked before any code is sent).
 * Deploying onto the local VM (NULL or this VM's UUID) starts threads of
 * this process: the embedded default.
 *
 * Errors are rvr_status codes; the reason is logged (RVR_LOG_ERROR):
 *   RVR_ENOTFOUND  the VM cannot be reached, or has no such VR type and
 *                  code cannot be sent to it (no secret, not a riverd)
 *   RVR_EINVAL     bad arguments, or the target refuses (arch mismatch,
 *                  code over an unauthenticated connection)
 *   RVR_EEXIST     (rvr_allocate_one) the VM is allocated to another owner
 *   RVR_ETYPE      an argument of the wrong type (rvr_deploy_by_name)
 *
 * Thread-safety: the calls may be made from any VR's own thread. */
#ifndef RIVER_DEPLOY_H
#define RIVER_DEPLOY_H

#include <stddef.h>
#include <river/discover.h>
#include <river/packet.h>
#include <river/vr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reserves up to `want` of the n VMs (in order, skipping those allocated
 * to someone else or unreachable) for the calling VR.  Their UUIDs go to
 * got[0 .. *ngot-1] (got has room for `want`).  RVR_OK even when fewer
 * than `want` were free (check *ngot). */
rvr_status rvr_allocate(rvr_vr *self, const rvr_vm_info *vms, size_t n, size_t want,
                        rvr_uuid *got, size_t *ngot);

/* Reserves the one VM at `addr` ("host:port", or a VM UUID as text; NULL:
 * this VM) and stores its UUID in *vm.  RVR_EEXIST when another owner
 * holds it. */
rvr_status rvr_allocate_one(rvr_vr *self, const char *addr, rvr_uuid *vm);

/* Gives back a VM this VR allocated.  RVR_ENOTFOUND when it does not hold
 * it. */
rvr_status rvr_release(rvr_vr *self, const rvr_uuid *vm);

/* Starts a VR of the type named `type` ("pkg.Vr") on VM `vm` (NULL: this
 * VM), its arguments taken from the attributes of `args` (NULL: the
 * defaults) by name, converted to the declared types (int/uint within
 * range, double for float/double, string, bool); the packet is only read.
 * The new VR's UUID goes to *out_id when not NULL. */
rvr_status rvr_deploy_by_name(rvr_vr *self, const rvr_uuid *vm, const char *type,
                              const rvr_packet *args, rvr_uuid *out_id);

#ifdef __cplusplus
}
#endif
#endif
