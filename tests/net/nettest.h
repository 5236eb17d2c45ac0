/* nettest.h — helpers for the multi-process tests: start net_node VMs as
 * child processes (stderr to a log file), wait for their reports, stop or
 * kill them, and talk raw TCP to a VM. */
#ifndef RIVER_TESTS_NETTEST_H
#define RIVER_TESTS_NETTEST_H

#include <stdbool.h>
#include <sys/types.h>
#include <river/river.h>

typedef struct node {
    pid_t pid;
    rvr_uuid vr, vm;
    char addr[RVR_ADDR_MAX];
    char name[32];
    char log[64];
} node;

/* Starts ./net_node --boss=<self> --name=name --peer=<self's VM> plus args
 * (NULL-terminated; when args[0] begins with "./" it names the program to
 * run instead of ./net_node, which must report "ready" the same way), with the extra environment entries env ("K=V",
 * NULL-terminated, may be NULL), and waits (up to 20 s) for its "ready". */
bool node_start(rvr_vr *self, node *n, const char *name, const char *const *env,
                const char *const *args);
/* Asks it to stop and waits for it (kills it after 10 s).  True if it
 * exited with status 0. */
bool node_stop(rvr_vr *self, node *n);
/* Waits up to ms for it to exit by itself; true if it exited with status 0. */
bool node_wait(node *n, int ms);
/* kill -9, and reaps it. */
void node_kill(node *n);
/* Kills every node still running (an atexit handler does it too). */
void node_kill_all(void);
/* True when the node's log contains `needle`. */
bool node_log_has(const node *n, const char *needle);
/* How many lines of the node's log contain `needle`. */
size_t node_log_count(const node *n, const char *needle);

/* Receives a packet tagged `tag` (from src unless NULL) within ms; NULL on timeout. */
rvr_packet *await_tag(rvr_vr *self, const char *tag, const rvr_uuid *src, int ms);
/* Sends a fresh packet tagged tag; false on failure. */
bool send_tag(rvr_vr *self, const rvr_uuid *to, const char *tag);
/* Pings a node and waits for its pong. */
bool node_ping(rvr_vr *self, const node *n);

/* A net_node command tagged tag: {to (unless NULL), n}. */
rvr_packet *node_cmd(const char *tag, const rvr_uuid *to, uint64_t n);
/* "expect": n "seq" packets from a and from b (unless NULL). */
rvr_packet *node_expect_cmd(uint64_t n, const rvr_uuid *a, const rvr_uuid *b);
/* Waits (60 s) for a node's "burst.done" or "expect.done" from `from`:
 * true when it succeeded with `want` packets; *most (unless NULL) gets
 * an "expect.done"'s most packets waiting at once. */
bool node_done_ok(rvr_vr *self, const rvr_uuid *from, const char *tag, uint64_t want,
                  uint64_t *most);
/* a and b each send n "seq" packets to the other, then receive the
 * other's ("burst" with "from": neither takes any before it has sent
 * all); true when both bursts and both receptions succeeded. */
bool node_swap(rvr_vr *self, const node *a, const node *b, uint64_t n);

/* A blocking TCP connection to "host:port" with a 10 s receive timeout; -1
 * on failure. */
int raw_connect(const char *addr);
/* Reads until the peer closes the connection (or 10 s pass): true when it
 * closed.  *got counts the bytes read meanwhile. */
bool raw_wait_close(int fd, size_t *got);
bool raw_write(int fd, const void *p, size_t n);
/* raw_connect, then the handshake of a made-up VM (a new UUID): preambles
 * and HELLOs both ways.  The socket when the VM at addr accepted (its UUID
 * in *vm if not NULL), else -1. */
int raw_handshake(const char *addr, rvr_uuid *vm);
/* Reads one frame: its payload into buf (at most cap bytes), its length
 * and type.  False on a short read or a payload over cap. */
bool raw_read_frame(int fd, uint8_t *buf, size_t cap, uint32_t *len, uint8_t *type);

#endif
