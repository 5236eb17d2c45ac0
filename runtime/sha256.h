/* sha256.h — SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104).
 *
 * Written from the standards rather than linked from a crypto library so
 * that libriver keeps its short dependency list (uuid, nanopb) and the
 * code push and the cluster handshake work on any host that can build
 * River.  Only what River needs: one-shot and incremental hashing, HMAC,
 * hex encoding and a constant-time comparison.  These functions cannot
 * fail (no allocation, no I/O), so they return nothing; the ones that
 * parse input return rvr_status. */
#ifndef RIVER_SHA256_H
#define RIVER_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <river/status.h>

#define RVR_SHA256_LEN 32          /* digest bytes */
#define RVR_SHA256_BLOCK 64        /* block bytes (HMAC pads keys to this) */
#define RVR_SHA256_HEX_LEN 64      /* hex digits of a digest, without the NUL */

typedef struct rvr_sha256_ctx {
    uint32_t h[8];                 /* chaining state H(i) */
    uint64_t nbytes;               /* message length so far, in bytes */
    uint8_t buf[RVR_SHA256_BLOCK]; /* partial block */
    size_t nbuf;
} rvr_sha256_ctx;

void rvr_sha256_init(rvr_sha256_ctx *c);
void rvr_sha256_update(rvr_sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void rvr_sha256_final(rvr_sha256_ctx *c, uint8_t out[RVR_SHA256_LEN]);
void rvr_sha256(const void *data, size_t len, uint8_t out[RVR_SHA256_LEN]);

/* HMAC-SHA256, incremental: the key may have any length (longer than a
 * block it is hashed first, as RFC 2104 says). */
typedef struct rvr_hmac_sha256_ctx {
    rvr_sha256_ctx inner;
    rvr_sha256_ctx outer;              /* already fed with K ^ opad */
} rvr_hmac_sha256_ctx;

void rvr_hmac_sha256_init(rvr_hmac_sha256_ctx *c, const void *key, size_t keylen);
void rvr_hmac_sha256_update(rvr_hmac_sha256_ctx *c, const void *data, size_t len);
/* Writes the MAC and wipes the context (it holds key-derived state). */
void rvr_hmac_sha256_final(rvr_hmac_sha256_ctx *c, uint8_t out[RVR_SHA256_LEN]);
void rvr_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                     uint8_t out[RVR_SHA256_LEN]);

/* True when a and b (both n bytes) are equal.  The time taken depends on n
 * only, never on where the first difference is, so a peer timing the
 * rejection of forged MACs learns nothing about the right one. */
bool rvr_ct_equal(const void *a, const void *b, size_t n);

/* Overwrites n bytes with zeros in a way the compiler may not elide (keys
 * and MAC state should not outlive their use in freed memory). */
void rvr_secure_zero(void *p, size_t n);

/* Lower-case hex of n bytes into out, which must hold 2n+1 chars. */
void rvr_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parses exactly 2n hex digits (either case) from `hex` (hexlen chars)
 * into out[n].  RVR_EINVAL on a wrong length or a non-hex character. */
rvr_status rvr_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n);

#endif
