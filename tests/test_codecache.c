/* test_codecache.c — the content-addressed program cache.
 *
 * Every test works in a fresh directory under $TMPDIR (or /tmp), removed
 * at the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codecache.h"
#include "cutest.h"

static char base[256];
static int serial;

/* A new cache directory path (not yet created). */
static void fresh_dir(char *buf, size_t n)
{
    snprintf(buf, n, "%s/c%d/nested/cache", base, ++serial);
}

static rvr_codecache *open_fresh(void)
{
    char d[400];
    fresh_dir(d, sizeof d);
    rvr_codecache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_open(d, &c), RVR_OK);
    return c;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static const char prog[] = "#!/bin/sh\nexit 7\n";

static void test_open_creates_0700(void)
{
    char d[400];
    fresh_dir(d, sizeof d);
    rvr_codecache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_open(d, &c), RVR_OK);
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(d, &sb), 0);
    CU_ASSERT(S_ISDIR(sb.st_mode));
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0700);
    CU_ASSERT_STRING_EQUAL(rvr_codecache_dir(c), d);
    CU_ASSERT_EQUAL(rvr_codecache_max_size(c), RVR_CODECACHE_DEFAULT_MAX);
    rvr_codecache_close(c);
    /* Opening an existing cache works too. */
    CU_ASSERT_EQUAL(rvr_codecache_open(d, &c), RVR_OK);
    rvr_codecache_close(c);
}

static void test_open_refuses_unsafe_dir(void)
{
    char d[400];
    fresh_dir(d, sizeof d);
    rvr_codecache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_open(d, &c), RVR_OK);
    rvr_codecache_close(c);
    CU_ASSERT_EQUAL(chmod(d, 0770), 0);
    CU_ASSERT_EQUAL(rvr_codecache_open(d, &c), RVR_EINVAL);
    CU_ASSERT_EQUAL(chmod(d, 0702), 0);
    CU_ASSERT_EQUAL(rvr_codecache_open(d, &c), RVR_EINVAL);
    CU_ASSERT_EQUAL(chmod(d, 0755), 0);   /* readable by others is fine: programs are not secrets */
    CU_ASSERT_EQUAL(rvr_codecache_open(d, &c), RVR_OK);
    rvr_codecache_close(c);

    /* A file where the directory should be. */
    char f[450];
    snprintf(f, sizeof f, "%s/file", d);
    int fd = open(f, O_WRONLY | O_CREAT, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL(rvr_codecache_open(f, &c), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_codecache_open("", &c), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_codecache_open(d, NULL), RVR_EINVAL);
}

static void test_store_lookup_run(void)
{
    rvr_codecache *c = open_fresh();
    uint8_t h[RVR_SHA256_LEN];
    rvr_sha256(prog, strlen(prog), h);
    char path[512], hex[RVR_SHA256_HEX_LEN + 1];
    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, h, path, sizeof path), RVR_ENOTFOUND);
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_store(c, h, prog, strlen(prog), path, sizeof path), RVR_OK);

    /* DIR/<sha256-hex>, mode 0700, same bytes. */
    rvr_hex_encode(h, sizeof h, hex);
    char want[512];
    snprintf(want, sizeof want, "%s/%s", rvr_codecache_dir(c), hex);
    CU_ASSERT_STRING_EQUAL(path, want);
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0700);
    CU_ASSERT_EQUAL((size_t)sb.st_size, strlen(prog));
    uint8_t fh[RVR_SHA256_LEN];
    uint64_t size = 0;
    CU_ASSERT_EQUAL(rvr_sha256_file(path, fh, &size), RVR_OK);
    CU_ASSERT(memcmp(fh, h, sizeof h) == 0);
    CU_ASSERT_EQUAL(size, strlen(prog));
    CU_ASSERT_EQUAL(count_entries(rvr_codecache_dir(c)), 1);   /* no temporary left */

    char found[512];
    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, h, found, sizeof found), RVR_OK);
    CU_ASSERT_STRING_EQUAL(found, path);
    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, h, NULL, 0), RVR_OK);
    char tiny[8];
    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, h, tiny, sizeof tiny), RVR_ELIMIT);
    CU_ASSERT_EQUAL(rvr_codecache_verify(c, h), RVR_OK);

    /* It is a program: run it. */
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    rvr_codecache_close(c);
}

