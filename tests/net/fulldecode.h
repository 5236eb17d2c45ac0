/* fulldecode.h — for the tests of the receive path's fast readers
 * (rvr_wire_get_small, the stream shape): what they read, the full decoder
 * must read the same. */
#ifndef RIVER_TEST_FULLDECODE_H
#define RIVER_TEST_FULLDECODE_H

#include <stddef.h>
#include <stdint.h>

#include "packet_impl.h"

/* Asserts that the full decoder accepts the MSG payload p[0..n) and makes
 * packet s (to VR *to) of it: same dst, src, tag and attributes.  Frees s. */
void agree_with_full(const uint8_t *p, size_t n, rvr_packet *s, const rvr_uuid *to);

#endif
