/* pingpong — two VRs exchanging typed messages (declared in pingpong.rvr).
 *
 * The Player (the initial VR; its params are command-line options) deploys
 * a Partner and plays `rounds` rounds: it sends Ping{count = i}, and waits
 * for the Pong whose count is i — a selective receive on a typed field.
 * Ping{count = 0} ends the game: the Partner answers with a Stats message,
 * which is open-ended: besides its two declared fields it carries extra
 * attributes (the partner's UUID, its host name, the last note).  The Player
 * first looks at Stats through the dynamic API (attribute by attribute, as
 * a program that never saw pingpong.rvr would), then receives it typed.
 *
 *   ./pingpong --rounds=5 [--verbose]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pingpong.rvr.h"

/* ---- Partner ---------------------------------------------------------------- */

/* An extra attribute of an open-ended message: a string value. */
static rvr_status extra_set_str(rvr_map **extra, const char *name, const char *s)
{
    rvr_value v;
    rvr_status st = rvr_value_str(&v, s);
    if (st != RVR_OK)
        return st;
    if (*extra == NULL && (*extra = rvr_map_new()) == NULL) {
        rvr_value_clear(&v);
        return RVR_ENOMEM;
    }
    if ((st = rvr_map_set(*extra, name, &v)) != RVR_OK)
        rvr_value_clear(&v);
    return st;
}

int pingpong_Partner_main(rvr_vr *self, const pingpong_Partner_args *args)
{
    (void)args;
    uint64_t total = 0, pings = 0, note_bytes = 0;
    char last_note[64] = "";
    pingpong_Ping ping;
    /* Only the parent's Pings: any other sender is ignored (left queued). */
    rvr_match *from_parent = rvr_match_new();
    if (from_parent == NULL || rvr_match_src(from_parent, rvr_parent(self)) != RVR_OK)
        return 1;
    rvr_status st;
    while ((st = pingpong_Ping_recv(self, &ping, from_parent, RVR_FOREVER)) == RVR_OK) {
        uint64_t count = ping.count;
        if (ping.note != NULL) {
            note_bytes += strlen(ping.note);
            snprintf(last_note, sizeof last_note, "%s", ping.note);
        }
        pingpong_Ping_clear(&ping);
        if (count == 0)
            break;
        pings++;
        total += count;
        pingpong_Pong pong;
        pingpong_Pong_init(&pong);
        pong.count = count;
        pong.total = total;
        if ((st = pingpong_Pong_send(self, rvr_parent(self), &pong)) != RVR_OK)
            break;
    }
    rvr_match_free(from_parent);
    if (st != RVR_OK)
        return st == RVR_ECLOSED ? 0 : 1;

    /* The summary: declared fields, plus extra attributes. */
    pingpong_Stats stats;
    pingpong_Stats_init(&stats);
    stats.pings = pings;
    stats.note_bytes = note_bytes;
    char me[RVR_UUID_STRLEN], host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    rvr_value total_v = rvr_value_u64(total);
    if (extra_set_str(&stats.extra, "partner", rvr_uuid_str(rvr_self(self), me)) != RVR_OK ||
        extra_set_str(&stats.extra, "host", host) != RVR_OK ||
        extra_set_str(&stats.extra, "last_note", last_note) != RVR_OK ||
        rvr_map_set(stats.extra, "total", &total_v) != RVR_OK ||
        pingpong_Stats_send(self, rvr_parent(self), &stats) != RVR_OK) {
        pingpong_Stats_clear(&stats);
        return 1;
    }
    return 0;
}

/* ---- Player ----------------------------------------------------------------- */

/* Prints one dynamic value (lists and maps in brief). */
static void print_value(const rvr_value *v)
{
    char u[RVR_UUID_STRLEN];
    switch (v->type) {
    case RVR_T_BOOL:   printf("%s", v->as.b ? "true" : "false"); break;
    case RVR_T_INT:    printf("%" PRId64, v->as.i); break;
    case RVR_T_UINT:   printf("%" PRIu64, v->as.u); break;
    case RVR_T_DOUBLE: printf("%g", v->as.d); break;
    case RVR_T_STRING: printf("\"%s\"", v->as.str.ptr); break;
    case RVR_T_BYTES:  printf("<%zu bytes>", v->as.bytes.len); break;
    case RVR_T_UUID:   printf("%s", rvr_uuid_str(&v->as.uuid, u)); break;
    case RVR_T_LIST:   printf("[%zu values]", rvr_list_len(v->as.list)); break;
    case RVR_T_MAP:    printf("{%zu entries}", rvr_map_len(v->as.map)); break;
    default:           printf("(none)"); break;
    }
}

