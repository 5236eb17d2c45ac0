/* wordtable.h — a hash table from words (byte strings) to counts, and the
 * order the report uses.  Mappers and Reducers each keep one; it is the
 * only data structure word counting needs. */
#ifndef WORDCOUNT_WORDTABLE_H
#define WORDCOUNT_WORDTABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct word_entry {
    uint8_t *word;     /* malloc'ed, not NUL-terminated */
    size_t len;
    uint64_t count;
    uint64_t hash;
} word_entry;

typedef struct word_table {
    word_entry *slots; /* open addressing; word == NULL: empty */
    size_t cap;        /* a power of two */
    size_t n;
    uint64_t total;    /* sum of all counts */
} word_table;

/* FNV-1a: the table's hash and the mapper's choice of reducer. */
uint64_t word_hash(const uint8_t *w, size_t len);

void word_table_init(word_table *t);
void word_table_free(word_table *t);
/* Adds `count` to the word's count.  0 or -1 (out of memory). */
int word_table_add(word_table *t, const uint8_t *w, size_t len, uint64_t count);

/* Calls fn on every word of `text`: a word is a maximal run of ASCII
 * letters and digits and of bytes >= 0x80 (so UTF-8 words stay whole),
 * with ASCII letters lowered.  Stops and returns -1 when fn does. */
int word_split(const uint8_t *text, size_t len,
               int (*fn)(const uint8_t *w, size_t len, void *arg), void *arg);
/* True for bytes that belong to words. */
int word_byte(uint8_t c);

/* The report's order: higher count first, then the word bytewise
 * ascending (what `LC_ALL=C sort -k1,1nr -k2,2` gives). */
int word_entry_cmp(const void *a, const void *b);

/* The entries of t, sorted, in a malloc'ed array (pointing into t); NULL
 * and *n = 0 when empty or out of memory. */
word_entry *word_table_sorted(const word_table *t, size_t *n);

#endif
