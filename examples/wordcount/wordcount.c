/* wordcount — count the words of text files with map/reduce over VRs.
 *
 *   ./wordcount [--mappers=4] [--reducers=2] [--top=10] [--chunk=65536] FILE...
 *
 * The Master (the initial VR) deploys the Reducers, then the Mappers, and
 * tells every Mapper where the Reducers are (Plan).  It reads the files in
 * chunks cut between words and hands each chunk to a Mapper that has room
 * (at most two chunks in flight per Mapper, so the input never sits in
 * memory all at once); a Mapper counts the words of its chunks and
 * acknowledges each.  When the input is exhausted the Master tells every
 * Mapper Done; each Mapper then sends every Reducer the counts of the
 * words that hash to it (one reducer per word, so no word is split between
 * reducers), the last batch marked `last`.  A Reducer that has the last
 * batch of every Mapper sends its --top words (0: all of them) to the
 * Master, which merges them — exact, because the reducers' words are
 * disjoint — and prints them, most frequent first (ties: bytewise order).
 *
 * A word is a run of ASCII letters and digits and of bytes >= 0x80, so
 * UTF-8 words stay whole; ASCII letters are lowered.  With no FILE, or
 * FILE "-", standard input is read.  The VRs are deployed to the local VM
 * (threads of this process: River's embedded default) unless
 * --discover_ms=MS finds other VMs (--peer/RIVER_PEERS seeds, multicast):
 * those that are available are allocated and the Reducers and Mappers are
 * spread round-robin over this VM and them (a bare riverd receives this
 * program, with a shared cluster secret: RIVER_SECRET_FILE).  Only the
 * Master reads the files.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/river.h>

#include "wordcount.rvr.h"
#include "wordtable.h"

#define IN_FLIGHT 2          /* chunks queued per mapper: one worked on, one waiting */
#define BATCH 4096           /* words per Counts message */
#define WAIT_MS (10 * 60 * 1000)

/* The input files, taken from the command line by main() (rvr_main parses
 * only --options). */
static char **input_files;
static int ninput;

/* ---- Mapper ------------------------------------------------------------------ */

static int count_word(const uint8_t *w, size_t len, void *arg)
{
    return word_table_add(arg, w, len, 1);
}

/* Sends every reducer its share of t, moving the words out of the table. */
static rvr_status flush(rvr_vr *self, word_table *t, const rvr_uuid *reducers, size_t nred)
{
    for (size_t r = 0; r < nred; r++) {
        size_t i = 0;
        bool last = false;
        while (!last) {
            wordcount_Counts c;
            wordcount_Counts_init(&c);
            c.words = malloc(BATCH * sizeof *c.words);
            c.counts = malloc(BATCH * sizeof *c.counts);
            if (c.words == NULL || c.counts == NULL) {
                wordcount_Counts_clear(&c);
                return RVR_ENOMEM;
            }
            for (; i < t->cap && c.words_count < BATCH; i++) {
                word_entry *e = &t->slots[i];
                if (e->word == NULL || e->hash % nred != r)
                    continue;
                /* The message owns what it points to: hand it the word. */
                c.words[c.words_count++] = (rvr_bytes){ e->word, e->len };
                c.counts[c.counts_count++] = e->count;
                e->word = NULL;
            }
            last = c.last = i == t->cap;
            rvr_status st = wordcount_Counts_send(self, &reducers[r], &c);
            if (st != RVR_OK) {
                wordcount_Counts_clear(&c);
                return st;
            }
        }
    }
    return RVR_OK;
}