static int fail(const char *what, rvr_status st)
{
    fprintf(stderr, "pingpong: %s: %s\n", what, rvr_strerror(st));
    return 1;
}

int pingpong_Player_main(rvr_vr *self, const pingpong_Player_args *args)
{
    rvr_uuid partner;
    rvr_status st = pingpong_Partner_deploy(self, NULL, NULL, &partner);
    if (st != RVR_OK)
        return fail("deploying the partner", st);

    uint64_t total = 0;
    for (uint64_t i = 1; i <= args->rounds; i++) {
        pingpong_Ping ping;
        pingpong_Ping_init(&ping);
        ping.count = i;
        char note[32];
        snprintf(note, sizeof note, "ping #%" PRIu64, i);
        ping.note = strdup(note);   /* the message owns its strings */
        if ((st = pingpong_Ping_send(self, &partner, &ping)) != RVR_OK) {
            pingpong_Ping_clear(&ping);
            return fail("sending a Ping", st);
        }
        /* The Pong of this round: match on the typed field `count`. */
        rvr_match *m = rvr_match_new();
        rvr_match_eq_u64(m, "count", i);
        pingpong_Pong pong;
        st = pingpong_Pong_recv(self, &pong, m, 10000);
        rvr_match_free(m);
        if (st != RVR_OK)
            return fail("waiting for a Pong", st);
        total += i;
        if (pong.total != total) {
            fprintf(stderr, "pingpong: round %" PRIu64 ": total %" PRIu64 ", expected %" PRIu64 "\n",
                    i, pong.total, total);
            return 1;
        }
        if (args->verbose)
            printf("round %" PRIu64 ": pong %" PRIu64 " (total %" PRIu64 ")\n", i, pong.count,
                   pong.total);
        pingpong_Pong_clear(&pong);
    }
    printf("%" PRIu32 " rounds played, total %" PRIu64 "\n", args->rounds, total);

    /* Game over: Ping 0.  The partner answers with Stats. */
    pingpong_Ping stop;
    pingpong_Ping_init(&stop);
    if ((st = pingpong_Ping_send(self, &partner, &stop)) != RVR_OK)
        return fail("sending the last Ping", st);

    /* Stats, dynamically: every attribute by name, declared or extra.  A
     * peek leaves the message queued. */
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "pingpong.Stats");
    rvr_packet *p;
    st = rvr_peek(self, m, 10000, &p);
    rvr_match_free(m);
    if (st != RVR_OK)
        return fail("waiting for Stats", st);
    printf("Stats as a dynamic packet (tag %s), %zu attributes:\n", rvr_packet_tag(p),
           rvr_packet_count(p));
    for (size_t i = 0; i < rvr_packet_count(p); i++) {
        const char *name;
        const rvr_value *v;
        rvr_packet_at(p, i, &name, &v);
        printf("  %-10s = ", name);
        print_value(v);
        printf("  (%s)\n", rvr_type_name(v->type));
    }
    rvr_packet_free(p);

    /* Stats, typed: the declared fields as struct members, the rest in `extra`. */
    pingpong_Stats stats;
    if ((st = pingpong_Stats_recv(self, &stats, NULL, 0)) != RVR_OK)
        return fail("receiving Stats", st);
    printf("Stats typed: pings=%" PRIu64 " note_bytes=%" PRIu64 ", %zu extra attributes",
           stats.pings, stats.note_bytes, stats.extra ? rvr_map_len(stats.extra) : 0);
    const rvr_value *host = stats.extra ? rvr_map_get(stats.extra, "host") : NULL;
    if (host != NULL && host->type == RVR_T_STRING)
        printf(" (host %s)", host->as.str.ptr);
    printf("\n");
    int rc = stats.pings == args->rounds ? 0 : 1;
    pingpong_Stats_clear(&stats);
    return rc;
}

int main(int argc, char **argv)
{
    return rvr_main(argc, argv, &pingpong_Player_type);
}
