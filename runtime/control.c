/* control.c — see control.h: the registry of operations, calls and their
 * replies, the control thread that runs handlers, and the built-in ops
 * (ps, kill). */
#include "control.h"

#include <stdlib.h>
#include <string.h>

#include "packet_impl.h"
#include "transport_impl.h"

/* ---- the registry ------------------------------------------------------------ */

typedef struct ctl_op {
    char name[65];
    rvr_ctl_handler fn;
    void *ctx;
} ctl_op;

static rvr_mutex ops_lock = PTHREAD_MUTEX_INITIALIZER;
static ctl_op ops[RVR_CTL_MAX_OPS];
static size_t nops;
static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;

static rvr_status op_ps(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req, rvr_packet *reply,
                        void *ctx);
static rvr_status op_kill(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                          rvr_packet *reply, void *ctx);

static rvr_status do_register(const char *op, rvr_ctl_handler fn, void *ctx)
{
    if (op == NULL || fn == NULL || op[0] == '\0' || strlen(op) >= sizeof ops[0].name)
        return RVR_EINVAL;
    rvr_status st = RVR_OK;
    rvr_mutex_lock(&ops_lock);
    size_t i;
    for (i = 0; i < nops; i++)
        if (strcmp(ops[i].name, op) == 0)
            break;
    if (i < nops)
        st = ops[i].fn == fn && ops[i].ctx == ctx ? RVR_OK : RVR_EEXIST;
    else if (nops == RVR_CTL_MAX_OPS)
        st = RVR_ELIMIT;
    else {
        strcpy(ops[nops].name, op);
        ops[nops].fn = fn;
        ops[nops].ctx = ctx;
        nops++;
    }
    rvr_mutex_unlock(&ops_lock);
    return st;
}

static rvr_status op_ping(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                          rvr_packet *reply, void *ctx)
{
    rvr_status st = rvr_packet_set_uuid(reply, "vm", &vm->id);
    if (st == RVR_OK && vm->net != NULL)
        st = rvr_packet_set_str(reply, "addr", rvr_net_address(vm->net));
    return st;
}

static void register_builtins(void)
{
    do_register("ping", op_ping, NULL);
    do_register("ps", op_ps, NULL);
    do_register("kill", op_kill, NULL);
}

rvr_status rvr_ctl_register(const char *op, rvr_ctl_handler fn, void *ctx)
{
    pthread_once(&builtins_once, register_builtins);
    return do_register(op, fn, ctx);
}

/* Runs the handler of req's op; fills reply's status (and error). */
static rvr_status dispatch(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                           rvr_packet *reply)
{
    pthread_once(&builtins_once, register_builtins);
    const char *op = NULL;
    ctl_op found = { .fn = NULL };
    rvr_status st = rvr_packet_get_str(req, "op", &op, NULL);
    if (st == RVR_OK) {
        rvr_mutex_lock(&ops_lock);
        for (size_t i = 0; i < nops; i++)
            if (strcmp(ops[i].name, op) == 0)
                found = ops[i];
        rvr_mutex_unlock(&ops_lock);
    }
    if (st != RVR_OK) {
        st = RVR_EINVAL;
        rvr_packet_set_str(reply, "error", "a control request needs an op (string)");
    } else if (found.fn == NULL) {
        st = RVR_ENOTFOUND;
        rvr_packet_set_str(reply, "error", "unknown operation");
    } else {
        st = found.fn(vm, from, req, reply, found.ctx);
    }
    if (st != RVR_OK && !rvr_packet_has(reply, "error"))
        rvr_packet_set_str(reply, "error", rvr_strerror(st));
    rvr_packet_set_i64(reply, "status", st);
    return st;
}

/* ---- the per-VM state -------------------------------------------------------------- */

typedef struct call {
    struct call *next;
    uint64_t req;
    rvr_packet *reply;
} call;

typedef struct job {
    struct job *next;
    rvr_uuid from;
    rvr_packet *req;
} job;

