/* medseal transcode: convert files between transfer syntaxes, losslessly. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "cli_outputs.h"
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
           "With one input file OUT is a file; with one directory OUT mirrors its tree;\n"
           "with several inputs each keeps its name under OUT (a directory as OUT/NAME/...),\n"
           "and inputs that would share an output are refused (exit 2, nothing written).\n");
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
    char *inputs[MAX_INPUTS];
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

/* Every file to its output (subdirectories of a mirrored tree made as
 * needed). Returns the worst exit code. */
static int transcode_all(struct transcode_args *a, const struct cli_outputs *plan)
{
    struct ms_error err = {0};
    int rc = 0;
    if (plan->out_is_dir && ms_mkdirs(a->out, &err) != MS_OK)
        return cli_fail(a->out, &err);
    for (size_t i = 0; i < plan->files.count; i++) {
        char *out = plan->outs[i], *slash = strrchr(out, '/');
        int r = 0;
        if (plan->out_is_dir && slash > out + strlen(a->out)) {
            *slash = '\0';
            r = ms_mkdirs(out, &err) == MS_OK ? 0 : cli_fail(NULL, &err);
            *slash = '/';
        }
        if (r == 0)
            r = transcode_one(plan->files.paths[i], out, a->ts, &a->bytes_in, &a->bytes_out);
        rc = r > rc ? r : rc;
    }
    return rc;
}

int cmd_transcode(int argc, char **argv)
{
    struct transcode_args a = {0};
    struct cli_outputs plan;
    struct cli_outputs_spec spec = {NULL, NULL, NULL, NULL};
    int rc = cli_parse_options("transcode", argc, argv, options, sizeof options / sizeof *options,
                               &a, add_input, help);

    if (rc >= 0)
        return rc;
    if (!a.ts || !a.out || a.ninputs == 0)
        return cli_usage("transcode", "needs --to SYNTAX, inputs and -o OUT");
    spec.out = a.out;
    rc = cli_outputs_plan(&plan, "transcode", a.inputs, a.ninputs, &spec);
    if (rc == 0)
        rc = transcode_all(&a, &plan);
    if (!cli_quiet && a.bytes_in)
        fprintf(stderr, "%zu file(s) to %s: %.2f MB -> %.2f MB (ratio %.2f)\n", plan.files.count,
                a.ts->name, a.bytes_in / 1e6, a.bytes_out / 1e6,
                a.bytes_out ? (double)a.bytes_in / (double)a.bytes_out : 0.0);
    cli_outputs_clear(&plan);
    return rc;
}

const struct cli_command cli_commands_transcode[] = {
    {"transcode", cmd_transcode, "convert files to another transfer syntax (RLE, JPEG-LS, ...)"},
    {NULL, NULL, NULL},
};
