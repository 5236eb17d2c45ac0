/* test_auth.c — the cluster secret file and the handshake's proofs.
 *
 * Files are made in a fresh directory under $TMPDIR (or /tmp) and removed
 * at the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "cutest.h"
#include "sha256.h"

static char dir[256];

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CU_ASSERT_FATAL(fchmod(fd, mode) == 0);
    close(fd);
}

static mode_t mode_of(const char *path)
{
    struct stat sb;
    CU_ASSERT_FATAL(stat(path, &sb) == 0);
    return sb.st_mode & 07777;
}

/* Files in dir other than those the tests named: leftovers of the
 * temporary-file dance would show up here. */
static int stray_files(void)
{
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".river-secret-", 14) == 0)
            n++;
    closedir(d);
    return n;
}

/* ---- the secret file ------------------------------------------------------------ */

static void test_generate_and_load(void)
{
    char p[300], text[256], err[512] = "";
    path_in(p, sizeof p, "secret");
    CU_ASSERT_EQUAL(rvr_secret_generate(p, false, err, sizeof err), RVR_OK);
    CU_ASSERT_EQUAL(mode_of(p), 0600);
    CU_ASSERT_EQUAL(read_file(p, text, sizeof text), 65);
    CU_ASSERT_EQUAL(text[64], '\n');

    rvr_secret s;
    CU_ASSERT_EQUAL(rvr_secret_load(p, &s, err, sizeof err), RVR_OK);
    char hex[65];
    rvr_hex_encode(s.key, sizeof s.key, hex);
    CU_ASSERT(strncmp(hex, text, 64) == 0);
    rvr_secret_wipe(&s);
    for (size_t i = 0; i < sizeof s.key; i++)
        CU_ASSERT_EQUAL(s.key[i], 0);
    CU_ASSERT_EQUAL(stray_files(), 0);
}

static void test_no_overwrite_unless_forced(void)
{
    char p[300], before[256], after[256], err[512] = "";
    path_in(p, sizeof p, "secret2");
    CU_ASSERT_EQUAL_FATAL(rvr_secret_generate(p, false, err, sizeof err), RVR_OK);
    read_file(p, before, sizeof before);

    CU_ASSERT_EQUAL(rvr_secret_generate(p, false, err, sizeof err), RVR_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "already exists"));
    read_file(p, after, sizeof after);
    CU_ASSERT_STRING_EQUAL(before, after);

    /* Forced: replaced, and 0600 even if the old file had become looser. */
    CU_ASSERT_EQUAL(chmod(p, 0644), 0);
    CU_ASSERT_EQUAL(rvr_secret_generate(p, true, err, sizeof err), RVR_OK);
    read_file(p, after, sizeof after);
    CU_ASSERT_STRING_NOT_EQUAL(before, after);
    CU_ASSERT_EQUAL(mode_of(p), 0600);
    CU_ASSERT_EQUAL(stray_files(), 0);

    /* A name in a directory that does not exist. */
    path_in(p, sizeof p, "no-such-dir/secret");
    CU_ASSERT_EQUAL(rvr_secret_generate(p, false, err, sizeof err), RVR_ENOTFOUND);
    CU_ASSERT_EQUAL(rvr_secret_generate(NULL, false, err, sizeof err), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_secret_generate("", false, NULL, 0), RVR_EINVAL);
}

static void test_load_refuses_open_permissions(void)
{
    static const mode_t bad[] = { 0640, 0604, 0660, 0644, 0610, 0601, 0700 | 0040 };
    char p[300], err[512];
    path_in(p, sizeof p, "perm");
    rvr_secret s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(p, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", bad[i]);
        err[0] = '\0';
        CU_ASSERT_EQUAL(rvr_secret_load(p, &s, err, sizeof err), RVR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "too open"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, p));
    }
    /* Owner-only modes are fine, read-only included. */
    write_file(p, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0400);
    CU_ASSERT_EQUAL(rvr_secret_load(p, &s, err, sizeof err), RVR_OK);
    CU_ASSERT_EQUAL(s.key[1], 0x11);
    CU_ASSERT_EQUAL(s.key[31], 0xff);
    unlink(p);
}

