/* auth.c — see auth.h. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define RVR_HAVE_GETRANDOM 1
#endif
#endif

#include "sha256.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- randomness ---- */

static rvr_status urandom(uint8_t *p, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return RVR_ESYS;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(fd);
            return RVR_ESYS;
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return RVR_OK;
}

rvr_status rvr_random_bytes(void *buf, size_t n)
{
    if (buf == NULL && n > 0)
        return RVR_EINVAL;
    uint8_t *p = buf;
#ifdef RVR_HAVE_GETRANDOM
    while (n > 0) {
        /* Blocks only until the pool is first seeded, which is what a key
         * generator wants; large requests may come back short. */
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == ENOSYS ? urandom(p, n) : RVR_ESYS;   /* old kernel */
        p += r;
        n -= (size_t)r;
    }
    return RVR_OK;
#else
    return urandom(p, n);
#endif
}

/* ---- the secret file ---- */

static rvr_status write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return RVR_ESYS;
        s += w;
        n -= (size_t)w;
    }
    return RVR_OK;
}

/* The directory part of path ("." when none), for the temporary file and
 * the directory fsync. */
static void dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, cap, ".");
        return;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= cap)
        n = cap - 1;
    memcpy(dir, path, n);
    dir[n] = '\0';
}

/* Makes a rename or link in dir durable; failure only costs durability. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

rvr_status rvr_secret_generate(const char *path, bool force, char *err, size_t errlen)
{
    if (path == NULL || *path == '\0') {
        seterr(err, errlen, "no secret file given");
        return RVR_EINVAL;
    }
    uint8_t key[RVR_SECRET_LEN];
    char text[2 * RVR_SECRET_LEN + 2];
    if (rvr_random_bytes(key, sizeof key) != RVR_OK) {
        seterr(err, errlen, "cannot read random bytes: %s", strerror(errno));
        return RVR_ESYS;
    }
    rvr_hex_encode(key, sizeof key, text);
    rvr_secure_zero(key, sizeof key);
    strcat(text, "\n");

    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    dir_of(path, dir, sizeof dir);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.river-secret-XXXXXX", dir) >= sizeof tmp) {
        seterr(err, errlen, "%s: path too long", path);
        rvr_secure_zero(text, sizeof text);
        return RVR_EINVAL;
    }
    /* Written to a temporary file first, then moved into place: the
     * secret never exists half-written under its real name. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        seterr(err, errlen, "%s: cannot create a file in %s: %s", path, dir, strerror(e));
        rvr_secure_zero(text, sizeof text);
        return e == ENOENT ? RVR_ENOTFOUND : RVR_ESYS;
    }
    rvr_status st = RVR_OK;
    /* Explicitly 0600: mkstemp's mode is 0600 on glibc, but not by POSIX. */
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || write_all(fd, text, strlen(text)) != RVR_OK ||
        fsync(fd) != 0) {
        seterr(err, errlen, "%s: cannot write %s: %s", path, tmp, strerror(errno));
        st = RVR_ESYS;
    }
    rvr_secure_zero(text, sizeof text);
    if (close(fd) != 0 && st == RVR_OK) {
        seterr(err, errlen, "%s: cannot write %s: %s", path, tmp, strerror(errno));
        st = RVR_ESYS;
    }
    if (st == RVR_OK && force) {
        if (rename(tmp, path) != 0) {
            seterr(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
            st = RVR_ESYS;
        }
    } else if (st == RVR_OK) {
        /* link() fails with EEXIST atomically, so two concurrent keygens
         * cannot both believe they wrote the secret. */
        if (link(tmp, path) != 0) {
            int e = errno;
            if (e == EEXIST) {
                seterr(err, errlen, "%s already exists; not overwriting it (use --force "
                       "to replace it: every VM using the old secret must then get the new one)",
                       path);
                st = RVR_EEXIST;
            } else {
                seterr(err, errlen, "%s: cannot create: %s", path, strerror(e));
                st = RVR_ESYS;
            }
        }
        unlink(tmp);
    }
    if (st != RVR_OK)
        unlink(tmp);   /* harmless if rename/link consumed it */
    else
        sync_dir(dir);
    return st;
}

