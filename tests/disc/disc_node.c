/* disc_node.c — a VM that only runs discovery, for the multi-process tests.
 *
 *   disc_node [--advertise HOST:PORT (default 127.0.0.1:0, an ephemeral port)] [--status S] [--announce-ms N]
 *             [--mcast-group G] [--mcast-port P] [--mcast-if IF] [--peer H:P]...
 *             [--label K=V]...
 *     starts an endpoint, prints "ready UUID ADDRESS" on stdout and serves
 *     until SIGTERM or SIGINT, then stops it cleanly and exits 0.
 *
 *   disc_node --garbage HOST:PORT
 *     sends malformed datagrams to HOST:PORT (random bytes, every truncation
 *     of a valid reply, an oversized datagram, wrong magic, a list past
 *     RVR_DISC_MAX_LIST, stray replies) and exits 0. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery.h"
#include "log.h"

static void send_to(int fd, const struct sockaddr_in *to, const void *p, size_t n)
{
    if (sendto(fd, p, n, 0, (const struct sockaddr *)to, sizeof *to) < 0)
        perror("disc_node: sendto");
    usleep(200);   /* do not overrun the receiver's socket buffer */
}

static int garbage(const char *target)
{
    struct sockaddr_in to;
    if (rvr_disc_parse_addr(target, &to) != RVR_OK) {
        fprintf(stderr, "disc_node: bad address %s\n", target);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return 1;
    srand((unsigned)getpid());
    uint8_t buf[RVR_DISC_MAX_DATAGRAM + 4096];
    int sent = 0;
    /* Random bytes of random sizes, and random bytes after a valid magic. */
    for (int i = 0; i < 300; i++, sent++) {
        size_t n = 1 + (size_t)rand() % 600;
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)rand();
        if (i % 2) {
            buf[0] = 0x0d;   /* field 1, fixed32 */
            buf[1] = 0x52; buf[2] = 0x56; buf[3] = 0x49; buf[4] = 0x52;
        }
        send_to(fd, &to, buf, n);
    }
    /* Every truncation of a valid reply listing three VMs. */
    rvr_disc_vm v = { .uuid = rvr_uuid_generate(), .address = "127.0.0.1:1" };
    rvr_buf self = { 0 }, known[RVR_DISC_MAX_LIST + 1] = { { 0 } }, d = { 0 };
    rvr_disc_encode_vm(&v, &self);
    for (size_t i = 0; i <= RVR_DISC_MAX_LIST; i++) {
        v.uuid = rvr_uuid_generate();
        rvr_disc_encode_vm(&v, &known[i]);
    }
    rvr_disc_put_header(&d, RVR_DISC_REPLY, 42, false);
    rvr_disc_put_vm(&d, 6, &self);
    for (int i = 0; i < 3; i++)
        rvr_disc_put_vm(&d, 7, &known[i]);
    for (size_t n = 1; n < d.len; n++, sent++)
        send_to(fd, &to, d.data, n);
    send_to(fd, &to, d.data, d.len);   /* a stray reply (nonce nobody used) */
    sent++;
    /* A probe truncated at every length. */
    rvr_buf p = { 0 };
    rvr_disc_encode_probe(7, true, &v, &p);
    for (size_t n = 1; n < p.len; n++, sent++)
        send_to(fd, &to, p.data, n);
    /* A reply listing one VM more than RVR_DISC_MAX_LIST. */
    for (size_t i = 3; i <= RVR_DISC_MAX_LIST; i++)
        rvr_disc_put_vm(&d, 7, &known[i]);
    send_to(fd, &to, d.data, d.len);
    sent++;
    /* Oversized: a valid probe padded with an unknown field past the limit. */
    memcpy(buf, p.data, p.len);
    size_t n = p.len;
    buf[n++] = (15 << 3) | 2;
    size_t pad = RVR_DISC_MAX_DATAGRAM + 100;
    buf[n++] = (uint8_t)(0x80 | (pad & 0x7f));
    buf[n++] = (uint8_t)(pad >> 7);
    memset(buf + n, 'x', pad);
    send_to(fd, &to, buf, n + pad);
    sent++;
    /* Wrong magic, then a group wire type, then an empty datagram. */
    memcpy(buf, p.data, p.len);
    buf[1] ^= 0xff;
    send_to(fd, &to, buf, p.len);
    memcpy(buf, p.data, p.len);
    buf[p.len] = (3 << 3) | 3;
    send_to(fd, &to, buf, p.len + 1);
    send_to(fd, &to, buf, 0);
    sent += 3;
    for (size_t i = 0; i <= RVR_DISC_MAX_LIST; i++)
        rvr_buf_free(&known[i]);
    rvr_buf_free(&self);
    rvr_buf_free(&d);
    rvr_buf_free(&p);
    close(fd);
    printf("sent %d malformed datagrams to %s\n", sent, target);
    return 0;
}

int main(int argc, char **argv)
{
    const char *env = getenv("RIVER_LOG");
    if (env != NULL && rvr_log_parse_level(env) >= 0)
        rvr_log_threshold = rvr_log_parse_level(env);
    if (argc == 3 && strcmp(argv[1], "--garbage") == 0)
        return garbage(argv[2]);

    rvr_disc_opts o;
    if (rvr_disc_options(&argc, argv, &o, stderr) != RVR_OK)
        return 2;
    const char *status = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--advertise") == 0 && i + 1 < argc)
            o.cfg.advertise = argv[++i];
        else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
            status = argv[++i];
        else if (strcmp(argv[i], "--announce-ms") == 0 && i + 1 < argc)
            o.cfg.announce_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "disc_node: unknown argument %s\n", argv[i]);
            rvr_disc_opts_free(&o);
            return 2;
        }
    }
    o.cfg.program = "disc_node";
    if (o.cfg.advertise == NULL)
        o.cfg.advertise = "127.0.0.1:0";   /* an ephemeral port, named in "ready" */

    /* Block the signals before any thread starts, so only sigwait sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    rvr_vm *vm;
    if (rvr_vm_create(&vm) != RVR_OK)
        return 1;
    rvr_status st = rvr_disc_start(vm, &o.cfg);
    rvr_disc_opts_free(&o);
    if (st != RVR_OK) {
        fprintf(stderr, "disc_node: discovery did not start: %s\n", rvr_strerror(st));
        rvr_vm_stop(vm, 0);
        return 1;
    }
    if (status != NULL)
        rvr_disc_set_status(vm, status);
    rvr_disc_net net;
    rvr_disc_vm me;
    char (*known)[RVR_DISC_MAX_ADDR];
    size_t nk;
    if (rvr_disc_snapshot(vm->disc, &net, &me, &known, &nk) == RVR_OK) {
        char id[RVR_UUID_STRLEN];
        printf("ready %s %s\n", rvr_uuid_str(&me.uuid, id), me.address);
        fflush(stdout);
        rvr_disc_vm_clear(&me);
        free(known);
    }
    int sig;
    sigwait(&set, &sig);
    rvr_disc_stop(vm);
    rvr_vm_stop(vm, 0);
    return 0;
}
