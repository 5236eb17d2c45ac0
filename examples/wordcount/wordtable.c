/* wordtable.c — see wordtable.h. */
#include "wordtable.h"

#include <stdlib.h>
#include <string.h>

uint64_t word_hash(const uint8_t *w, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++)
        h = (h ^ w[i]) * UINT64_C(0x100000001b3);
    return h;
}

void word_table_init(word_table *t)
{
    memset(t, 0, sizeof *t);
}

void word_table_free(word_table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].word);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static word_entry *slot_for(word_entry *slots, size_t cap, uint64_t h, const uint8_t *w,
                            size_t len)
{
    for (size_t i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        word_entry *e = &slots[i];
        if (e->word == NULL || (e->hash == h && e->len == len && memcmp(e->word, w, len) == 0))
            return e;
    }
}

static int grow(word_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    word_entry *s = calloc(cap, sizeof *s);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].word != NULL)
            *slot_for(s, cap, t->slots[i].hash, t->slots[i].word, t->slots[i].len) = t->slots[i];
    free(t->slots);
    t->slots = s;
    t->cap = cap;
    return 0;
}

int word_table_add(word_table *t, const uint8_t *w, size_t len, uint64_t count)
{
    /* Kept at most 3/4 full so probe runs stay short. */
    if (4 * (t->n + 1) > 3 * t->cap && grow(t) != 0)
        return -1;
    uint64_t h = word_hash(w, len);
    word_entry *e = slot_for(t->slots, t->cap, h, w, len);
    if (e->word == NULL) {
        if ((e->word = malloc(len ? len : 1)) == NULL)
            return -1;
        memcpy(e->word, w, len);
        e->len = len;
        e->hash = h;
        e->count = 0;
        t->n++;
    }
    e->count += count;
    t->total += count;
    return 0;
}

int word_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

int word_split(const uint8_t *text, size_t len,
               int (*fn)(const uint8_t *w, size_t len, void *arg), void *arg)
{
    uint8_t buf[256];
    size_t i = 0;
    while (i < len) {
        while (i < len && !word_byte(text[i]))
            i++;
        size_t start = i;
        while (i < len && word_byte(text[i]))
            i++;
        if (i == start)
            break;
        size_t n = i - start;
        /* Lowered into a copy; a rare word longer than the buffer gets
         * its own. */
        uint8_t *w = n <= sizeof buf ? buf : malloc(n);
        if (w == NULL)
            return -1;
        for (size_t k = 0; k < n; k++) {
            uint8_t c = text[start + k];
            w[k] = c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
        }
        int rc = fn(w, n, arg);
        if (w != buf)
            free(w);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int word_entry_cmp(const void *a, const void *b)
{
    const word_entry *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->word, y->word, n);
    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

word_entry *word_table_sorted(const word_table *t, size_t *n)
{
    *n = 0;
    if (t->n == 0)
        return NULL;
    word_entry *v = malloc(t->n * sizeof *v);
    if (v == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].word != NULL)
            v[k++] = t->slots[i];
    qsort(v, k, sizeof *v, word_entry_cmp);
    *n = k;
    return v;
}
