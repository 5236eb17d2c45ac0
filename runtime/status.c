/* status.c — rvr_strerror. */
#include <river/status.h>

const char *rvr_strerror(int st)
{
    switch (st) {
    case RVR_OK:        return "success";
    case RVR_EINVAL:    return "invalid argument";
    case RVR_ENOMEM:    return "out of memory";
    case RVR_ETIMEDOUT: return "timed out: no matching message";
    case RVR_ECLOSED:   return "closed: the VM is stopping";
    case RVR_ENOTFOUND: return "no such VR or VM";
    case RVR_ENOATTR:   return "no such attribute";
    case RVR_ETYPE:     return "attribute has another type";
    case RVR_ELIMIT:    return "limit exceeded";
    case RVR_ERANGE:    return "out of range";
    case RVR_ESYS:      return "system call failed";
    case RVR_EPROTO:    return "malformed data";
    case RVR_EEXIST:    return "already exists";
    case RVR_ESCHEMA:   return "message cannot be converted to the requested type";
    case RVR_EABI:      return "generated code and runtime ABI differ";
    default:            return "unknown error";
    }
}
