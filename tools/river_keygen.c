/* river_keygen.c — `river keygen [--force] FILE`.
 *
 * Writes a fresh cluster secret (32 random bytes as 64 hex digits, mode
 * 0600; see runtime/auth.h).  Every VM of a cluster must use the same file
 * (`riverd --secret-file FILE`, or RIVER_SECRET_FILE=FILE for programs).
 * An existing file is kept unless --force is given: replacing a secret
 * cuts off every VM still using the old one, so it should be deliberate. */
#include "river_keygen.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static void keygen_usage(FILE *f)
{
    fprintf(f,
        "usage: river keygen [--force] FILE\n"
        "\n"
        "Writes a new cluster secret to FILE (mode 0600).  Give the same file to\n"
        "every VM of the cluster: riverd --secret-file FILE, or RIVER_SECRET_FILE=FILE.\n"
        "Without FILE, RIVER_SECRET_FILE names it.\n"
        "\n"
        "  -f, --force   replace FILE if it exists (VMs using the old secret are\n"
        "                then refused until they get the new one)\n"
        "  -h, --help    show this help\n");
}

int river_keygen_main(int argc, char **argv)
{
    bool force = false;
    const char *path = NULL;
    bool only_files = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_files && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            keygen_usage(stdout);
            return 0;
        }
        if (!only_files && (strcmp(a, "--force") == 0 || strcmp(a, "-f") == 0)) {
            force = true;
        } else if (!only_files && strcmp(a, "--") == 0) {
            only_files = true;
        } else if (!only_files && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "river keygen: unknown option '%s'\n", a);
            keygen_usage(stderr);
            return 2;
        } else if (path == NULL) {
            path = a;
        } else {
            fprintf(stderr, "river keygen: one FILE only ('%s' and '%s' given)\n", path, a);
            return 2;
        }
    }
    if (path == NULL) {
        path = getenv("RIVER_SECRET_FILE");
        if (path == NULL || *path == '\0') {
            fprintf(stderr, "river keygen: no FILE given (and RIVER_SECRET_FILE is not set)\n");
            keygen_usage(stderr);
            return 2;
        }
    }
    char err[512] = "";
    rvr_status st = rvr_secret_generate(path, force, err, sizeof err);
    if (st != RVR_OK) {
        fprintf(stderr, "river keygen: %s\n", err[0] ? err : rvr_strerror(st));
        return 1;
    }
    printf("wrote a new cluster secret to %s (mode 0600)\n"
           "use it on every VM: riverd --secret-file %s, or RIVER_SECRET_FILE=%s\n",
           path, path, path);
    return 0;
}
