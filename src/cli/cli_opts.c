/* Option tables for subcommands (cli_opts.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"

static const struct cli_option *find(const struct cli_option *opts, size_t n, const char *word)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(word, opts[k].name) || (opts[k].alias && !strcmp(word, opts[k].alias)))
            return &opts[k];
    return NULL;
}

int cli_parse_options(const char *cmd, int argc, char **argv, const struct cli_option *opts,
                      size_t nopts, void *args, int (*positional)(void *args, char *word),
                      void (*help)(void))
{
    for (int i = 1; i < argc; i++) {
        const struct cli_option *o;
        int rc;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        }
        if (argv[i][0] != '-' || !argv[i][1]) {
            rc = positional(args, argv[i]);
        } else if (!(o = find(opts, nopts, argv[i]))) {
            rc = cli_usage(cmd, "unknown option %s", argv[i]);
        } else if (argc - i - 1 < (int)o->nvalues) {
            rc = cli_usage(cmd, "%s needs %u value%s", argv[i], o->nvalues,
                           o->nvalues > 1 ? "s" : "");
        } else {
            rc = o->fn(args, argv + i + 1);
            i += (int)o->nvalues;
        }
        if (rc >= 0)
            return rc;
    }
    return -1;
}

bool cli_parse_count(const char *text, size_t *out)
{
    char *end;
    unsigned long long v;
    if (!text || *text < '0' || *text > '9')
        return false;
    v = strtoull(text, &end, 10);
    if (*end || v == 0 || v > SIZE_MAX)
        return false;
    *out = (size_t)v;
    return true;
}
