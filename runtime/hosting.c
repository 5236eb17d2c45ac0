/* hosting.c — riverd's side of code push, and the child VM it runs.
 *
 * Operations (docs/deploy.md):
 *   host {program hex, size, arch, name} -> {vm, addr} of the child VM
 *        running that program (started from the code cache if needed);
 *        RVR_ENOTFOUND with need_code=true when it is not cached
 *   code {program hex, arch, name, data bytes} -> {vm, addr}: verifies
 *        the SHA-256, caches the program, starts it as a child VM
 * Both are refused (RVR_EINVAL) by a VM without a cluster secret (code is
 * accepted only over authenticated connections) and on an arch mismatch.
 *
 * A child VM is the program run as `PROGRAM --river-host-fd=3`, fd 3 a
 * socketpair with riverd: riverd writes the cluster secret (64 hex
 * digits and a newline), the child answers "ready <vm-uuid> <addr>\n"
 * once its VM listens, then serves deploys (the "spawn" operation) until
 * riverd closes its end (riverd stopping or gone) and then stops.  Its
 * environment is riverd's, with RIVER_DISCOVERY=off (it is reached
 * through riverd, not discovered), riverd's bind host, no RIVER_PORT. */
#include "deploy_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <river/net.h>

#include "auth.h"
#include "codecache.h"
#include "control.h"
#include "log.h"
#include "transport_impl.h"

extern char **environ;

static _Atomic bool hosting;
static rvr_mutex cache_lock = PTHREAD_MUTEX_INITIALIZER;
static rvr_codecache *cache;

void rvr_deploy_enable_hosting(void) { atomic_store(&hosting, true); }
bool rvr_deploy_hosting_enabled(void) { return atomic_load(&hosting); }

static rvr_status open_cache(rvr_codecache **out)
{
    rvr_status st = RVR_OK;
    rvr_mutex_lock(&cache_lock);
    if (cache == NULL)
        st = rvr_codecache_open(NULL, &cache);
    *out = cache;
    rvr_mutex_unlock(&cache_lock);
    return st;
}

/* ---- child VMs ------------------------------------------------------------------ */

static void reap_dead(struct rvr_deploy *d)   /* d->lock held */
{
    for (rvr_child_vm **pp = &d->children; *pp != NULL;) {
        rvr_child_vm *c = *pp;
        if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
            RVR_LOG(RVR_LOG_WARN, "child VM %d (program %.16s) has ended", (int)c->pid, c->hash);
            close(c->fd);
            *pp = c->next;
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* Reads one line (up to len-1 bytes) from fd within ms. */
static bool read_line(int fd, char *buf, size_t len, int ms)
{
    size_t n = 0;
    uint64_t deadline = rvr_now_ns() + (uint64_t)ms * 1000000u;
    while (n + 1 < len) {
        uint64_t now = rvr_now_ns();
        if (now >= deadline)
            return false;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        ssize_t k = read(fd, buf + n, 1);
        if (k <= 0)
            return false;
        if (buf[n] == '\n') {
            buf[n] = '\0';
            return true;
        }
        n++;
    }
    return false;
}

/* The child's environment: riverd's with the overrides above.  Caller
 * frees the array and the strings it allocated (marked in owned). */
static char **child_env(rvr_vm *vm, char *bind_buf, size_t blen)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (env == NULL)
        return NULL;
    static const char *const drop[] = { "RIVER_PORT=", "RIVER_BIND=", "RIVER_DISCOVERY=",
                                        "RIVER_SECRET_FILE=", "RIVER_PEERS=" };
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool skip = false;
        for (size_t j = 0; j < sizeof drop / sizeof drop[0]; j++)
            skip = skip || strncmp(environ[i], drop[j], strlen(drop[j])) == 0;
        if (!skip)
            env[k++] = environ[i];
    }
    env[k++] = "RIVER_DISCOVERY=off";
    const char *addr = vm->net != NULL ? rvr_net_address(vm->net) : "";
    const char *colon = strrchr(addr, ':');
    if (colon != NULL && strncmp(addr, "0.0.0.0:", 8) != 0 && strncmp(addr, "[::]:", 5) != 0) {
        snprintf(bind_buf, blen, "RIVER_BIND=%.*s", (int)(colon - addr), addr);
        env[k++] = bind_buf;
    }
    return env;
}

