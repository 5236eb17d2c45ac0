/* river/river.h — the whole public API of libriver.
 *
 *   status.h  error codes                 value.h   dynamic values, lists, maps
 *   uuid.h    UUIDs                       packet.h  dynamic messages (SFM)
 *   match.h   selective-receive matches   vr.h      VMs, VRs, send, recv
 *   codec.h   protobuf of values          discover.h  finding VMs
 *   net.h     VMs on the network (addresses, peers, undeliverable notices)
 *   deploy.h  allocating VMs, deploying VRs onto them */
#ifndef RIVER_RIVER_H
#define RIVER_RIVER_H

#include <river/abi.h>
#include <river/status.h>
#include <river/uuid.h>
#include <river/value.h>
#include <river/packet.h>
#include <river/match.h>
#include <river/vr.h>
#include <river/codec.h>
#include <river/schema.h>
#include <river/net.h>
#include <river/discover.h>
#include <river/deploy.h>

#endif