int wordcount_Mapper_main(rvr_vr *self, const wordcount_Mapper_args *args)
{
    word_table t;
    word_table_init(&t);
    rvr_uuid *reducers = NULL;
    size_t nred = 0;
    uint64_t chunks = 0;
    rvr_status st = RVR_OK;
    bool done = false;
    while (!done && st == RVR_OK) {
        wordcount_Mapper_msg m;
        if ((st = wordcount_Mapper_recv_any(self, &m, RVR_FOREVER)) != RVR_OK)
            break;
        switch (m.kind) {
        case wordcount_Mapper_MSG_Plan:
            free(reducers);
            reducers = m.u.Plan.reducers;   /* keep the array: take it from the message */
            nred = m.u.Plan.reducers_count;
            m.u.Plan.reducers = NULL;
            m.u.Plan.reducers_count = 0;
            break;
        case wordcount_Mapper_MSG_Chunk: {
            if (word_split(m.u.Chunk.text.data, m.u.Chunk.text.len, count_word, &t) != 0) {
                st = RVR_ENOMEM;
                break;
            }
            chunks++;
            wordcount_Ack ack = { .mapper = args->index, .seq = m.u.Chunk.seq };
            st = wordcount_Ack_send(self, rvr_parent(self), &ack);
            break;
        }
        case wordcount_Mapper_MSG_Done:
            if (m.u.Done.chunks != chunks)
                fprintf(stderr, "wordcount: mapper %" PRIu32 " got %" PRIu64 " chunks, expected %" PRIu64 "\n",
                        args->index, chunks, m.u.Done.chunks);
            st = nred > 0 ? flush(self, &t, reducers, nred) : RVR_EPROTO;
            done = true;
            break;
        default:
            break;
        }
        wordcount_Mapper_msg_clear(&m);
    }
    word_table_free(&t);
    free(reducers);
    if (st != RVR_OK && st != RVR_ECLOSED) {
        fprintf(stderr, "wordcount: mapper %" PRIu32 ": %s\n", args->index, rvr_strerror(st));
        return 1;
    }
    return 0;
}

/* ---- Reducer ----------------------------------------------------------------- */

/* The first n entries (all when n is 0) of t, most frequent first, as a
 * Top message; the words are copied. */
static rvr_status make_top(const word_table *t, uint32_t n, wordcount_Top *top)
{
    wordcount_Top_init(top);
    top->distinct = t->n;
    top->total = t->total;
    size_t k;
    word_entry *v = word_table_sorted(t, &k);
    if (v == NULL && t->n > 0)
        return RVR_ENOMEM;
    if (n > 0 && k > n)
        k = n;
    if (k > 0) {
        top->words = calloc(k, sizeof *top->words);
        top->counts = calloc(k, sizeof *top->counts);
        if (top->words == NULL || top->counts == NULL) {
            free(v);
            wordcount_Top_clear(top);
            return RVR_ENOMEM;
        }
    }
    for (size_t i = 0; i < k; i++) {
        uint8_t *w = malloc(v[i].len ? v[i].len : 1);
        if (w == NULL) {
            free(v);
            wordcount_Top_clear(top);
            return RVR_ENOMEM;
        }
        memcpy(w, v[i].word, v[i].len);
        top->words[top->words_count++] = (rvr_bytes){ w, v[i].len };
        top->counts[top->counts_count++] = v[i].count;
    }
    free(v);
    return RVR_OK;
}

int wordcount_Reducer_main(rvr_vr *self, const wordcount_Reducer_args *args)
{
    word_table t;
    word_table_init(&t);
    rvr_status st = RVR_OK;
    /* FIFO per sender: a mapper's `last` batch arrives after its others. */
    for (uint32_t lasts = 0; lasts < args->mappers && st == RVR_OK;) {
        wordcount_Counts c;
        if ((st = wordcount_Counts_recv(self, &c, NULL, RVR_FOREVER)) != RVR_OK)
            break;
        if (c.words_count != c.counts_count) {
            fprintf(stderr, "wordcount: a Counts message with %zu words and %zu counts; ignored\n",
                    c.words_count, c.counts_count);
        } else {
            for (size_t i = 0; i < c.words_count && st == RVR_OK; i++)
                if (word_table_add(&t, c.words[i].data, c.words[i].len, c.counts[i]) != 0)
                    st = RVR_ENOMEM;
        }
        lasts += c.last;
        wordcount_Counts_clear(&c);
    }
    wordcount_Top top;
    if (st == RVR_OK && (st = make_top(&t, args->top, &top)) == RVR_OK &&
        (st = wordcount_Top_send(self, rvr_parent(self), &top)) != RVR_OK)
        wordcount_Top_clear(&top);
    word_table_free(&t);
    if (st != RVR_OK && st != RVR_ECLOSED) {
        fprintf(stderr, "wordcount: reducer: %s\n", rvr_strerror(st));
        return 1;
    }
    return 0;
}