static void test_load_bad_content(void)
{
    static const char *const bad[] = {
        "",
        "\n",
        "00112233",                                                              /* short */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\n",    /* not hex */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\n",  /* long */
        "0011223344556677 8899aabbccddeeff00112233445566778899aabbccddeeff\n",   /* space */
    };
    char p[300], err[512];
    path_in(p, sizeof p, "content");
    rvr_secret s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(p, bad[i], 0600);
        CU_ASSERT_EQUAL(rvr_secret_load(p, &s, err, sizeof err), RVR_EPROTO);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "river keygen"));
    }
    /* Surrounding whitespace and upper case are accepted. */
    write_file(p, "  00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff \r\n\n", 0600);
    CU_ASSERT_EQUAL(rvr_secret_load(p, &s, err, sizeof err), RVR_OK);
    unlink(p);

    path_in(p, sizeof p, "missing");
    CU_ASSERT_EQUAL(rvr_secret_load(p, &s, err, sizeof err), RVR_ENOTFOUND);
    CU_ASSERT_EQUAL(rvr_secret_load(dir, &s, err, sizeof err), RVR_EINVAL);  /* a directory */
    CU_ASSERT_EQUAL(rvr_secret_load(NULL, &s, NULL, 0), RVR_EINVAL);
}

/* ---- the handshake ---------------------------------------------------------------- */

typedef struct side {
    rvr_uuid vm;
    uint8_t nonce[RVR_AUTH_NONCE_LEN];
} side;

static rvr_secret secret_of(uint8_t fill)
{
    rvr_secret s;
    memset(s.key, fill, sizeof s.key);
    s.key[0] = 0x42;
    return s;
}

static void new_side(side *x)
{
    x->vm = rvr_uuid_generate();
    CU_ASSERT_EQUAL_FATAL(rvr_auth_nonce(x->nonce), RVR_OK);
}

static void test_handshake_ok(void)
{
    rvr_secret s = secret_of(7);
    side i, r;
    new_side(&i);
    new_side(&r);
    uint8_t pi[RVR_AUTH_PROOF_LEN], pr[RVR_AUTH_PROOF_LEN];
    rvr_auth_proof(&s, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, pi);
    rvr_auth_proof(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, pr);
    /* Each side checks the other's proof. */
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, pi), RVR_OK);
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, pr), RVR_OK);
    /* The two proofs of a connection differ. */
    CU_ASSERT(memcmp(pi, pr, sizeof pi) != 0);

    uint8_t ki[RVR_SECRET_LEN], kr[RVR_SECRET_LEN];
    rvr_auth_session_key(&s, &i.vm, &r.vm, i.nonce, r.nonce, ki);
    rvr_auth_session_key(&s, &i.vm, &r.vm, i.nonce, r.nonce, kr);
    CU_ASSERT(memcmp(ki, kr, sizeof ki) == 0);
    CU_ASSERT(memcmp(ki, s.key, sizeof ki) != 0);
}

/* The construction documented in auth.h, byte for byte. */
static void test_construction_layout(void)
{
    rvr_secret s = secret_of(9);
    side i, r;
    new_side(&i);
    new_side(&r);
    uint8_t msg[13 + 1 + 16 + 16 + 32 + 32], *p = msg;
    memcpy(p, "river-auth-v1", 13), p += 13;
    *p++ = 'R';
    memcpy(p, r.vm.bytes, 16), p += 16;
    memcpy(p, i.vm.bytes, 16), p += 16;
    memcpy(p, i.nonce, 32), p += 32;
    memcpy(p, r.nonce, 32), p += 32;
    CU_ASSERT_EQUAL(p - msg, (long)sizeof msg);
    uint8_t want[32], got[32];
    rvr_hmac_sha256(s.key, sizeof s.key, msg, sizeof msg, want);
    rvr_auth_proof(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, got);
    CU_ASSERT(memcmp(want, got, 32) == 0);
}

static void test_wrong_secret(void)
{
    rvr_secret good = secret_of(1), bad = secret_of(2);
    side i, r;
    new_side(&i);
    new_side(&r);
    uint8_t p[RVR_AUTH_PROOF_LEN];
    /* An initiator without the secret is refused by the responder ... */
    rvr_auth_proof(&bad, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, p);
    CU_ASSERT_EQUAL(rvr_auth_verify(&good, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, p),
                    RVR_EPROTO);
    /* ... and a responder without it by the initiator. */
    rvr_auth_proof(&bad, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, p);
    CU_ASSERT_EQUAL(rvr_auth_verify(&good, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, p),
                    RVR_EPROTO);
    /* A single flipped bit anywhere in a good proof is refused. */
    rvr_auth_proof(&good, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, p);
    for (size_t b = 0; b < 8 * sizeof p; b += 13) {
        p[b / 8] ^= (uint8_t)(1u << (b % 8));
        CU_ASSERT_EQUAL(rvr_auth_verify(&good, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, p),
                        RVR_EPROTO);
        p[b / 8] ^= (uint8_t)(1u << (b % 8));
    }
}

