/* test_riverd — the daemon: it starts on an ephemeral port and says where,
 * another VM connects to it, SIGTERM stops it with status 0 and the
 * connected VM hears goodbye; bad options exit with status 2. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../vmtest.h"
#include "nettest.h"

#define SELF vmtest_self

static char riverd_path[1024];

static pid_t start(const char *log, const char *const *extra)
{
    const char *argv[16] = { riverd_path, "--port=0", "--bind=127.0.0.1", "--label=role=test" };
    int n = 4;
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

/* The "listening on" line of its log, within 10 s. */
static bool address_of(const char *log, char *addr, size_t len, char *id)
{
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(log, "r");
        char line[1024];
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            char u[64], a[512];
            if (sscanf(line, "riverd: VM %63s listening on %511s", u, a) == 2) {
                fclose(f);
                snprintf(addr, len, "%s", a);
                snprintf(id, RVR_UUID_STRLEN, "%.36s", u);
                return true;
            }
        }
        if (f != NULL)
            fclose(f);
        usleep(10000);
    }
    return false;
}

static int wait_exit(pid_t pid)
{
    int status = -1;
    for (int i = 0; i < 10000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static bool connected_to(const rvr_uuid *vm)
{
    rvr_peer_info *p;
    size_t n;
    bool found = false;
    if (rvr_vm_peers(SELF, &p, &n) != RVR_OK)
        return false;
    for (size_t i = 0; i < n; i++)
        found |= rvr_uuid_eq(&p[i].id, vm);
    free(p);
    return found;
}

static void test_lifecycle(void)
{
    pid_t pid = start("riverd_1.log", NULL);
    CU_ASSERT_FATAL(pid > 0);
    char addr[512], id[RVR_UUID_STRLEN];
    bool up = address_of("riverd_1.log", addr, sizeof addr, id);
    CU_ASSERT(up);
    if (!up) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return;
    }
    rvr_uuid want, got;
    CU_ASSERT_EQUAL(rvr_uuid_parse(id, &want), RVR_OK);
    CU_ASSERT_EQUAL(rvr_vm_connect(SELF, addr, 10000, &got), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&want, &got));
    CU_ASSERT(connected_to(&want));
    /* Connecting again finds the same VM on the same connection. */
    CU_ASSERT_EQUAL(rvr_vm_connect(SELF, addr, 10000, &got), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&want, &got));

    kill(pid, SIGTERM);
    CU_ASSERT_EQUAL(wait_exit(pid), 0);
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; i++) {
        gone = !connected_to(&want);
        if (!gone)
            usleep(10000);
    }
    CU_ASSERT(gone);
    FILE *f = fopen("riverd_1.log", "r");
    char line[1024];
    bool said = false;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        said |= strstr(line, "SIGTERM received, stopping") != NULL;
    if (f != NULL)
        fclose(f);
    CU_ASSERT(said);
}

static void test_sigint(void)
{
    pid_t pid = start("riverd_2.log", NULL);
    char addr[512], id[RVR_UUID_STRLEN];
    CU_ASSERT_FATAL(address_of("riverd_2.log", addr, sizeof addr, id));
    kill(pid, SIGINT);
    CU_ASSERT_EQUAL(wait_exit(pid), 0);
}

static void test_bad_options(void)
{
    static const char *const bad1[] = { "--max-vrs=lots", NULL };
    static const char *const bad2[] = { "--label=novalue", NULL };
    static const char *const bad3[] = { "--no-such-option", NULL };
    static const char *const help[] = { "--help", NULL };
    CU_ASSERT_EQUAL(wait_exit(start("riverd_3.log", bad1)), 2);
    CU_ASSERT_EQUAL(wait_exit(start("riverd_3.log", bad2)), 2);
    CU_ASSERT_EQUAL(wait_exit(start("riverd_3.log", bad3)), 2);
    CU_ASSERT_EQUAL(wait_exit(start("riverd_3.log", help)), 0);
}

static const CU_TestInfo tests[] = {
    { "riverd starts, serves, stops on SIGTERM, peers told", test_lifecycle },
    { "SIGINT stops it too", test_sigint },
    { "bad options exit 2, --help exits 0", test_bad_options },
    CU_TEST_INFO_NULL,
};

static void suites(void)
{
    cutest_suite("riverd", tests);
}

int main(int argc, char **argv)
{
    const char *top = getenv("TOP_BUILDDIR");
    snprintf(riverd_path, sizeof riverd_path, "%s/tools/riverd", top != NULL ? top : "../..");
    setenv("RIVER_BIND", "127.0.0.1", 1);
    setenv("RIVER_DISCOVERY", "off", 1);
    return vmtest_main(argc, argv, suites);
}
