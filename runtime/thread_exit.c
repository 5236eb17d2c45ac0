/* thread_exit.c — see thread_exit.h. */
#include "thread_exit.h"

#include <pthread.h>

#include "platform.h"

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static RVR_TLS void (*hooks[RVR_THREAD_EXIT_MAX])(void);
static RVR_TLS unsigned nhooks;

static void run_hooks(void *unused)
{
    (void)unused;
    while (nhooks > 0)
        hooks[--nhooks]();
}

static void key_init(void)
{
    pthread_key_create(&key, run_hooks);
}

void rvr_thread_exit_add(void (*release)(void))
{
    if (nhooks == RVR_THREAD_EXIT_MAX)
        return;   /* not with the caches there are */
    pthread_once(&once, key_init);
    hooks[nhooks++] = release;
    pthread_setspecific(key, (void *)1);
}
