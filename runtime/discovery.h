/* discovery.h — a VM's discovery endpoint (the internal side of
 * river/discover.h).
 *
 * rvr_disc_start opens two UDP sockets and a thread of its own: one socket
 * bound to the multicast group and port (shared with the other VMs of the
 * host), one bound to INADDR_ANY and the port of the VM's TCP listener (the
 * one in cfg->advertise; TCP and UDP ports are separate spaces, so one
 * `host:port` names both).  The thread answers probes on both and, when
 * there are seed peers, announces the VM to them (at start, after 0.2, 0.5,
 * 1 and 2 s, then every cfg->announce_ms) and merges the VMs they list into
 * the endpoint's table of known VMs, which it lists in its own replies.
 *
 * Call rvr_disc_stop before the VM is freed and after its VRs have
 * stopped (a VR in rvr_discover reads the endpoint). */
#ifndef RIVER_DISCOVERY_H
#define RIVER_DISCOVERY_H

#include <stdio.h>
#include <river/discover.h>

#include "disc_net.h"
#include "disc_wire.h"
#include "vm.h"

/* RVR_EEXIST when the VM's endpoint already runs or the unicast port is
 * taken, RVR_ELIMIT when the labels make the VM's info larger than
 * RVR_DISC_MAX_INFO, RVR_EINVAL for a bad configuration, RVR_ESYS when a
 * socket or the thread cannot be created.  A multicast socket that cannot
 * be opened only logs a warning: the endpoint then serves seeds only. */
rvr_status rvr_disc_start(rvr_vm *vm, const rvr_disc_config *cfg);
/* Stops the thread, closes the sockets, frees the endpoint.  Idempotent. */
void rvr_disc_stop(rvr_vm *vm);
/* "available" or "allocated" (any string up to 31 bytes is advertised). */
void rvr_disc_set_status(rvr_vm *vm, const char *status);

/* What rvr_discover needs from a running endpoint, copied under its lock:
 * the resolved network, the VM's own info (self->attrs owned by the
 * caller) and the addresses of the VMs it knows of (*known malloc'ed, each
 * RVR_DISC_MAX_ADDR bytes). */
rvr_status rvr_disc_snapshot(struct rvr_disc *d, rvr_disc_net *net, rvr_disc_vm *self,
                             char (**known)[RVR_DISC_MAX_ADDR], size_t *nknown);

/* The probe-and-collect loop behind rvr_discover: probes the group and the
 * peers of `net` and the `nextra` addresses, follows the VMs each reply
 * lists, and returns those that answered.  `self` (may be NULL) is
 * included without being asked. */
rvr_status rvr_disc_collect(const rvr_disc_net *net, char (*extra)[RVR_DISC_MAX_ADDR],
                            size_t nextra, const rvr_disc_vm *self, const rvr_vm_filter *f,
                            int timeout_ms, rvr_vm_info **out, size_t *n);

/* The filter's limit (rvr_vm_filter_limit); 0 for none or a NULL filter. */
size_t rvr_vm_filter_limit_of(const rvr_vm_filter *f);

/* ---- command-line options ------------------------------------------------- */

/* --mcast-group G, --mcast-port P, --mcast-if IF[,IF], --peer H:P (repeatable),
 * --label K=V (repeatable), each also as --opt=value.  rvr_disc_options
 * removes them from argv (updating *argc) and fills o->cfg, whose strings
 * point into `o` and argv; the caller sets cfg.advertise and cfg.program.  Errors
 * (a missing value, a label without '=', a bad port) are printed to err
 * and return RVR_EINVAL. */
typedef struct rvr_disc_opts {
    rvr_disc_config cfg;
    char **peers;
    size_t npeers;
    rvr_map *labels;
} rvr_disc_opts;

rvr_status rvr_disc_options(int *argc, char **argv, rvr_disc_opts *o, FILE *err);
/* The same, leaving alone the options for which is_program_opt(name, len,
 * ctx) is true (a VR parameter named like one of these options wins). */
rvr_status rvr_disc_options_except(int *argc, char **argv, rvr_disc_opts *o, FILE *err,
                                   bool (*is_program_opt)(const char *name, size_t len, void *ctx),
                                   void *ctx);
void rvr_disc_opts_free(rvr_disc_opts *o);

#endif