/* Starts `path` as a child VM and waits for its "ready". */
static rvr_status start_child(struct rvr_deploy *d, const char *path, const char *hash,
                              const char *name, rvr_child_vm *out, char *err, size_t elen)
{
    rvr_vm *vm = d->vm;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, elen, "socketpair: %s", strerror(errno));
        return RVR_ESYS;
    }
    char bind_buf[RVR_ADDR_STRLEN + 16];
    char **env = child_env(vm, bind_buf, sizeof bind_buf);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (sv[1] == 3) {   /* dup2 onto itself would keep FD_CLOEXEC */
        int t = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
        close(sv[1]);
        sv[1] = t;
    }
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
    char *argv[] = { (char *)(name && *name ? name : path), "--river-host-fd=3", NULL };
    pid_t pid;
    int rc = env != NULL ? posix_spawn(&pid, path, &fa, NULL, argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        snprintf(err, elen, "cannot start %.200s: %s", path, strerror(rc));
        return RVR_ESYS;
    }
    char line[512];
    char hex[2 * RVR_SECRET_LEN + 2];
    rvr_hex_encode(vm->secret->key, RVR_SECRET_LEN, hex);
    strcat(hex, "\n");
    bool ok = write(sv[0], hex, strlen(hex)) == (ssize_t)strlen(hex);
    memset(hex, 0, sizeof hex);
    ok = ok && read_line(sv[0], line, sizeof line, RVR_DEPLOY_CALL_MS);
    rvr_child_vm *c = calloc(1, sizeof *c);
    char uuid[RVR_UUID_STRLEN + 1], addr[RVR_ADDR_STRLEN];
    if (!ok || c == NULL || sscanf(line, "ready %36s %299s", uuid, addr) != 2 ||
        rvr_uuid_parse(uuid, &c->vm) != RVR_OK) {
        snprintf(err, elen, "the child VM (%.200s) did not start", path);
        free(c);
        close(sv[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return RVR_ESYS;
    }
    snprintf(c->hash, sizeof c->hash, "%s", hash);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    c->pid = pid;
    c->fd = sv[0];
    c->next = NULL;
    *out = *c;   /* a copy: once listed, rvr_hosting_stop may free it */
    rvr_mutex_lock(&d->lock);
    c->next = d->children;
    d->children = c;
    rvr_mutex_unlock(&d->lock);
    RVR_LOG(RVR_LOG_INFO, "child VM %s (pid %d) runs program %.16s... at %s", uuid, (int)pid, hash,
            addr);
    return RVR_OK;
}

void rvr_hosting_stop(struct rvr_deploy *d)
{
    rvr_mutex_lock(&d->lock);
    rvr_child_vm *list = d->children;
    d->children = NULL;
    rvr_mutex_unlock(&d->lock);
    for (rvr_child_vm *c = list; c != NULL; c = c->next)
        close(c->fd);   /* EOF: the child stops */
    uint64_t deadline = rvr_now_ns() + 5000000000u;
    while (list != NULL) {
        rvr_child_vm *c = list;
        while (waitpid(c->pid, NULL, WNOHANG) == 0) {
            if (rvr_now_ns() >= deadline) {
                kill(c->pid, SIGKILL);
                waitpid(c->pid, NULL, 0);
                break;
            }
            usleep(20000);
        }
        list = c->next;
        free(c);
    }
}

/* ---- operations ----------------------------------------------------------------- */

static rvr_status check_host_req(rvr_vm *vm, const rvr_packet *req, rvr_packet *reply,
                                 const char **hex, uint8_t hash[RVR_SHA256_LEN])
{
    char e[300];
    const char *arch = NULL;
    if (!rvr_deploy_hosting_enabled()) {
        rvr_packet_set_str(reply, "error", "this VM does not run pushed programs (only riverd does)");
        return RVR_ENOTFOUND;
    }
    if (vm->secret == NULL) {
        rvr_packet_set_str(reply, "error", "code is accepted only over an authenticated "
                           "connection, and this VM has no cluster secret (--secret-file)");
        return RVR_EINVAL;
    }
    if (rvr_packet_get_str(req, "program", hex, NULL) != RVR_OK ||
        rvr_hex_decode(*hex, strlen(*hex), hash, RVR_SHA256_LEN) != RVR_OK ||
        rvr_packet_get_str(req, "arch", &arch, NULL) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "needs program (64 hex digits) and arch (string)");
        return RVR_EINVAL;
    }
    if (strcmp(arch, rvr_deploy_arch()) != 0) {
        snprintf(e, sizeof e, "architecture mismatch: this VM is %s, the program is built for %s",
                 rvr_deploy_arch(), arch);
        rvr_packet_set_str(reply, "error", e);
        rvr_packet_set_str(reply, "arch", rvr_deploy_arch());
        return RVR_EINVAL;
    }
    return RVR_OK;
}

static rvr_status answer(rvr_packet *reply, const rvr_child_vm *c)
{
    rvr_status st = rvr_packet_set_uuid(reply, "vm", &c->vm);
    return st == RVR_OK ? rvr_packet_set_str(reply, "addr", c->addr) : st;
}

