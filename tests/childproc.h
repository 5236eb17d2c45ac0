/* childproc.h — run this test program again as a child process.
 *
 * Tests of rvr_main's command line and of the VM's shutdown need a process
 * of their own: the test re-executes itself with marker arguments and
 * checks the child's exit status and output. */
#ifndef RIVER_TESTS_CHILDPROC_H
#define RIVER_TESTS_CHILDPROC_H

#include <stdbool.h>

typedef struct child_result {
    int status;          /* from waitpid */
    char out[16384];
    char err[16384];
} child_result;

/* Runs /proc/self/exe with `args` (NULL-terminated, argv[0] excluded) and
 * collects its exit status, stdout and stderr (each cut at 16 KiB). */
bool run_child(const char *const *args, child_result *r);

#endif
