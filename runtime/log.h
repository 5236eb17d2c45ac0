/* log.h — the runtime's log: lines on stderr, filtered by level.
 * The level comes from --log-level or RIVER_LOG (error, warn, info, debug);
 * the default is warn. */
#ifndef RIVER_LOG_H
#define RIVER_LOG_H

typedef enum { RVR_LOG_ERROR, RVR_LOG_WARN, RVR_LOG_INFO, RVR_LOG_DEBUG } rvr_log_level;

extern int rvr_log_threshold;

/* Parses a level name; -1 if unknown. */
int rvr_log_parse_level(const char *name);
void rvr_log(rvr_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define RVR_LOG(lvl, ...) \
    do { if ((int)(lvl) <= rvr_log_threshold) rvr_log((lvl), __VA_ARGS__); } while (0)

#endif
