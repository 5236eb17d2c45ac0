/* nettest.c — see nettest.h. */
#include "nettest.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/net.h"
#include "../../runtime/wire.h"

extern char **environ;

#define MAX_NODES 16
static pid_t pids[MAX_NODES];
static bool handler_set;

static void forget_pid(pid_t p)
{
    for (int i = 0; i < MAX_NODES; i++)
        if (pids[i] == p)
            pids[i] = 0;
}

void node_kill_all(void)
{
    for (int i = 0; i < MAX_NODES; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
            pids[i] = 0;
        }
}

bool node_start(rvr_vr *self, node *n, const char *name, const char *const *env,
                const char *const *args)
{
    if (!handler_set) {
        atexit(node_kill_all);
        handler_set = true;
    }
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->log, sizeof n->log, "net_node_%s.log", name);
    char boss[RVR_UUID_STRLEN + 16], nm[64], peer[RVR_ADDR_MAX + 16], me[RVR_ADDR_MAX];
    char id[RVR_UUID_STRLEN];
    rvr_vm_address(self, me, sizeof me);
    snprintf(boss, sizeof boss, "--boss=%s", rvr_uuid_str(rvr_self(self), id));
    snprintf(nm, sizeof nm, "--name=%s", name);
    snprintf(peer, sizeof peer, "--peer=%s", me);
    const char *argv[32] = { "./net_node", boss, nm, peer, "--bind=127.0.0.1" };
    int ac = 5, first = 0;
    if (args != NULL && args[0] != NULL && strncmp(args[0], "./", 2) == 0)
        argv[0] = args[first++];   /* another program than net_node */
    for (int i = first; args != NULL && args[i] != NULL && ac < 31; i++)
        argv[ac++] = args[i];
    argv[ac] = NULL;
    /* Everything the child needs is built before fork: only exec follows. */
    size_t ne = 0;
    while (environ[ne] != NULL)
        ne++;
    const char **envp = calloc(ne + 16, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        envp[k++] = environ[i];
    for (int i = 0; env != NULL && env[i] != NULL && i < 15; i++)
        envp[k++] = env[i];
    envp[k] = NULL;
    int fd = open(n->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
        if (fd >= 0)
            dup2(fd, 2);
        execve(argv[0], (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    if (fd >= 0)
        close(fd);
    free(envp);
    if (pid < 0)
        return false;
    n->pid = pid;
    for (int i = 0; i < MAX_NODES; i++)
        if (pids[i] == 0) {
            pids[i] = pid;
            break;
        }
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "ready");
    rvr_match_eq_str(m, "name", name);
    rvr_packet *p = NULL;
    rvr_status st = rvr_recv(self, m, 20000, &p);
    rvr_match_free(m);
    if (st != RVR_OK) {
        fprintf(stderr, "node %s did not report ready: %s\n", name, rvr_strerror(st));
        return false;
    }
    const char *addr = "";
    n->vr = *rvr_packet_src(p);
    rvr_packet_get_uuid(p, "vm", &n->vm);
    rvr_packet_get_str(p, "addr", &addr, NULL);
    snprintf(n->addr, sizeof n->addr, "%s", addr);
    rvr_packet_free(p);
    return true;
}

static bool reap(node *n, int ms, int *status)
{
    for (int i = 0; i < ms; i++) {
        pid_t r = waitpid(n->pid, status, WNOHANG);
        if (r == n->pid) {
            forget_pid(n->pid);
            n->pid = 0;
            return true;
        }
        usleep(1000);
    }
    return false;
}

bool node_wait(node *n, int ms)
{
    int status = -1;
    if (n->pid <= 0 || !reap(n, ms, &status))
        return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool node_stop(rvr_vr *self, node *n)
{
    if (n->pid <= 0)
        return false;
    send_tag(self, &n->vr, "stop");
    int status = -1;
    if (!reap(n, 10000, &status)) {
        node_kill(n);
        return false;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void node_kill(node *n)
{
    if (n->pid <= 0)
        return;
    kill(n->pid, SIGKILL);
    waitpid(n->pid, NULL, 0);
    forget_pid(n->pid);
    n->pid = 0;
}

bool node_log_has(const node *n, const char *needle)
{
    return node_log_count(n, needle) > 0;
}

size_t node_log_count(const node *n, const char *needle)
{
    FILE *f = fopen(n->log, "r");
    if (f == NULL)
        return 0;
    char line[2048];
    size_t count = 0;
    while (fgets(line, sizeof line, f) != NULL)
        count += strstr(line, needle) != NULL;
    fclose(f);
    return count;
}

rvr_packet *await_tag(rvr_vr *self, const char *tag, const rvr_uuid *src, int ms)
{
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, tag);
    if (src != NULL)
        rvr_match_src(m, src);
    rvr_packet *p = NULL;
    if (rvr_recv(self, m, ms, &p) != RVR_OK)
        p = NULL;
    rvr_match_free(m);
    return p;
}

bool send_tag(rvr_vr *self, const rvr_uuid *to, const char *tag)
{
    rvr_packet *p = rvr_packet_new(tag);
    if (p == NULL)
        return false;
    if (rvr_send(self, to, p) != RVR_OK) {
        rvr_packet_free(p);
        return false;
    }
    return true;
}

bool node_ping(rvr_vr *self, const node *n)
{
    if (!send_tag(self, &n->vr, "ping"))
        return false;
    rvr_packet *p = await_tag(self, "pong", &n->vr, 10000);
    rvr_packet_free(p);
    return p != NULL;
}

int raw_connect(const char *addr)
{
    rvr_sockaddr a;
    if (rvr_addr_parse(addr, "127.0.0.1", &a) != RVR_OK)
        return -1;
    int fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a.ss, a.len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool raw_write(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

bool raw_wait_close(int fd, size_t *got)
{
    char buf[4096];
    size_t total = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
            total += (size_t)r;
            continue;
        }
        if (got != NULL)
            *got = total;
        /* 0: closed; ECONNRESET: closed with unread data; EAGAIN: timed out. */
        return r == 0 || errno == ECONNRESET;
    }
}

rvr_packet *node_cmd(const char *tag, const rvr_uuid *to, uint64_t n)
{
    rvr_packet *p = rvr_packet_new(tag);
    if (to != NULL)
        rvr_packet_set_uuid(p, "to", to);
    rvr_packet_set_u64(p, "n", n);
    return p;
}

rvr_packet *node_expect_cmd(uint64_t n, const rvr_uuid *a, const rvr_uuid *b)
{
    rvr_packet *p = node_cmd("expect", NULL, n);
    rvr_list *l = rvr_list_new();
    rvr_value v = rvr_value_uuid(a);
    rvr_list_append(l, &v);
    if (b != NULL) {
        v = rvr_value_uuid(b);
        rvr_list_append(l, &v);
    }
    rvr_packet_set_list(p, "from", l);
    return p;
}

bool node_done_ok(rvr_vr *self, const rvr_uuid *from, const char *tag, uint64_t want,
                  uint64_t *most)
{
    rvr_packet *r = await_tag(self, tag, from, 60000);
    if (r == NULL)
        return false;
    bool ok = true;
    uint64_t got = 0;
    int64_t status = 0;
    if (strcmp(tag, "expect.done") == 0) {
        rvr_packet_get_bool(r, "ok", &ok);
        rvr_packet_get_u64(r, "got", &got);
        if (most != NULL)
            rvr_packet_get_u64(r, "most", most);
    } else {
        rvr_packet_get_u64(r, "sent", &got);
        rvr_packet_get_i64(r, "status", &status);
        ok = status == RVR_OK;
    }
    rvr_packet_free(r);
    return ok && got == want;
}

static rvr_packet *swap_cmd(const node *to, uint64_t n)
{
    rvr_packet *p = node_expect_cmd(n, &to->vr, NULL);   /* from `to` ... */
    rvr_packet_set_tag(p, "burst");                       /* ... after sending to it */
    rvr_packet_set_uuid(p, "to", &to->vr);
    return p;
}

bool node_swap(rvr_vr *self, const node *a, const node *b, uint64_t n)
{
    rvr_packet *ca = swap_cmd(b, n), *cb = swap_cmd(a, n);
    if (rvr_send(self, &a->vr, ca) != RVR_OK) {
        rvr_packet_free(ca);
        rvr_packet_free(cb);
        return false;
    }
    if (rvr_send(self, &b->vr, cb) != RVR_OK) {
        rvr_packet_free(cb);
        return false;
    }
    bool ok = node_done_ok(self, &a->vr, "burst.done", n, NULL);
    ok &= node_done_ok(self, &b->vr, "burst.done", n, NULL);
    ok &= node_done_ok(self, &a->vr, "expect.done", n, NULL);
    ok &= node_done_ok(self, &b->vr, "expect.done", n, NULL);
    return ok;
}

int raw_handshake(const char *addr, rvr_uuid *vm)
{
    int fd = raw_connect(addr);
    if (fd < 0)
        return -1;
    rvr_buf b = { 0 };
    uint8_t pre[RVR_WIRE_PREAMBLE_LEN];
    rvr_wire_preamble(pre);
    rvr_buf_append(&b, pre, sizeof pre);
    rvr_wire_hello h;
    memset(&h, 0, sizeof h);
    h.vm_id = rvr_uuid_generate();
    rvr_wire_put_hello(&b, &h);
    bool ok = raw_write(fd, b.data, b.len);
    rvr_buf_free(&b);
    /* The VM's preamble, then its HELLO answer. */
    uint8_t in[RVR_WIRE_PREAMBLE_LEN + RVR_WIRE_HDR_LEN];
    ok = ok && recv(fd, in, sizeof in, MSG_WAITALL) == (ssize_t)sizeof in;
    uint32_t len = 0;
    uint8_t type = 0;
    if (ok)
        rvr_wire_header(in + RVR_WIRE_PREAMBLE_LEN, &len, &type);
    uint8_t payload[4096];
    rvr_wire_hello r;
    ok = ok && type == RVR_FRAME_HELLO && len < sizeof payload &&
         recv(fd, payload, len, MSG_WAITALL) == (ssize_t)len &&
         rvr_wire_get_hello(payload, len, &r) == RVR_OK && r.status == RVR_HELLO_OK;
    if (!ok) {
        close(fd);
        return -1;
    }
    if (vm != NULL)
        *vm = r.vm_id;
    return fd;
}

bool raw_read_frame(int fd, uint8_t *buf, size_t cap, uint32_t *len, uint8_t *type)
{
    uint8_t h[RVR_WIRE_HDR_LEN];
    if (recv(fd, h, sizeof h, MSG_WAITALL) != (ssize_t)sizeof h)
        return false;
    rvr_wire_header(h, len, type);
    return *len <= cap && (*len == 0 || recv(fd, buf, *len, MSG_WAITALL) == (ssize_t)*len);
}
