/* wire_raw.c — received attributes kept as they came (see wire.h).
 *
 * Most messages carry a few flat attributes and are read once, by name,
 * with the typed getters.  Building a map for them on the I/O thread, then
 * looking the names up in it and tearing it down on the receiving VR's
 * thread, cost more than the rest of a receive.  So the decoder checks such
 * entries (rvr_wire_raw_check, the same rules as rvr_wire_decode_attrs) and
 * copies them, encoded, into the packet's block (rvr_packet_keep_raw); the
 * getters scan them (rvr_wire_raw_find); rvr_packet_unraw decodes them into
 * the map when a caller needs the map itself.
 *
 * A packet made with rvr_packet_new starts the same way: its setters
 * append encoded entries (rvr_packet_raw_put) while the names are new and
 * the values flat and small, so that sending it copies them and freeing it
 * frees nothing.  The raw bytes sit at the start of the map's inline
 * storage, which nothing else uses while the map is empty. */
#include "wire.h"

#include "packet_impl.h"
#include "wire_raw.h"
#include "wire_read.h"

/* Entries are kept raw only in River's own layout: names below 128 bytes
 * (a one-byte length), every other length a canonical one- or two-byte
 * varint (wire_read.h), so that the lookup reads them without checks.
 * Entry layout: T_ENTRY en T_KEY kn key T_VALUE vn value. */

/* True if key[0..kn) (kn < 128) holds a NUL or equals the name of an
 * entry in a[0..p): a byte loop, not memchr and memcmp, so that the check
 * calls nothing and keeps its state in registers. */
static inline __attribute__((always_inline)) bool key_bad(const uint8_t *a, const uint8_t *p,
                                                          const uint8_t *key, size_t kn)
{
    for (size_t i = 0; i < kn; i++)
        if (key[i] == 0)
            return true;
    for (const uint8_t *q = a; q < p;) {
        size_t w, en = raw_len(q + 1, &w), i = 0;
        const uint8_t *k = q + 1 + w + 2;
        q += 1 + w + en;
        if (k[-1] != kn)
            continue;
        while (i < kn && k[i] == key[i])
            i++;
        if (i == kn)
            return true;   /* a repeated name: the map decides which one wins */
    }
    return false;
}

bool rvr_wire_raw_check(const uint8_t *a, size_t n, uint32_t max_attrs, uint32_t *count)
{
    if (n > RVR_WIRE_RAW_BYTES)
        return false;
    uint32_t most = max_attrs < RVR_WIRE_RAW_MAX ? max_attrs : RVR_WIRE_RAW_MAX;
    const uint8_t *end = a + n, *p = a;
    uint32_t k = 0;
    while (p < end) {
        /* What decode_entry_fast in wire_msg.c accepts, and nothing else:
         * T_ENTRY en, then en bytes: T_KEY kn key T_VALUE vn value. */
        size_t en, ew, vn, vw;
        if (k == most || p[0] != T_ENTRY || !raw_len_chk(p + 1, end, &en, &ew))
            return false;
        const uint8_t *e = p + 1 + ew;
        if (en < 4 || en > (size_t)(end - e) || e[0] != T_KEY)
            return false;
        size_t kn = e[1];
        const uint8_t *key = e + 2, *v = key + kn, *eend = e + en;
        if (kn == 0 || kn >= 0x80 || kn + 4 > en || v[0] != T_VALUE ||
            !raw_len_chk(v + 1, eend, &vn, &vw) || vn < 2 || v + 1 + vw + vn != eend ||
            key_bad(a, p, key, kn) || !rvr_wire_raw_value(v + 1 + vw, vn, NULL))
            return false;
        p = eend;
        k++;
    }
    *count = k;
    return true;
}

bool rvr_packet_raw_put(rvr_packet *p, const char *name, const rvr_value *v)
{
    if (v->type == RVR_T_LIST || v->type == RVR_T_MAP)
        return false;
    size_t vs = rvr_value_enc_size(v);
    uint8_t *q = vs < RVR_WIRE_RAW_BYTES ? rvr_raw_entry_named(p, name, vs) : NULL;
    if (q != NULL)
        rvr_value_enc_put(q, v);   /* as codec.c encodes a Value */
    return q != NULL;
}

rvr_status rvr_packet_unraw_slow(const rvr_packet *cp)
{
    /* Logically const: the map is another view of the same attributes. */
    rvr_packet *p = (rvr_packet *)cp;
    rvr_map empty = p->attrs;
    p->attrs.store_next += p->raw_len;   /* the raw bytes stay where they are */
    rvr_status st = rvr_wire_decode_attrs(p->raw, p->raw_len, &p->attrs);
    if (st != RVR_OK) {
        rvr_map_fini(&p->attrs);   /* what was decoded before memory ran out */
        p->attrs = empty;
        return st;
    }
    /* Values read from the raw bytes remain valid until p is freed. */
    p->raw = NULL;
    p->raw_len = p->raw_n = 0;
    return RVR_OK;
}
