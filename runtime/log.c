/* log.c — see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int rvr_log_threshold = RVR_LOG_WARN;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int rvr_log_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void rvr_log(rvr_log_level lvl, const char *fmt, ...)
{
    /* One fprintf per line so concurrent lines do not interleave. */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "river: %s: %s\n", level_names[lvl], line);
}