static void test_mismatch_refused(void)
{
    rvr_codecache *c = open_fresh();
    uint8_t h[RVR_SHA256_LEN];
    rvr_sha256(prog, strlen(prog), h);
    h[5] ^= 1;
    CU_ASSERT_EQUAL(rvr_codecache_store(c, h, prog, strlen(prog), NULL, 0), RVR_EPROTO);
    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, h, NULL, 0), RVR_ENOTFOUND);
    CU_ASSERT_EQUAL(count_entries(rvr_codecache_dir(c)), 0);

    /* Streaming: a changed byte, a short program, a long one. */
    h[5] ^= 1;
    rvr_codecache_writer *w;
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_begin(c, h, strlen(prog), &w), RVR_OK);
    char bad[sizeof prog];
    memcpy(bad, prog, sizeof prog);
    bad[3] = 'X';
    CU_ASSERT_EQUAL(rvr_codecache_write(w, bad, strlen(bad)), RVR_OK);
    CU_ASSERT_EQUAL(rvr_codecache_commit(w, NULL, 0), RVR_EPROTO);

    CU_ASSERT_EQUAL_FATAL(rvr_codecache_begin(c, h, strlen(prog), &w), RVR_OK);
    CU_ASSERT_EQUAL(rvr_codecache_write(w, prog, 4), RVR_OK);
    CU_ASSERT_EQUAL(rvr_codecache_commit(w, NULL, 0), RVR_EPROTO);

    CU_ASSERT_EQUAL_FATAL(rvr_codecache_begin(c, h, strlen(prog), &w), RVR_OK);
    CU_ASSERT_EQUAL(rvr_codecache_write(w, prog, strlen(prog)), RVR_OK);
    CU_ASSERT_EQUAL(rvr_codecache_write(w, "x", 1), RVR_ELIMIT);
    rvr_codecache_abort(w);

    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, h, NULL, 0), RVR_ENOTFOUND);
    CU_ASSERT_EQUAL(count_entries(rvr_codecache_dir(c)), 0);   /* temporaries removed */
    rvr_codecache_close(c);
}

static void test_idempotent_and_streaming(void)
{
    rvr_codecache *c = open_fresh();
    /* A program arriving in uneven pieces. */
    size_t n = 300000;
    uint8_t *data = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 31 + (i >> 8));
    uint8_t h[RVR_SHA256_LEN];
    rvr_sha256(data, n, h);
    rvr_codecache_writer *w;
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_begin(c, h, n, &w), RVR_OK);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < 7777 ? n - off : 7777;
        CU_ASSERT_EQUAL(rvr_codecache_write(w, data + off, k), RVR_OK);
        off += k;
    }
    char path[512];
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_commit(w, path, sizeof path), RVR_OK);
    struct stat a, b;
    CU_ASSERT_EQUAL_FATAL(stat(path, &a), 0);

    /* Storing it again: RVR_OK, same file (not rewritten). */
    char again[512];
    CU_ASSERT_EQUAL(rvr_codecache_store(c, h, data, n, again, sizeof again), RVR_OK);
    CU_ASSERT_STRING_EQUAL(again, path);
    CU_ASSERT_EQUAL_FATAL(stat(path, &b), 0);
    CU_ASSERT(a.st_ino == b.st_ino);
    CU_ASSERT_EQUAL(count_entries(rvr_codecache_dir(c)), 1);

    /* An empty program is a valid (if useless) blob. */
    uint8_t he[RVR_SHA256_LEN];
    rvr_sha256("", 0, he);
    CU_ASSERT_EQUAL(rvr_codecache_store(c, he, NULL, 0, NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, he, NULL, 0), RVR_OK);
    free(data);
    rvr_codecache_close(c);
}

