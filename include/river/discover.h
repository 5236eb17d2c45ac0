/* river/discover.h — finding VMs: UDP multicast on the LAN, seed peers
 * where multicast does not reach (docs/discovery.md has the wire format).
 *
 * Every VM runs a discovery endpoint: it answers probes sent to a multicast
 * group (default 239.255.77.77:7077, TTL 1) and probes sent to the UDP port
 * with the same number as its TCP listener.  A reply carries the VM's UUID,
 * its TCP address "host:port" and its attributes:
 *
 *   host (string)  arch (string)  os (string)   cores (uint)
 *   load (double, 1-minute load average)        mem_free, mem_total (uint, bytes)
 *   user (string)  pid (uint)     status ("available" or "allocated")
 *   program (string, argv[0] without its directory)
 *   labels (map of string -> string, from --label k=v)
 *
 * rvr_discover() sends a probe and returns every VM that answered within
 * the timeout, deduplicated by UUID.  Seed peers (--peer host:port and
 * RIVER_PEERS) are probed directly; each reply also lists the VMs the
 * replier knows of, and those are probed in turn, so knowing one seed is
 * enough to find every VM its seeds know.  Only VMs that answered
 * themselves are returned: a relayed entry is a hint, not a result.
 *
 * Ownership.  rvr_discover* fill *out with a malloc'ed array the caller
 * frees with rvr_vm_info_free(*out, n); each element owns its address and
 * its attribute map.  A filter is created by rvr_vm_filter_new, owned by
 * the caller and freed by rvr_vm_filter_free; the builders copy their
 * arguments.  Configurations are only read: their strings and maps are
 * copied by the calls that take them.
 *
 * Thread-safety: rvr_discover may be called by any VR; a filter may be
 * shared by threads once it is built (matching only reads it). */
#ifndef RIVER_DISCOVER_H
#define RIVER_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <river/status.h>
#include <river/uuid.h>
#include <river/value.h>
#include <river/vr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults and limits.  Each limit is enforced: a datagram past one is
 * ignored (logged at debug level), a configuration past one is refused
 * with RVR_ELIMIT. */
#define RVR_DISC_DEFAULT_GROUP "239.255.77.77" /* administratively scoped */
#define RVR_DISC_DEFAULT_PORT  7077
#define RVR_DISC_MAX_DATAGRAM  8192   /* bytes in one discovery datagram */
#define RVR_DISC_MAX_INFO      2048   /* bytes of one encoded VM (uuid, address, attributes) */
#define RVR_DISC_MAX_LIST      32     /* known VMs listed in one reply datagram */
#define RVR_DISC_MAX_KNOWN     256    /* VMs one endpoint remembers for its peers */
#define RVR_DISC_MAX_RESULTS   1024   /* VMs one rvr_discover call returns */
#define RVR_DISC_MAX_PROBES    1024   /* addresses one rvr_discover call probes */
#define RVR_DISC_MAX_PEERS     64     /* seed peers */
#define RVR_DISC_MAX_IFS       16     /* interfaces multicast is used on */
#define RVR_DISC_MAX_ADDR      256    /* bytes of "host:port", NUL included */
#define RVR_DISC_MAX_FILTER    32     /* conditions in one filter */
#define RVR_DISC_KNOWN_TTL_MS  30000  /* a VM not heard of for this long is forgotten */

/* Where to probe and what to advertise.  Zero/NULL fields take defaults,
 * from the environment first:
 *   group     RIVER_MCAST_GROUP, else RVR_DISC_DEFAULT_GROUP; "off" disables
 *             multicast (seed peers only)
 *   port      RIVER_MCAST_PORT, else RVR_DISC_DEFAULT_PORT
 *   mcast_if  RIVER_MCAST_IF, else every interface that is up, has an IPv4
 *             address and the MULTICAST flag; a comma-separated list of
 *             interface names restricts multicast to those
 *   peers     seeds "host:port"; the ones in RIVER_PEERS (comma-separated)
 *             are always added
 * The other fields matter only for a VM's own endpoint (rvr_disc_start). */
