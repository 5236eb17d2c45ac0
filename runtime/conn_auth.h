/* conn_auth.h — the cluster-secret handshake on one connection (the
 * HMAC challenge-response of auth.h, framed as in docs/protocol.md,
 * "Authentication").  Runs on the I/O thread, driven by conn.c:
 *
 *   I -> R  HELLO {..., auth_nonce = nonce_I}      (I has a secret)
 *   R -> I  HELLO {status OK, auth_nonce = nonce_R}
 *   I -> R  AUTH  {proof = proof(I)}
 *   R -> I  AUTH  {proof = proof(R)}   R is ready after sending it
 *                                      I is ready after checking it
 *
 * A VM with a secret refuses a HELLO without a nonce, and a VM without
 * one refuses a HELLO with a nonce (both with HELLO status REFUSED and a
 * reason); a wrong proof is answered AUTH {status 1, reason} and the
 * connection closed.  Each side logs why.
 *
 * Ownership: c->auth (a conn_auth) is allocated here and freed by
 * rvr_conn_auth_free (conn.c calls it from rvr_conn_unref). */
#ifndef RIVER_CONN_AUTH_H
#define RIVER_CONN_AUTH_H

#include "transport_impl.h"

/* Initiator: adds this VM's nonce to the outgoing HELLO when it has a
 * secret.  False (c failed) on error. */
bool rvr_conn_auth_hello_out(rvr_net *net, conn *c, rvr_wire_hello *h);

/* Acceptor: checks the initiator's HELLO against this VM's secret and,
 * when both authenticate, adds this VM's nonce to the answer r.  Sets
 * r->status REFUSED with a reason when one side has a secret and the
 * other has none. */
void rvr_conn_auth_check_hello(rvr_net *net, conn *c, const rvr_wire_hello *h,
                               rvr_wire_hello *r);

/* Initiator, after an OK HELLO from the acceptor: false when the
 * connection must close (failed here, with a logged reason).  When it
 * returns true and c->auth is not NULL, the proof was sent and the caller
 * waits for the acceptor's (keeping p in c->auth via rvr_conn_auth_park);
 * when c->auth is NULL, no authentication: attach now. */
bool rvr_conn_auth_initiator(rvr_net *net, conn *c, const rvr_wire_hello *h);

/* Remembers the peer to attach once the proofs are checked. */
void rvr_conn_auth_park(conn *c, peer *p);
/* True while c waits for an AUTH frame. */
bool rvr_conn_auth_pending(const conn *c);

/* An AUTH frame arrived.  Returns the peer to attach now (both proofs
 * checked), or NULL when there is nothing to do or the connection failed. */
peer *rvr_conn_auth_frame(rvr_net *net, conn *c, const uint8_t *p, size_t n);

void rvr_conn_auth_free(conn *c);

#endif
