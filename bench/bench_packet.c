/* bench_packet — what one small message costs in the packet layer, on one
 * thread: build it, encode its frame and free it (a sender's share), and
 * decode a frame, read its attribute and free it (a receiver's), for the
 * message bench_net streams (tag "m", a 64-byte bytes attribute "data").
 * Each is measured twice in the same run: as River does it (the attributes
 * kept in wire form, wire_raw.c) and with the attribute map built, as every
 * packet was before (the baseline; on the receiving side it also pays for
 * the wire-form check the decoder makes first, about a sixth of it).
 * Prints ns per message and the ratio.
 *
 *   bench_packet [--messages=N]
 *
 * Run it under `valgrind --tool=callgrind` for instruction counts, which
 * this machine's noise does not move. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "packet_impl.h"
#include "wire.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const uint8_t blob[64];
static const rvr_uuid dst = { { 1, 2, 3, 4 } };

static rvr_packet *build(bool map)
{
    rvr_packet *p = rvr_packet_new("m");
    if (map)
        rvr_packet_attrs(p);   /* from here on, a map */
    rvr_packet_set_bytes(p, "data", blob, sizeof blob);
    return p;
}

/* ns per build + encode + free; the frame goes to out. */
static double send_side(long n, bool map, uint8_t *out, size_t *len)
{
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rvr_packet *p = build(map);
        uint8_t buf[1024], *f;
        *len = rvr_wire_put_packet_small(buf, sizeof buf, &dst, p, &f);
        memcpy(out, f, *len);
        rvr_packet_free(p);
    }
    return (now_ns() - t) / (double)n;
}

/* ns per decode + read + free of the frame f. */
static double receive_side(long n, bool map, const uint8_t *f, size_t len)
{
    rvr_wire_limits lim;
    rvr_wire_limits_default(&lim);
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rvr_wire_msg h;
        rvr_packet *p;
        if (rvr_wire_get_msg(f + RVR_WIRE_HDR_LEN, len - RVR_WIRE_HDR_LEN, &lim, &h, &p) != RVR_OK)
            return -1;
        if (map)
            rvr_packet_attrs(p);
        const uint8_t *d;
        size_t dn;
        if (rvr_packet_get_bytes(p, "data", &d, &dn) != RVR_OK || dn != sizeof blob)
            return -1;
        rvr_packet_free(p);
    }
    return (now_ns() - t) / (double)n;
}

int main(int argc, char **argv)
{
    long messages = 2000000;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strncmp(argv[i], "--messages=", 11) != 0 ||
            (messages = strtol(argv[i] + 11, &end, 10)) <= 0 || *end != '\0') {
            fprintf(stderr, "usage: bench_packet [--messages=N]\n");
            return 2;
        }
    }
    uint8_t frame[1024];
    size_t len = 0;
    double s[2], r[2];
    for (int round = 0; round < 2; round++)   /* the first round warms up */
        for (int map = 0; map < 2; map++) {
            s[map] = send_side(messages, map, frame, &len);
            r[map] = receive_side(messages, map, frame, len);
        }
    if (r[0] < 0 || r[1] < 0) {
        fprintf(stderr, "bench_packet: the frame did not decode\n");
        return 1;
    }
    printf("packet layer, one thread, a %zu-byte frame (64-byte bytes attribute)\n", len);
    printf("  build+encode+free   wire form %6.1f ns   map %6.1f ns   ratio %.2f\n", s[0], s[1],
           s[0] / s[1]);
    printf("  decode+read+free    wire form %6.1f ns   map %6.1f ns   ratio %.2f\n", r[0], r[1],
           r[0] / r[1]);
    return 0;
}
