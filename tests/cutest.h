/* cutest.h — the one CUnit runner every test program uses.
 *
 * cutest_run() runs the registered suites with the basic interface and
 * prints "subtests: N passed, N failed", which quickstart.sh sums into the
 * closing line.  It returns the process exit status. */
#ifndef RIVER_TESTS_CUTEST_H
#define RIVER_TESTS_CUTEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

int cutest_run(void);

/* Adds a suite of tests; returns 0 or aborts the test program. */
void cutest_suite(const char *name, const CU_TestInfo *tests);

#endif
