/* vmnet.c — the public face of a VM on the network (river/net.h). */
#include <river/net.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "vm.h"

rvr_status rvr_vm_address(rvr_vr *self, char *buf, size_t len)
{
    if (self == NULL || buf == NULL)
        return RVR_EINVAL;
    if (self->vm->net == NULL)
        return RVR_ENOTFOUND;
    const char *a = rvr_net_address(self->vm->net);
    if (strlen(a) >= len)
        return RVR_ELIMIT;
    memcpy(buf, a, strlen(a) + 1);
    return RVR_OK;
}

rvr_status rvr_vm_peers(rvr_vr *self, rvr_peer_info **out, size_t *n)
{
    if (self == NULL || out == NULL || n == NULL)
        return RVR_EINVAL;
    if (self->vm->net == NULL) {
        *out = calloc(1, sizeof **out);
        *n = 0;
        return *out != NULL ? RVR_OK : RVR_ENOMEM;
    }
    rvr_net_peer_info *v;
    size_t k;
    rvr_status st = rvr_net_peers(self->vm->net, &v, &k);
    if (st != RVR_OK)
        return st;
    rvr_peer_info *r = calloc(k ? k : 1, sizeof *r);
    if (r == NULL) {
        free(v);
        return RVR_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        r[i].id = v[i].id;
        snprintf(r[i].addr, sizeof r[i].addr, "%s", v[i].addr);
    }
    free(v);
    *out = r;
    *n = k;
    return RVR_OK;
}

rvr_status rvr_vm_connect(rvr_vr *self, const char *addr, int timeout_ms, rvr_uuid *vm)
{
    if (self == NULL || addr == NULL || vm == NULL)
        return RVR_EINVAL;
    if (self->vm->net == NULL)
        return RVR_ENOTFOUND;
    if (rvr_stopping(self))
        return RVR_ECLOSED;
    return rvr_net_connect(self->vm->net, addr, timeout_ms, vm);
}

rvr_status rvr_locate(rvr_vr *self, const rvr_uuid *vr, int timeout_ms, rvr_uuid *vm)
{
    if (self == NULL || vr == NULL || vm == NULL)
        return RVR_EINVAL;
    rvr_vr *local = rvr_vm_ref_vr(self->vm, vr);
    if (local != NULL) {
        rvr_vr_unref(local);
        *vm = self->vm->id;
        return RVR_OK;
    }
    if (self->vm->net == NULL)
        return RVR_ENOTFOUND;
    return rvr_net_locate(self->vm->net, vr, timeout_ms, vm);
}
