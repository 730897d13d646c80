/* medseal dump FILE...: dcmdump-like listing or DICOM JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "medseal/dicom.h"

static void help(void)
{
    printf("usage: medseal dump [--json] [--meta] [--bulk-threshold N] [--bulk-uri URI]\n"
           "                    [--max-chars N] [--no-pixels] FILE...\n\n"
           "Lists the elements of each file: tag, VR, value, length, VM, keyword.\n"
           "  --json             DICOM JSON Model (PS3.18 F.2), one object per file\n"
           "  --meta             with --json: include File Meta Information\n"
           "  --bulk-threshold N with --json: binary values over N bytes as BulkDataURI\n"
           "                     (default: all binary values inline, InlineBinary)\n"
           "  --bulk-uri URI     with --json: BulkDataURI prefix (default file://FILE)\n"
           "  --max-chars N      text listing: truncate values after N characters (64)\n"
           "  --no-pixels        stop reading at Pixel Data\n");
}

struct dump_args {
    bool json, meta, no_pixels;
    unsigned max_chars;
    unsigned long long bulk;
    const char *bulk_uri;
};

static int stdout_sink(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static int dump_one(const char *path, const struct dump_args *a, bool first)
{
    struct ms_error err = {0};
    struct ms_file *f = NULL;
    struct ms_read_options ro = {0};
    ms_status st;

    ro.warn = cli_warn;
    ro.warn_ctx = (void *)path;
    ro.stop_before_pixels = a->no_pixels;
    st = ms_file_read(&f, path, &ro, &err);
    if (st != MS_OK)
        return cli_fail(path, &err);
    if (a->json) {
        struct ms_json_options jo = {0};
        char uri[4096];
        jo.include_meta = a->meta;
        jo.bulk_threshold = a->bulk;
        snprintf(uri, sizeof uri, "file://%s", path);
        jo.bulk_uri_base = a->bulk_uri ? a->bulk_uri : uri;
        if (!first)
            fputs(",\n", stdout);
        st = ms_file_write_json(f, &jo, stdout_sink, stdout, &err);
    } else {
        struct ms_dump_options dopt = {a->max_chars, true};
        printf("\n# %s\n", path);
        st = ms_file_dump(f, stdout, &dopt, &err);
    }
    ms_file_destroy(f);
    return st == MS_OK ? 0 : cli_fail(path, &err);
}

static int opt_json(void *p, char **v) { ((struct dump_args *)p)->json = true; return -1; }
static int opt_meta(void *p, char **v) { ((struct dump_args *)p)->meta = true; return -1; }
static int opt_no_pixels(void *p, char **v) { ((struct dump_args *)p)->no_pixels = true; return -1; }
static int opt_bulk_uri(void *p, char **v) { ((struct dump_args *)p)->bulk_uri = v[0]; return -1; }

static int opt_max_chars(void *p, char **v)
{
    ((struct dump_args *)p)->max_chars = (unsigned)strtoul(v[0], NULL, 10);
    return -1;
}

static int opt_bulk(void *p, char **v)
{
    ((struct dump_args *)p)->bulk = strtoull(v[0], NULL, 10);
    return -1;
}

static const struct cli_option options[] = {
    {"--json", NULL, 0, opt_json},
    {"--meta", NULL, 0, opt_meta},
    {"--no-pixels", NULL, 0, opt_no_pixels},
    {"--max-chars", NULL, 1, opt_max_chars},
    {"--bulk-threshold", NULL, 1, opt_bulk},
    {"--bulk-uri", NULL, 1, opt_bulk_uri},
};

static const struct cli_parser parser = {"dump", options, sizeof options / sizeof *options, help,
                                         "no files given"};

/* Dump every path; JSON output of several files is one array. Returns the
 * worst exit code. */
static int dump_all(char **paths, int n, const struct dump_args *a)
{
    int rc = 0;
    if (a->json && n > 1)
        fputs("[\n", stdout);
    for (int i = 0; i < n; i++) {
        int r = dump_one(paths[i], a, i == 0);
        rc = r > rc ? r : rc;
    }
    if (a->json)
        fputs(n > 1 ? "\n]\n" : "\n", stdout);
    return rc;
}

int cmd_dump(int argc, char **argv)
{
    struct dump_args a = {0};
    static char outbuf[1 << 16];
    int first = 0, rc = cli_parse_leading(&parser, argc, argv, &a, &first);

    if (rc >= 0)
        return rc;
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    rc = dump_all(argv + first, argc - first, &a);
    fflush(stdout);
    return rc;
}

const struct cli_command cli_commands_dump[] = {
    {"dump", cmd_dump, "list the elements of DICOM files (text or DICOM JSON)"},
    {NULL, NULL, NULL},
};
