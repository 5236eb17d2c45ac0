/* sysinfo.h — facts about this host that discovery advertises.  Linux
 * first (/proc), with POSIX fallbacks so another Unix still gets answers. */
#ifndef RIVER_SYSINFO_H
#define RIVER_SYSINFO_H

#include <stddef.h>
#include <stdint.h>

#include <river/status.h>

typedef struct rvr_sysinfo {
    char host[256];       /* gethostname() */
    char arch[64];        /* uname machine, e.g. x86_64 */
    char os[64];          /* uname sysname, e.g. Linux */
    char user[64];        /* name of the effective user, or its number */
    uint32_t cores;       /* online processors, at least 1 */
    uint64_t mem_total;   /* bytes; 0 when unknown */
} rvr_sysinfo;

/* The facts that do not change while the process runs. */
void rvr_sysinfo_static(rvr_sysinfo *out);
/* 1-minute load average; 0 when unknown. */
double rvr_sysinfo_load(void);
/* Memory available to new programs, in bytes (MemAvailable); 0 when unknown. */
uint64_t rvr_sysinfo_mem_free(void);

/* The absolute path of this program's executable (readlink
 * /proc/self/exe), what a code push sends.  RVR_ELIMIT when it does not
 * fit in len bytes with its NUL, RVR_ESYS when the OS cannot tell (no
 * /proc), RVR_EINVAL for a NULL or empty buffer. */
rvr_status rvr_self_exe(char *buf, size_t len);

/* This host's machine name from uname (e.g. "x86_64", "aarch64"): a
 * pushed program runs only where it matches.  A static string, computed
 * once; "unknown" when uname fails.  Thread-safe. */
const char *rvr_arch(void);

#endif
