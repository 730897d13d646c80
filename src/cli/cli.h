/* The medseal program: subcommand table and shared helpers. */
#ifndef MEDSEAL_CLI_H
#define MEDSEAL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "medseal/error.h"

/** A subcommand: argv[0] is the subcommand name. Returns the exit code. */
struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

/* Each src/cli/cmd_NAME.c defines `const struct cli_command cli_commands_NAME[]`,
 * ended by a {NULL} entry; the build lists them all in cli_command_lists. */
extern const struct cli_command *const cli_command_lists[];

/** Print "medseal: <context>: <message>" to stderr and return the exit code
 * of the error's status. */
int cli_fail(const char *context, const struct ms_error *err);
/** Print a usage error and return 2. */
int cli_usage(const char *cmd, const char *fmt, ...) MS_PRINTF(2, 3);
/** True when argv[i] is "-h" or "--help". */
bool cli_is_help(const char *arg);
/** Warning printer for the reader (ctx is the file name). */
void cli_warn(void *ctx, uint64_t offset, const char *msg);
/** Set by --quiet: suppress warnings. */
extern bool cli_quiet;

struct ms_scan;
/** ms_scan_add() each of the n paths; *current (when current is not NULL)
 * names the one being added, for the scan's callbacks. Each failure is
 * printed (cli_fail()); returns the worst of their exit codes, 0 when none. */
int cli_scan_paths(struct ms_scan *scan, char **paths, int n, const char **current);

#endif