rvr_status rvr_secret_load(const char *path, rvr_secret *out, char *err, size_t errlen)
{
    if (path == NULL || out == NULL) {
        seterr(err, errlen, "no secret file given");
        return RVR_EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        seterr(err, errlen, "%s: cannot open the secret file: %s", path, strerror(e));
        return e == ENOENT ? RVR_ENOTFOUND : RVR_ESYS;
    }
    /* fstat on the open descriptor: the checks apply to the file read,
     * not to whatever the name points at a moment later. */
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        seterr(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return RVR_ESYS;
    }
    if (!S_ISREG(sb.st_mode)) {
        seterr(err, errlen, "%s: the secret file is not a regular file", path);
        close(fd);
        return RVR_EINVAL;
    }
    if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        seterr(err, errlen,
               "%s: permissions %04o are too open: the cluster secret must not be "
               "accessible by group or others (chmod 600 %s)",
               path, (unsigned)(sb.st_mode & 07777), path);
        close(fd);
        return RVR_EINVAL;
    }
    if (sb.st_uid != geteuid() && sb.st_uid != 0) {
        seterr(err, errlen, "%s: the secret file belongs to user %lu, not to this user (%lu)",
               path, (unsigned long)sb.st_uid, (unsigned long)geteuid());
        close(fd);
        return RVR_EINVAL;
    }
    char text[256];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, text + n, sizeof text - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            seterr(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            rvr_secure_zero(text, sizeof text);
            return RVR_ESYS;
        }
        if (r == 0 || (n += (size_t)r) == sizeof text - 1)
            break;
    }
    close(fd);
    size_t b = 0, e = n;
    while (b < e && strchr(" \t\r\n", text[b]) != NULL)
        b++;
    while (e > b && strchr(" \t\r\n", text[e - 1]) != NULL)
        e--;
    rvr_status st = rvr_hex_decode(text + b, e - b, out->key, sizeof out->key);
    rvr_secure_zero(text, sizeof text);
    if (st != RVR_OK) {
        seterr(err, errlen, "%s: not a River secret (expected %d hex digits; "
               "make one with `river keygen`)", path, 2 * RVR_SECRET_LEN);
        rvr_secret_wipe(out);
        return RVR_EPROTO;
    }
    return RVR_OK;
}

void rvr_secret_wipe(rvr_secret *s)
{
    if (s != NULL)
        rvr_secure_zero(s->key, sizeof s->key);
}

/* ---- the handshake ---- */

rvr_status rvr_auth_nonce(uint8_t out[RVR_AUTH_NONCE_LEN])
{
    return rvr_random_bytes(out, RVR_AUTH_NONCE_LEN);
}

void rvr_auth_proof(const rvr_secret *s, rvr_auth_role role, const rvr_uuid *self,
                    const rvr_uuid *peer, const uint8_t nonce_i[RVR_AUTH_NONCE_LEN],
                    const uint8_t nonce_r[RVR_AUTH_NONCE_LEN],
                    uint8_t out[RVR_AUTH_PROOF_LEN])
{
    /* Exactly the construction documented in auth.h. */
    uint8_t r = (uint8_t)role;
    rvr_hmac_sha256_ctx c;
    rvr_hmac_sha256_init(&c, s->key, sizeof s->key);
    rvr_hmac_sha256_update(&c, RVR_AUTH_LABEL, strlen(RVR_AUTH_LABEL));
    rvr_hmac_sha256_update(&c, &r, 1);
    rvr_hmac_sha256_update(&c, self->bytes, sizeof self->bytes);
    rvr_hmac_sha256_update(&c, peer->bytes, sizeof peer->bytes);
    rvr_hmac_sha256_update(&c, nonce_i, RVR_AUTH_NONCE_LEN);
    rvr_hmac_sha256_update(&c, nonce_r, RVR_AUTH_NONCE_LEN);
    rvr_hmac_sha256_final(&c, out);
}

rvr_status rvr_auth_verify(const rvr_secret *s, rvr_auth_role my_role, const rvr_uuid *self,
                           const rvr_uuid *peer, const uint8_t nonce_i[RVR_AUTH_NONCE_LEN],
                           const uint8_t nonce_r[RVR_AUTH_NONCE_LEN],
                           const uint8_t proof[RVR_AUTH_PROOF_LEN])
{
    if (s == NULL || self == NULL || peer == NULL || nonce_i == NULL || nonce_r == NULL ||
        proof == NULL || (my_role != RVR_AUTH_INITIATOR && my_role != RVR_AUTH_RESPONDER))
        return RVR_EINVAL;
    /* Equal nonces mean our own challenge came back to us: refuse before
     * computing anything. */
    if (rvr_ct_equal(nonce_i, nonce_r, RVR_AUTH_NONCE_LEN))
        return RVR_EPROTO;
    rvr_auth_role peer_role =
        my_role == RVR_AUTH_INITIATOR ? RVR_AUTH_RESPONDER : RVR_AUTH_INITIATOR;
    uint8_t want[RVR_AUTH_PROOF_LEN];
    rvr_auth_proof(s, peer_role, peer, self, nonce_i, nonce_r, want);
    bool ok = rvr_ct_equal(want, proof, sizeof want);
    rvr_secure_zero(want, sizeof want);
    return ok ? RVR_OK : RVR_EPROTO;
}

void rvr_auth_session_key(const rvr_secret *s, const rvr_uuid *initiator,
                          const rvr_uuid *responder, const uint8_t nonce_i[RVR_AUTH_NONCE_LEN],
                          const uint8_t nonce_r[RVR_AUTH_NONCE_LEN],
                          uint8_t out[RVR_SECRET_LEN])
{
    rvr_hmac_sha256_ctx c;
    rvr_hmac_sha256_init(&c, s->key, sizeof s->key);
    rvr_hmac_sha256_update(&c, RVR_AUTH_SESSION_LABEL, strlen(RVR_AUTH_SESSION_LABEL));
    rvr_hmac_sha256_update(&c, initiator->bytes, sizeof initiator->bytes);
    rvr_hmac_sha256_update(&c, responder->bytes, sizeof responder->bytes);
    rvr_hmac_sha256_update(&c, nonce_i, RVR_AUTH_NONCE_LEN);
    rvr_hmac_sha256_update(&c, nonce_r, RVR_AUTH_NONCE_LEN);
    rvr_hmac_sha256_final(&c, out);
}
