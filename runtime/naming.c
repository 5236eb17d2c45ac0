/* naming.c — see naming.h.  An open-addressing hash table (linear probing,
 * backward-shift deletion) keyed by VR UUID, behind a read-write lock. */
#include "naming.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    rvr_uuid vr, vm;
    bool used;
} slot;

struct rvr_naming {
    _Atomic uint64_t gen;   /* bumped when an entry is forgotten or changes */
    pthread_rwlock_t lock;
    slot *slots;
    size_t cap, count;   /* cap: a power of two, kept at most half full */
};

static size_t hash_of(const rvr_uuid *u)
{
    uint64_t h;
    memcpy(&h, u->bytes + 8, sizeof h);   /* random bytes: any eight hash well */
    return (size_t)(h ^ (h >> 29));
}

rvr_status rvr_naming_new(rvr_naming **out)
{
    rvr_naming *n = calloc(1, sizeof *n);
    if (n == NULL)
        return RVR_ENOMEM;
    n->cap = 64;
    if ((n->slots = calloc(n->cap, sizeof *n->slots)) == NULL) {
        free(n);
        return RVR_ENOMEM;
    }
    pthread_rwlock_init(&n->lock, NULL);
    *out = n;
    return RVR_OK;
}

void rvr_naming_free(rvr_naming *n)
{
    if (n == NULL)
        return;
    pthread_rwlock_destroy(&n->lock);
    free(n->slots);
    free(n);
}

static slot *find(const rvr_naming *n, const rvr_uuid *vr)
{
    for (size_t i = hash_of(vr) & (n->cap - 1);; i = (i + 1) & (n->cap - 1)) {
        slot *s = &n->slots[i];
        if (!s->used || rvr_uuid_eq(&s->vr, vr))
            return s;
    }
}

static bool grow(rvr_naming *n)
{
    size_t cap = n->cap * 2;
    slot *old = n->slots, *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return false;
    size_t oldcap = n->cap;
    n->slots = slots;
    n->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].used)
            *find(n, &old[i].vr) = old[i];
    free(old);
    return true;
}

void rvr_naming_learn(rvr_naming *n, const rvr_uuid *vr, const rvr_uuid *vm)
{
    pthread_rwlock_wrlock(&n->lock);
    slot *s = find(n, vr);
    if (!s->used) {
        if (n->count >= RVR_NAMING_MAX) {
            memset(n->slots, 0, n->cap * sizeof *n->slots);   /* bounded: start over */
            n->count = 0;
            atomic_fetch_add(&n->gen, 1);
        } else if (2 * (n->count + 1) > n->cap && !grow(n)) {
            pthread_rwlock_unlock(&n->lock);
            return;   /* no memory: stay unknown, WHOIS finds it again */
        }
        s = find(n, vr);
        s->used = true;
        s->vr = *vr;
        n->count++;
    } else if (!rvr_uuid_eq(&s->vm, vm)) {
        atomic_fetch_add(&n->gen, 1);
    }
    s->vm = *vm;
    pthread_rwlock_unlock(&n->lock);
}

bool rvr_naming_lookup(rvr_naming *n, const rvr_uuid *vr, rvr_uuid *vm)
{
    pthread_rwlock_rdlock(&n->lock);
    slot *s = find(n, vr);
    bool found = s->used;
    if (found)
        *vm = s->vm;
    pthread_rwlock_unlock(&n->lock);
    return found;
}

/* Removes the entry in slot i, shifting later members of its probe run back. */
static void remove_at(rvr_naming *n, size_t i)
{
    size_t mask = n->cap - 1;
    n->slots[i].used = false;
    n->count--;
    for (size_t j = (i + 1) & mask; n->slots[j].used; j = (j + 1) & mask) {
        size_t home = hash_of(&n->slots[j].vr) & mask;
        /* Move j back to i when i lies cyclically in [home, j). */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            n->slots[i] = n->slots[j];
            n->slots[j].used = false;
            i = j;
        }
    }
}

void rvr_naming_forget(rvr_naming *n, const rvr_uuid *vr)
{
    pthread_rwlock_wrlock(&n->lock);
    slot *s = find(n, vr);
    if (s->used) {
        remove_at(n, (size_t)(s - n->slots));
        atomic_fetch_add(&n->gen, 1);
    }
    pthread_rwlock_unlock(&n->lock);
}

void rvr_naming_forget_vm(rvr_naming *n, const rvr_uuid *vm)
{
    pthread_rwlock_wrlock(&n->lock);
    for (size_t i = 0; i < n->cap;) {
        if (n->slots[i].used && rvr_uuid_eq(&n->slots[i].vm, vm)) {
            remove_at(n, i);   /* may shift another entry into i: look again */
            atomic_fetch_add(&n->gen, 1);
        }
        else
            i++;
    }
    pthread_rwlock_unlock(&n->lock);
}

uint64_t rvr_naming_gen(rvr_naming *n)
{
    return atomic_load_explicit(&n->gen, memory_order_acquire);
}

const _Atomic uint64_t *rvr_naming_gen_at(rvr_naming *n)
{
    return &n->gen;
}

size_t rvr_naming_count(rvr_naming *n)
{
    pthread_rwlock_rdlock(&n->lock);
    size_t c = n->count;
    pthread_rwlock_unlock(&n->lock);
    return c;
}
