/* codecache.c — see codecache.h. */
#include "codecache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

struct rvr_codecache {
    char *dir;
    uint64_t max;
};

struct rvr_codecache_writer {
    rvr_codecache *c;
    uint8_t hash[RVR_SHA256_LEN];
    uint64_t size, written;
    rvr_sha256_ctx sha;
    int fd;
    char tmp[PATH_MAX];
};

/* ---- the directory ---- */

rvr_status rvr_codecache_default_dir(char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return RVR_EINVAL;
    const char *env = getenv("RIVER_CACHE_DIR");
    int n;
    if (env != NULL && *env != '\0') {
        n = snprintf(buf, len, "%s", env);
    } else if ((env = getenv("XDG_CACHE_HOME")) != NULL && env[0] == '/') {
        /* The XDG spec says to ignore a relative XDG_CACHE_HOME. */
        n = snprintf(buf, len, "%s/river", env);
    } else {
        const char *home = getenv("HOME");
        struct passwd pw, *res = NULL;
        char pwbuf[1024];
        if ((home == NULL || *home == '\0') &&
            getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res != NULL)
            home = pw.pw_dir;
        if (home == NULL || *home == '\0')
            return RVR_ENOTFOUND;
        n = snprintf(buf, len, "%s/.cache/river", home);
    }
    return n < 0 || (size_t)n >= len ? RVR_ELIMIT : RVR_OK;
}

/* mkdir -p: parents get the usual 0755 (less the umask), the cache itself
 * 0700. */
static rvr_status make_dirs(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST)
            return RVR_ESYS;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return RVR_ESYS;
    return RVR_OK;
}

static uint64_t env_max(void)
{
    const char *s = getenv("RIVER_CACHE_MAX");
    if (s == NULL || *s == '\0')
        return RVR_CODECACHE_DEFAULT_MAX;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v == 0) {
        RVR_LOG(RVR_LOG_WARN, "ignoring RIVER_CACHE_MAX=%s (expected a byte count > 0)", s);
        return RVR_CODECACHE_DEFAULT_MAX;
    }
    return (uint64_t)v;
}

rvr_status rvr_codecache_open(const char *dir, rvr_codecache **out)
{
    if (out == NULL)
        return RVR_EINVAL;
    *out = NULL;
    char path[PATH_MAX];
    if (dir != NULL) {
        if (*dir == '\0' || strlen(dir) >= sizeof path)
            return RVR_EINVAL;
        strcpy(path, dir);
    } else {
        rvr_status st = rvr_codecache_default_dir(path, sizeof path);
        if (st != RVR_OK)
            return st;
    }
    /* Trailing slashes would make "DIR//hash" names; harmless but ugly. */
    for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
        path[n - 1] = '\0';
    if (make_dirs(path) != RVR_OK) {
        RVR_LOG(RVR_LOG_ERROR, "program cache %s: cannot create: %s", path, strerror(errno));
        return RVR_ESYS;
    }
    struct stat sb;
    if (stat(path, &sb) != 0)
        return RVR_ESYS;
    if (!S_ISDIR(sb.st_mode)) {
        RVR_LOG(RVR_LOG_ERROR, "program cache %s: not a directory", path);
        return RVR_EINVAL;
    }
    if (sb.st_uid != geteuid()) {
        RVR_LOG(RVR_LOG_ERROR, "program cache %s: belongs to user %lu, not to this user (%lu)",
                path, (unsigned long)sb.st_uid, (unsigned long)geteuid());
        return RVR_EINVAL;
    }
    if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        RVR_LOG(RVR_LOG_ERROR, "program cache %s: writable by group or others (mode %04o); "
                "anyone could plant a program there (chmod 700 %s)",
                path, (unsigned)(sb.st_mode & 07777), path);
        return RVR_EINVAL;
    }
    rvr_codecache *c = calloc(1, sizeof *c);
    if (c == NULL || (c->dir = strdup(path)) == NULL) {
        free(c);
        return RVR_ENOMEM;
    }
    c->max = env_max();
    *out = c;
    return RVR_OK;
}

void rvr_codecache_close(rvr_codecache *c)
{
    if (c == NULL)
        return;
    free(c->dir);
    free(c);
}

