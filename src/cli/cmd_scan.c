/* medseal scan DIR...: walk, group Patient > Study > Series, print a table
 * (or --json) with counts, modality, SOP classes, size, slice spacing,
 * frames and the problems the dataset-level checks find. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "medseal/dicom.h"
#include "medseal/series.h"

#define MAX_PROBLEM_KINDS 16

static void help(void)
{
    printf("usage: medseal scan [--json] FILE|DIR...\n\n"
           "Reads every DICOM file (directories recursively, any file name; Pixel Data is not\n"
           "read), groups the instances Patient > Study > Series and prints one line per\n"
           "series: number, modality, instances, frames, rows x columns, slice spacing (mm),\n"
           "SOP class, description and the problems found by the series checks (duplicate\n"
           "instances, inconsistent attributes, missing/duplicated/shifted slices; run\n"
           "medseal validate for the details). Files that are not DICOM are skipped with a\n"
           "note on stderr.\n"
           "  --json   one JSON object: patients > studies > series\n"
           "Exit status: 0, 1 when no DICOM file was found, 2 usage, 5 a path cannot be read.\n");
}

/* Problems of one series, counted by check. */
struct problems {
    const char *check[MAX_PROBLEM_KINDS];
    size_t count[MAX_PROBLEM_KINDS];
    size_t n;
};

static void count_problem(void *ctx, const struct ms_finding *f)
{
    struct problems *p = ctx;
    size_t k;
    if (f->severity == MS_SEVERITY_INFO)
        return;
    for (k = 0; k < p->n && strcmp(p->check[k], f->check) != 0; k++)
        ;
    if (k == p->n) {
        if (p->n == MAX_PROBLEM_KINDS)
            return;
        p->check[p->n] = f->check; /* check names are static strings */
        p->count[p->n++] = 0;
    }
    p->count[k]++;
}

static void series_problems(const struct ms_series *se, struct problems *p)
{
    struct ms_error err;
    memset(p, 0, sizeof *p);
    if (ms_series_check(se, count_problem, p, &err) != MS_OK)
        count_problem(p, &(struct ms_finding){MS_SEVERITY_ERROR, "", "out-of-memory", 0, "", "", ""});
}

static void problems_text(const struct problems *p, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < p->n && used < cap; k++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%zu %s", k ? ", " : "", p->count[k],
                                 p->check[k]);
    if (!p->n)
        snprintf(buf, cap, "none");
}

static const char *sop_class_text(const struct ms_series_info *in, char *buf, size_t cap)
{
    const char *name = ms_uid_name(in->sop_class_uid);
    snprintf(buf, cap, "%s%s", name ? name : in->sop_class_uid,
             in->sop_classes > 1 ? " (+ others)" : "");
    return buf;
}

/* ---- text ------------------------------------------------------------------------ */

static bool same_patient(const struct ms_series_info *a, const struct ms_series_info *b)
{
    return b && strcmp(a->patient_id, b->patient_id) == 0;
}

static bool same_study(const struct ms_series_info *a, const struct ms_series_info *b)
{
    return same_patient(a, b) && strcmp(a->study_uid, b->study_uid) == 0;
}

static void print_series_line(const struct ms_series *se)
{
    const struct ms_series_info *in = ms_series_get_info(se);
    struct problems p;
    char num[24], size[32], spacing[24], sop[160], prob[256];

    series_problems(se, &p);
    problems_text(&p, prob, sizeof prob);
    snprintf(num, sizeof num, in->series_number >= 0 ? "%lld" : "-", (long long)in->series_number);
    if (in->rows)
        snprintf(size, sizeof size, "%ux%u%s", in->columns, in->rows, in->mixed_sizes ? "+" : "");
    else
        snprintf(size, sizeof size, "-");
    if (in->slice_spacing > 0)
        snprintf(spacing, sizeof spacing, "%.3f", in->slice_spacing);
    else
        snprintf(spacing, sizeof spacing, "-");
    printf("    %-7s %-6s %9zu %7zu %-10s %8s  %-34s %-20.20s %s\n", num,
           in->modality[0] ? in->modality : "-", in->instances, in->frames, size, spacing,
           sop_class_text(in, sop, sizeof sop), in->series_description, prob);
}