/* A copy of the running child for hash (the VM stopping may free the
 * listed one), or of one started from the cache; false (and *st)
 * otherwise. */
static bool child_for(struct rvr_deploy *d, const char *hex, const uint8_t *hash,
                      const char *name, rvr_child_vm *out, rvr_status *st, char *e, size_t elen)
{
    rvr_mutex_lock(&d->lock);
    reap_dead(d);
    rvr_child_vm *c = d->children;
    while (c != NULL && strcmp(c->hash, hex) != 0)
        c = c->next;
    if (c != NULL)
        *out = *c;
    rvr_mutex_unlock(&d->lock);
    if (c != NULL) {
        RVR_LOG(RVR_LOG_INFO, "reusing child VM (pid %d) for program %.16s...", (int)out->pid, hex);
        *st = RVR_OK;
        return true;
    }
    rvr_codecache *cc;
    char path[4096];
    if ((*st = open_cache(&cc)) != RVR_OK) {
        snprintf(e, elen, "cannot open the code cache");
        return false;
    }
    if ((*st = rvr_codecache_lookup(cc, hash, path, sizeof path)) != RVR_OK) {
        snprintf(e, elen, "program %.16s... is not cached here", hex);
        return false;
    }
    *st = start_child(d, path, hex, name, out, e, elen);
    return *st == RVR_OK;
}

static rvr_status op_host(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                          rvr_packet *reply, void *ctx)
{
    (void)from, (void)ctx;
    const char *hex, *name = NULL;
    uint8_t hash[RVR_SHA256_LEN];
    char e[300];
    rvr_status st = check_host_req(vm, req, reply, &hex, hash);
    if (st != RVR_OK)
        return st;
    rvr_packet_get_str(req, "name", &name, NULL);
    rvr_child_vm c;
    if (child_for(vm->deploy, hex, hash, name, &c, &st, e, sizeof e))
        return answer(reply, &c);
    rvr_packet_set_str(reply, "error", e);
    if (st == RVR_ENOTFOUND)
        rvr_packet_set_bool(reply, "need_code", true);
    return st;
}

static rvr_status op_code(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                          rvr_packet *reply, void *ctx)
{
    (void)ctx;
    const char *hex, *name = NULL;
    const uint8_t *data;
    size_t len;
    uint8_t hash[RVR_SHA256_LEN];
    char e[300], a[RVR_UUID_STRLEN];
    rvr_status st = check_host_req(vm, req, reply, &hex, hash);
    if (st != RVR_OK)
        return st;
    rvr_packet_get_str(req, "name", &name, NULL);
    if (rvr_packet_get_bytes(req, "data", &data, &len) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "code needs data (bytes)");
        return RVR_EINVAL;
    }
    rvr_codecache *cc;
    if ((st = open_cache(&cc)) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "cannot open the code cache");
        return st;
    }
    st = rvr_codecache_store(cc, hash, data, len, NULL, 0);
    if (st != RVR_OK) {
        snprintf(e, sizeof e, "%s", st == RVR_EPROTO ? "refused: the program's SHA-256 does "
                 "not match the hash it was sent under" : st == RVR_ELIMIT
                 ? "refused: the program is larger than the cache accepts (RIVER_CACHE_MAX)"
                 : "cannot store the program");
        RVR_LOG(RVR_LOG_WARN, "program from VM %s: %s", rvr_uuid_str(from, a), e);
        rvr_packet_set_str(reply, "error", e);
        return st;
    }
    RVR_LOG(RVR_LOG_INFO, "received program %.16s... (%zu bytes) from VM %s: SHA-256 verified, "
            "cached", hex, len, rvr_uuid_str(from, a));
    rvr_child_vm c;
    if (child_for(vm->deploy, hex, hash, name, &c, &st, e, sizeof e))
        return answer(reply, &c);
    rvr_packet_set_str(reply, "error", e);
    return st;
}

void rvr_hosting_register_ops(void)
{
    rvr_ctl_register("host", op_host, NULL);
    rvr_ctl_register("code", op_code, NULL);
}

/* ---- the child: host mode ----------------------------------------------------------- */

