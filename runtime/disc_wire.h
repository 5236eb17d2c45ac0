/* disc_wire.h — the discovery datagram: a protobuf message (the .proto is
 * in docs/discovery.md), written and read here without generated code so
 * a malformed datagram can be rejected field by field.
 *
 *   message Datagram { fixed32 magic = 1; uint32 version = 2; uint32 kind = 3;
 *                      fixed64 nonce = 4; bool want_known = 5;
 *                      VmInfo sender = 6; repeated VmInfo known = 7; }
 *   message VmInfo   { bytes uuid = 1; string address = 2; river.Map attrs = 3;
 *                      uint32 age_ms = 4; } */
#ifndef RIVER_DISC_WIRE_H
#define RIVER_DISC_WIRE_H

#include <river/codec.h>
#include <river/discover.h>

#define RVR_DISC_MAGIC   0x52495652u   /* "RIVR" as a little-endian fixed32 */
#define RVR_DISC_VERSION 1u

enum { RVR_DISC_PROBE = 1, RVR_DISC_REPLY = 2 };

/* One VM as carried in a datagram. */
typedef struct rvr_disc_vm {
    rvr_uuid uuid;
    char address[RVR_DISC_MAX_ADDR];  /* host may be empty: ":port" */
    rvr_map *attrs;                   /* owned; NULL when absent */
    uint32_t age_ms;                  /* since the sender last heard from it */
} rvr_disc_vm;

typedef struct rvr_disc_msg {
    uint32_t kind;
    uint64_t nonce;
    bool want_known;
    bool has_sender;
    rvr_disc_vm sender;
    rvr_disc_vm *known;               /* malloc'ed by decode */
    size_t nknown;
} rvr_disc_msg;

/* Encodes a VmInfo message (no tag).  RVR_ELIMIT past RVR_DISC_MAX_INFO. */
rvr_status rvr_disc_encode_vm(const rvr_disc_vm *vm, rvr_buf *out);
/* Appends the header fields of a datagram. */
rvr_status rvr_disc_put_header(rvr_buf *b, uint32_t kind, uint64_t nonce, bool want_known);
/* Appends an encoded VmInfo as field 6 (sender) or 7 (known). */
rvr_status rvr_disc_put_vm(rvr_buf *b, uint32_t field, const rvr_buf *vm);

/* A whole probe: header plus the sender when not NULL. */
rvr_status rvr_disc_encode_probe(uint64_t nonce, bool want_known, const rvr_disc_vm *sender,
                                 rvr_buf *out);

/* Splits a reply into datagrams of at most RVR_DISC_MAX_DATAGRAM bytes and
 * RVR_DISC_MAX_LIST known VMs each; every datagram carries the sender, so
 * each stands alone when others are lost.  `emit` is called per datagram
 * (at least once); its error stops the packing. */
typedef rvr_status (*rvr_disc_emit_fn)(void *ctx, const uint8_t *p, size_t n);
rvr_status rvr_disc_pack_reply(uint64_t nonce, const rvr_buf *sender, const rvr_buf *known,
                               size_t nknown, rvr_disc_emit_fn emit, void *ctx);

/* Decodes a datagram; RVR_EPROTO when malformed (bad magic, wrong kind,
 * bad field), RVR_ELIMIT past a limit.  On error nothing stays allocated. */
rvr_status rvr_disc_decode(const uint8_t *p, size_t n, rvr_disc_msg *out);
void rvr_disc_msg_clear(rvr_disc_msg *m);
void rvr_disc_vm_clear(rvr_disc_vm *v);

#endif
