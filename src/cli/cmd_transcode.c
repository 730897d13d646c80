/* medseal transcode: convert files between transfer syntaxes, losslessly. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "medseal/codec.h"
#include "medseal/dicom.h"
#include "medseal/util.h"

static const struct {
    const char *name;
    const char *uid;
} syntaxes[] = {
    {"explicit", "1.2.840.10008.1.2.1"}, {"implicit", "1.2.840.10008.1.2"},
    {"big", "1.2.840.10008.1.2.2"},      {"deflated", "1.2.840.10008.1.2.1.99"},
    {"rle", MS_TS_RLE},                  {"jpeg-ls", MS_TS_JPEG_LS},
};

static void help(void)
{
    printf("usage: medseal transcode --to SYNTAX INPUT... -o OUT\n\n"
           "Converts DICOM files to another transfer syntax without loss. SYNTAX is one of\n"
           "explicit, implicit, big, deflated, rle (RLE Lossless), jpeg-ls (JPEG-LS lossless)\n"
           "or a transfer syntax UID. Compressed inputs in RLE or JPEG-LS are decoded first.\n"
           "With one input file OUT is a file, else a directory mirroring the inputs.\n");
}

static const struct ms_transfer_syntax *syntax_named(const char *name)
{
    for (size_t i = 0; i < sizeof syntaxes / sizeof syntaxes[0]; i++)
        if (strcmp(syntaxes[i].name, name) == 0)
            return ms_ts_find(syntaxes[i].uid);
    return ms_ts_find(name);
}

static int transcode_one(const char *in, const char *out, const struct ms_transfer_syntax *ts,
                         uint64_t *bytes_in, uint64_t *bytes_out)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    struct ms_read_options ro = {0};
    ms_status st;

    ro.warn = cli_warn;
    ro.warn_ctx = (void *)in;
    st = ms_file_read(&f, in, &ro, &err);
    if (st == MS_OK) {
        *bytes_in += ms_file_input_size(f);
        st = ms_file_transcode(f, ts, MS_VR_NONE, &err);
    }
    if (st == MS_OK)
        st = ms_file_write(f, out, NULL, &err);
    ms_file_destroy(f);
    if (st != MS_OK)
        return cli_fail(in, &err);
    {
        FILE *o = fopen(out, "rb");
        if (o) {
            fseek(o, 0, SEEK_END);
            *bytes_out += (uint64_t)ftell(o);
            fclose(o);
        }
    }
    return 0;
}

int cmd_transcode(int argc, char **argv)
{
    const struct ms_transfer_syntax *ts = NULL;
    const char *out = NULL;
    struct ms_pathlist files = {0};
    struct ms_error err = {0};
    uint64_t bin = 0, bout = 0;
    int rc = 0, ninputs = 0;
    const char *inputs[256];

    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            ts = syntax_named(argv[++i]);
            if (!ts || !ms_codec_supported(ts))
                return cli_usage("transcode", "unknown or unsupported syntax '%s'", argv[i]);
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            return cli_usage("transcode", "unknown option '%s'", argv[i]);
        } else if (ninputs < 256) {
            inputs[ninputs++] = argv[i];
        }
    }
    if (!ts || !out || ninputs == 0)
        return cli_usage("transcode", "needs --to SYNTAX, inputs and -o OUT");
    if (ms_pathlist_collect(&files, inputs, (size_t)ninputs, &err) != MS_OK)
        return cli_fail(NULL, &err);
    if (files.count == 1 && !ms_is_dir(inputs[0]) && !ms_is_dir(out)) {
        rc = transcode_one(files.paths[0], out, ts, &bin, &bout);
    } else if (ms_mkdirs(out, &err) != MS_OK) {
        rc = cli_fail(out, &err);
    } else {
        for (size_t i = 0; i < files.count; i++) {
            char path[4096];
            const char *base = strrchr(files.paths[i], '/');
            int r;
            snprintf(path, sizeof path, "%s/%s", out, base ? base + 1 : files.paths[i]);
            r = transcode_one(files.paths[i], path, ts, &bin, &bout);
            rc = r > rc ? r : rc;
        }
    }
    if (!cli_quiet && bin)
        fprintf(stderr, "%zu file(s) to %s: %.2f MB -> %.2f MB (ratio %.2f)\n", files.count,
                ts->name, bin / 1e6, bout / 1e6, bout ? (double)bin / (double)bout : 0.0);
    ms_pathlist_clear(&files);
    return rc;
}

const struct cli_command cli_commands_transcode[] = {
    {"transcode", cmd_transcode, "convert files to another transfer syntax (RLE, JPEG-LS, ...)"},
    {NULL, NULL, NULL},
};
