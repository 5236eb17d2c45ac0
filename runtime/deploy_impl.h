/* deploy_impl.h — the inside of allocation and deployment (river/deploy.h,
 * docs/deploy.md), shared by
 *   deploy_ops.c  the VM's side: control operations allocate, release,
 *                 allocation, spawn; the watch that releases a VM whose
 *                 owner VM is lost; the per-VM state
 *   deploy.c      the deployer's side: rvr_allocate/rvr_release, remote
 *                 rvr_spawn, rvr_deploy_by_name, code push
 *   hosting.c     riverd's side of code push: operations host and code,
 *                 child VM processes; and the child's "host mode"
 *
 * Ownership: the VM owns its rvr_deploy (vm->deploy), created with the VM
 * (rvr_deploy_init), stopped by rvr_vm_stop before the transport goes
 * (rvr_deploy_stop: child VMs told to stop and reaped, the watch joined)
 * and freed with the VM (rvr_deploy_free). */
#ifndef RIVER_DEPLOY_IMPL_H
#define RIVER_DEPLOY_IMPL_H

#include <stdbool.h>
#include <sys/types.h>

#include <river/deploy.h>
#include "net.h"
#include "platform.h"
#include "sha256.h"
#include "vm.h"

#define RVR_DEPLOY_CALL_MS 30000     /* safety cap of one deploy request */
#define RVR_DEPLOY_CODE_MS 120000    /* ... of one code transfer + child start */

typedef struct rvr_held_vm {         /* a VM a local VR allocated */
    rvr_uuid vr, vm;
} rvr_held_vm;

typedef struct rvr_child_vm {        /* riverd: a child VM hosting a pushed program */
    struct rvr_child_vm *next;
    char hash[2 * RVR_SHA256_LEN + 1];
    pid_t pid;
    int fd;                          /* our end of its socketpair: closing it stops it */
    rvr_uuid vm;
    char addr[RVR_ADDR_STRLEN];
} rvr_child_vm;

typedef struct rvr_remote_host {     /* deployer: riverd `target` hosts our program as `child` */
    rvr_uuid target, child;
} rvr_remote_host;

struct rvr_deploy {
    rvr_vm *vm;
    rvr_mutex lock;                  /* everything below but what push_lock guards */
    rvr_cond cond;
    /* this VM's allocation */
    bool allocated;
    rvr_uuid owner_vr, owner_vm;
    uint64_t lost_since_ns;          /* owner VM not connected since; 0: connected */
    bool watch_up, stopping;
    pthread_t watch;
    /* VMs allocated by this VM's VRs */
    rvr_held_vm *held;
    size_t nheld, capheld;
    /* riverd: child VMs */
    rvr_child_vm *children;
    /* deployer: guarded by push_lock (one code push at a time) */
    rvr_mutex push_lock;
    rvr_remote_host *hosts;
    size_t nhosts, caphosts;
    bool have_self;
    uint8_t self_hash[RVR_SHA256_LEN];
    uint64_t self_size;
    char self_path[4096];
};

/* deploy_ops.c */
rvr_status rvr_deploy_init(rvr_vm *vm);
void rvr_deploy_stop(rvr_vm *vm);
void rvr_deploy_free(rvr_vm *vm);
/* This VM's arch for deployment: RIVER_ARCH (tests simulate a mismatch
 * with it), else rvr_arch(). */
const char *rvr_deploy_arch(void);

/* deploy.c */
/* rvr_spawn on another VM. */
rvr_status rvr_deploy_remote(rvr_vr *self, const rvr_uuid *vm, const rvr_vr_type *type,
                             const void *args, rvr_uuid *out_id);
/* The VR's function returned: releases the VMs it still holds. */
void rvr_deploy_vr_ended(rvr_vr *vr);

/* hosting.c */
/* riverd calls this before rvr_main: it hosts pushed programs. */
void rvr_deploy_enable_hosting(void);
bool rvr_deploy_hosting_enabled(void);
void rvr_hosting_register_ops(void);
/* Stops and reaps the child VMs (vm->deploy->lock not held). */
void rvr_hosting_stop(struct rvr_deploy *d);
/* rvr_main: argv holds --river-host-fd=N (removed here): this process is a
 * child VM of riverd.  Sets *fd (-1: not host mode) and reads the secret
 * riverd writes first into *secret (malloc'ed; NULL when none). */
rvr_status rvr_host_mode_args(int *argc, char **argv, int *fd, struct rvr_secret **secret);
/* The host VR's body: reports "ready" to riverd on fd, then serves until
 * riverd closes its end or the VM stops. */
int rvr_host_mode_run(rvr_vr *self, int fd);

#endif
