/* medseal: entry point and subcommand dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "medseal/series.h"

bool cli_quiet;

/* The command tables of every src/cli/cmd_*.c, listed by the build
 * (cmake: cli_commands.inc), so that adding a command edits no shared file. */
#include "cli_commands.inc"

int cli_fail(const char *context, const struct ms_error *err)
{
    if (context)
        fprintf(stderr, "medseal: %s: %s\n", context, err->msg);
    else
        fprintf(stderr, "medseal: %s\n", err->msg);
    return ms_status_exit_code(err->code);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "medseal %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see medseal %s --help)\n", cmd);
    return 2;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

void cli_warn(void *ctx, uint64_t offset, const char *msg)
{
    if (!cli_quiet)
        fprintf(stderr, "medseal: warning: %s: offset %llu: %s\n", (const char *)ctx,
                (unsigned long long)offset, msg);
}

int cli_scan_paths(struct ms_scan *scan, char **paths, int n, const char **current)
{
    struct ms_error err = {0};
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (current)
            *current = paths[i];
        if (ms_scan_add(scan, paths[i], &err) != MS_OK) {
            int e = cli_fail(NULL, &err);
            rc = e > rc ? e : rc;
        }
    }
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: medseal [--quiet] COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t l = 0; cli_command_lists[l]; l++)
        for (const struct cli_command *c = cli_command_lists[l]; c->name; c++)
            fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nmedseal COMMAND --help shows the options of a command.\n"
                 "Exit codes: 0 ok, 1 problems found, 2 usage, 3 malformed or unsupported input,\n"
                 "4 key or authentication failure, 5 I/O or system error.\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            cli_quiet = true;
        } else if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("medseal 0.1.0\n");
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t l = 0; cli_command_lists[l]; l++)
        for (const struct cli_command *c = cli_command_lists[l]; c->name; c++)
            if (strcmp(argv[i], c->name) == 0)
                return c->run(argc - i, argv + i);
    fprintf(stderr, "medseal: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
