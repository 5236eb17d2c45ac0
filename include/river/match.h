/* river/match.h — what a selective receive asks for.
 *
 * A match is a conjunction of constraints; a packet matches when it meets
 * every one.  An empty match (or a NULL match pointer in rvr_recv) matches
 * any packet.  Constraints:
 *   tag     the packet's tag equals a string
 *   src     the packet was sent by a given VR
 *   eq      an attribute exists and equals a value (rvr_value_equal: deep,
 *           int/uint by mathematical value)
 *   has     an attribute exists, whatever its value (the wildcard)
 *   pred    an attribute exists and a callback returns true for its value
 *   fn      a callback returns true for the whole packet
 *
 * Callbacks run on the receiving VR's thread, inside rvr_recv/rvr_peek,
 * while the mailbox is locked: they must not call River functions on the
 * same VR and should be quick.  They must give the same answer for the same
 * packet throughout one receive: a packet found not to match is not asked
 * again while that receive waits.
 *
 * Ownership: the builder copies names and values.  The caller owns the
 * match and frees it with rvr_match_free; one match may be reused for any
 * number of receives.  When a builder call fails (RVR_ENOMEM, RVR_EINVAL)
 * the match is marked broken and a receive with it returns that error, so
 * chains of builder calls need only one check.
 *
 * Thread-safety: build a match in one thread; a finished match may be used
 * by several threads at once. */
#ifndef RIVER_MATCH_H
#define RIVER_MATCH_H

#include <river/packet.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvr_match rvr_match;

typedef bool (*rvr_value_pred)(const rvr_value *v, void *ctx);
typedef bool (*rvr_packet_pred)(const rvr_packet *p, void *ctx);

rvr_match *rvr_match_new(void);         /* NULL on ENOMEM */
void rvr_match_free(rvr_match *m);      /* NULL is fine */
/* RVR_OK, or the first error a builder call met. */
rvr_status rvr_match_status(const rvr_match *m);

/* Tag and src are single constraints: a second call replaces the first. */
rvr_status rvr_match_tag(rvr_match *m, const char *tag);
rvr_status rvr_match_src(rvr_match *m, const rvr_uuid *src);
rvr_status rvr_match_eq(rvr_match *m, const char *name, const rvr_value *v); /* copies v */
rvr_status rvr_match_eq_i64(rvr_match *m, const char *name, int64_t v);
rvr_status rvr_match_eq_u64(rvr_match *m, const char *name, uint64_t v);
rvr_status rvr_match_eq_bool(rvr_match *m, const char *name, bool v);
rvr_status rvr_match_eq_f64(rvr_match *m, const char *name, double v);
rvr_status rvr_match_eq_str(rvr_match *m, const char *name, const char *s);
rvr_status rvr_match_eq_uuid(rvr_match *m, const char *name, const rvr_uuid *v);
rvr_status rvr_match_has(rvr_match *m, const char *name);
rvr_status rvr_match_pred(rvr_match *m, const char *name, rvr_value_pred fn, void *ctx);
rvr_status rvr_match_fn(rvr_match *m, rvr_packet_pred fn, void *ctx);

/* Does p meet every constraint of m?  (What rvr_recv uses; exposed for tests
 * and for filtering packets outside a mailbox.)  A NULL m matches. */
bool rvr_match_test(const rvr_match *m, const rvr_packet *p);

#ifdef __cplusplus
}
#endif
#endif