const char *rvr_codecache_dir(const rvr_codecache *c)
{
    return c != NULL ? c->dir : NULL;
}

rvr_status rvr_codecache_set_max_size(rvr_codecache *c, uint64_t max)
{
    if (c == NULL || max == 0)
        return RVR_EINVAL;
    c->max = max;
    return RVR_OK;
}

uint64_t rvr_codecache_max_size(const rvr_codecache *c)
{
    return c != NULL ? c->max : 0;
}

static rvr_status entry_path(const rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN],
                             char *buf, size_t len)
{
    char hex[RVR_SHA256_HEX_LEN + 1];
    rvr_hex_encode(hash, RVR_SHA256_LEN, hex);
    int n = snprintf(buf, len, "%s/%s", c->dir, hex);
    return n < 0 || (size_t)n >= len ? RVR_ELIMIT : RVR_OK;
}

static rvr_status copy_out(const char *src, char *path, size_t plen)
{
    if (path == NULL)
        return RVR_OK;
    if (strlen(src) >= plen)
        return RVR_ELIMIT;
    strcpy(path, src);
    return RVR_OK;
}

/* ---- lookup ---- */

rvr_status rvr_codecache_lookup(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN],
                                char *path, size_t plen)
{
    if (c == NULL || hash == NULL)
        return RVR_EINVAL;
    char p[PATH_MAX];
    rvr_status st = entry_path(c, hash, p, sizeof p);
    if (st != RVR_OK)
        return st;
    struct stat sb;
    if (lstat(p, &sb) != 0)
        return errno == ENOENT ? RVR_ENOTFOUND : RVR_ESYS;
    /* Only what this module writes: a regular file (not a symlink
     * pointing elsewhere) that we can execute. */
    if (!S_ISREG(sb.st_mode) || (sb.st_mode & S_IXUSR) == 0)
        return RVR_ENOTFOUND;
    return copy_out(p, path, plen);
}

/* ---- store ---- */

rvr_status rvr_codecache_begin(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN],
                               uint64_t size, rvr_codecache_writer **out)
{
    if (c == NULL || hash == NULL || out == NULL)
        return RVR_EINVAL;
    *out = NULL;
    if (size > c->max) {
        RVR_LOG(RVR_LOG_WARN, "program of %llu bytes refused: the cache takes at most %llu",
                (unsigned long long)size, (unsigned long long)c->max);
        return RVR_ELIMIT;
    }
    rvr_codecache_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return RVR_ENOMEM;
    w->c = c;
    memcpy(w->hash, hash, RVR_SHA256_LEN);
    w->size = size;
    rvr_sha256_init(&w->sha);
    /* In DIR itself, so the final rename never crosses file systems. */
    if ((size_t)snprintf(w->tmp, sizeof w->tmp, "%s/.tmp-XXXXXX", c->dir) >= sizeof w->tmp) {
        free(w);
        return RVR_ELIMIT;
    }
    w->fd = mkostemp(w->tmp, O_CLOEXEC);
    if (w->fd < 0) {
        RVR_LOG(RVR_LOG_ERROR, "program cache %s: cannot create a file: %s", c->dir,
                strerror(errno));
        free(w);
        return RVR_ESYS;
    }
    *out = w;
    return RVR_OK;
}

void rvr_codecache_abort(rvr_codecache_writer *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp);
    free(w);
}

rvr_status rvr_codecache_write(rvr_codecache_writer *w, const void *data, size_t len)
{
    if (w == NULL || (data == NULL && len > 0))
        return RVR_EINVAL;
    /* More than announced is refused at once rather than at commit, so a
     * peer cannot fill the disk past the limit. */
    if (len > w->size - w->written)
        return RVR_ELIMIT;
    rvr_sha256_update(&w->sha, data, len);
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return RVR_ESYS;
        p += n;
        left -= (size_t)n;
    }
    w->written += len;
    return RVR_OK;
}

