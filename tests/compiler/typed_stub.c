/* typed_stub.c — stand-ins for the typed-message entry points of libriver
 * (rvr_send_typed & co, declared in river/schema.h) while the runtime does
 * not provide them yet.  Weak, so the real ones win once they exist. */
#include <river/schema.h>

#define WEAK __attribute__((weak))

WEAK rvr_status rvr_schema_register(const rvr_schema *s) { (void)s; return RVR_OK; }
WEAK const rvr_schema *rvr_schema_find(const char *name) { (void)name; return NULL; }
WEAK rvr_status rvr_send_typed(rvr_vr *self, const rvr_uuid *dst, const rvr_schema *s, void *msg)
{
    (void)self; (void)dst; (void)s; (void)msg;
    return RVR_EINVAL;
}
WEAK rvr_status rvr_recv_typed(rvr_vr *self, const rvr_schema *s, const rvr_match *extra,
                               int timeout_ms, void *out)
{
    (void)self; (void)s; (void)extra; (void)timeout_ms; (void)out;
    return RVR_EINVAL;
}
WEAK rvr_status rvr_recv_typed_any(rvr_vr *self, const rvr_schema *const *schemas, size_t n,
                                   int timeout_ms, size_t *which, void *out)
{
    (void)self; (void)schemas; (void)n; (void)timeout_ms; (void)which; (void)out;
    return RVR_EINVAL;
}
