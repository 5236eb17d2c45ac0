/* args.h — a VR's typed arguments: parsing them from argv, copying them
 * for a new VR, and freeing the copy. */
#ifndef RIVER_ARGS_H
#define RIVER_ARGS_H

#include <stdio.h>
#include <river/vr.h>

/* A private copy of `src` (the type's defaults when NULL): string members
 * are duplicated.  *out is NULL for a type without arguments. */
rvr_status rvr_args_copy(const rvr_vr_type *t, const void *src, void **out);
void rvr_args_free(const rvr_vr_type *t, void *args);

/* Options common to every River program, found while parsing argv. */
typedef struct rvr_common_opts {
    bool help;
    int log_level;            /* -1: not given */
    /* The VM's network options, unless the VR type declares an argument of
     * the same name (then it is the VR's).  --peer and --label are taken
     * out of argv earlier, by rvr_disc_options (discovery.h). */
    int port;                 /* --port=N; -1: not given */
    const char *bind;         /* --bind=HOST; NULL: not given (points into argv) */
    long long max_vrs;        /* --max-vrs=N; -1: not given */
    long long max_frame;      /* --max-frame=BYTES; -1: not given */
    const char *secret_file;  /* --secret-file=FILE; NULL: not given (points into argv) */
} rvr_common_opts;

/* Parses argv[1..] into a fresh copy of the type's arguments (*out, free
 * with rvr_args_free).  Errors are printed to `err` with the program name;
 * RVR_EINVAL on a bad option. */
rvr_status rvr_args_parse(const rvr_vr_type *t, int argc, char **argv, void **out,
                          rvr_common_opts *common, FILE *err);

/* The --help text: usage, each argument with its type and default. */
void rvr_args_help(const rvr_vr_type *t, const char *prog, FILE *f);

#endif
