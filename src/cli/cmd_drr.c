/* medseal drr: the digitally reconstructed radiograph of each volume of a
 * study, streaming, as a windowed 8-bit PNG or a 16-bit PNG of HU + 1024. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "medseal/seal.h"
#include "medseal/util.h"

struct drr_args {
    struct cli_study study; /* first: see struct cli_study */
    const char *out;
    ms_drr_view view;
    double center, width;
    bool raw16;
    size_t volume;      /* 1-based; 0 = all */
};

static void help(void)
{
    printf("usage: medseal drr DIR... [--view ap|lr|si] -o OUT.png [--window C,W] [--raw16]\n"
           "                  [--volume N] [--threads N]\n\n"
           "Projects every 3D volume of the study (a series, one orientation and temporal\n"
           "position) as the mean of HU along the rays through the isotropic volume, one\n"
           "slice at a time. --view: ap (coronal, default), lr (sagittal), si (axial).\n"
           "The PNG is 8-bit through a window (default C=-200 W=1500, as seed 000's\n"
           "figure 3), or with --raw16 16-bit grey holding HU + 1024 (clamped to 0..65535).\n"
           "With several volumes, OUT gets -N before its extension unless --volume N\n"
           "picks one. See docs/drr.md.\n");
}

static int opt_view(void *p, char **v)
{
    struct drr_args *a = p;
    return ms_drr_view_parse(v[0], &a->view) ? -1 : cli_usage("drr", "unknown view '%s'", v[0]);
}

static int opt_out(void *p, char **v)
{
    ((struct drr_args *)p)->out = v[0];
    return -1;
}

static int opt_window(void *p, char **v)
{
    struct drr_args *a = p;
    char *end;
    a->center = strtod(v[0], &end);
    bool ok = end != v[0] && *end == ',' && isfinite(a->center);
    if (ok) {
        const char *w = end + 1;
        a->width = strtod(w, &end);
        ok = end != w && !*end && isfinite(a->width) && a->width >= 1;
    }
    if (!ok)
        return cli_usage("drr", "--window takes C,W with W >= 1");
    return -1;
}

static int opt_raw16(void *p, char **v)
{
    (void)v;
    ((struct drr_args *)p)->raw16 = true;
    return -1;
}

static int opt_volume(void *p, char **v)
{
    return cli_parse_count(v[0], &((struct drr_args *)p)->volume)
               ? -1 : cli_usage("drr", "--volume counts from 1");
}

static const struct cli_option options[] = {
    {"--view", NULL, 1, opt_view},     {"-o", NULL, 1, opt_out},
    {"--window", NULL, 1, opt_window}, {"--raw16", NULL, 0, opt_raw16},
    {"--volume", NULL, 1, opt_volume}, {"--threads", NULL, 1, cli_study_threads},
};

static int parse(int argc, char **argv, struct drr_args *a)
{
    int rc;
    memset(a, 0, sizeof *a);
    a->study.cmd = "drr";
    a->view = MS_DRR_AP;
    a->center = -200;
    a->width = 1500;
    rc = cli_parse_options("drr", argc, argv, options, sizeof options / sizeof *options, a,
                           cli_study_input, help);
    if (rc >= 0)
        return rc ? rc : -1;
    if (!a->study.ninputs)
        return cli_usage("drr", "no input directory");
    if (!a->out)
        return cli_usage("drr", "-o OUT.png is required");
    return 0;
}

/* OUT with "-N" before the extension. */
static void numbered(const char *out, size_t n, char *buf, size_t cap)
{
    const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    if (!dot || (slash && dot < slash))
        dot = out + strlen(out);
    snprintf(buf, cap, "%.*s-%zu%s", (int)(dot - out), out, n, dot);
}

static ms_status write_png(const struct drr_args *a, const struct ms_image *img,
                           const char *path, struct ms_error *err)
{
    struct ms_png_write_options raw = {16, 1024, true};
    struct ms_image *win = NULL;
    ms_status st;
    if (a->raw16)
        return ms_png_write(path, img, &raw, err);
    st = ms_image_window(&win, img, a->center, a->width, err);
    if (st == MS_OK)
        st = ms_png_write(path, win, NULL, err);
    ms_image_destroy(win);
    return st;
}

static int one_volume(const struct drr_args *a, struct ms_study *s, size_t v, bool suffix)
{
    struct ms_image *img[MS_DRR_VIEW_COUNT];
    struct ms_volume_info info;
    struct ms_error err = {0};
    char path[4096];
    ms_status st;

    if ((st = ms_study_volume_info(s, v, &info, &err)) != MS_OK)
        return cli_fail(NULL, &err);
    if ((st = ms_study_drr(s, v, 1u << a->view, img, &err)) != MS_OK)
        return cli_fail(NULL, &err);
    if (suffix)
        numbered(a->out, v + 1, path, sizeof path);
    else
        snprintf(path, sizeof path, "%s", a->out);
    st = write_png(a, img[a->view], path, &err);
    if (st == MS_OK && !cli_quiet)
        printf("%s: volume %zu (%zu slices, series %s), view %s, %ux%u\n", path, v + 1,
               info.slices, info.series_uid, ms_drr_view_name(a->view), img[a->view]->width,
               img[a->view]->height);
    ms_image_destroy(img[a->view]);
    return st == MS_OK ? 0 : cli_fail(path, &err);
}

static int cmd_drr(int argc, char **argv)
{
    struct drr_args a;
    struct ms_study_options so = {0};
    struct ms_study *s = NULL;
    struct ms_error err = {0};
    int rc = parse(argc, argv, &a), worst = 0;
    size_t nv;

    if (rc)
        return rc < 0 ? 0 : rc;
    so.threads = a.study.threads;
    so.progress = !cli_quiet;
    if (ms_study_scan(&s, a.study.inputs, a.study.ninputs, &so, &err) != MS_OK)
        return cli_fail(NULL, &err);
    nv = ms_study_volume_count(s);
    if (nv == 0) {
        fprintf(stderr, "medseal: no 3D volume (at least two parallel slices of one series) in "
                        "the input\n");
        worst = 1;
    } else if (a.volume) {
        worst = a.volume > nv ? cli_usage("drr", "--volume %zu: the study has %zu", a.volume, nv)
                              : one_volume(&a, s, a.volume - 1, false);
    } else {
        for (size_t v = 0; v < nv; v++) {
            int r = one_volume(&a, s, v, nv > 1);
            worst = r > worst ? r : worst;
        }
    }
    ms_study_destroy(s);
    return worst;
}

const struct cli_command cli_commands_drr[] = {
    {"drr", cmd_drr, "digitally reconstructed radiograph of each volume (PNG)"},
    {NULL, NULL, NULL},
};
