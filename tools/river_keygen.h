/* river_keygen.h — `river keygen`: write a new cluster secret. */
#ifndef RIVER_TOOLS_KEYGEN_H
#define RIVER_TOOLS_KEYGEN_H

/* argv[0] is the command name ("keygen"); returns the exit status:
 * 0 written, 1 failed (file exists without --force, I/O error), 2 usage. */
int river_keygen_main(int argc, char **argv);

#endif
