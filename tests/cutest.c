/* cutest.c — see cutest.h. */
#include "cutest.h"

#include <stdio.h>
#include <stdlib.h>

void cutest_suite(const char *name, const CU_TestInfo *tests)
{
    if (CU_get_registry() == NULL && CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "cutest: cannot initialise CUnit\n");
        exit(99);
    }
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (s == NULL) {
        fprintf(stderr, "cutest: cannot add suite %s\n", name);
        exit(99);
    }
    for (const CU_TestInfo *t = tests; t->pName != NULL; t++)
        if (CU_add_test(s, t->pName, t->pTestFunc) == NULL)
            exit(99);
}

int cutest_run(void)
{
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned run = CU_get_number_of_tests_run();
    unsigned failed = CU_get_number_of_tests_failed();
    unsigned asserts_failed = CU_get_number_of_failures();
    printf("subtests: %u passed, %u failed\n", run - failed, failed);
    CU_cleanup_registry();
    return (failed || asserts_failed) ? 1 : 0;
}