rvr_status rvr_codecache_commit(rvr_codecache_writer *w, char *path, size_t plen)
{
    if (w == NULL)
        return RVR_EINVAL;
    rvr_status st = RVR_OK;
    uint8_t got[RVR_SHA256_LEN];
    rvr_sha256_final(&w->sha, got);
    char final[PATH_MAX];
    if (w->written != w->size || !rvr_ct_equal(got, w->hash, sizeof got)) {
        char want[RVR_SHA256_HEX_LEN + 1], have[RVR_SHA256_HEX_LEN + 1];
        rvr_hex_encode(w->hash, RVR_SHA256_LEN, want);
        rvr_hex_encode(got, RVR_SHA256_LEN, have);
        RVR_LOG(RVR_LOG_WARN, "program refused: announced %s (%llu bytes), received %s (%llu bytes)",
                want, (unsigned long long)w->size, have, (unsigned long long)w->written);
        st = RVR_EPROTO;
    } else if ((st = entry_path(w->c, w->hash, final, sizeof final)) != RVR_OK) {
        /* fall through to abort */
    } else if (fchmod(w->fd, S_IRWXU) != 0 || fsync(w->fd) != 0) {
        st = RVR_ESYS;
    } else {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0 || rename(w->tmp, final) != 0)
            st = RVR_ESYS;
        else
            st = copy_out(final, path, plen);
        if (st == RVR_OK) {
            /* Durable name: fsync the directory; failure costs only durability. */
            int dfd = open(w->c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
            }
            free(w);
            return RVR_OK;
        }
    }
    rvr_codecache_abort(w);
    return st;
}

rvr_status rvr_codecache_store(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN],
                               const void *data, size_t len, char *path, size_t plen)
{
    if (c == NULL || hash == NULL || (data == NULL && len > 0))
        return RVR_EINVAL;
    if ((uint64_t)len > c->max)
        return RVR_ELIMIT;
    /* Checked before touching the disk: a wrong program costs nothing. */
    uint8_t got[RVR_SHA256_LEN];
    rvr_sha256(data, len, got);
    if (!rvr_ct_equal(got, hash, sizeof got))
        return RVR_EPROTO;
    if (rvr_codecache_lookup(c, hash, path, plen) == RVR_OK)
        return RVR_OK;   /* already cached: nothing to rewrite */
    rvr_codecache_writer *w;
    rvr_status st = rvr_codecache_begin(c, hash, len, &w);
    if (st != RVR_OK)
        return st;
    if ((st = rvr_codecache_write(w, data, len)) != RVR_OK) {
        rvr_codecache_abort(w);
        return st;
    }
    return rvr_codecache_commit(w, path, plen);
}

/* ---- hashing files ---- */

rvr_status rvr_sha256_file(const char *path, uint8_t out[RVR_SHA256_LEN], uint64_t *size)
{
    if (path == NULL || out == NULL)
        return RVR_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno == ENOENT ? RVR_ENOTFOUND : RVR_ESYS;
    rvr_sha256_ctx c;
    rvr_sha256_init(&c);
    uint64_t total = 0;
    char *buf = malloc(1 << 16);
    if (buf == NULL) {
        close(fd);
        return RVR_ENOMEM;
    }
    rvr_status st = RVR_OK;
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = RVR_ESYS;
            break;
        }
        if (n == 0)
            break;
        rvr_sha256_update(&c, buf, (size_t)n);
        total += (uint64_t)n;
    }
    free(buf);
    close(fd);
    if (st == RVR_OK) {
        rvr_sha256_final(&c, out);
        if (size != NULL)
            *size = total;
    }
    return st;
}

rvr_status rvr_codecache_verify(rvr_codecache *c, const uint8_t hash[RVR_SHA256_LEN])
{
    char p[PATH_MAX];
    rvr_status st = rvr_codecache_lookup(c, hash, p, sizeof p);
    if (st != RVR_OK)
        return st;
    uint8_t got[RVR_SHA256_LEN];
    if ((st = rvr_sha256_file(p, got, NULL)) != RVR_OK)
        return st;
    if (!rvr_ct_equal(got, hash, sizeof got)) {
        RVR_LOG(RVR_LOG_WARN, "program cache: %s was damaged; removed", p);
        unlink(p);
        return RVR_EPROTO;
    }
    return RVR_OK;
}
