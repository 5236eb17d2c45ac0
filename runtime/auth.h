/* auth.h — the cluster secret and the mutual challenge-response that
 * opens a connection between two VMs that share it.
 *
 * The secret.  32 random bytes, stored as 64 lower-case hex digits and a
 * newline in a file of mode 0600 (`river keygen FILE`).  Like ssh with a
 * private key, loading refuses a file that group or others may read, or
 * that belongs to another user: a secret others can read is no secret, and
 * saying so beats silently weakening the cluster.
 *
 * The handshake (pure functions: no I/O, so the transport can drive them
 * from its event loop).  The connecting VM is the INITIATOR (I), the
 * accepting one the RESPONDER (R).  Each picks a fresh 32-byte random nonce
 * (rvr_auth_nonce).  After both nonces and both VM UUIDs have been
 * exchanged, each side sends its proof and checks the other's:
 *
 *   proof(P) = HMAC-SHA256(secret,
 *                 "river-auth-v1"           13 ASCII bytes, no NUL
 *              || role(P)                   1 byte: 'I' (0x49) or 'R' (0x52)
 *              || uuid(P)                   16 bytes: the prover's VM UUID
 *              || uuid(V)                   16 bytes: the verifier's VM UUID
 *              || nonce_I                   32 bytes: the initiator's nonce
 *              || nonce_R)                  32 bytes: the responder's nonce
 *
 * where P is the side proving and V the side verifying.  The nonces appear
 * in the same order (initiator's first) in both proofs; the role byte and
 * the order of the UUIDs are what make the two proofs of one connection
 * different.  Consequences, each covered by tests/test_auth.c:
 *   - a peer without the secret cannot compute a proof;
 *   - a proof cannot be reflected back to its author (the role byte and
 *     the UUID order differ), so a responder cannot be used as an oracle
 *     to authenticate to itself;
 *   - a proof from an earlier connection is useless (fresh nonces from
 *     both sides), and a proof names the two VMs, so it cannot be relayed
 *     to a third VM;
 *   - the verifier refuses equal nonces (a reflected challenge).
 * Proofs are compared in constant time.
 *
 * What it does not do: encrypt or authenticate the frames after the
 * handshake.  An attacker on the path can still read traffic or take over
 * an established connection; rvr_auth_session_key derives a per-connection
 * key for a frame MAC should the transport add one.  Suggested order on the
 * wire (the transport owns it): I→R hello(uuid_I, nonce_I); R→I
 * hello(uuid_R, nonce_R); I→R proof(I); R checks it, then R→I proof(R); I
 * checks it.  The initiator proves first so an unauthenticated caller gets
 * no proof out of a responder. */
#ifndef RIVER_AUTH_H
#define RIVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <river/status.h>
#include <river/uuid.h>

#define RVR_SECRET_LEN 32        /* bytes of key material */
#define RVR_AUTH_NONCE_LEN 32
#define RVR_AUTH_PROOF_LEN 32    /* an HMAC-SHA256 */
#define RVR_AUTH_LABEL "river-auth-v1"
#define RVR_AUTH_SESSION_LABEL "river-session-v1"

typedef struct rvr_secret {
    uint8_t key[RVR_SECRET_LEN];
} rvr_secret;

typedef enum rvr_auth_role {
    RVR_AUTH_INITIATOR = 'I',    /* the side that connected */
    RVR_AUTH_RESPONDER = 'R'     /* the side that accepted */
} rvr_auth_role;

/* ---- randomness ---- */

/* n bytes from the kernel's CSPRNG (getrandom, else /dev/urandom).
 * RVR_ESYS when neither works: never falls back to a weak source. */
rvr_status rvr_random_bytes(void *buf, size_t n);

/* ---- the secret file ---- */

/* Writes a fresh secret to `path` with mode 0600.  An existing file is
 * left alone (RVR_EEXIST) unless `force`, in which case it is replaced
 * atomically (a temporary file beside it, fsync, rename), so a crash
 * never leaves a half-written secret.  On error a one-line explanation
 * naming the path goes to err (errlen bytes; may be NULL). */
rvr_status rvr_secret_generate(const char *path, bool force, char *err, size_t errlen);

/* Reads the secret in `path` into *out.  Refused, with an explanation in
 * err: a file group or others may access (RVR_EINVAL, "permissions 0644
 * ... are too open"), one owned by another user than this process's
 * effective user or root (RVR_EINVAL), not a regular file (RVR_EINVAL),
 * content that is not 64 hex digits (surrounding whitespace allowed;
 * RVR_EPROTO), or an OS error (RVR_ESYS, or RVR_ENOTFOUND when missing). */
rvr_status rvr_secret_load(const char *path, rvr_secret *out, char *err, size_t errlen);

/* Overwrites the key material. */
void rvr_secret_wipe(rvr_secret *s);

/* ---- the handshake ---- */

/* A fresh nonce for one connection. */
rvr_status rvr_auth_nonce(uint8_t out[RVR_AUTH_NONCE_LEN]);

/* The proof that `role`, on VM `self`, talking to VM `peer`, knows the
 * secret (the construction above).  `nonce_i` is always the initiator's
 * nonce and `nonce_r` the responder's, whichever side calls. */
void rvr_auth_proof(const rvr_secret *s, rvr_auth_role role, const rvr_uuid *self,
                    const rvr_uuid *peer, const uint8_t nonce_i[RVR_AUTH_NONCE_LEN],
                    const uint8_t nonce_r[RVR_AUTH_NONCE_LEN],
                    uint8_t out[RVR_AUTH_PROOF_LEN]);

/* Checks the proof received from the peer.  `my_role` is the caller's role
 * (the peer's is the other one); `self` and `peer` are as the caller sees
 * them.  RVR_OK when it is right; RVR_EPROTO when it is wrong or the two
 * nonces are equal; RVR_EINVAL for NULL arguments. */
rvr_status rvr_auth_verify(const rvr_secret *s, rvr_auth_role my_role, const rvr_uuid *self,
                           const rvr_uuid *peer, const uint8_t nonce_i[RVR_AUTH_NONCE_LEN],
                           const uint8_t nonce_r[RVR_AUTH_NONCE_LEN],
                           const uint8_t proof[RVR_AUTH_PROOF_LEN]);

/* A key for this connection only (both sides compute the same):
 * HMAC-SHA256(secret, "river-session-v1" || uuid_I || uuid_R || nonce_I
 * || nonce_R).  For a future per-frame MAC; unused by the handshake. */
void rvr_auth_session_key(const rvr_secret *s, const rvr_uuid *initiator,
                          const rvr_uuid *responder, const uint8_t nonce_i[RVR_AUTH_NONCE_LEN],
                          const uint8_t nonce_r[RVR_AUTH_NONCE_LEN],
                          uint8_t out[RVR_SECRET_LEN]);

#endif
