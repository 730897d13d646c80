/* Option tables for subcommands: each option names a handler that takes
 * its values; words that are not options go to a positional handler. */
#ifndef MEDSEAL_CLI_OPTS_H
#define MEDSEAL_CLI_OPTS_H

#include <stdbool.h>
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

/** What the study commands (drr, seal, verify) share: their inputs and
 * --threads. It is the first member of their argument struct, so that the
 * two handlers below take that struct as their args. */
#define CLI_MAX_INPUTS 64
struct cli_study {
    const char *cmd; /* the command, for usage errors */
    const char *inputs[CLI_MAX_INPUTS];
    size_t ninputs;
    unsigned threads;
};

/** Positional handler for cli_parse_options(): one more input (a usage
 * error past CLI_MAX_INPUTS). */
int cli_study_input(void *args, char *word);
/** Option handler of --threads N. */
int cli_study_threads(void *args, char **values);

/** A subcommand of the form `cmd [OPTION]... PATH...`. */
struct cli_parser {
    const char *cmd;
    const struct cli_option *opts;
    size_t nopts;
    void (*help)(void);
    const char *no_paths; /* the usage error when no path follows */
};

/** Parse the options in front of the paths: "-h"/"--help" calls help() and
 * returns 0; an option of the table runs its handler; "--" or the first word
 * that is not an option ("-" is not) ends them, and *first receives the index
 * of the first path. A usage error for any other word starting with '-', and
 * when no path follows. Returns -1 when everything was accepted, else the
 * exit code. */
int cli_parse_leading(const struct cli_parser *p, int argc, char **argv, void *args, int *first);

/** Parse a decimal count from 1 (whole text); false otherwise. */
bool cli_parse_count(const char *text, size_t *out);

#endif
