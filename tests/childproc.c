/* childproc.c — see childproc.h. */
#include "childproc.h"

#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs this program again with `args` (NULL-terminated) and collects its
 * exit status, stdout and stderr. */
bool run_child(const char *const *args, child_result *r)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return false;
    exe[len] = '\0';
    char *argv[32];
    int argc = 0;
    argv[argc++] = exe;
    for (; args[argc - 1] != NULL && argc < 31; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;

    int po[2], pe[2];
    if (pipe(po) != 0)
        return false;
    if (pipe(pe) != 0) {
        close(po[0]);
        close(po[1]);
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    posix_spawn_file_actions_addclose(&fa, po[1]);
    posix_spawn_file_actions_addclose(&fa, pe[1]);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return false;
    }
    size_t no = 0, ne = 0;
    struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char *buf = i == 0 ? r->out : r->err;
            size_t *used = i == 0 ? &no : &ne;
            char scratch[512];
            size_t room = sizeof r->out - 1 - *used;
            ssize_t n = read(fds[i].fd, room > 0 ? buf + *used : scratch,
                             room > 0 ? room : sizeof scratch);
            if (n > 0) {
                if (room > 0)
                    *used += (size_t)n;
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    r->out[no] = '\0';
    r->err[ne] = '\0';
    while (waitpid(pid, &r->status, 0) < 0)
        if (errno != EINTR)
            return false;
    return true;
}