/* ---- Master: reading the input in chunks ---------------------------------------- */

typedef struct reader {
    char **files;
    int nfiles;
    int next;            /* next of files */
    FILE *f;
    const char *name;
    uint8_t *buf;        /* bytes read but not yet sent: a word may continue */
    size_t len, cap;
    size_t chunk;
    int errors;
    uint64_t nread;      /* files opened */
} reader;

static bool open_next(reader *r)
{
    while (r->next < r->nfiles) {
        r->name = r->files[r->next++];
        r->f = strcmp(r->name, "-") == 0 ? stdin : fopen(r->name, "rb");
        if (r->f != NULL) {
            r->nread++;
            return true;
        }
        perror(r->name);
        r->errors++;
    }
    return false;
}

/* 1: the next chunk in *out; 0: the input is exhausted; -1: no memory. */
static int next_chunk(reader *r, rvr_bytes *out)
{
    for (;;) {
        if (r->f == NULL && !open_next(r))
            return 0;
        /* Normally a chunk's worth; more when carrying a word longer than that. */
        size_t want = r->len < r->chunk ? r->chunk : r->len + r->chunk;
        if (want > r->cap) {
            uint8_t *b = realloc(r->buf, want);
            if (b == NULL)
                return -1;
            r->buf = b;
            r->cap = want;
        }
        size_t n = fread(r->buf + r->len, 1, want - r->len, r->f);
        r->len += n;
        size_t cut = r->len;
        if (n < want - (r->len - n)) {       /* end of this file: send it all */
            if (ferror(r->f)) {
                perror(r->name);
                r->errors++;
            }
            if (r->f != stdin)
                fclose(r->f);
            r->f = NULL;
        } else {
            /* Cut after the last byte that is not part of a word. */
            while (cut > 0 && word_byte(r->buf[cut - 1]))
                cut--;
        }
        if (cut == 0)
            continue;                        /* nothing to send yet */
        uint8_t *p = malloc(cut);
        if (p == NULL)
            return -1;
        memcpy(p, r->buf, cut);
        memmove(r->buf, r->buf + cut, r->len - cut);
        r->len -= cut;
        *out = (rvr_bytes){ p, cut };
        return 1;
    }
}

/* ---- Master -------------------------------------------------------------------- */

typedef struct run {
    rvr_vr *self;
    rvr_uuid *mappers;
    uint64_t *sent, *in_flight;
    uint64_t seq;
    reader in;
    bool exhausted;
} run;

/* Gives mapper k another chunk if there is one.  -1 on error. */
static int feed(run *r, uint32_t k)
{
    if (r->exhausted)
        return 0;
    wordcount_Chunk c;
    wordcount_Chunk_init(&c);
    int got = next_chunk(&r->in, &c.text);
    if (got <= 0) {
        r->exhausted = true;
        return got;
    }
    c.seq = r->seq++;
    rvr_status st = wordcount_Chunk_send(r->self, &r->mappers[k], &c);
    if (st != RVR_OK) {
        wordcount_Chunk_clear(&c);
        fprintf(stderr, "wordcount: sending a chunk: %s\n", rvr_strerror(st));
        return -1;
    }
    r->sent[k]++;
    r->in_flight[k]++;
    return 1;
}

static int print_result(const wordcount_Master_args *a, word_table *all, uint64_t distinct,
                        uint64_t total, const run *r)
{
    size_t n;
    word_entry *v = word_table_sorted(all, &n);
    if (v == NULL && all->n > 0)
        return 1;
    printf("wordcount: %" PRIu64 " files, %" PRIu64 " words, %" PRIu64 " distinct (%" PRIu32
           " mappers, %" PRIu32 " reducers, %" PRIu64 " chunks)\n",
           r->in.nread, total, distinct, a->mappers, a->reducers, r->seq);
    if (a->top > 0 && n > a->top)
        n = a->top;
    for (size_t i = 0; i < n; i++)
        printf("%7" PRIu64 " %.*s\n", v[i].count, (int)v[i].len, (const char *)v[i].word);
    free(v);
    return 0;
}

