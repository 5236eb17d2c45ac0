/* riverd — the River VM daemon.
 *
 * A VM that stays up and hosts VRs sent to it: a program that deploys to
 * riverd and finds it without its VR types sends its own executable
 * (only over connections authenticated by the cluster secret), which
 * riverd verifies, caches and runs as a child VM process (hosting.c,
 * docs/deploy.md); the child stops when riverd does.  It
 * runs in the foreground and logs to stderr ("river: LEVEL: ..." lines;
 * --log-level, default info).  Options are those of every River VM:
 * --port, --bind, --peer (repeatable), --label k=v (repeatable),
 * --max-vrs, --max-frame, --secret-file, --log-level; see riverd --help.
 *
 * SIGTERM or SIGINT stops it gracefully: its VRs are told to stop (their
 * mailboxes close), the VMs connected to it receive a BYE after what was
 * queued for them, and it exits with status 0. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <river/river.h>

#include "deploy_impl.h"
#include "log.h"

static sigset_t stop_signals;

static int daemon_main(rvr_vr *self, const void *args)
{
    (void)args;
    char addr[RVR_ADDR_MAX], id[RVR_UUID_STRLEN];
    if (rvr_vm_address(self, addr, sizeof addr) != RVR_OK)
        snprintf(addr, sizeof addr, "?");
    /* Always printed: operators and scripts need the address (--port 0). */
    fprintf(stderr, "riverd: VM %s listening on %s\n", rvr_uuid_str(rvr_vm_id(self), id), addr);
    fflush(stderr);
    int sig = 0;
    if (sigwait(&stop_signals, &sig) != 0)
        return 1;
    RVR_LOG(RVR_LOG_INFO, "riverd: %s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return 0;
}

static RVR_VR_TYPE_NOARGS(daemon_type, "river.Daemon", daemon_main);

int main(int argc, char **argv)
{
    /* Blocked before any thread starts, so only sigwait() sees them. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    rvr_log_threshold = RVR_LOG_INFO;   /* a daemon tells what it does; RIVER_LOG/--log-level override */
    rvr_deploy_enable_hosting();        /* runs programs pushed to it, as child VMs */
    return rvr_main(argc, argv, &daemon_type);
}
