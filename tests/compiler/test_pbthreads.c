/* test_pbthreads.c — libriver's marshalling (<river/pbsupport.h>) from
 * several threads at once: the decode error and nesting depth are per
 * thread, so every thread gets exactly its own results while the others
 * succeed and fail around it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cutest.h"
#include "rt.rvr.h"

#define THREADS 6
#define ROUNDS 3000

typedef struct input {
    uint8_t *buf;
    size_t len;
} input;

static input deep;        /* a Tree 100 deep: RVR_ELIMIT */
static input nested40;    /* a Tree 40 deep: fine alone, not if depth were shared */
static input unbounded;   /* 3 names for Bounded (at most 2): RVR_ELIMIT */
static input not_utf8;    /* AsBytes 0xff 0xfe read as AsString: RVR_EPROTO */

static input tree(int depth)
{
    rt_Tree root, *t = &root;
    input in = { NULL, 0 };
    rt_Tree_init(&root);
    for (int i = 0; i < depth; i++) {
        t->value = i;
        t->kids_count = 1;
        t->kids = calloc(1, sizeof *t->kids);
        t = &t->kids[0];
    }
    CU_ASSERT_EQUAL_FATAL(rt_Tree_encode(&root, &in.buf, &in.len), RVR_OK);
    rt_Tree_clear(&root);
    return in;
}

static void make_inputs(void)
{
    rt_Unbounded u;
    rt_AsBytes ab;
    deep = tree(100);
    nested40 = tree(40);
    rt_Unbounded_init(&u);
    u.names_count = 3;
    u.names = calloc(3, sizeof *u.names);
    for (int i = 0; i < 3; i++)
        u.names[i] = strdup("n");
    CU_ASSERT_EQUAL_FATAL(rt_Unbounded_encode(&u, &unbounded.buf, &unbounded.len), RVR_OK);
    rt_Unbounded_clear(&u);
    rt_AsBytes_init(&ab);
    ab.s.len = 2;
    ab.s.data = malloc(2);
    memcpy(ab.s.data, "\xff\xfe", 2);
    CU_ASSERT_EQUAL_FATAL(rt_AsBytes_encode(&ab, &not_utf8.buf, &not_utf8.len), RVR_OK);
    rt_AsBytes_clear(&ab);
}

/* Counts the results that differ from what a single thread gets. */
static void *worker(void *arg)
{
    size_t wrong = 0, id = (size_t)arg;
    for (size_t r = 0; r < ROUNDS; r++) {
        rt_Tree t;
        rt_Bounded b;
        rt_AsString s;
        uint8_t *buf = NULL;
        size_t len = 0;
        switch ((r + id) % 4) {
        case 0:
            wrong += rt_Tree_decode(deep.buf, deep.len, &t) != RVR_ELIMIT;
            break;
        case 1:
            if (rt_Tree_decode(nested40.buf, nested40.len, &t) != RVR_OK) {
                wrong++;
                break;
            }
            wrong += rt_Tree_encode(&t, &buf, &len) != RVR_OK || len != nested40.len
                  || memcmp(buf, nested40.buf, len) != 0;
            free(buf);
            rt_Tree_clear(&t);
            break;
        case 2:
            wrong += rt_Bounded_decode(unbounded.buf, unbounded.len, &b) != RVR_ELIMIT;
            break;
        default:
            wrong += rt_AsString_decode(not_utf8.buf, not_utf8.len, &s) != RVR_EPROTO;
            break;
        }
    }
    return (void *)wrong;
}

static void test_threads(void)
{
    pthread_t th[THREADS];
    size_t wrong = 0;
    make_inputs();
    for (size_t i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, worker, (void *)i), 0);
    for (size_t i = 0; i < THREADS; i++) {
        void *w;
        pthread_join(th[i], &w);
        wrong += (size_t)w;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    free(deep.buf);
    free(nested40.buf);
    free(unbounded.buf);
    free(not_utf8.buf);
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        { "concurrent encode and decode", test_threads },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("pbsupport threads", tests);
    return cutest_run();
}
