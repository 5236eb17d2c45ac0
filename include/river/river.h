/* river/river.h — the whole public API of libriver.
 *
 *   status.h  error codes                 value.h   dynamic values, lists, maps
 *   uuid.h    UUIDs                       packet.h  dynamic messages (SFM)
 *   match.h   selective-receive matches   vr.h      VMs, VRs, send, recv */
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

#endif