typedef struct rvr_disc_config {
    const char *group;
    uint16_t port;
    const char *mcast_if;
    const char *const *peers;
    size_t npeers;
    const char *advertise;   /* "host:port" of the VM's TCP listener; an empty
                                host (":7001") lets each receiver use the
                                datagram's source address */
    const rvr_map *labels;   /* string values; copied */
    const char *program;     /* argv[0]; its directory is dropped */
    int announce_ms;         /* how often to refresh seeds; 0: 5000 */
} rvr_disc_config;

/* One VM that answered. */
typedef struct rvr_vm_info {
    rvr_uuid uuid;
    char *address;    /* "host:port" of its TCP listener */
    rvr_map *attrs;   /* the attributes listed above */
} rvr_vm_info;

void rvr_vm_info_free(rvr_vm_info *v, size_t n);

/* ---- filters: every condition must hold -------------------------------- */

typedef enum rvr_vm_cmp {
    RVR_CMP_EQ, RVR_CMP_NE, RVR_CMP_LT, RVR_CMP_LE, RVR_CMP_GT, RVR_CMP_GE
} rvr_vm_cmp;

typedef struct rvr_vm_filter rvr_vm_filter;

rvr_vm_filter *rvr_vm_filter_new(void);            /* NULL on ENOMEM */
void rvr_vm_filter_free(rvr_vm_filter *f);         /* NULL is fine */

/* A key names an attribute ("cores"), a label ("gpu": used when no
 * attribute has that name, or "labels.gpu" explicitly), "uuid" or
 * "address".  A missing key fails every condition.
 *
 * Equality compares values of one type with rvr_value_equal; a string on
 * one side and a number on the other compare as numbers when the string is
 * one ("8" equals cores 8), else they differ. */
rvr_status rvr_vm_filter_eq(rvr_vm_filter *f, const char *key, const rvr_value *v);
rvr_status rvr_vm_filter_eq_str(rvr_vm_filter *f, const char *key, const char *s);
/* A numeric comparison: the attribute (int, uint, double, or a string that
 * is a number) compared with x; anything else fails it. */
rvr_status rvr_vm_filter_num(rvr_vm_filter *f, const char *key, rvr_vm_cmp op, double x);
/* Parses "key=value", "key!=value", "key<x", "key<=x", "key>x", "key>=x"
 * (what `river vms --filter` takes).  RVR_EINVAL for anything else. */
rvr_status rvr_vm_filter_parse(rvr_vm_filter *f, const char *expr);
/* Return as soon as n matching VMs have answered (0: wait the whole timeout). */
rvr_status rvr_vm_filter_limit(rvr_vm_filter *f, size_t n);
/* True when v passes every condition (NULL filter: always). */
bool rvr_vm_filter_match(const rvr_vm_filter *f, const rvr_vm_info *v);

/* ---- discovering -------------------------------------------------------- */

/* Probes with the configuration of the caller's VM (its group, port,
 * interfaces and seeds, plus every VM its endpoint has heard of) and
 * returns the VMs that match `filter` (NULL: all) and answered within
 * timeout_ms (>= 0; the call waits that long unless the filter's limit is
 * reached first).  The caller's own VM is included when its endpoint runs
 * and matches.  Without an endpoint (discovery not started in this VM) the
 * defaults and the environment are used.  Finding nothing is RVR_OK with
 * *n == 0.  RVR_EINVAL for bad arguments, RVR_ESYS when no socket can be
 * opened. */
rvr_status rvr_discover(rvr_vr *self, const rvr_vm_filter *filter, int timeout_ms,
                        rvr_vm_info **out, size_t *n);

/* The same without a VM (the `river` command): a temporary socket probes
 * the group and the peers of `cfg` (NULL: defaults and environment). */
rvr_status rvr_discover_standalone(const rvr_disc_config *cfg, const rvr_vm_filter *filter,
                                   int timeout_ms, rvr_vm_info **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