rvr_status rvr_host_mode_args(int *argc, char **argv, int *fd, struct rvr_secret **secret)
{
    *fd = -1;
    *secret = NULL;
    static const char opt[] = "--river-host-fd=";
    for (int i = 1; argv != NULL && i < *argc; i++) {
        if (strncmp(argv[i], opt, sizeof opt - 1) != 0)
            continue;
        char *end;
        long v = strtol(argv[i] + sizeof opt - 1, &end, 10);
        if (*end != '\0' || v < 0 || v > 1 << 20)
            return RVR_EINVAL;
        for (int j = i; j + 1 <= *argc; j++)
            argv[j] = argv[j + 1];
        (*argc)--;
        *fd = (int)v;
        char line[2 * RVR_SECRET_LEN + 8];
        rvr_secret *s = malloc(sizeof *s);
        if (s == NULL || !read_line(*fd, line, sizeof line, RVR_DEPLOY_CALL_MS) ||
            rvr_hex_decode(line, strlen(line), s->key, RVR_SECRET_LEN) != RVR_OK) {
            free(s);
            return RVR_EINVAL;
        }
        memset(line, 0, sizeof line);
        *secret = s;
        return RVR_OK;
    }
    return RVR_OK;
}

/* A child VM serves its deployers: VRs whose parent's VM has had no
 * connection to this one for RIVER_ALLOC_GRACE_MS (default 5000) are told
 * to stop (their mailboxes close), so a deployer that crashed leaves no
 * VRs behind in a long-lived child VM. */
#define ORPHAN_VMS 64
typedef struct orphan_watch {
    rvr_uuid vm[ORPHAN_VMS];
    uint64_t lost_since[ORPHAN_VMS];
    size_t n;
} orphan_watch;

static int orphan_grace_ms(void)
{
    const char *s = getenv("RIVER_ALLOC_GRACE_MS");
    long v = s != NULL && *s != '\0' ? strtol(s, NULL, 10) : 5000;
    return v >= 0 && v <= 3600000 ? (int)v : 5000;
}

static void stop_orphans(rvr_vr *self, orphan_watch *w)
{
    rvr_vm *vm = self->vm;
    rvr_net_peer_info *peers;
    size_t np;
    if (vm->net == NULL || rvr_net_peers(vm->net, &peers, &np) != RVR_OK)
        return;
    uint64_t now = rvr_now_ns(), grace = (uint64_t)orphan_grace_ms() * 1000000u;
    orphan_watch next = { .n = 0 };
    pthread_rwlock_rdlock(&vm->reg_lock);
    for (size_t i = 0; i < vm->nslots; i++)
        for (rvr_vr *v = vm->slots[i]; v != NULL; v = v->hnext) {
            rvr_uuid pv;
            if (v == self || rvr_uuid_is_nil(&v->parent) ||
                !rvr_naming_lookup(vm->net->naming, &v->parent, &pv) || rvr_uuid_eq(&pv, &vm->id))
                continue;
            bool up = false;
            for (size_t k = 0; k < np && !up; k++)
                up = rvr_uuid_eq(&peers[k].id, &pv);
            if (up)
                continue;
            uint64_t since = now;
            for (size_t k = 0; k < w->n; k++)
                if (rvr_uuid_eq(&w->vm[k], &pv))
                    since = w->lost_since[k];
            if (now - since >= grace) {
                char a[RVR_UUID_STRLEN], b[RVR_UUID_STRLEN];
                RVR_LOG(RVR_LOG_INFO, "stopping VR %s: its deployer's VM %s is lost",
                        rvr_uuid_str(&v->id, a), rvr_uuid_str(&pv, b));
                rvr_mailbox_close(&v->mb, RVR_ECLOSED);
                continue;
            }
            size_t k = 0;
            while (k < next.n && !rvr_uuid_eq(&next.vm[k], &pv))
                k++;
            if (k == next.n && next.n < ORPHAN_VMS) {
                next.vm[next.n] = pv;
                next.lost_since[next.n++] = since;
            }
        }
    pthread_rwlock_unlock(&vm->reg_lock);
    free(peers);
    *w = next;
}

int rvr_host_mode_run(rvr_vr *self, int fd)
{
    orphan_watch orphans = { .n = 0 };
    char line[RVR_ADDR_STRLEN + 64], id[RVR_UUID_STRLEN], addr[RVR_ADDR_MAX];
    if (rvr_vm_address(self, addr, sizeof addr) != RVR_OK)
        return 1;
    int n = snprintf(line, sizeof line, "ready %s %s\n", rvr_uuid_str(rvr_vm_id(self), id), addr);
    if (write(fd, line, (size_t)n) != n)
        return 1;
    RVR_LOG(RVR_LOG_INFO, "hosting VM %s at %s: serving deploys for riverd", id, addr);
    while (!rvr_stopping(self)) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, 250);
        stop_orphans(self, &orphans);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0) {
            char b[64];
            ssize_t k = read(fd, b, sizeof b);
            if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
                break;   /* riverd closed its end: stopping or gone */
        }
    }
    close(fd);
    return 0;
}
