/* wire_shape.h — the common-shape frame a connection last received, kept
 * so that the next ones of the same shape are read by comparison.
 *
 * A stream sends one shape over and over: the same src, dst, tag and
 * attribute names and kinds, only the values differ (src and dst, when
 * left out, are the previous frame's).  Once two frames of
 * one length in a row were read by rvr_wire_get_small, the second is kept
 * with where its values lie (a kept one is replaced at its second miss).  A frame of that length whose other bytes
 * are the kept ones has the same structure, so it is valid when its values
 * are (strings without NUL, varints of the same length); it becomes the
 * same packet rvr_wire_get_small makes, without decoding the structure
 * again.  One per connection, used by its reader only (net->io_lock). */
#ifndef RIVER_WIRE_SHAPE_H
#define RIVER_WIRE_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* The longest frame of the common shape: src and dst (18 bytes each), a
 * tag of up to 127 bytes and up to RVR_WIRE_RAW_BYTES of attributes, with
 * their key and length (at most two bytes). */
#define RVR_WIRE_SHAPE_MAX (36 + 2 + 127 + 3 + RVR_WIRE_RAW_BYTES)

typedef struct rvr_wire_shape {
    uint32_t len;       /* of the frame kept; 0: none */
    uint32_t seen;      /* length of the last frame offered to learn */
    uint32_t misses;    /* frames offered while one was kept */
    uint16_t raw_off, raw_len;   /* where the attributes' entries lie */
    uint8_t tag_len;
    uint8_t ids_len;    /* RVR_WIRE_IDS_LEN, or 0: src and dst left out */
    uint8_t nvals;      /* attributes: one value each */
    struct {
        uint16_t off, len;   /* where the value's free bytes lie in the frame */
        uint8_t check;       /* what they must satisfy (wire_shape.c) */
    } vals[RVR_WIRE_RAW_MAX];
    uint8_t bytes[RVR_WIRE_SHAPE_MAX];
} rvr_wire_shape;

/* Offers the payload p[0..n) of a MSG frame that rvr_wire_get_small just
 * read: kept when the frame before was as long (a stream). */
void rvr_wire_shape_learn(rvr_wire_shape *s, const uint8_t *p, size_t n);

/* The packet rvr_wire_get_small would make of p[0..n) (and *ids), when
 * the frame has the kept shape; NULL otherwise (or out of memory), *ids
 * unchanged: then read it with rvr_wire_get_small.  The caller frees the
 * packet. */
rvr_packet *rvr_wire_shape_get(const rvr_wire_shape *s, const uint8_t *p, size_t n,
                               rvr_wire_ids *ids);

/* Reads the complete MSG frames (headers included) at the start of
 * buf[0..avail) that have the kept shape, at most max of them, into
 * out[]: what rvr_wire_shape_get would make of each in turn, with its
 * wire_len (the payload's size) set, *ids updated as it would be.  Stops at the first frame that is another (or
 * incomplete, or out of memory), which the caller reads as usual.
 * Returns how many; *used: their bytes.  The caller frees the packets. */
size_t rvr_wire_shape_run(const rvr_wire_shape *s, const uint8_t *buf, size_t avail,
                          rvr_wire_ids *ids, rvr_packet **out, size_t max, size_t *used);

#endif
