/* river/status.h — error codes.
 *
 * Every fallible call returns an rvr_status: RVR_OK (0) on success or a
 * negative code.  rvr_strerror() gives a static, human-readable string for
 * any value (unknown values included); it is thread-safe. */
#ifndef RIVER_STATUS_H
#define RIVER_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rvr_status {
    RVR_OK        =   0,
    RVR_EINVAL    =  -1,  /* bad argument (NULL where not allowed, bad name ...) */
    RVR_ENOMEM    =  -2,  /* out of memory */
    RVR_ETIMEDOUT =  -3,  /* no matching message within the timeout (0 = poll) */
    RVR_ECLOSED   =  -4,  /* the VM is stopping: the mailbox is closed */
    RVR_ENOTFOUND =  -5,  /* no such VR (or VM) */
    RVR_ENOATTR   =  -6,  /* the packet has no attribute of that name */
    RVR_ETYPE     =  -7,  /* the attribute exists but holds another type */
    RVR_ELIMIT    =  -8,  /* a documented limit would be exceeded (depth, count, size) */
    RVR_ERANGE    =  -9,  /* index or value out of range */
    RVR_ESYS      = -10,  /* an operating-system call failed (see errno) */
    RVR_EPROTO    = -11,  /* malformed data (wire or encoded message) */
    RVR_EEXIST    = -12,  /* already exists */
    RVR_ESCHEMA   = -13,  /* a message cannot be converted to the requested type */
    RVR_EABI      = -14   /* generated code and runtime disagree */
} rvr_status;

/* A static string describing `st`.  Never NULL. */
const char *rvr_strerror(int st);

#ifdef __cplusplus
}
#endif
#endif
