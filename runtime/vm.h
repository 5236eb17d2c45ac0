/* vm.h — a VM (the runtime inside one process) and its VRs. */
#ifndef RIVER_VM_H
#define RIVER_VM_H

#include <stdatomic.h>
#include <river/vr.h>
#include "mailbox.h"
#include "platform.h"
#include "transport.h"

typedef struct rvr_vm rvr_vm;

struct rvr_vr {
    rvr_uuid id, parent;
    rvr_vm *vm;
    const rvr_vr_type *type;
    void *args;                 /* private copy, freed with the VR */
    _Atomic int refs;           /* the thread's own, plus each sender's */
    rvr_mailbox mb;
    struct rvr_vr *hnext;       /* registry chain */
    /* The last local VRs this VR sent to, each holding a reference: a
     * repeated send skips the registry (its lock is shared by every sender). */
    struct rvr_vr *dst_cache[2];
    unsigned dst_next;
    rvr_net_route route;        /* the last remote destination (transport.h) */
};

struct rvr_vm {
    rvr_uuid id;
    pthread_rwlock_t reg_lock;  /* guards the registry */
    rvr_vr **slots;
    size_t nslots, count;
    rvr_mutex life_lock;        /* guards live; signalled on every VR end */
    rvr_cond life_cond;
    size_t live;                /* spawned VR threads not yet finished */
    pthread_t *ended;           /* finished VR threads not yet joined */
    size_t nended, ended_cap;
    _Atomic bool stopping;
    size_t max_vrs;             /* spawned VRs running at once; 0: no limit (--max-vrs) */
    rvr_map *labels;            /* --label k=v (string values); NULL: none.  Owned by the VM */
    struct rvr_net *net;        /* TCP transport (transport.c); NULL until started */
    struct rvr_disc *disc;      /* UDP discovery (discovery.c); NULL until started */
    struct rvr_secret *secret;  /* cluster secret (auth.h); NULL: none.  Owned by the VM,
                                   set before the network starts, read-only after */
    struct rvr_deploy *deploy;  /* allocation and hosting state (deploy_impl.h); NULL
                                   until first used.  Owned by the VM */
};

rvr_status rvr_vm_create(rvr_vm **out);
/* Stops the VM: closes every mailbox and waits up to wait_ms for the VR
 * threads to return.  Frees the VM unless some are still running. */
void rvr_vm_stop(rvr_vm *vm, int wait_ms);

/* Creates a VR (not yet running) and registers it. */
rvr_status rvr_vm_add_vr(rvr_vm *vm, const rvr_vr_type *t, const void *args,
                         const rvr_uuid *parent, rvr_vr **out);
/* Starts a VR thread of `type` with a copy of args (NULL: defaults) and
 * the given parent (NULL: none).  What rvr_spawn does for the local VM and
 * the control operation "spawn" for a deployer on another VM. */
rvr_status rvr_vm_spawn(rvr_vm *vm, const rvr_vr_type *type, const void *args,
                        const rvr_uuid *parent, rvr_uuid *out_id);
/* Unregisters the VR and closes its mailbox (senders get RVR_ENOTFOUND). */
void rvr_vm_remove_vr(rvr_vm *vm, rvr_vr *vr);
/* Looks up a VR and takes a reference on it, or NULL. */
rvr_vr *rvr_vm_ref_vr(rvr_vm *vm, const rvr_uuid *id);
/* Another reference on a VR the caller holds one on. */
void rvr_vr_ref(rvr_vr *vr);
void rvr_vr_unref(rvr_vr *vr);
/* Drops the send cache's references; called when the VR's function returned. */
void rvr_vr_drop_dst_cache(rvr_vr *vr);

#endif
