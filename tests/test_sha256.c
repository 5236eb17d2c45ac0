/* test_sha256.c — SHA-256 against the NIST examples (FIPS 180-4 /
 * CSRC "Examples with intermediate values" and the long-message vectors),
 * HMAC-SHA256 against RFC 4231, plus the helpers around them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutest.h"
#include "sha256.h"

static void check_hex(const uint8_t *digest, size_t n, const char *want)
{
    char hex[2 * RVR_SHA256_LEN + 1];
    rvr_hex_encode(digest, n, hex);
    CU_ASSERT_STRING_EQUAL(hex, want);
}

static void check_sha(const char *msg, const char *want)
{
    uint8_t d[RVR_SHA256_LEN];
    rvr_sha256(msg, strlen(msg), d);
    check_hex(d, sizeof d, want);
}

/* ---- SHA-256 ----------------------------------------------------------------- */

static void test_nist_short(void)
{
    check_sha("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 448 bits: padding needs a second block. */
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* 896 bits. */
    check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
              "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_nist_million_a(void)
{
    /* One million 'a', fed in uneven pieces to exercise the partial-block path. */
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    rvr_sha256_ctx c;
    rvr_sha256_init(&c);
    size_t left = 1000000;
    while (left > 0) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        rvr_sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[RVR_SHA256_LEN];
    rvr_sha256_final(&c, d);
    check_hex(d, sizeof d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_padding_boundaries(void)
{
    /* Every length around the 55/56/64-byte padding edges: one-shot and
     * byte-at-a-time must agree. */
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    for (size_t len = 0; len <= sizeof msg; len++) {
        uint8_t a[RVR_SHA256_LEN], b[RVR_SHA256_LEN];
        rvr_sha256(msg, len, a);
        rvr_sha256_ctx c;
        rvr_sha256_init(&c);
        for (size_t i = 0; i < len; i++)
            rvr_sha256_update(&c, msg + i, 1);
        rvr_sha256_final(&c, b);
        CU_ASSERT(memcmp(a, b, sizeof a) == 0);
    }
    /* 55 and 56 bytes of 'a' are the classic one-/two-block edge. */
    check_sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    check_sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

/* ---- HMAC-SHA256 (RFC 4231 section 4) ---------------------------------------- */

static void check_hmac(const uint8_t *key, size_t klen, const void *data, size_t dlen,
                       const char *want, size_t outlen)
{
    uint8_t mac[RVR_SHA256_LEN];
    rvr_hmac_sha256(key, klen, data, dlen, mac);
    check_hex(mac, outlen, want);
    /* The incremental form, one byte at a time, must agree. */
    rvr_hmac_sha256_ctx c;
    uint8_t mac2[RVR_SHA256_LEN];
    rvr_hmac_sha256_init(&c, key, klen);
    for (size_t i = 0; i < dlen; i++)
        rvr_hmac_sha256_update(&c, (const uint8_t *)data + i, 1);
    rvr_hmac_sha256_final(&c, mac2);
    CU_ASSERT(memcmp(mac, mac2, sizeof mac) == 0);
}

static void test_rfc4231(void)
{
    uint8_t key[131], data[50];

    /* Test case 1 */
    memset(key, 0x0b, 20);
    check_hmac(key, 20, "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32);
    /* Test case 2: a key shorter than the output */
    check_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32);
    /* Test case 3: combined key and data length > 64 */
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    check_hmac(key, 20, data, 50,
               "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32);
    /* Test case 4 */
    for (int i = 0; i < 25; i++)
        key[i] = (uint8_t)(i + 1);
    memset(data, 0xcd, 50);
    check_hmac(key, 25, data, 50,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32);
    /* Test case 5: truncation to 128 bits */
    memset(key, 0x0c, 20);
    check_hmac(key, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b", 16);
    /* Test case 6: a key larger than the block size (hashed first) */
    memset(key, 0xaa, 131);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    check_hmac(key, 131, m6, strlen(m6),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32);
    /* Test case 7: key and data both larger than the block size */
    const char *m7 = "This is a test using a larger than block-size key and a larger "
                     "than block-size data. The key needs to be hashed before being "
                     "used by the HMAC algorithm.";
    check_hmac(key, 131, m7, strlen(m7),
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32);
}

/* ---- helpers ------------------------------------------------------------------ */

static void test_ct_equal(void)
{
    uint8_t a[32], b[32];
    memset(a, 0x5a, sizeof a);
    memcpy(b, a, sizeof b);
    CU_ASSERT_TRUE(rvr_ct_equal(a, b, sizeof a));
    CU_ASSERT_TRUE(rvr_ct_equal(a, b, 0));
    for (size_t i = 0; i < sizeof a; i++) {
        b[i] ^= 0x01;
        CU_ASSERT_FALSE(rvr_ct_equal(a, b, sizeof a));
        b[i] ^= 0x81;
        CU_ASSERT_FALSE(rvr_ct_equal(a, b, sizeof a));
        b[i] = a[i];
    }
}

static void test_hex(void)
{
    uint8_t in[4] = { 0x00, 0x9f, 0xa0, 0xff }, out[4];
    char hex[9];
    rvr_hex_encode(in, 4, hex);
    CU_ASSERT_STRING_EQUAL(hex, "009fa0ff");
    CU_ASSERT_EQUAL(rvr_hex_decode("009FA0ff", 8, out, 4), RVR_OK);
    CU_ASSERT(memcmp(in, out, 4) == 0);
    CU_ASSERT_EQUAL(rvr_hex_decode("009fa0f", 7, out, 4), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_hex_decode("009fa0fg", 8, out, 4), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_hex_decode("009fa0ff00", 10, out, 4), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_hex_decode(NULL, 0, out, 0), RVR_EINVAL);
}

static void test_secure_zero(void)
{
    uint8_t k[16];
    memset(k, 0xff, sizeof k);
    rvr_secure_zero(k, sizeof k);
    for (size_t i = 0; i < sizeof k; i++)
        CU_ASSERT_EQUAL(k[i], 0);
}

int main(void)
{
    static const CU_TestInfo sha[] = {
        { "NIST short messages", test_nist_short },
        { "NIST one million a", test_nist_million_a },
        { "padding boundaries, incremental", test_padding_boundaries },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo hmac[] = {
        { "RFC 4231 test cases 1-7", test_rfc4231 },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo helpers[] = {
        { "constant-time compare", test_ct_equal },
        { "hex encode/decode", test_hex },
        { "secure zero", test_secure_zero },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("sha256", sha);
    cutest_suite("hmac-sha256", hmac);
    cutest_suite("helpers", helpers);
    return cutest_run();
}
