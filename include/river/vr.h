/* river/vr.h — VMs, VRs, sending and selective receiving.
 *
 * Lifecycle.  rvr_main() starts a VM inside the calling process, parses the
 * initial VR's arguments from argv, and runs the initial VR on the calling
 * thread (it gets the main stack); every other VR gets a thread of its own.  Every VR may spawn more VRs (rvr_spawn).  When the initial VR's
 * function returns, the VM stops: every mailbox is closed, so a VR blocked
 * in rvr_recv gets RVR_ECLOSED, as does every later rvr_send or rvr_spawn
 * and every later rvr_recv that finds no queued match; the VR should
 * return.  rvr_main waits for the VRs to return (at most
 * RIVER_SHUTDOWN_MS milliseconds, default 5000, after which it logs the VRs
 * still running and gives up on them) and returns the initial VR's status,
 * which main() passes to the OS.  Messages still queued when a VR ends are
 * freed with it.
 *
 * Threads.  Each VR runs on its own thread and is the only one that may use
 * its rvr_vr handle for receiving; rvr_send, rvr_spawn and the getters may
 * be called by a VR's own thread only.
 *
 * Ordering.  Messages from one sender to one receiver are received in the
 * order they were sent (FIFO per sender) when the receiver asks for them
 * with the same match; a selective receive returns the oldest queued
 * message that matches, leaving the others queued in order. */
#ifndef RIVER_VR_H
#define RIVER_VR_H

#include <stddef.h>
#include <stdint.h>
#include <river/match.h>
#include <river/packet.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvr_vr rvr_vr;

/* Timeouts, in milliseconds: 0 polls, RVR_FOREVER blocks until a match
 * arrives or the VM stops. */
#define RVR_FOREVER (-1)

/* ---- VR types: what riverc generates and what examples write by hand ---- */

typedef enum rvr_arg_kind {
    RVR_ARG_BOOL, RVR_ARG_INT32, RVR_ARG_INT64, RVR_ARG_UINT32, RVR_ARG_UINT64,
    RVR_ARG_FLOAT, RVR_ARG_DOUBLE, RVR_ARG_STRING /* char *, copied on spawn */
} rvr_arg_kind;

/* One typed parameter of a VR: a member of its args struct. */
typedef struct rvr_arg_desc {
    const char *name;      /* also the command-line option --name=VALUE */
    rvr_arg_kind kind;
    size_t offset;         /* offsetof(args struct, member) */
    const char *defval;    /* default as text, shown by --help; NULL: none */
    const char *help;      /* one line, may be NULL */
} rvr_arg_desc;

typedef struct rvr_vr_type rvr_vr_type;
/* The VR's body.  `args` points to the VR's private copy of its arguments
 * (NULL when the type has none); it stays valid until the function returns. */
typedef int (*rvr_vr_fn)(rvr_vr *self, const void *args);

struct rvr_vr_type {
    const char *name;            /* "pkg.Vr" */
    rvr_vr_fn main;
    size_t args_size;            /* sizeof the args struct; 0 when none */
    const void *defaults;        /* an args struct holding the defaults, or NULL */
    const rvr_arg_desc *args;    /* nargs descriptors */
    size_t nargs;
};

/* Declares a VR type with no arguments:
 *   static int worker(rvr_vr *self, const void *args);
 *   RVR_VR_TYPE_NOARGS(worker_type, "hello.Worker", worker); */
#define RVR_VR_TYPE_NOARGS(var, name_, fn) \
    const rvr_vr_type var = { (name_), (fn), 0, NULL, NULL, 0 }
/* Declares a VR type whose arguments are the struct `argstype`, with the
 * defaults in `defaults_` and an array `descs` of rvr_arg_desc. */
#define RVR_VR_TYPE(var, name_, fn, argstype, defaults_, descs) \
    const rvr_vr_type var = { (name_), (fn), sizeof(argstype), &(defaults_), (descs), \
                              sizeof(descs) / sizeof((descs)[0]) }

/* ---- the process entry point ---- */