static void test_reflection_and_swapped_roles(void)
{
    rvr_secret s = secret_of(3);
    side i, r;
    new_side(&i);
    new_side(&r);
    uint8_t pi[RVR_AUTH_PROOF_LEN], pr[RVR_AUTH_PROOF_LEN];
    rvr_auth_proof(&s, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, pi);
    rvr_auth_proof(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, pr);
    /* An attacker reflects the initiator's own proof back to it as the
     * responder's, and the other way round: both refused. */
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, pi), RVR_EPROTO);
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, pr), RVR_EPROTO);
    /* A proof computed with the roles swapped (the prover claiming the
     * other role) is refused too. */
    uint8_t x[RVR_AUTH_PROOF_LEN];
    rvr_auth_proof(&s, RVR_AUTH_RESPONDER, &i.vm, &r.vm, i.nonce, r.nonce, x);
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, x), RVR_EPROTO);
    /* Nonces in the wrong order. */
    rvr_auth_proof(&s, RVR_AUTH_INITIATOR, &i.vm, &r.vm, r.nonce, i.nonce, x);
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, x), RVR_EPROTO);
    /* Our own challenge echoed back (equal nonces) is refused even with a
     * proof that is otherwise right. */
    rvr_auth_proof(&s, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, i.nonce, x);
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, i.nonce, x), RVR_EPROTO);
}

static void test_replay_and_relay(void)
{
    rvr_secret s = secret_of(4);
    side i, r, r2, other;
    new_side(&i);
    new_side(&r);
    new_side(&other);
    uint8_t old[RVR_AUTH_PROOF_LEN];
    rvr_auth_proof(&s, RVR_AUTH_INITIATOR, &i.vm, &r.vm, i.nonce, r.nonce, old);
    /* A recorded proof replayed on a new connection (the responder picks a
     * fresh nonce) is refused. */
    r2 = r;
    CU_ASSERT_EQUAL_FATAL(rvr_auth_nonce(r2.nonce), RVR_OK);
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &r2.vm, &i.vm, i.nonce, r2.nonce, old), RVR_EPROTO);
    /* The same proof presented to another VM (same nonces) is refused:
     * the proof names the verifier. */
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &other.vm, &i.vm, i.nonce, r.nonce, old), RVR_EPROTO);
    /* ... and so is a claim to be another initiator. */
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, RVR_AUTH_RESPONDER, &r.vm, &other.vm, i.nonce, r.nonce, old), RVR_EPROTO);
    /* Session keys differ between connections. */
    uint8_t k1[RVR_SECRET_LEN], k2[RVR_SECRET_LEN];
    rvr_auth_session_key(&s, &i.vm, &r.vm, i.nonce, r.nonce, k1);
    rvr_auth_session_key(&s, &i.vm, &r.vm, i.nonce, r2.nonce, k2);
    CU_ASSERT(memcmp(k1, k2, sizeof k1) != 0);
    /* Bad arguments. */
    CU_ASSERT_EQUAL(rvr_auth_verify(NULL, RVR_AUTH_RESPONDER, &r.vm, &i.vm, i.nonce, r.nonce, old), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_auth_verify(&s, (rvr_auth_role)'X', &r.vm, &i.vm, i.nonce, r.nonce, old), RVR_EINVAL);
}

static void test_random(void)
{
    uint8_t a[64], b[64];
    CU_ASSERT_EQUAL(rvr_random_bytes(a, sizeof a), RVR_OK);
    CU_ASSERT_EQUAL(rvr_random_bytes(b, sizeof b), RVR_OK);
    CU_ASSERT(memcmp(a, b, sizeof a) != 0);
    CU_ASSERT_EQUAL(rvr_random_bytes(NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(rvr_random_bytes(NULL, 1), RVR_EINVAL);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_auth.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 99;
    }
    static const CU_TestInfo file[] = {
        { "generate 0600, load back", test_generate_and_load },
        { "no overwrite unless forced", test_no_overwrite_unless_forced },
        { "load refuses group/other access", test_load_refuses_open_permissions },
        { "load refuses bad content", test_load_bad_content },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo hs[] = {
        { "mutual proof succeeds", test_handshake_ok },
        { "documented construction", test_construction_layout },
        { "wrong secret refused", test_wrong_secret },
        { "reflection and swapped roles refused", test_reflection_and_swapped_roles },
        { "replay and relay refused", test_replay_and_relay },
        { "random bytes", test_random },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("secret file", file);
    cutest_suite("handshake", hs);
    int rc = cutest_run();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_auth: could not remove %s\n", dir);
    return rc;
}
