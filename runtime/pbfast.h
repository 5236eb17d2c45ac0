/* pbfast.h — typed marshalling for the runtime's own hot paths: decoding
 * messages of the common shape without nanopb (pbfast.c), and pbsupport.c's
 * encoder into a buffer the caller keeps. */
#ifndef RIVER_PBFAST_H
#define RIVER_PBFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <river/codec.h>
#include <river/schema.h>

/* Decodes buf[0..len) into *msg as rvr_pb_decode does, when every field of
 * s is a single scalar, string, bytes or uuid (no array, nested message or
 * `any`) and the input holds each field at most once, every one declared,
 * with its wire type and a value the general decoder takes as it is: then
 * true, *st RVR_OK (or RVR_ENOMEM).  Otherwise false, and *msg is as it
 * was: decode it with the general decoder, whose outcome (errors included)
 * it then is. */
bool rvr_pb_decode_fast(const rvr_schema *s, const uint8_t *buf, size_t len, void *msg,
                        rvr_status *st);

/* The general decoder alone (nanopb; pbsupport.c): rvr_pb_decode without
 * the fast path, for tests that compare the two. */
rvr_status rvr_pb_decode_general(const rvr_schema *s, const uint8_t *buf, size_t len, void *msg);

/* The encoding rvr_pb_encode makes, into b (emptied first, grown as
 * needed; the caller keeps and frees it): a send reuses one buffer. */
rvr_status rvr_pb_encode_buf(const rvr_schema *s, const void *msg, rvr_buf *b);

/* True if s[0..n) is UTF-8 (pbsupport.c): what a decoded string must be. */
bool rvr_utf8_ok(const unsigned char *s, size_t n);

#endif
