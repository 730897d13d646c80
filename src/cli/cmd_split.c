/* medseal split / join: a DICOM file into pixels (PNG) and metadata (JSON),
 * and back, bit-exact. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "medseal/protect.h"

static int split_help(void)
{
    printf("usage: medseal split [--rgb24] FILE -o IMAGE.png META.json\n\n"
           "Partitions a DICOM file (seed 003): the pixels to a PNG (8-bit grey or RGB,\n"
           "16-bit grey; --rgb24 packs 16-bit values into 24-bit RGB: R high byte, G low\n"
           "byte), the rest to JSON (DICOM JSON Model + what `medseal join` needs).\n");
    return 0;
}

static int join_help(void)
{
    printf("usage: medseal join IMAGE.png META.json -o FILE\n\n"
           "Rebuilds the original DICOM file from `medseal split`'s outputs; the file is\n"
           "written only when its SHA-256 equals the original's (exit 1 otherwise).\n");
    return 0;
}

static int cmd_split(int argc, char **argv)
{
    const char *in = NULL, *png = NULL, *meta = NULL;
    bool rgb24 = false;
    struct ms_error err = {0};
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i]))
            return split_help();
        if (strcmp(argv[i], "--rgb24") == 0)
            rgb24 = true;
        else if (strcmp(argv[i], "-o") == 0 && i + 2 < argc) {
            png = argv[++i];
            meta = argv[++i];
        } else if (argv[i][0] != '-' && !in)
            in = argv[i];
        else
            return cli_usage("split", "unexpected argument '%s'", argv[i]);
    }
    if (!in || !png || !meta)
        return cli_usage("split", "needs FILE -o IMAGE.png META.json");
    if (ms_split_file(in, png, meta, rgb24, &err) != MS_OK)
        return cli_fail(in, &err);
    return 0;
}

static int cmd_join(int argc, char **argv)
{
    const char *png = NULL, *meta = NULL, *out = NULL;
    struct ms_error err = {0};
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i]))
            return join_help();
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && !png)
            png = argv[i];
        else if (argv[i][0] != '-' && !meta)
            meta = argv[i];
        else
            return cli_usage("join", "unexpected argument '%s'", argv[i]);
    }
    if (!png || !meta || !out)
        return cli_usage("join", "needs IMAGE.png META.json -o FILE");
    if (ms_join_files(png, meta, out, &err) != MS_OK)
        return cli_fail(out, &err);
    return 0;
}

const struct cli_command cli_commands_split[] = {
    {"split", cmd_split, "partition a DICOM file into pixels (PNG) and metadata (JSON)"},
    {"join", cmd_join, "rebuild a DICOM file from split's PNG and JSON, bit-exact"},
    {NULL, NULL, NULL},
};