/* The other available VMs, allocated; *out malloc'ed (may be NULL). */
static size_t other_vms(rvr_vr *self, uint32_t ms, rvr_uuid **out)
{
    *out = NULL;
    rvr_vm_filter *f = rvr_vm_filter_new();
    rvr_vm_info *found = NULL;
    size_t n = 0, k = 0, got = 0;
    if (f != NULL && rvr_vm_filter_eq_str(f, "status", "available") == RVR_OK &&
        rvr_discover(self, f, (int)ms, &found, &n) == RVR_OK) {
        for (size_t i = 0; i < n; i++)
            if (!rvr_uuid_eq(&found[i].uuid, rvr_vm_id(self)))
                found[k++] = found[i];
            else {
                free(found[i].address);
                rvr_map_free(found[i].attrs);
            }
        if (k > 0 && (*out = calloc(k, sizeof **out)) != NULL &&
            rvr_allocate(self, found, k, k, *out, &got) != RVR_OK)
            got = 0;
    }
    rvr_vm_filter_free(f);
    rvr_vm_info_free(found, k);
    return got;
}

int wordcount_Master_main(rvr_vr *self, const wordcount_Master_args *args)
{
    if (args->mappers == 0 || args->mappers > 1000 || args->reducers == 0 ||
        args->reducers > 1000 || args->chunk == 0) {
        fprintf(stderr, "wordcount: need 1..1000 mappers and reducers and a chunk size > 0\n");
        return 2;
    }
    static char *stdin_only[] = { "-" };
    run r = { .self = self, .in = { .chunk = args->chunk } };
    r.in.files = ninput > 0 ? input_files : stdin_only;
    r.in.nfiles = ninput > 0 ? ninput : 1;
    uint32_t M = args->mappers, R = args->reducers;
    rvr_uuid *reducers = calloc(R, sizeof *reducers);
    r.mappers = calloc(M, sizeof *r.mappers);
    r.sent = calloc(M, sizeof *r.sent);
    r.in_flight = calloc(M, sizeof *r.in_flight);
    int rc = 0;
    rvr_status st = RVR_OK;
    rvr_uuid *vms = NULL;
    size_t nvms = 0;
    if (reducers == NULL || r.mappers == NULL || r.sent == NULL || r.in_flight == NULL) {
        fprintf(stderr, "wordcount: out of memory\n");
        rc = 1;
        goto out;
    }
    /* Where the VRs go, round-robin: this VM (NULL), then the others. */
    nvms = args->discover_ms > 0 ? other_vms(self, args->discover_ms, &vms) : 0;
    if (nvms > 0)
        fprintf(stderr, "wordcount: spreading %" PRIu32 " mappers and %" PRIu32 " reducers "
                "over this VM and %zu more\n", M, R, nvms);
#define WHERE(i) ((i) % (nvms + 1) == 0 ? NULL : &vms[(i) % (nvms + 1) - 1])
    /* Reducers first: the Plan names them. */
    for (uint32_t i = 0; i < R && st == RVR_OK; i++) {
        wordcount_Reducer_args ra = { .mappers = M, .top = args->top };
        st = wordcount_Reducer_deploy(self, WHERE(i), &ra, &reducers[i]);
    }
    for (uint32_t i = 0; i < M && st == RVR_OK; i++) {
        wordcount_Mapper_args ma = { .index = i };
        if ((st = wordcount_Mapper_deploy(self, WHERE(R + i), &ma, &r.mappers[i])) != RVR_OK)
            break;
        wordcount_Plan plan;
        wordcount_Plan_init(&plan);
        if ((plan.reducers = malloc(R * sizeof *plan.reducers)) == NULL) {
            st = RVR_ENOMEM;
            break;
        }
        memcpy(plan.reducers, reducers, R * sizeof *plan.reducers);
        plan.reducers_count = R;
        if ((st = wordcount_Plan_send(self, &r.mappers[i], &plan)) != RVR_OK)
            wordcount_Plan_clear(&plan);
    }
    if (st != RVR_OK) {
        fprintf(stderr, "wordcount: cannot start the VRs: %s\n", rvr_strerror(st));
        rc = 1;
        goto out;
    }

    /* Map: keep every mapper IN_FLIGHT chunks deep until the input ends. */
    uint64_t outstanding = 0;
    for (int depth = 0; depth < IN_FLIGHT; depth++)
        for (uint32_t k = 0; k < M; k++) {
            int f = feed(&r, k);
            if (f < 0) {
                rc = 1;
                goto out;
            }
            outstanding += (uint64_t)f;
        }
    while (outstanding > 0) {
        wordcount_Ack ack;
        if ((st = wordcount_Ack_recv(self, &ack, NULL, WAIT_MS)) != RVR_OK) {
            fprintf(stderr, "wordcount: waiting for the mappers: %s\n", rvr_strerror(st));
            rc = 1;
            goto out;
        }
        uint32_t k = ack.mapper;
        wordcount_Ack_clear(&ack);
        if (k >= M || r.in_flight[k] == 0)
            continue;   /* not one of ours */
        outstanding--;
        r.in_flight[k]--;
        int f = feed(&r, k);
        if (f < 0) {
            rc = 1;
            goto out;
        }
        outstanding += (uint64_t)f;
    }
    for (uint32_t k = 0; k < M; k++) {
        wordcount_Done d = { .chunks = r.sent[k] };
        if ((st = wordcount_Done_send(self, &r.mappers[k], &d)) != RVR_OK) {
            fprintf(stderr, "wordcount: %s\n", rvr_strerror(st));
            rc = 1;
            goto out;
        }
    }

    /* Reduce: one Top from every reducer. */
    word_table all;
    word_table_init(&all);
    uint64_t distinct = 0, total = 0;
    for (uint32_t i = 0; i < R && rc == 0; i++) {
        wordcount_Top top;
        if ((st = wordcount_Top_recv(self, &top, NULL, WAIT_MS)) != RVR_OK) {
            fprintf(stderr, "wordcount: waiting for the reducers: %s\n", rvr_strerror(st));
            rc = 1;
            break;
        }
        distinct += top.distinct;
        total += top.total;
        for (size_t k = 0; k < top.words_count && k < top.counts_count; k++)
            if (word_table_add(&all, top.words[k].data, top.words[k].len, top.counts[k]) != 0)
                rc = 1;
        wordcount_Top_clear(&top);
    }
    if (rc == 0)
        rc = print_result(args, &all, distinct, total, &r);
    word_table_free(&all);
    if (rc == 0 && r.in.errors > 0)
        rc = 1;   /* like wc: count what could be read, then report the failure */
out:
    if (r.in.f != NULL && r.in.f != stdin)
        fclose(r.in.f);
    free(r.in.buf);
    free(vms);   /* released when this VR returns */
    free(reducers);
    free(r.mappers);
    free(r.sent);
    free(r.in_flight);
    return rc;
}

