/* match_impl.h — internal layout of a match, read by the mailbox to pick
 * the index (tag or src) it scans. */
#ifndef RIVER_MATCH_IMPL_H
#define RIVER_MATCH_IMPL_H

#include <river/match.h>

typedef enum { MC_EQ, MC_HAS, MC_PRED, MC_FN } match_kind;

typedef struct match_cond {
    match_kind kind;
    char *name;          /* NULL for MC_FN */
    rvr_value val;       /* MC_EQ */
    rvr_value_pred pred; /* MC_PRED */
    rvr_packet_pred fn;  /* MC_FN */
    void *ctx;
    bool raw;            /* MC_FN that does not look at attributes (typed receive) */
} match_cond;

struct rvr_match {
    rvr_status err;      /* first builder error, sticky */
    bool has_tag, has_src;
    char *tag;
    uint32_t tag_len, tag_hash;
    rvr_uuid src;
    match_cond *conds;
    size_t nconds, cap;
};

#endif