/* Starts a VM, parses argv into the initial VR's arguments (--name=value or
 * --name value; --help prints them with their defaults and returns 0; an
 * unknown or malformed option prints an error and returns 2), runs the VR
 * and returns its status once the VM has stopped (see the lifecycle above).
 * Also understood: --log-level=error|warn|info|debug (or RIVER_LOG). */
int rvr_main(int argc, char **argv, const rvr_vr_type *type);

/* ---- identity ---- */
const rvr_uuid *rvr_self(const rvr_vr *self);
const rvr_uuid *rvr_parent(const rvr_vr *self);  /* nil for the initial VR */
const rvr_uuid *rvr_vm_id(const rvr_vr *self);
const rvr_vr_type *rvr_vr_type_of(const rvr_vr *self);
/* True once the VM is stopping; long computations should poll it. */
bool rvr_stopping(const rvr_vr *self);

/* The UUIDs of the VRs running on this VM.  *out is malloc'ed; the caller
 * frees it with free(). */
rvr_status rvr_list_vrs(rvr_vr *self, rvr_uuid **out, size_t *n);

/* ---- spawning ---- */

/* Starts a VR of `type` on the VM `vm` (NULL or this VM's id: the local VM,
 * a thread; another VM: deployed there, see river/deploy.h — the arguments
 * travel by name, and a riverd without the type gets this program) with a
 * copy of `args` (NULL: the type's defaults).  The caller becomes its
 * parent.  Its UUID is stored in *out_id when out_id is not NULL.
 * RVR_ENOTFOUND for an unknown or unreachable VM or one that cannot get
 * the type, RVR_EINVAL for an arch mismatch, RVR_ECLOSED when stopping,
 * RVR_ESYS when no thread can be created. */
rvr_status rvr_spawn(rvr_vr *self, const rvr_uuid *vm, const rvr_vr_type *type,
                     const void *args, rvr_uuid *out_id);

/* ---- messaging ---- */

/* Sends p to the VR `dst`.  On RVR_OK the runtime owns p (the caller must
 * not touch it again) and has set its src to the caller.  On error the
 * caller still owns p: RVR_ENOTFOUND when no VR `dst` runs (messages are
 * never dropped silently), RVR_ECLOSED when the VM is stopping. */
rvr_status rvr_send(rvr_vr *self, const rvr_uuid *dst, rvr_packet *p);

/* Removes and returns in *out the oldest queued packet that matches `m`
 * (NULL: any), waiting up to timeout_ms.  The caller owns *out.
 * RVR_ETIMEDOUT when nothing matched in time (including a poll), RVR_ECLOSED
 * when the VM is stopping and nothing matches, RVR_ENOMEM when packets
 * arrived but there was no memory to index them (they stay queued; a
 * later receive takes them), or the match's own error. */
rvr_status rvr_recv(rvr_vr *self, const rvr_match *m, int timeout_ms, rvr_packet **out);

/* Like rvr_recv, but leaves the packet queued and returns a copy the
 * caller owns. */
rvr_status rvr_peek(rvr_vr *self, const rvr_match *m, int timeout_ms, rvr_packet **out);

/* Number of packets queued for this VR. */
size_t rvr_pending(rvr_vr *self);

/* ---- VR types by name (what a deploy names) ---- */

/* Adds `type` to this process's registry of VR types, so a deploy that
 * names it ("pkg.Vr") finds the code.  The registry keeps the pointer, not
 * a copy: `type` must stay valid for the life of the process (generated
 * descriptors are static data).  Registering the same descriptor again is
 * RVR_OK; another descriptor under a registered name is RVR_EEXIST.
 * RVR_EINVAL for an invalid descriptor.  rvr_main registers the initial
 * VR's type; a program registers the other types it may be asked to host.
 * Thread-safe. */
rvr_status rvr_vr_type_register(const rvr_vr_type *type);

/* The registered type called `name`, or NULL.  Thread-safe; the result
 * stays valid for the life of the process. */
const rvr_vr_type *rvr_vr_type_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