static void print_table(struct ms_scan *scan)
{
    const struct ms_series_info *prev = NULL;
    for (size_t i = 0; i < ms_scan_series_count(scan); i++) {
        const struct ms_series *se = ms_scan_series(scan, i);
        const struct ms_series_info *in = ms_series_get_info(se);
        if (!same_patient(in, prev))
            printf("Patient %s  %s\n", in->patient_id[0] ? in->patient_id : "(no ID)",
                   in->patient_name);
        if (!same_study(in, prev)) {
            printf("  Study %s  %s  %s\n", in->study_date[0] ? in->study_date : "(no date)",
                   in->study_description, in->study_uid);
            printf("    %-7s %-6s %9s %7s %-10s %8s  %-34s %-20s %s\n", "series", "mod",
                   "instances", "frames", "size", "spacing", "SOP class", "description",
                   "problems");
        }
        print_series_line(se);
        prev = in;
    }
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_kv(const char *key, const char *value, bool comma)
{
    printf("\"%s\": ", key);
    cli_json_string(stdout, value);
    if (comma)
        printf(", ");
}

static void json_series(const struct ms_series *se)
{
    const struct ms_series_info *in = ms_series_get_info(se);
    struct problems p;

    series_problems(se, &p);
    printf("        {");
    json_kv("uid", in->series_uid, true);
    printf("\"number\": %lld, ", (long long)in->series_number);
    json_kv("description", in->series_description, true);
    json_kv("modality", in->modality, true);
    printf("\"instances\": %zu, \"frames\": %zu, \"rows\": %u, \"columns\": %u, "
           "\"mixed_sizes\": %s, ", in->instances, in->frames, in->rows, in->columns,
           in->mixed_sizes ? "true" : "false");
    printf("\"slice_spacing\": ");
    cli_json_number(stdout, in->slice_spacing);
    printf(", \"stacks\": %zu, \"sop_classes\": %zu, ", in->stacks, in->sop_classes);
    json_kv("sop_class_uid", in->sop_class_uid, true);
    printf("\"problems\": {");
    for (size_t k = 0; k < p.n; k++)
        printf("%s\"%s\": %zu", k ? ", " : "", p.check[k], p.count[k]);
    printf("}}");
}

static void print_json(struct ms_scan *scan)
{
    const struct ms_series_info *prev = NULL;
    size_t n = ms_scan_series_count(scan);

    printf("{\"instances\": %zu, \"skipped\": %zu, \"series_count\": %zu, \"patients\": [",
           ms_scan_instance_count(scan), ms_scan_skipped_count(scan), n);
    for (size_t i = 0; i < n; i++) {
        const struct ms_series *se = ms_scan_series(scan, i);
        const struct ms_series_info *in = ms_series_get_info(se);
        bool new_patient = !same_patient(in, prev), new_study = !same_study(in, prev);
        if (new_study && prev)
            printf("\n      ]}");
        if (new_patient && prev)
            printf("\n    ]}");
        if (new_patient) {
            printf("%s\n  {", prev ? "," : "");
            json_kv("id", in->patient_id, true);
            json_kv("name", in->patient_name, true);
            printf("\"studies\": [");
        }
        if (new_study) {
            printf("%s\n    {", new_patient ? "" : ",");
            json_kv("uid", in->study_uid, true);
            json_kv("date", in->study_date, true);
            json_kv("description", in->study_description, true);
            printf("\"series\": [");
        }
        printf("%s\n", new_study ? "" : ",");
        json_series(se);
        prev = in;
    }
    if (prev)
        printf("\n      ]}\n    ]}");
    printf("\n]}\n");
}

/* ---- command ----------------------------------------------------------------------- */

static void on_note(void *ctx, const char *path, ms_status why, const char *note)
{
    (void)ctx;
    (void)why;
    if (!cli_quiet)
        fprintf(stderr, "medseal scan: skipped %s: %s\n", path, note);
}

static int opt_json(void *p, char **v) { *(bool *)p = true; return -1; }

static const struct cli_option options[] = {
    {"--json", NULL, 0, opt_json},
};

static const struct cli_parser parser = {"scan", options, sizeof options / sizeof *options, help,
                                         "no files or directories given"};

static int cmd_scan(int argc, char **argv)
{
    struct ms_scan_options opt = {0};
    struct ms_scan *scan = NULL;
    struct ms_error err = {0};
    static char outbuf[1 << 16];
    bool json = false;
    int first = 0, rc = cli_parse_leading(&parser, argc, argv, &json, &first);
    size_t n;

    if (rc >= 0)
        return rc;
    opt.note = on_note; /* reader warnings belong to dump and validate */
    if (ms_scan_create(&scan, &opt, &err) != MS_OK)
        return cli_fail(NULL, &err);
    rc = cli_scan_paths(scan, argv + first, argc - first, NULL);
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (json)
        print_json(scan);
    else
        print_table(scan);
    fflush(stdout);
    n = ms_scan_instance_count(scan);
    if (!cli_quiet)
        fprintf(stderr, "medseal scan: %zu instance%s in %zu series, %zu skipped\n", n,
                n == 1 ? "" : "s", ms_scan_series_count(scan), ms_scan_skipped_count(scan));
    ms_scan_destroy(scan);
    return rc ? rc : n == 0 ? 1 : 0;
}

const struct cli_command cli_commands_scan[] = {
    {"scan", cmd_scan, "group DICOM files into patients, studies and series"},
    {NULL, NULL, NULL},
};
