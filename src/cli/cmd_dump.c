/* medseal dump FILE...: dcmdump-like listing or DICOM JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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

int cmd_dump(int argc, char **argv)
{
    struct dump_args a = {0};
    int i, rc = 0, nfiles = 0;
    static char outbuf[1 << 16];

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            a.json = true;
        } else if (strcmp(argv[i], "--meta") == 0) {
            a.meta = true;
        } else if (strcmp(argv[i], "--no-pixels") == 0) {
            a.no_pixels = true;
        } else if (strcmp(argv[i], "--max-chars") == 0 && i + 1 < argc) {
            a.max_chars = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--bulk-threshold") == 0 && i + 1 < argc) {
            a.bulk = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--bulk-uri") == 0 && i + 1 < argc) {
            a.bulk_uri = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            return cli_usage("dump", "unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc)
        return cli_usage("dump", "no files given");
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (a.json && argc - i > 1)
        fputs("[\n", stdout);
    for (; i < argc; i++) {
        int r = dump_one(argv[i], &a, nfiles++ == 0);
        if (r > rc)
            rc = r;
    }
    if (a.json && nfiles > 1)
        fputs("\n]\n", stdout);
    else if (a.json)
        fputs("\n", stdout);
    fflush(stdout);
    return rc;
}

const struct cli_command cli_commands_dump[] = {
    {"dump", cmd_dump, "list the elements of DICOM files (text or DICOM JSON)"},
    {NULL, NULL, NULL},
};
