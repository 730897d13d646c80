/* medseal volume DIR... -o out.nii: one stack of one series as a NIfTI-1
 * volume in real units, optionally resampled to isotropic voxels. Series
 * and stacks (4D, several orientations) are never mixed: when there are
 * several, one is chosen with --series/--stack, or --all writes each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "medseal/series.h"
#include "medseal/volume.h"

static void help(void)
{
    printf("usage: medseal volume [--series UID|NUMBER] [--stack K] [--all]\n"
           "                      [--isotropic | --slice-spacing MM] [--float32 | --int16]\n"
           "                      FILE|DIR... -o OUT.nii\n\n"
           "Builds a 3D volume from one stack of one series (frames sorted by Image Position\n"
           "(Patient) along the slice normal, values in real units: HU for CT) and writes a\n"
           "NIfTI-1 file whose affine maps voxels to scanner RAS coordinates in mm.\n"
           "  --series UID|N      the series (Series Instance UID or Series Number) when the\n"
           "                      input holds several\n"
           "  --stack K           the stack (1-based) when a series has several (temporal\n"
           "                      positions, orientations); see medseal scan\n"
           "  --all               write every stack of every series: OUT_1.nii, OUT_2.nii, ...\n"
           "  --isotropic         resample along the slice axis to the in-plane pixel spacing\n"
           "  --slice-spacing MM  resample along the slice axis to MM between slices\n"
           "  --float32, --int16  voxel type (default: int16 when every value fits exactly)\n"
           "Slices whose positions are not evenly spaced (gaps, duplicates) are refused\n"
           "unless resampled. Exit status: 0, 1 unusable series, 2 usage, 3 unsupported data,\n"
           "5 I/O error.\n");
}

struct volume_args {
    const char *series, *out;
    size_t stack;           /* 1-based, 0 = not given */
    bool all;
    double slice_spacing;   /* -1: keep the stored slices */
    ms_nifti_type type;
    int first;
};

/* Option handlers: -1 when accepted, else the exit code. */
typedef int (*option_fn)(struct volume_args *a, const char *value);

static int opt_out(struct volume_args *a, const char *v) { a->out = v; return -1; }
static int opt_series(struct volume_args *a, const char *v) { a->series = v; return -1; }
static int opt_all(struct volume_args *a, const char *v) { (void)v; a->all = true; return -1; }
static int opt_iso(struct volume_args *a, const char *v) { (void)v; a->slice_spacing = 0; return -1; }
static int opt_f32(struct volume_args *a, const char *v) { (void)v; a->type = MS_NIFTI_FLOAT32; return -1; }
static int opt_i16(struct volume_args *a, const char *v) { (void)v; a->type = MS_NIFTI_INT16; return -1; }

static int opt_stack(struct volume_args *a, const char *v)
{
    char *end;
    unsigned long k = strtoul(v, &end, 10);
    if (*end || k == 0)
        return cli_usage("volume", "--stack needs a number from 1");
    a->stack = k;
    return -1;
}

static int opt_spacing(struct volume_args *a, const char *v)
{
    char *end;
    a->slice_spacing = strtod(v, &end);
    if (*end || !(a->slice_spacing > 0))
        return cli_usage("volume", "--slice-spacing needs a positive number of mm");
    return -1;
}

static const struct {
    const char *name;
    bool takes_value;
    option_fn fn;
} options[] = {
    {"-o", true, opt_out},           {"--series", true, opt_series},
    {"--stack", true, opt_stack},    {"--all", false, opt_all},
    {"--isotropic", false, opt_iso}, {"--slice-spacing", true, opt_spacing},
    {"--float32", false, opt_f32},   {"--int16", false, opt_i16},
};

/* Apply option argv[*i] (and its value); -1 when accepted. */
static int apply_option(int argc, char **argv, int *i, struct volume_args *a)
{
    for (size_t k = 0; k < sizeof options / sizeof *options; k++) {
        if (strcmp(argv[*i], options[k].name) != 0)
            continue;
        if (options[k].takes_value && *i + 1 >= argc)
            break;
        return options[k].fn(a, options[k].takes_value ? argv[++*i] : NULL);
    }
    return cli_usage("volume", "unknown option or missing value '%s'", argv[*i]);
}

static int parse_args(int argc, char **argv, struct volume_args *a)
{
    int i, rc;
    a->slice_spacing = -1;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        }
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if ((rc = apply_option(argc, argv, &i, a)) >= 0)
            return rc;
    }
    for (int k = i; k + 1 < argc; k++) /* -o may also follow the inputs */
        if (argv[k] && strcmp(argv[k], "-o") == 0) {
            a->out = argv[k + 1];
            argv[k] = argv[k + 1] = NULL;
        }
    if (!a->out)
        return cli_usage("volume", "no output file (-o OUT.nii)");
    if (i >= argc)
        return cli_usage("volume", "no files or directories given");
    a->first = i;
    return -1;
}

/* ---- choosing series and stacks ----------------------------------------------------------- */

static bool series_matches(const struct ms_series *se, const char *want)
{
    const struct ms_series_info *in = ms_series_get_info(se);
    char *end;
    long long n;
    if (strcmp(in->series_uid, want) == 0)
        return true;
    n = strtoll(want, &end, 10);
    return *end == '\0' && n == in->series_number;
}