struct rvr_ctl {
    rvr_net *net;
    rvr_mutex lock;
    rvr_cond cond;            /* replies (callers), jobs (the control thread) */
    call *calls;
    uint64_t next_req;
    job *head, *tail;
    size_t njobs;
    bool thread_up, stopping;
    pthread_t thread;
};

rvr_status rvr_ctl_new(rvr_net *net, rvr_ctl **out)
{
    rvr_ctl *c = calloc(1, sizeof *c);
    if (c == NULL)
        return RVR_ENOMEM;
    c->net = net;
    c->next_req = 1;
    rvr_mutex_init(&c->lock);
    rvr_cond_init(&c->cond);
    *out = c;
    return RVR_OK;
}

void rvr_ctl_stop(rvr_ctl *c)
{
    if (c == NULL)
        return;
    rvr_mutex_lock(&c->lock);
    c->stopping = true;
    rvr_cond_broadcast(&c->cond);
    bool up = c->thread_up;
    c->thread_up = false;
    rvr_mutex_unlock(&c->lock);
    if (up)
        pthread_join(c->thread, NULL);
}

void rvr_ctl_free(rvr_ctl *c)
{
    if (c == NULL)
        return;
    rvr_ctl_stop(c);
    for (job *j = c->head, *nx; j != NULL; j = nx) {
        nx = j->next;
        rvr_packet_free(j->req);
        free(j);
    }
    rvr_mutex_destroy(&c->lock);
    rvr_cond_destroy(&c->cond);
    free(c);
}

/* Sends p (src: this VM) to the control plane of VM `to`. */
static rvr_status send_to_vm(rvr_net *net, const rvr_uuid *to, rvr_packet *p)
{
    peer *pe = rvr_peer_get(net, to, false);
    if (pe == NULL)
        return RVR_ENOTFOUND;
    p->src = net->vm->id;
    return rvr_peer_send_packet(net, pe, to, p, SIZE_MAX, true);
}

static void *ctl_main(void *arg)
{
    rvr_ctl *c = arg;
    rvr_mutex_lock(&c->lock);
    for (;;) {
        while (c->head == NULL && !c->stopping)
            rvr_cond_wait(&c->cond, &c->lock);
        if (c->stopping)
            break;
        job *j = c->head;
        c->head = j->next;
        if (c->head == NULL)
            c->tail = NULL;
        c->njobs--;
        rvr_mutex_unlock(&c->lock);
        rvr_packet *reply = rvr_packet_new(RVR_CTL_REPLY_TAG);
        uint64_t req = 0;
        rvr_packet_get_u64(j->req, "req", &req);
        if (reply != NULL) {
            rvr_packet_set_u64(reply, "req", req);
            dispatch(c->net->vm, &j->from, j->req, reply);
            if (send_to_vm(c->net, &j->from, reply) != RVR_OK) {
                RVR_LOG(RVR_LOG_INFO, "cannot answer a control request: the caller is gone");
                rvr_packet_free(reply);
            }
        }
        rvr_packet_free(j->req);
        free(j);
        rvr_mutex_lock(&c->lock);
    }
    rvr_mutex_unlock(&c->lock);
    return NULL;
}

