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
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <river/river.h>

#include "deploy_impl.h"
#include "log.h"

/* SIGTERM and SIGINT are caught by a handler that writes the signal number
 * into a pipe, and the daemon VR reads it.  (Not sigwait(): a thread that a
 * library or a sanitizer starts before main has them unblocked, and the
 * default action would kill the daemon without a clean stop.) */
static int stop_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(stop_pipe[1], &b, 1);
    (void)r;
    errno = saved;
}

static int daemon_main(rvr_vr *self, const void *args)
{
    (void)args;
    char addr[RVR_ADDR_MAX], id[RVR_UUID_STRLEN];
    if (rvr_vm_address(self, addr, sizeof addr) != RVR_OK)
        snprintf(addr, sizeof addr, "?");
    /* Always printed: operators and scripts need the address (--port 0). */
    fprintf(stderr, "riverd: VM %s listening on %s\n", rvr_uuid_str(rvr_vm_id(self), id), addr);
    fflush(stderr);
    unsigned char sig = 0;
    ssize_t r;
    while ((r = read(stop_pipe[0], &sig, 1)) < 0 && errno == EINTR)
        ;
    if (r != 1)
        return 1;
    RVR_LOG(RVR_LOG_INFO, "riverd: %s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return 0;
}

static RVR_VR_TYPE_NOARGS(daemon_type, "river.Daemon", daemon_main);

int main(int argc, char **argv)
{
    if (pipe2(stop_pipe, O_CLOEXEC) != 0) {
        perror("riverd: pipe");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    /* No SA_RESTART: the daemon VR's read of the pipe returns EINTR (and
     * reads again).  With restarting, ThreadSanitizer, which runs handlers
     * only when the interrupted call returns, never ran this one. */
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rvr_log_threshold = RVR_LOG_INFO;   /* a daemon tells what it does; RIVER_LOG/--log-level override */
    rvr_deploy_enable_hosting();        /* runs programs pushed to it, as child VMs */
    return rvr_main(argc, argv, &daemon_type);
}
