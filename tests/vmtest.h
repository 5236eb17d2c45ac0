/* vmtest.h — run CUnit tests inside a VR.
 *
 * Tests of spawning, sending and receiving need a running VM.  vmtest_main()
 * starts one with rvr_main and runs the registered CUnit suites on the
 * initial VR's thread; vmtest_self is that VR. */
#ifndef RIVER_TESTS_VMTEST_H
#define RIVER_TESTS_VMTEST_H

#include <river/river.h>
#include "cutest.h"

extern rvr_vr *vmtest_self;

/* Calls register_suites() (which calls cutest_suite), then runs them in a VR. */
int vmtest_main(int argc, char **argv, void (*register_suites)(void));

#endif
