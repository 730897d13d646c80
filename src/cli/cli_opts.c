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

/* Run the option argv[*i] with the values after it (*i moves past them).
 * Returns -1 when it was accepted, else the exit code. */
static int take_option(const char *cmd, int argc, char **argv, int *i,
                       const struct cli_option *opts, size_t nopts, void *args)
{
    const struct cli_option *o = find(opts, nopts, argv[*i]);
    int rc;
    if (!o)
        return cli_usage(cmd, "unknown option '%s'", argv[*i]);
    if (argc - *i - 1 < (int)o->nvalues)
        return cli_usage(cmd, "%s needs %u value%s", argv[*i], o->nvalues,
                         o->nvalues > 1 ? "s" : "");
    rc = o->fn(args, argv + *i + 1);
    *i += (int)o->nvalues;
    return rc;
}

static bool is_option(const char *word)
{
    return word[0] == '-' && word[1];
}

int cli_parse_options(const char *cmd, int argc, char **argv, const struct cli_option *opts,
                      size_t nopts, void *args, int (*positional)(void *args, char *word),
                      void (*help)(void))
{
    for (int i = 1; i < argc; i++) {
        int rc;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        }
        rc = is_option(argv[i]) ? take_option(cmd, argc, argv, &i, opts, nopts, args)
                                : positional(args, argv[i]);
        if (rc >= 0)
            return rc;
    }
    return -1;
}

int cli_parse_leading(const struct cli_parser *p, int argc, char **argv, void *args, int *first)
{
    int i;
    for (i = 1; i < argc && is_option(argv[i]); i++) {
        int rc;
        if (cli_is_help(argv[i])) {
            p->help();
            return 0;
        }
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        rc = take_option(p->cmd, argc, argv, &i, p->opts, p->nopts, args);
        if (rc >= 0)
            return rc;
    }
    if (i >= argc)
        return cli_usage(p->cmd, "%s", p->no_paths);
    *first = i;
    return -1;
}

int cli_study_input(void *args, char *word)
{
    struct cli_study *s = args;
    if (s->ninputs == CLI_MAX_INPUTS)
        return cli_usage(s->cmd, "too many inputs");
    s->inputs[s->ninputs++] = word;
    return -1;
}

int cli_study_threads(void *args, char **values)
{
    ((struct cli_study *)args)->threads = (unsigned)strtoul(values[0], NULL, 10);
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