/* Files are the arguments that are not options: anything after "--", and
 * any argument not starting with "--" unless it is the value of the
 * option before it (`--top 5`).  argv[0] stays first among the options. */
static int split_args(int argc, char **argv, char **opts)
{
    int nopts = 0;
    bool only_files = false, value_next = false;
    input_files = calloc((size_t)argc + 1, sizeof *input_files);
    if (input_files == NULL)
        return -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool is_opt = !only_files && strncmp(a, "--", 2) == 0 && a[2] != '\0';
        if (i == 0 || is_opt || (value_next && strncmp(a, "--", 2) != 0)) {
            opts[nopts++] = argv[i];
            /* "--name value": the next argument belongs to this option. */
            value_next = i > 0 && is_opt && strchr(a, '=') == NULL && strcmp(a, "--help") != 0;
            continue;
        }
        value_next = false;
        if (!only_files && strcmp(a, "--") == 0)
            only_files = true;
        else
            input_files[ninput++] = argv[i];
    }
    opts[nopts] = NULL;
    return nopts;
}

int main(int argc, char **argv)
{
    char **opts = calloc((size_t)argc + 1, sizeof *opts);
    int nopts = opts != NULL ? split_args(argc, argv, opts) : -1;
    if (nopts < 0) {
        fprintf(stderr, "wordcount: out of memory\n");
        free(opts);
        return 1;
    }
    /* By name, so a deploy from elsewhere can ask this program for them. */
    (void)rvr_vr_type_register(&wordcount_Mapper_type);
    (void)rvr_vr_type_register(&wordcount_Reducer_type);
    int rc = rvr_main(nopts, opts, &wordcount_Master_type);
    free(opts);
    free(input_files);
    return rc;
}