void rvr_ctl_incoming(rvr_net *net, const rvr_uuid *from_vm, rvr_packet *p)
{
    rvr_ctl *c = net->ctl;
    uint64_t req = 0;
    rvr_packet_get_u64(p, "req", &req);
    if (strcmp(p->tag, RVR_CTL_REPLY_TAG) == 0) {
        rvr_mutex_lock(&c->lock);
        call *k = c->calls;
        while (k != NULL && k->req != req)
            k = k->next;
        if (k != NULL && k->reply == NULL) {
            k->reply = p;
            p = NULL;
            rvr_cond_broadcast(&c->cond);
        }
        rvr_mutex_unlock(&c->lock);
        rvr_packet_free(p);   /* late: its caller gave up */
        return;
    }
    if (strcmp(p->tag, RVR_CTL_TAG) != 0) {
        RVR_LOG(RVR_LOG_DEBUG, "ignoring a %s addressed to this VM", p->tag);
        rvr_packet_free(p);
        return;
    }
    job *j = malloc(sizeof *j);
    rvr_status st = j != NULL ? RVR_OK : RVR_ENOMEM;
    rvr_mutex_lock(&c->lock);
    if (st == RVR_OK && c->stopping)
        st = RVR_ECLOSED;
    else if (st == RVR_OK && c->njobs >= RVR_CTL_MAX_QUEUED)
        st = RVR_ELIMIT;
    else if (st == RVR_OK && !c->thread_up) {
        if (rvr_thread_start(&c->thread, ctl_main, c) == 0)
            c->thread_up = true;
        else
            st = RVR_ESYS;
    }
    if (st == RVR_OK) {
        j->next = NULL;
        j->from = *from_vm;
        j->req = p;
        if (c->tail != NULL)
            c->tail->next = j;
        else
            c->head = j;
        c->tail = j;
        c->njobs++;
        rvr_cond_broadcast(&c->cond);
    }
    rvr_mutex_unlock(&c->lock);
    if (st == RVR_OK)
        return;
    /* Answered here: too busy, stopping or out of resources. */
    free(j);
    rvr_packet_free(p);
    rvr_packet *r = rvr_packet_new(RVR_CTL_REPLY_TAG);
    if (r != NULL && rvr_packet_set_u64(r, "req", req) == RVR_OK &&
        rvr_packet_set_i64(r, "status", st) == RVR_OK &&
        rvr_packet_set_str(r, "error", st == RVR_ELIMIT ? "too many control requests queued"
                                                        : rvr_strerror(st)) == RVR_OK &&
        send_to_vm(net, from_vm, r) == RVR_OK)
        return;
    rvr_packet_free(r);
}

/* ---- calls ----------------------------------------------------------------------- */

rvr_packet *rvr_ctl_request_new(const char *op)
{
    rvr_packet *p = rvr_packet_new(RVR_CTL_TAG);
    if (p != NULL && rvr_packet_set_str(p, "op", op) != RVR_OK) {
        rvr_packet_free(p);
        return NULL;
    }
    return p;
}

static rvr_status reply_status(rvr_packet *r)
{
    int64_t st = RVR_EPROTO;
    rvr_packet_get_i64(r, "status", &st);
    return st <= 0 && st >= -1000 ? (rvr_status)st : RVR_EPROTO;
}

rvr_status rvr_ctl_call(rvr_vm *vm, const char *to, rvr_packet *req, int timeout_ms,
                        rvr_packet **reply)
{
    if (reply != NULL)
        *reply = NULL;
    if (vm == NULL || req == NULL || reply == NULL) {
        rvr_packet_free(req);
        return RVR_EINVAL;
    }
    rvr_net *net = vm->net;
    rvr_uuid target = vm->id;
    rvr_status st = RVR_OK;
    if (to != NULL && rvr_uuid_parse(to, &target) != RVR_OK)
        st = net != NULL ? rvr_net_connect(net, to, timeout_ms, &target) : RVR_ENOTFOUND;
    if (st == RVR_OK && rvr_uuid_eq(&target, &vm->id)) {
        /* This VM: no message at all. */
        rvr_packet *r = rvr_packet_new(RVR_CTL_REPLY_TAG);
        if (r == NULL) {
            rvr_packet_free(req);
            return RVR_ENOMEM;
        }
        st = dispatch(vm, &vm->id, req, r);
        rvr_packet_free(req);
        *reply = r;
        return st;
    }
    if (st == RVR_OK && net == NULL)
        st = RVR_ENOTFOUND;
    if (st != RVR_OK) {
        rvr_packet_free(req);
        return st;
    }
    rvr_ctl *c = net->ctl;
    call k = { .reply = NULL };
    rvr_mutex_lock(&c->lock);
    k.req = c->next_req++;
    k.next = c->calls;
    c->calls = &k;
    rvr_mutex_unlock(&c->lock);
    if ((st = rvr_packet_set_u64(req, "req", k.req)) == RVR_OK)
        st = send_to_vm(net, &target, req);
    if (st != RVR_OK)
        rvr_packet_free(req);
    uint64_t deadline = rvr_now_ns() + (uint64_t)(timeout_ms >= 0 ? timeout_ms : 3600000) * 1000000u;
    rvr_mutex_lock(&c->lock);
    while (st == RVR_OK && k.reply == NULL) {
        if (c->stopping)
            st = RVR_ECLOSED;
        else if (!rvr_cond_wait_until(&c->cond, &c->lock, deadline) && k.reply == NULL)
            st = RVR_ETIMEDOUT;
    }
    for (call **pp = &c->calls; *pp != NULL; pp = &(*pp)->next)
        if (*pp == &k) {
            *pp = k.next;
            break;
        }
    rvr_mutex_unlock(&c->lock);
    if (k.reply == NULL)
        return st;
    *reply = k.reply;
    return reply_status(k.reply);
}

