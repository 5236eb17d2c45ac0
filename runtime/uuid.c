/* uuid.c — UUIDs from libuuid. */
#include <river/uuid.h>

#include <string.h>
#include <uuid/uuid.h>

rvr_uuid rvr_uuid_generate(void)
{
    rvr_uuid u;
    uuid_generate_random(u.bytes);
    return u;
}

bool rvr_uuid_eq(const rvr_uuid *a, const rvr_uuid *b)
{
    return memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

bool rvr_uuid_is_nil(const rvr_uuid *u)
{
    static const rvr_uuid nil;
    return rvr_uuid_eq(u, &nil);
}

char *rvr_uuid_str(const rvr_uuid *u, char buf[RVR_UUID_STRLEN])
{
    uuid_unparse_lower(u->bytes, buf);
    return buf;
}

rvr_status rvr_uuid_parse(const char *s, rvr_uuid *out)
{
    if (s == NULL || out == NULL || strlen(s) != RVR_UUID_STRLEN - 1)
        return RVR_EINVAL;
    return uuid_parse(s, out->bytes) == 0 ? RVR_OK : RVR_EINVAL;
}
