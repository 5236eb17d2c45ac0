/* sha256.c — see sha256.h.  The structure follows FIPS 180-4 section 6.2
 * (SHA-256 computation) and RFC 2104 section 2 (HMAC); the names of the
 * functions below are the standard's (Ch, Maj, Σ0, Σ1, σ0, σ1). */
#include "sha256.h"

#include <string.h>

/* FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* §5.3.3: the first 32 bits of the fractional parts of the square roots
 * of the first 8 primes. */
static const uint32_t H0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }
static inline uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static inline uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }
static inline uint32_t bsig0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static inline uint32_t bsig1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static inline uint32_t ssig0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static inline uint32_t ssig1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

/* The standard is big-endian throughout; reading bytes one at a time keeps
 * the code independent of the host's byte order and alignment. */
static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* §6.2.2: one 512-bit block. */
static void compress(uint32_t h[8], const uint8_t block[RVR_SHA256_BLOCK])
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++)
        w[t] = ssig1(w[t - 2]) + w[t - 7] + ssig0(w[t - 15]) + w[t - 16];

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = hh + bsig1(e) + ch(e, f, g) + K[t] + w[t];
        uint32_t t2 = bsig0(a) + maj(a, b, c);
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
    /* The schedule is derived from the message, which may be a key. */
    rvr_secure_zero(w, sizeof w);
}

void rvr_sha256_init(rvr_sha256_ctx *c)
{
    memcpy(c->h, H0, sizeof H0);
    c->nbytes = 0;
    c->nbuf = 0;
}

void rvr_sha256_update(rvr_sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->nbytes += len;
    if (c->nbuf > 0) {
        size_t take = RVR_SHA256_BLOCK - c->nbuf;
        if (take > len)
            take = len;
        memcpy(c->buf + c->nbuf, p, take);
        c->nbuf += take;
        p += take;
        len -= take;
        if (c->nbuf < RVR_SHA256_BLOCK)
            return;
        compress(c->h, c->buf);
        c->nbuf = 0;
    }
    /* Whole blocks straight from the caller's buffer: no copy. */
    for (; len >= RVR_SHA256_BLOCK; p += RVR_SHA256_BLOCK, len -= RVR_SHA256_BLOCK)
        compress(c->h, p);
    if (len > 0) {
        memcpy(c->buf, p, len);
        c->nbuf = len;
    }
}

void rvr_sha256_final(rvr_sha256_ctx *c, uint8_t out[RVR_SHA256_LEN])
{
    /* §5.1.1: append 0x80, zeros up to 56 mod 64, then the length in bits
     * as a 64-bit big-endian number. */
    uint64_t bits = c->nbytes * 8u;
    c->buf[c->nbuf++] = 0x80;
    if (c->nbuf > 56) {
        memset(c->buf + c->nbuf, 0, RVR_SHA256_BLOCK - c->nbuf);
        compress(c->h, c->buf);
        c->nbuf = 0;
    }
    memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
    store_be32(c->buf + 56, (uint32_t)(bits >> 32));
    store_be32(c->buf + 60, (uint32_t)bits);
    compress(c->h, c->buf);
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, c->h[i]);
    rvr_secure_zero(c, sizeof *c);
}

void rvr_sha256(const void *data, size_t len, uint8_t out[RVR_SHA256_LEN])
{
    rvr_sha256_ctx c;
    rvr_sha256_init(&c);
    rvr_sha256_update(&c, data, len);
    rvr_sha256_final(&c, out);
}

/* ---- HMAC (RFC 2104): H(K ^ opad || H(K ^ ipad || text)) ---- */

void rvr_hmac_sha256_init(rvr_hmac_sha256_ctx *c, const void *key, size_t keylen)
{
    uint8_t k[RVR_SHA256_BLOCK] = { 0 };
    if (keylen > RVR_SHA256_BLOCK)
        rvr_sha256(key, keylen, k);          /* long keys are hashed first */
    else if (keylen > 0)
        memcpy(k, key, keylen);              /* short ones zero-padded */

    uint8_t pad[RVR_SHA256_BLOCK];
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x36;
    rvr_sha256_init(&c->inner);
    rvr_sha256_update(&c->inner, pad, sizeof pad);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x5c;
    rvr_sha256_init(&c->outer);
    rvr_sha256_update(&c->outer, pad, sizeof pad);
    rvr_secure_zero(k, sizeof k);
    rvr_secure_zero(pad, sizeof pad);
}

void rvr_hmac_sha256_update(rvr_hmac_sha256_ctx *c, const void *data, size_t len)
{
    rvr_sha256_update(&c->inner, data, len);
}

void rvr_hmac_sha256_final(rvr_hmac_sha256_ctx *c, uint8_t out[RVR_SHA256_LEN])
{
    uint8_t ih[RVR_SHA256_LEN];
    rvr_sha256_final(&c->inner, ih);
    rvr_sha256_update(&c->outer, ih, sizeof ih);
    rvr_sha256_final(&c->outer, out);
    rvr_secure_zero(ih, sizeof ih);
}

void rvr_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                     uint8_t out[RVR_SHA256_LEN])
{
    rvr_hmac_sha256_ctx c;
    rvr_hmac_sha256_init(&c, key, keylen);
    rvr_hmac_sha256_update(&c, data, len);
    rvr_hmac_sha256_final(&c, out);
}

/* ---- helpers ---- */

bool rvr_ct_equal(const void *a, const void *b, size_t n)
{
    /* Accumulate every difference instead of returning at the first; the
     * volatile keeps the compiler from turning the loop into memcmp. */
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(x[i] ^ y[i]);
    return d == 0;
}

void rvr_secure_zero(void *p, size_t n)
{
    /* Stores through a volatile pointer are observable behaviour, so they
     * survive dead-store elimination (explicit_bzero is not portable). */
    volatile uint8_t *v = p;
    while (n-- > 0)
        *v++ = 0;
}

void rvr_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

rvr_status rvr_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n)
{
    if (hex == NULL || out == NULL || hexlen != 2 * n)
        return RVR_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return RVR_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return RVR_OK;
}
