/* bench_codec — typed encode/decode of a representative message (bench.rvr:
 * scalars, a string, ~100 bytes, 10 ints, a nested message) with the code
 * riverc generates, against protobuf-c on the same message (generated at
 * build time by protoc-c from `riverc --emit-proto bench.rvr`), in one run.
 * Prints ns per operation and River's ratio to protobuf-c; checks first that
 * both produce the same bytes.
 *
 *   bench_codec [--iterations=N]
 *
 * Encode: into a freshly malloc'ed buffer, freed after (what _encode does;
 * protobuf-c packs into a buffer of get_packed_size bytes).  Decode: into a
 * message that owns its strings and arrays, cleared after (protobuf-c:
 * unpack + free_unpacked). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.rvr.h"
#if defined(HAVE_PROTOBUF_C)
#include "bench.pb-c.h"   /* a stub defining BENCH_NO_PROTOC_C without protoc-c */
#endif
#if defined(HAVE_PROTOBUF_C) && !defined(BENCH_NO_PROTOC_C)
#define WITH_PBC 1
#endif

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile size_t sink;   /* keeps the loops from being optimised away */

static uint8_t payload[100];
static const int32_t values[10] = { 1, -2, 300, -4000, 50000, 6, 70, -800, 9000, 100000 };

static void make_river(bench_Sample *m)
{
    bench_Sample_init(m);
    m->id = 1234567890123ull;
    m->delta = -987654;
    m->flags = 0x5a5a;
    m->score = 3.14159;
    m->ok = true;
    m->name = strdup("a representative message");
    m->payload.len = sizeof payload;
    m->payload.data = malloc(sizeof payload);
    memcpy(m->payload.data, payload, sizeof payload);
    m->values_count = 10;
    m->values = malloc(sizeof values);
    memcpy(m->values, values, sizeof values);
    m->inner.a = 42;
    m->inner.label = strdup("inner");
    m->inner.w = 0.5;
}

#ifdef WITH_PBC
static void make_pbc(Bench__Sample *m, Bench__Inner *in)
{
    bench__sample__init(m);
    bench__inner__init(in);
    m->id = 1234567890123ull;
    m->delta = -987654;
    m->flags = 0x5a5a;
    m->score = 3.14159;
    m->ok = 1;
    m->name = (char *)"a representative message";
    m->payload.len = sizeof payload;
    m->payload.data = payload;
    m->n_values = 10;
    m->values = (int32_t *)values;
    in->a = 42;
    in->label = (char *)"inner";
    in->w = 0.5;
    m->inner = in;
}
#endif

int main(int argc, char **argv)
{
    long iters = 200000;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--iterations=", 13) == 0 && atol(argv[i] + 13) > 0) {
            iters = atol(argv[i] + 13);
        } else {
            fprintf(stderr, "usage: %s [--iterations=N]\n", argv[0]);
            return 2;
        }
    }
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);

    bench_Sample msg;
    make_river(&msg);
    uint8_t *enc;
    size_t enc_len;
    if (bench_Sample_encode(&msg, &enc, &enc_len) != RVR_OK) {
        fprintf(stderr, "bench_codec: encode failed\n");
        return 1;
    }

    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        uint8_t *b;
        size_t n;
        bench_Sample_encode(&msg, &b, &n);
        sink += n;
        free(b);
    }
    double river_enc = (now_ns() - t0) / iters;
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        bench_Sample d;
        if (bench_Sample_decode(enc, enc_len, &d) != RVR_OK)
            return 1;
        sink += d.values_count;
        bench_Sample_clear(&d);
    }
    double river_dec = (now_ns() - t0) / iters;

    printf("typed encode/decode, %zu-byte message (bench.rvr: Sample), %ld iterations\n",
           enc_len, iters);
#ifdef WITH_PBC
    Bench__Sample pm;
    Bench__Inner pin;
    make_pbc(&pm, &pin);
    size_t plen = bench__sample__get_packed_size(&pm);
    uint8_t *pbuf = malloc(plen);
    bench__sample__pack(&pm, pbuf);
    int same = plen == enc_len && memcmp(pbuf, enc, plen) == 0;
    printf("  same bytes as protobuf-c: %s\n", same ? "yes" : "NO");
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        size_t n = bench__sample__get_packed_size(&pm);
        uint8_t *b = malloc(n);
        sink += bench__sample__pack(&pm, b);
        free(b);
    }
    double pbc_enc = (now_ns() - t0) / iters;
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        Bench__Sample *d = bench__sample__unpack(NULL, plen, pbuf);
        if (d == NULL)
            return 1;
        sink += d->n_values;
        bench__sample__free_unpacked(d, NULL);
    }
    double pbc_dec = (now_ns() - t0) / iters;
    free(pbuf);
    printf("  %-34s %10.1f ns/op   protobuf-c %10.1f ns/op   ratio %.2fx\n", "encode",
           river_enc, pbc_enc, river_enc / pbc_enc);
    printf("  %-34s %10.1f ns/op   protobuf-c %10.1f ns/op   ratio %.2fx\n", "decode",
           river_dec, pbc_dec, river_dec / pbc_dec);
#else
    printf("  %-34s %10.1f ns/op\n", "encode", river_enc);
    printf("  %-34s %10.1f ns/op\n", "decode", river_dec);
#if defined(BENCH_NO_PROTOC_C)
    printf("  (no comparison: protoc-c not found; install protobuf-c-compiler)\n");
#else
    printf("  (no comparison: protobuf-c not found; install libprotobuf-c-dev protobuf-c-compiler)\n");
#endif
#endif
    free(enc);
    bench_Sample_clear(&msg);
    return 0;
}