static void list_choices(struct ms_scan *scan)
{
    fprintf(stderr, "series and stacks found:\n");
    for (size_t i = 0; i < ms_scan_series_count(scan); i++) {
        const struct ms_series *se = ms_scan_series(scan, i);
        const struct ms_series_info *in = ms_series_get_info(se);
        fprintf(stderr, "  series %lld %s (%s, %zu instances):", (long long)in->series_number,
                in->series_uid, in->modality, in->instances);
        for (size_t k = 0; k < ms_series_stack_count(se); k++) {
            struct ms_stack_info si;
            struct ms_error err;
            if (ms_series_stack_info(se, k, &si, &err) == MS_OK)
                fprintf(stderr, " stack %zu: %zu frames%s", k + 1, si.frames,
                        k + 1 < ms_series_stack_count(se) ? ";" : "");
        }
        fprintf(stderr, "%s\n", ms_series_stack_count(se) ? "" : " no positioned frames");
    }
}

/* "out.nii" -> "out_3.nii" */
static void numbered_name(const char *out, size_t n, char *buf, size_t cap)
{
    const char *dot = strrchr(out, '.');
    const char *slash = strrchr(out, '/');
    if (!dot || (slash && dot < slash))
        dot = out + strlen(out);
    snprintf(buf, cap, "%.*s_%zu%s", (int)(dot - out), out, n, dot);
}

/* ---- writing ----------------------------------------------------------------------------- */

static int write_one(const struct ms_series *se, size_t k, const struct volume_args *a,
                     const char *path)
{
    struct ms_volume *v = NULL;
    struct ms_volume_geometry g;
    struct ms_stack_info si;
    struct ms_error err = {0};
    ms_status st = ms_series_stack_info(se, k, &si, &err);

    if (st == MS_OK && !si.uniform && a->slice_spacing < 0) {
        fprintf(stderr, "medseal volume: series %s stack %zu: slice positions are not evenly "
                "spaced (gaps, duplicates or shifted slices: see medseal validate); use "
                "--isotropic or --slice-spacing MM to resample onto a regular grid\n",
                ms_series_get_info(se)->series_uid, k + 1);
        return 1;
    }
    if (st == MS_OK)
        st = ms_volume_open(&v, se, k, &err);
    if (st == MS_OK && a->slice_spacing >= 0)
        st = ms_volume_resample(v, a->slice_spacing, &err);
    if (st == MS_OK)
        st = ms_volume_write_nifti(v, path, a->type, &err);
    if (st != MS_OK) {
        ms_volume_destroy(v);
        return cli_fail(path, &err);
    }
    ms_volume_get_geometry(v, &g);
    if (!cli_quiet)
        fprintf(stderr, "medseal volume: %s: %zux%zux%zu voxels of %.4gx%.4gx%.4g mm%s%s\n", path,
                g.nx, g.ny, g.nz, g.spacing[0], g.spacing[1], g.spacing[2],
                g.units[0] ? ", " : "", g.units);
    ms_volume_destroy(v);
    return 0;
}

static int write_all(struct ms_scan *scan, const struct volume_args *a)
{
    size_t n = 0;
    int rc = 0;
    char path[4200];
    for (size_t i = 0; i < ms_scan_series_count(scan); i++) {
        const struct ms_series *se = ms_scan_series(scan, i);
        if (a->series && !series_matches(se, a->series))
            continue;
        for (size_t k = 0; k < ms_series_stack_count(se); k++) {
            int r;
            numbered_name(a->out, ++n, path, sizeof path);
            r = write_one(se, k, a, path);
            rc = r > rc ? r : rc;
        }
    }
    if (n == 0) {
        fprintf(stderr, "medseal volume: no series with positioned frames\n");
        return 1;
    }
    return rc;
}

/* The one series the arguments designate, or NULL after explaining why. */
static const struct ms_series *choose_series(struct ms_scan *scan, const struct volume_args *a)
{
    const struct ms_series *found = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < ms_scan_series_count(scan); i++) {
        const struct ms_series *se = ms_scan_series(scan, i);
        if (a->series ? series_matches(se, a->series) : ms_series_stack_count(se) > 0) {
            found = se;
            matches++;
        }
    }
    if (matches == 1)
        return found;
    fprintf(stderr, "medseal volume: %s\n", matches ? "several series: choose one with --series, "
                                                      "or write each with --all"
                                                    : "no matching series with positioned frames");
    list_choices(scan);
    return NULL;
}

static int run(struct ms_scan *scan, const struct volume_args *a)
{
    const struct ms_series *se;
    size_t nstacks;

    if (a->all)
        return write_all(scan, a);
    if (!(se = choose_series(scan, a)))
        return a->series ? 1 : 2;
    nstacks = ms_series_stack_count(se);
    if (a->stack > nstacks || (!a->stack && nstacks != 1)) {
        fprintf(stderr, "medseal volume: series %s has %zu stacks: choose one with --stack K, "
                "or write each with --all\n", ms_series_get_info(se)->series_uid, nstacks);
        list_choices(scan);
        return nstacks ? 2 : 1;
    }
    return write_one(se, a->stack ? a->stack - 1 : 0, a, a->out);
}

static int cmd_volume(int argc, char **argv)
{
    struct volume_args a = {0};
    struct ms_scan *scan = NULL;
    struct ms_error err = {0};
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    if (ms_scan_create(&scan, NULL, &err) != MS_OK)
        return cli_fail(NULL, &err);
    for (int i = a.first; i < argc; i++)
        if (argv[i] && ms_scan_add(scan, argv[i], &err) != MS_OK) {
            rc = cli_fail(NULL, &err);
            ms_scan_destroy(scan);
            return rc;
        }
    rc = run(scan, &a);
    ms_scan_destroy(scan);
    return rc;
}

const struct cli_command cli_commands_volume[] = {
    {"volume", cmd_volume, "build a 3D volume from a series and write NIfTI-1"},
    {NULL, NULL, NULL},
};