static void test_limits(void)
{
    rvr_codecache *c = open_fresh();
    CU_ASSERT_EQUAL(rvr_codecache_set_max_size(c, 0), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_codecache_set_max_size(c, 10), RVR_OK);
    CU_ASSERT_EQUAL(rvr_codecache_max_size(c), 10);
    uint8_t h[RVR_SHA256_LEN];
    rvr_sha256(prog, strlen(prog), h);
    CU_ASSERT_EQUAL(rvr_codecache_store(c, h, prog, strlen(prog), NULL, 0), RVR_ELIMIT);
    rvr_codecache_writer *w = NULL;
    CU_ASSERT_EQUAL(rvr_codecache_begin(c, h, strlen(prog), &w), RVR_ELIMIT);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_EQUAL(count_entries(rvr_codecache_dir(c)), 0);
    rvr_codecache_close(c);

    /* RIVER_CACHE_MAX sets the limit at open. */
    setenv("RIVER_CACHE_MAX", "12345", 1);
    c = open_fresh();
    CU_ASSERT_EQUAL(rvr_codecache_max_size(c), 12345);
    rvr_codecache_close(c);
    setenv("RIVER_CACHE_MAX", "bogus", 1);
    c = open_fresh();
    CU_ASSERT_EQUAL(rvr_codecache_max_size(c), RVR_CODECACHE_DEFAULT_MAX);
    rvr_codecache_close(c);
    unsetenv("RIVER_CACHE_MAX");
}

static void test_verify_damaged(void)
{
    rvr_codecache *c = open_fresh();
    uint8_t h[RVR_SHA256_LEN];
    rvr_sha256(prog, strlen(prog), h);
    char path[512];
    CU_ASSERT_EQUAL_FATAL(rvr_codecache_store(c, h, prog, strlen(prog), path, sizeof path), RVR_OK);
    FILE *f = fopen(path, "r+");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(rvr_codecache_verify(c, h), RVR_EPROTO);
    CU_ASSERT_EQUAL(rvr_codecache_lookup(c, h, NULL, 0), RVR_ENOTFOUND);   /* removed */
    CU_ASSERT_EQUAL(rvr_codecache_verify(c, h), RVR_ENOTFOUND);
    rvr_codecache_close(c);
}

static void test_default_dir(void)
{
    char buf[512], *save_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *save_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    char *save_dir = getenv("RIVER_CACHE_DIR") ? strdup(getenv("RIVER_CACHE_DIR")) : NULL;

    setenv("RIVER_CACHE_DIR", "/some/where", 1);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    CU_ASSERT_EQUAL(rvr_codecache_default_dir(buf, sizeof buf), RVR_OK);
    CU_ASSERT_STRING_EQUAL(buf, "/some/where");
    unsetenv("RIVER_CACHE_DIR");
    CU_ASSERT_EQUAL(rvr_codecache_default_dir(buf, sizeof buf), RVR_OK);
    CU_ASSERT_STRING_EQUAL(buf, "/xdg/river");
    setenv("XDG_CACHE_HOME", "relative", 1);   /* ignored, as the XDG spec says */
    setenv("HOME", "/home/someone", 1);
    CU_ASSERT_EQUAL(rvr_codecache_default_dir(buf, sizeof buf), RVR_OK);
    CU_ASSERT_STRING_EQUAL(buf, "/home/someone/.cache/river");
    unsetenv("XDG_CACHE_HOME");
    CU_ASSERT_EQUAL(rvr_codecache_default_dir(buf, 5), RVR_ELIMIT);

    /* The default is what open(NULL) uses. */
    char d[400];
    fresh_dir(d, sizeof d);
    setenv("RIVER_CACHE_DIR", d, 1);
    rvr_codecache *c = NULL;
    CU_ASSERT_EQUAL(rvr_codecache_open(NULL, &c), RVR_OK);
    if (c != NULL)
        CU_ASSERT_STRING_EQUAL(rvr_codecache_dir(c), d);
    rvr_codecache_close(c);

    if (save_home) setenv("HOME", save_home, 1); else unsetenv("HOME");
    if (save_xdg) setenv("XDG_CACHE_HOME", save_xdg, 1); else unsetenv("XDG_CACHE_HOME");
    if (save_dir) setenv("RIVER_CACHE_DIR", save_dir, 1); else unsetenv("RIVER_CACHE_DIR");
    free(save_home);
    free(save_xdg);
    free(save_dir);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/test_codecache.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 99;
    }
    static const CU_TestInfo tests[] = {
        { "open creates DIR 0700", test_open_creates_0700 },
        { "open refuses an unsafe DIR", test_open_refuses_unsafe_dir },
        { "store, lookup, run", test_store_lookup_run },
        { "hash mismatch refused", test_mismatch_refused },
        { "idempotent store, streaming", test_idempotent_and_streaming },
        { "size limits", test_limits },
        { "verify removes a damaged program", test_verify_damaged },
        { "default directory", test_default_dir },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("codecache", tests);
    int rc = cutest_run();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "test_codecache: could not remove %s\n", base);
    return rc;
}
