/* sysinfo.c — see sysinfo.h. */
#include "sysinfo.h"

#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "platform.h"

static void copy(char *dst, size_t cap, const char *src)
{
    /* Truncation is fine: these are labels for people and filters. */
    if (src == NULL || *src == '\0')
        src = "unknown";
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A field of /proc/meminfo, in bytes; 0 when absent. */
static uint64_t meminfo(const char *field)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return 0;
    char line[256];
    size_t flen = strlen(field);
    uint64_t v = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            unsigned long long kb;
            if (sscanf(line + flen + 1, "%llu", &kb) == 1)
                v = (uint64_t)kb * 1024u;
            break;
        }
    }
    fclose(f);
    return v;
}

void rvr_sysinfo_static(rvr_sysinfo *out)
{
    memset(out, 0, sizeof *out);
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0)
        h[0] = '\0';
    copy(out->host, sizeof out->host, h);

    struct utsname u;
    if (uname(&u) == 0) {
        copy(out->arch, sizeof out->arch, u.machine);
        copy(out->os, sizeof out->os, u.sysname);
    } else {
        copy(out->arch, sizeof out->arch, NULL);
        copy(out->os, sizeof out->os, NULL);
    }

    /* getpwuid_r, not getpwuid: discovery may start from any thread. */
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL)
        copy(out->user, sizeof out->user, pw.pw_name);
    else
        snprintf(out->user, sizeof out->user, "%lu", (unsigned long)geteuid());

    out->cores = (uint32_t)rvr_ncpus();
    out->mem_total = meminfo("MemTotal");
    if (out->mem_total == 0) {
        struct sysinfo si;
        if (sysinfo(&si) == 0)
            out->mem_total = (uint64_t)si.totalram * si.mem_unit;
    }
}

double rvr_sysinfo_load(void)
{
    double l[1];
    return getloadavg(l, 1) == 1 ? l[0] : 0.0;
}

uint64_t rvr_sysinfo_mem_free(void)
{
    /* MemAvailable counts reclaimable cache, which is what a scheduler
     * placing work wants; freeram alone understates it badly. */
    uint64_t v = meminfo("MemAvailable");
    if (v == 0) {
        struct sysinfo si;
        if (sysinfo(&si) == 0)
            v = (uint64_t)si.freeram * si.mem_unit;
    }
    return v;
}

rvr_status rvr_self_exe(char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return RVR_EINVAL;
    ssize_t n = readlink("/proc/self/exe", buf, len);
    if (n < 0) {
        buf[0] = '\0';
        return RVR_ESYS;
    }
    /* readlink does not terminate, and fills the buffer when truncating. */
    if ((size_t)n >= len) {
        buf[0] = '\0';
        return RVR_ELIMIT;
    }
    buf[n] = '\0';
    return RVR_OK;
}

static char arch_name[64];
static pthread_once_t arch_once = PTHREAD_ONCE_INIT;

static void arch_init(void)
{
    struct utsname u;
    copy(arch_name, sizeof arch_name, uname(&u) == 0 ? u.machine : NULL);
}

const char *rvr_arch(void)
{
    pthread_once(&arch_once, arch_init);
    return arch_name;
}
