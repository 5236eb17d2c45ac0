/* river_cli.h — what the parts of the `river` command share: river.c (main,
 * vms, printing) and river_ctl.c (ps, send, kill: the commands that run a
 * short-lived VM and talk to other VMs over TCP). */
#ifndef RIVER_TOOLS_CLI_H
#define RIVER_TOOLS_CLI_H

#include <stdio.h>
#include <river/river.h>

extern const char *prog;

void json_str(FILE *f, const char *s, size_t n);
void json_value(FILE *f, const rvr_value *v);
/* A short text form of a value for tables ("-" for NULL). */
void text_value(char *buf, size_t cap, const rvr_value *v);
/* "--name value" or "--name=value" at argv[*i]: the value (advancing *i
 * past a separate one), or NULL when argv[*i] is another option; exits 2
 * when the value is missing. */
const char *optval(int argc, char **argv, int *i, const char *name);
/* A decimal number in min..max, or exit 2 naming the option. */
long number(const char *opt, const char *s, long min, long max);

/* river ps | send | kill (argv[0] is the subcommand). */
int cmd_vm(int argc, char **argv);

#endif
