/* arena.h — memory helpers for riverc: an arena that owns every AST node and
 * string of one compilation, and a growable string buffer.  Running out of
 * memory prints a message and exits with status 1 (riverc never aborts). */
#ifndef RIVERC_ARENA_H
#define RIVERC_ARENA_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);
void *ar_alloc(arena *a, size_t n);                 /* zeroed */
char *ar_strndup(arena *a, const char *s, size_t n);
char *ar_strdup(arena *a, const char *s);
char *ar_printf(arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* A growable, NUL-terminated byte buffer. */
typedef struct strbuf { char *data; size_t len, cap; } strbuf;
void sb_put(strbuf *b, const char *s, size_t n);
void sb_puts(strbuf *b, const char *s);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(strbuf *b, const char *fmt, va_list ap);
void sb_free(strbuf *b);

/* A string-keyed hash map of pointers whose memory lives in an arena.
 * Zero-initialise it with the arena: strmap m = { .ar = a }. */
typedef struct strmap { arena *ar; const char **keys; void **vals; size_t cap, len; } strmap;
void *strmap_get(const strmap *m, const char *key);
void strmap_put(strmap *m, const char *key, void *val);   /* replaces */

/* Reads a whole file; NULL (errno set) on failure.  *len excludes the NUL
 * that is appended. */
char *read_file(const char *path, size_t *len);

/* 64-bit FNV-1a. */
uint64_t fnv1a64(const void *data, size_t n, uint64_t h);
#define FNV64_INIT 0xcbf29ce484222325ULL

#endif
