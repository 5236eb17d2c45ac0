/* rt_vrs.c — the bodies of the VRs rt.rvr declares (linked, never run). */
#include "rt.rvr.h"

int rt_Node_main(rvr_vr *self, const rt_Node_args *args)
{
    (void)self;
    (void)args;
    return 0;
}

int rt_Leaf_main(rvr_vr *self, const rt_Leaf_args *args)
{
    (void)self;
    (void)args;
    return 0;
}