/* ---- built-in operations ------------------------------------------------------------ */

static rvr_status op_ps(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req, rvr_packet *reply,
                        void *ctx)
{
    rvr_list *l = rvr_list_new();
    if (l == NULL)
        return RVR_ENOMEM;
    rvr_status st = RVR_OK;
    pthread_rwlock_rdlock(&vm->reg_lock);
    for (size_t i = 0; i < vm->nslots && st == RVR_OK; i++)
        for (rvr_vr *v = vm->slots[i]; v != NULL && st == RVR_OK; v = v->hnext) {
            rvr_map *m = rvr_map_new();
            rvr_value x;
            if (m == NULL) {
                st = RVR_ENOMEM;
                break;
            }
            x = rvr_value_uuid(&v->id);
            st = rvr_map_set(m, "id", &x);
            if (st == RVR_OK && (st = rvr_value_str(&x, v->type->name)) == RVR_OK)
                st = rvr_map_set(m, "type", &x);
            x = rvr_value_uuid(&v->parent);
            if (st == RVR_OK)
                st = rvr_map_set(m, "parent", &x);
            x = rvr_value_u64(rvr_mailbox_count(&v->mb));
            if (st == RVR_OK)
                st = rvr_map_set(m, "pending", &x);
            x = rvr_value_map(m);
            if (st != RVR_OK || (st = rvr_list_append(l, &x)) != RVR_OK)
                rvr_value_clear(&x);
        }
    pthread_rwlock_unlock(&vm->reg_lock);
    if (st == RVR_OK && (st = rvr_packet_set_list(reply, "vrs", l)) == RVR_OK)
        l = NULL;
    rvr_list_free(l);
    if (st == RVR_OK)
        st = rvr_packet_set_uuid(reply, "vm", &vm->id);
    if (st == RVR_OK && vm->net != NULL)
        st = rvr_packet_set_str(reply, "addr", rvr_net_address(vm->net));
    return st;
}

static rvr_status op_kill(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                          rvr_packet *reply, void *ctx)
{
    rvr_uuid id;
    if (rvr_packet_get_uuid(req, "vr", &id) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "kill needs vr (uuid)");
        return RVR_EINVAL;
    }
    rvr_vr *v = rvr_vm_ref_vr(vm, &id);
    if (v == NULL) {
        rvr_packet_set_str(reply, "error", "no such VR on this VM");
        return RVR_ENOTFOUND;
    }
    char a[RVR_UUID_STRLEN], b[RVR_UUID_STRLEN];
    RVR_LOG(RVR_LOG_INFO, "VR %s (%s) asked to stop by VM %s", rvr_uuid_str(&id, a), v->type->name,
            rvr_uuid_str(from, b));
    rvr_mailbox_close(&v->mb, RVR_ECLOSED);
    rvr_vr_unref(v);
    return RVR_OK;
}
