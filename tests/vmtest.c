/* vmtest.c — see vmtest.h. */
#include "vmtest.h"

rvr_vr *vmtest_self;

static int tester(rvr_vr *self, const void *args)
{
    (void)args;
    vmtest_self = self;
    return cutest_run();
}

static RVR_VR_TYPE_NOARGS(tester_type, "tests.Tester", tester);

int vmtest_main(int argc, char **argv, void (*register_suites)(void))
{
    register_suites();
    return rvr_main(argc, argv, &tester_type);
}
