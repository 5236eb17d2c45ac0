/* naming.h — where a VR lives: VR UUID -> VM UUID.
 *
 * Each VM keeps this cache of remote VRs.  It learns an entry
 *   - from every message received over TCP (the src VR lives on the VM at
 *     the other end of that connection),
 *   - from answers to WHOIS questions (transport.c asks every connected VM
 *     when a send names a VR nobody here knows),
 *   - from spawns and deploys on remote VMs (issue 5; rvr_naming_learn).
 * It forgets the VRs of a VM that is gone (rvr_naming_forget_vm) and a VR
 * reported undeliverable (rvr_naming_forget).  Local VRs are never stored
 * here: the VM's registry answers for them first.
 *
 * The table holds at most RVR_NAMING_MAX entries; when full it is emptied
 * (every entry can be learned again), so memory stays bounded.
 * All functions are thread-safe. */
#ifndef RIVER_NAMING_H
#define RIVER_NAMING_H

#include <stdbool.h>
#include <stdint.h>
#include <river/uuid.h>

#define RVR_NAMING_MAX (1u << 20)

typedef struct rvr_naming rvr_naming;

rvr_status rvr_naming_new(rvr_naming **out);
void rvr_naming_free(rvr_naming *n);

void rvr_naming_learn(rvr_naming *n, const rvr_uuid *vr, const rvr_uuid *vm);
/* True (and *vm set) when vr's VM is known. */
bool rvr_naming_lookup(rvr_naming *n, const rvr_uuid *vr, rvr_uuid *vm);
void rvr_naming_forget(rvr_naming *n, const rvr_uuid *vr);
void rvr_naming_forget_vm(rvr_naming *n, const rvr_uuid *vm);
size_t rvr_naming_count(rvr_naming *n);
/* Changes whenever an entry is forgotten or points elsewhere: a cached
 * answer from before is stale (rvr_net_send's route). */
uint64_t rvr_naming_gen(rvr_naming *n);
/* Where that generation is kept, to be read without a call (acquire). */
const _Atomic uint64_t *rvr_naming_gen_at(rvr_naming *n);

#endif
