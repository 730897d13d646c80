/* Option tables for subcommands: each option names a handler that takes
 * its values; words that are not options go to a positional handler. */
#ifndef MEDSEAL_CLI_OPTS_H
#define MEDSEAL_CLI_OPTS_H

#include <stddef.h>

/** One option: handler returns -1 when it accepted the values, else the exit
 * code (after printing the usage error with cli_usage()). */
struct cli_option {
    const char *name;   /* "-o" */
    const char *alias;  /* "--key-file", or NULL */
    unsigned nvalues;   /* values that follow: 0, 1 or 2 */
    int (*fn)(void *args, char **values);
};

/** Parse argv[1..argc-1] for subcommand cmd: "-h"/"--help" calls help() and
 * returns 0; an option of the table runs its handler; any other word starting
 * with '-' (except "-" itself) is a usage error; other words go to
 * positional(). Returns -1 when everything was accepted, else the exit code. */
int cli_parse_options(const char *cmd, int argc, char **argv, const struct cli_option *opts,
                      size_t nopts, void *args, int (*positional)(void *args, char *word),
                      void (*help)(void));

/** Parse a decimal count from 1 (whole text); false otherwise. */
bool cli_parse_count(const char *text, size_t *out);

#endif
