/* conn_auth.c — see conn_auth.h. */
#include "conn_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth.h"

struct conn_auth {
    uint8_t nonce_i[RVR_AUTH_NONCE_LEN], nonce_r[RVR_AUTH_NONCE_LEN];
    rvr_uuid peer_id;     /* the other VM's UUID, from its HELLO */
    peer *parked;         /* attached once the proofs are checked */
    bool waiting;         /* an AUTH frame is expected */
};

static const char *const hint = "(--secret-file FILE or RIVER_SECRET_FILE)";

static bool send_auth(rvr_net *net, conn *c, const rvr_wire_auth *a)
{
    rvr_buf b = { 0 };
    bool ok = rvr_wire_put_auth(&b, a) == RVR_OK && rvr_conn_send_now(net, c, &b, "the authentication");
    rvr_buf_free(&b);
    return ok;
}

/* Tells the peer why (AUTH status 1), then closes with the same reason. */
static void refuse(rvr_net *net, conn *c, const char *why)
{
    rvr_wire_auth a = { .status = 1 };
    snprintf(a.reason, sizeof a.reason, "%s", why);
    (void)send_auth(net, c, &a);
    rvr_conn_fail(net, c, RVR_LOG_ERROR, "authentication failed: %s", why);
}

bool rvr_conn_auth_hello_out(rvr_net *net, conn *c, rvr_wire_hello *h)
{
    if (net->vm->secret == NULL)
        return true;
    if (c->auth == NULL && (c->auth = calloc(1, sizeof *c->auth)) == NULL) {
        rvr_conn_fail(net, c, RVR_LOG_WARN, "out of memory");
        return false;
    }
    if (rvr_auth_nonce(c->auth->nonce_i) != RVR_OK) {
        rvr_conn_fail(net, c, RVR_LOG_ERROR, "no random bytes for the authentication nonce");
        return false;
    }
    memcpy(h->auth_nonce, c->auth->nonce_i, RVR_AUTH_NONCE_LEN);
    h->has_nonce = true;
    return true;
}

void rvr_conn_auth_check_hello(rvr_net *net, conn *c, const rvr_wire_hello *h, rvr_wire_hello *r)
{
    if (r->status != RVR_HELLO_OK)
        return;
    if (net->vm->secret == NULL) {
        if (h->has_nonce) {
            r->status = RVR_HELLO_REFUSED;
            snprintf(r->reason, sizeof r->reason,
                     "this VM has no cluster secret and cannot authenticate %s",
                     hint);
        }
        return;
    }
    if (!h->has_nonce) {
        r->status = RVR_HELLO_REFUSED;
        snprintf(r->reason, sizeof r->reason,
                 "this VM requires the cluster secret and the connecting VM has none %s", hint);
        return;
    }
    if (c->auth == NULL && (c->auth = calloc(1, sizeof *c->auth)) == NULL) {
        r->status = RVR_HELLO_REFUSED;
        snprintf(r->reason, sizeof r->reason, "out of memory");
        return;
    }
    memcpy(c->auth->nonce_i, h->auth_nonce, RVR_AUTH_NONCE_LEN);
    if (rvr_auth_nonce(c->auth->nonce_r) != RVR_OK) {
        r->status = RVR_HELLO_REFUSED;
        snprintf(r->reason, sizeof r->reason, "no random bytes for a nonce");
        return;
    }
    c->auth->peer_id = h->vm_id;
    memcpy(r->auth_nonce, c->auth->nonce_r, RVR_AUTH_NONCE_LEN);
    r->has_nonce = true;
}

bool rvr_conn_auth_initiator(rvr_net *net, conn *c, const rvr_wire_hello *h)
{
    if (net->vm->secret == NULL)
        return true;   /* the acceptor refuses a nonce we never sent: nothing to check */
    if (!h->has_nonce || c->auth == NULL) {
        rvr_conn_fail(net, c, RVR_LOG_ERROR,
                      "authentication failed: the peer VM has no cluster secret; this VM "
                      "talks only to VMs that share its secret");
        return false;
    }
    memcpy(c->auth->nonce_r, h->auth_nonce, RVR_AUTH_NONCE_LEN);
    c->auth->peer_id = h->vm_id;
    rvr_wire_auth a = { .has_proof = true };
    rvr_auth_proof(net->vm->secret, RVR_AUTH_INITIATOR, &net->vm->id, &h->vm_id,
                   c->auth->nonce_i, c->auth->nonce_r, a.proof);
    if (!send_auth(net, c, &a))
        return false;
    c->auth->waiting = true;
    return true;
}

void rvr_conn_auth_park(conn *c, peer *p)
{
    c->auth->parked = p;
    c->auth->waiting = true;
}

bool rvr_conn_auth_pending(const conn *c)
{
    return c->auth != NULL && c->auth->waiting;
}

peer *rvr_conn_auth_frame(rvr_net *net, conn *c, const uint8_t *p, size_t n)
{
    rvr_wire_auth a;
    if (rvr_wire_get_auth(p, n, &a) != RVR_OK) {
        rvr_conn_fail(net, c, RVR_LOG_WARN, "malformed AUTH frame");
        return NULL;
    }
    if (a.status != 0) {
        rvr_conn_fail(net, c, RVR_LOG_ERROR, "refused by the peer: %s",
                      a.reason[0] ? a.reason : "authentication failed");
        return NULL;
    }
    if (!rvr_conn_auth_pending(c)) {
        rvr_conn_fail(net, c, RVR_LOG_WARN, net->vm->secret == NULL
                      ? "AUTH frame, but no cluster secret is set"
                      : "unexpected AUTH frame");
        return NULL;
    }
    const rvr_secret *s = net->vm->secret;
    rvr_auth_role me = c->initiated ? RVR_AUTH_INITIATOR : RVR_AUTH_RESPONDER;
    if (!a.has_proof || rvr_auth_verify(s, me, &net->vm->id, &c->auth->peer_id, c->auth->nonce_i,
                                        c->auth->nonce_r, a.proof) != RVR_OK) {
        refuse(net, c, c->initiated
               ? "the accepting VM's proof is wrong: it does not share this VM's cluster secret"
               : "the connecting VM's proof is wrong: it does not share this VM's cluster secret");
        return NULL;
    }
    c->auth->waiting = false;
    if (!c->initiated) {
        rvr_wire_auth mine = { .has_proof = true };
        rvr_auth_proof(s, RVR_AUTH_RESPONDER, &net->vm->id, &c->auth->peer_id, c->auth->nonce_i,
                       c->auth->nonce_r, mine.proof);
        if (!send_auth(net, c, &mine))
            return NULL;
    }
    char id[RVR_UUID_STRLEN];
    RVR_LOG(RVR_LOG_DEBUG, "VM %s authenticated (cluster secret)",
            rvr_uuid_str(&c->auth->peer_id, id));
    return c->auth->parked;
}

void rvr_conn_auth_free(conn *c)
{
    if (c->auth != NULL) {
        memset(c->auth, 0, sizeof *c->auth);
        free(c->auth);
        c->auth = NULL;
    }
}
