/* fulldecode.c — see fulldecode.h. */
#include "fulldecode.h"

#include <string.h>

#include "cutest.h"
#include "wire.h"

void agree_with_full(const uint8_t *p, size_t n, rvr_packet *s, const rvr_uuid *to)
{
    rvr_wire_limits def;
    rvr_wire_limits_default(&def);
    rvr_wire_msg h;
    rvr_packet *f = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg(p, n, &def, &h, &f), RVR_OK);
    CU_ASSERT(rvr_uuid_same(to, &h.dst));
    CU_ASSERT(rvr_uuid_same(rvr_packet_src(s), rvr_packet_src(f)));
    CU_ASSERT(s->wire_len == 0 && strcmp(rvr_packet_tag(s), rvr_packet_tag(f)) == 0);
    CU_ASSERT(rvr_packet_equal(s, f));
    rvr_packet_free(s);
    rvr_packet_free(f);
}
