/* medseal: entry point and subcommand dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

bool cli_quiet;

int cmd_dump(int argc, char **argv);
int cmd_protect(int argc, char **argv);
int cmd_unprotect(int argc, char **argv);
int cmd_drr(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_tamper(int argc, char **argv);

const struct cli_command cli_commands[] = {
    {"dump", cmd_dump, "list the elements of DICOM files (text or DICOM JSON)"},
    {"protect", cmd_protect, "protect files with a scheme (default: CMS envelope)"},
    {"unprotect", cmd_unprotect, "restore protected files, bit-exact, after authentication"},
    {"drr", cmd_drr, "digitally reconstructed radiograph of each volume (PNG)"},
    {"seal", cmd_seal, "seal a study: hashes, Merkle root, encrypted DRR fingerprint, signature"},
    {"verify", cmd_verify, "verify a study against its seal (instances and DRR blocks)"},
    {"tamper", cmd_tamper, "copy a study and apply attacks to the copy (insert, delete, ...)"},
    {NULL, NULL, NULL},
};

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

static void usage(FILE *out)
{
    fprintf(out, "usage: medseal [--quiet] COMMAND [ARGS...]\n\ncommands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++)
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
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strcmp(argv[i], c->name) == 0)
            return c->run(argc - i, argv + i);
    fprintf(stderr, "medseal: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
