/* medseal transcode: convert files between transfer syntaxes, losslessly. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
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

#define MAX_INPUTS 256

struct transcode_args {
    const struct ms_transfer_syntax *ts;
    const char *out;
    const char *inputs[MAX_INPUTS];
    size_t ninputs;
    uint64_t bytes_in, bytes_out;
};

static int opt_to(void *p, char **v)
{
    struct transcode_args *a = p;
    a->ts = syntax_named(v[0]);
    if (!a->ts || !ms_codec_supported(a->ts))
        return cli_usage("transcode", "unknown or unsupported syntax '%s'", v[0]);
    return -1;
}

static int opt_out(void *p, char **v) { ((struct transcode_args *)p)->out = v[0]; return -1; }

static const struct cli_option options[] = {
    {"--to", NULL, 1, opt_to},
    {"-o", NULL, 1, opt_out},
};

/* An input; those after the first MAX_INPUTS are ignored. */
static int add_input(void *p, char *word)
{
    struct transcode_args *a = p;
    if (strcmp(word, "-") == 0)
        return cli_usage("transcode", "unknown option '%s'", word);
    if (a->ninputs < MAX_INPUTS)
        a->inputs[a->ninputs++] = word;
    return -1;
}

/* Every file into the directory a->out, under its base name. Returns the
 * worst exit code. */
static int transcode_into_dir(struct transcode_args *a, const struct ms_pathlist *files)
{
    int rc = 0;
    for (size_t i = 0; i < files->count; i++) {
        char path[4096];
        const char *base = strrchr(files->paths[i], '/');
        int r;
        snprintf(path, sizeof path, "%s/%s", a->out, base ? base + 1 : files->paths[i]);
        r = transcode_one(files->paths[i], path, a->ts, &a->bytes_in, &a->bytes_out);
        rc = r > rc ? r : rc;
    }
    return rc;
}

static int transcode_files(struct transcode_args *a, const struct ms_pathlist *files)
{
    struct ms_error err = {0};
    if (files->count == 1 && !ms_is_dir(a->inputs[0]) && !ms_is_dir(a->out))
        return transcode_one(files->paths[0], a->out, a->ts, &a->bytes_in, &a->bytes_out);
    if (ms_mkdirs(a->out, &err) != MS_OK)
        return cli_fail(a->out, &err);
    return transcode_into_dir(a, files);
}

int cmd_transcode(int argc, char **argv)
{
    struct transcode_args a = {0};
    struct ms_pathlist files = {0};
    struct ms_error err = {0};
    int rc = cli_parse_options("transcode", argc, argv, options, sizeof options / sizeof *options,
                               &a, add_input, help);

    if (rc >= 0)
        return rc;
    if (!a.ts || !a.out || a.ninputs == 0)
        return cli_usage("transcode", "needs --to SYNTAX, inputs and -o OUT");
    if (ms_pathlist_collect(&files, a.inputs, a.ninputs, &err) != MS_OK)
        return cli_fail(NULL, &err);
    rc = transcode_files(&a, &files);
    if (!cli_quiet && a.bytes_in)
        fprintf(stderr, "%zu file(s) to %s: %.2f MB -> %.2f MB (ratio %.2f)\n", files.count,
                a.ts->name, a.bytes_in / 1e6, a.bytes_out / 1e6,
                a.bytes_out ? (double)a.bytes_in / (double)a.bytes_out : 0.0);
    ms_pathlist_clear(&files);
    return rc;
}

const struct cli_command cli_commands_transcode[] = {
    {"transcode", cmd_transcode, "convert files to another transfer syntax (RLE, JPEG-LS, ...)"},
    {NULL, NULL, NULL},
};
