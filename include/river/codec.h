/* river/codec.h — the protobuf encoding of dynamic values.
 *
 * River encodes a dynamic value (what a `.rvr` file calls `any`, and every
 * attribute of a packet) as this protobuf message, so any protobuf library
 * can read it (docs/protocol.md has the .proto):
 *
 *   message Value { oneof kind {
 *       bool b = 1;  sint64 i = 2;  uint64 u = 3;  double d = 4;
 *       string s = 5;  bytes by = 6;  bytes uuid = 7;  List list = 8;  Map map = 9; } }
 *   message List  { repeated Value items = 1; }
 *   message Map   { repeated Entry entries = 1; }
 *   message Entry { string key = 1; Value value = 2; }
 *
 * Decoding enforces every limit of value.h (depth, counts, name and value
 * sizes) and returns RVR_EPROTO for malformed input, RVR_ELIMIT past a limit.
 *
 * Ownership: encoders append to a caller-owned rvr_buf (free it with
 * rvr_buf_free); decoders fill a caller-owned value or an initialised empty
 * map, and on error leave nothing allocated behind. */
#ifndef RIVER_CODEC_H
#define RIVER_CODEC_H

#include <river/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvr_buf {
    uint8_t *data;
    size_t len, cap;
} rvr_buf;

void rvr_buf_free(rvr_buf *b);
/* Makes room for n more bytes. */
rvr_status rvr_buf_reserve(rvr_buf *b, size_t n);
rvr_status rvr_buf_append(rvr_buf *b, const void *p, size_t n);

/* Appends the Value message (without a tag or length prefix). */
rvr_status rvr_value_encode(const rvr_value *v, rvr_buf *out);
/* Decodes one Value message occupying all n bytes. */
rvr_status rvr_value_decode(const uint8_t *p, size_t n, rvr_value *out);
/* A map as the Map message; decoding adds the entries to `out` (a fresh map). */
rvr_status rvr_map_encode(const rvr_map *m, rvr_buf *out);
rvr_status rvr_map_decode(const uint8_t *p, size_t n, rvr_map *out);

#ifdef __cplusplus
}
#endif
#endif
