/* vrtypes.c — the process-wide registry of VR types by name (see
 * <river/vr.h> and vrtypes.h).
 *
 * A deploy names a VR type; the VM that receives it must find the code for
 * that name, so every VM process keeps this table.  It holds pointers, not
 * copies: VR type descriptors are static data (riverc emits them as
 * `const rvr_vr_type` objects) and live as long as the program.  A
 * program registers a handful of types, so a flat array under one mutex
 * is enough; lookups happen per deploy, not per message. */
#include "vrtypes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <river/value.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const rvr_vr_type **types;
static size_t ntypes, cap;

/* Called with the lock held. */
static const rvr_vr_type *find_locked(const char *name)
{
    for (size_t i = 0; i < ntypes; i++)
        if (strcmp(types[i]->name, name) == 0)
            return types[i];
    return NULL;
}

rvr_status rvr_vr_type_register(const rvr_vr_type *type)
{
    if (type == NULL || type->name == NULL || type->main == NULL || type->name[0] == '\0' ||
        strnlen(type->name, RVR_MAX_NAME + 1) > RVR_MAX_NAME ||
        (type->nargs > 0 && (type->args == NULL || type->args_size == 0)))
        return RVR_EINVAL;
    rvr_status st = RVR_OK;
    pthread_mutex_lock(&lock);
    const rvr_vr_type *old = find_locked(type->name);
    if (old == type) {
        st = RVR_OK;   /* registering twice is harmless: rvr_main and the program may both do it */
    } else if (old != NULL) {
        /* Two different descriptors under one name would make a deploy by
         * name run whichever came first: refuse rather than guess. */
        st = RVR_EEXIST;
    } else {
        if (ntypes == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            const rvr_vr_type **t = realloc(types, ncap * sizeof *t);
            if (t == NULL)
                st = RVR_ENOMEM;
            else {
                types = t;
                cap = ncap;
            }
        }
        if (st == RVR_OK)
            types[ntypes++] = type;
    }
    pthread_mutex_unlock(&lock);
    return st;
}

const rvr_vr_type *rvr_vr_type_find(const char *name)
{
    if (name == NULL)
        return NULL;
    pthread_mutex_lock(&lock);
    const rvr_vr_type *t = find_locked(name);
    pthread_mutex_unlock(&lock);
    return t;
}

static int by_name(const void *a, const void *b)
{
    const rvr_vr_type *x = *(const rvr_vr_type *const *)a, *y = *(const rvr_vr_type *const *)b;
    return strcmp(x->name, y->name);
}

rvr_status rvr_vr_types_list(const rvr_vr_type ***out, size_t *n)
{
    if (out == NULL || n == NULL)
        return RVR_EINVAL;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&lock);
    size_t k = ntypes;
    const rvr_vr_type **copy = k ? malloc(k * sizeof *copy) : NULL;
    if (copy != NULL)
        memcpy(copy, types, k * sizeof *copy);
    pthread_mutex_unlock(&lock);
    if (k > 0 && copy == NULL)
        return RVR_ENOMEM;
    if (k > 1)
        qsort(copy, k, sizeof *copy, by_name);
    *out = copy;
    *n = k;
    return RVR_OK;
}
