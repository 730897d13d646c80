/* medseal validate FILE|DIR...: IOD validation of every instance, then the
 * dataset-level checks (duplicate instances, series consistency, slice
 * geometry). One finding per line, or --json. Exit 0 when no error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "medseal/dicom.h"
#include "medseal/series.h"

static void help(void)
{
    printf("usage: medseal validate [--json] [--errors-only] [--no-iod] [--no-series] FILE|DIR...\n\n"
           "Validates DICOM instances (directories are walked recursively) and prints one\n"
           "finding per line: SEVERITY, INSTANCE, ATTRIBUTE or CHECK, MESSAGE [check].\n"
           "  --json         one JSON object: findings, counts, valid\n"
           "  --errors-only  do not print warnings and notes\n"
           "  --no-iod       skip the per-instance checks (IOD modules, VR/VM, values)\n"
           "  --no-series    skip the dataset-level checks (duplicates, consistency, geometry)\n"
           "Exit status: 0 no error found, 1 errors found, 2 usage, 5 a path cannot be read.\n"
           "See docs/validate.md for the checks.\n");
}

struct validate_run {
    bool json, errors_only, no_iod, no_series;
    const char *top;          /* argument being scanned */
    size_t errors, warnings, infos, printed;
};

/* A field of the text output: tabs and line breaks (from file names) become '?'. */
static const char *field(const char *s, char *buf, size_t cap)
{
    size_t i;
    for (i = 0; s[i] && i + 1 < cap; i++)
        buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static void print_text(const struct ms_finding *f)
{
    char what[600], inst[4200];
    if (f->attribute[0] && f->tag)
        snprintf(what, sizeof what, "%s (%04X,%04X)", f->attribute, (unsigned)(f->tag >> 16),
                 (unsigned)(f->tag & 0xFFFF));
    else if (f->attribute[0])
        snprintf(what, sizeof what, "%s", f->attribute);
    else
        snprintf(what, sizeof what, "%s", f->check);
    printf("%s\t%s\t%s\t%s [%s]\n", ms_severity_name(f->severity),
           field(f->instance, inst, sizeof inst), what, f->message, f->check);
}

static void print_json(struct validate_run *r, const struct ms_finding *f)
{
    printf("%s\n    {\"severity\": \"%s\", \"instance\": ", r->printed ? "," : "",
           ms_severity_name(f->severity));
    cli_json_string(stdout, f->instance);
    printf(", \"check\": ");
    cli_json_string(stdout, f->check);
    if (f->tag)
        printf(", \"tag\": \"%08X\"", (unsigned)f->tag);
    printf(", \"attribute\": ");
    cli_json_string(stdout, f->attribute);
    printf(", \"module\": ");
    cli_json_string(stdout, f->module);
    printf(", \"message\": ");
    cli_json_string(stdout, f->message);
    printf("}");
}

static void on_finding(void *ctx, const struct ms_finding *f)
{
    struct validate_run *r = ctx;
    if (f->severity == MS_SEVERITY_ERROR)
        r->errors++;
    else if (f->severity == MS_SEVERITY_WARNING)
        r->warnings++;
    else
        r->infos++;
    if (r->errors_only && f->severity != MS_SEVERITY_ERROR)
        return;
    if (r->json)
        print_json(r, f);
    else
        print_text(f);
    r->printed++;
}

static ms_status on_file(void *ctx, const char *path, struct ms_file *f)
{
    struct validate_run *r = ctx;
    struct ms_error err = {0};
    if (r->no_iod)
        return MS_OK;
    return ms_file_validate(f, path, on_finding, r, &err);
}

/* Files that could not be read are errors; non-DICOM files found while
 * walking a directory are notes, named ones are errors. */
static void on_note(void *ctx, const char *path, ms_status why, const char *note)
{
    struct ms_finding f = {MS_SEVERITY_ERROR, path, "read", 0, "", "", note};
    struct validate_run *r = ctx;
    if (why == MS_ENOTFOUND && strcmp(path, r->top) != 0) {
        f.severity = MS_SEVERITY_INFO;
        f.check = "skipped";
    }
    on_finding(r, &f);
}

static int opt_json(void *p, char **v) { ((struct validate_run *)p)->json = true; return -1; }
static int opt_errors(void *p, char **v) { ((struct validate_run *)p)->errors_only = true; return -1; }
static int opt_no_iod(void *p, char **v) { ((struct validate_run *)p)->no_iod = true; return -1; }
static int opt_no_series(void *p, char **v) { ((struct validate_run *)p)->no_series = true; return -1; }

static const struct cli_option options[] = {
    {"--json", NULL, 0, opt_json},
    {"--errors-only", NULL, 0, opt_errors},
    {"--no-iod", NULL, 0, opt_no_iod},
    {"--no-series", NULL, 0, opt_no_series},
};

static const struct cli_parser parser = {"validate", options, sizeof options / sizeof *options,
                                         help, "no files or directories given"};

static void print_summary(const struct validate_run *r, struct ms_scan *scan)
{
    size_t n = ms_scan_instance_count(scan);
    if (r->json)
        printf("\n  ],\n  \"instances\": %zu, \"series\": %zu, \"skipped\": %zu, \"errors\": %zu, "
               "\"warnings\": %zu, \"valid\": %s\n}\n", n, ms_scan_series_count(scan),
               ms_scan_skipped_count(scan), r->errors, r->warnings, r->errors ? "false" : "true");
    else if (!cli_quiet)
        fprintf(stderr, "medseal validate: %zu instance%s in %zu series, %zu skipped: %zu error%s, "
                "%zu warning%s\n", n, n == 1 ? "" : "s", ms_scan_series_count(scan),
                ms_scan_skipped_count(scan), r->errors, r->errors == 1 ? "" : "s", r->warnings,
                r->warnings == 1 ? "" : "s");
}

static int run(struct validate_run *r, int argc, char **argv, int first)
{
    struct ms_scan_options opt = {0};
    struct ms_scan *scan = NULL;
    struct ms_error err = {0};
    int rc;

    opt.read_pixels = true;
    opt.on_file = on_file;
    opt.file_ctx = r;
    opt.note = on_note;
    opt.note_ctx = r;
    opt.warn = cli_quiet ? NULL : cli_warn;
    if (ms_scan_create(&scan, &opt, &err) != MS_OK)
        return cli_fail(NULL, &err);
    rc = cli_scan_paths(scan, argv + first, argc - first, &r->top); /* on_file validates */
    if (!r->no_series && ms_scan_check(scan, on_finding, r, &err) != MS_OK)
        rc = cli_fail(NULL, &err);
    if (ms_scan_instance_count(scan) == 0 && rc == 0) {
        struct ms_finding f = {MS_SEVERITY_ERROR, "", "read", 0, "", "", "no DICOM instance found"};
        on_finding(r, &f);
    }
    print_summary(r, scan);
    ms_scan_destroy(scan);
    if (rc)
        return rc;
    return r->errors ? 1 : 0;
}

static int cmd_validate(int argc, char **argv)
{
    struct validate_run r = {0};
    static char outbuf[1 << 16];
    int first = 0, rc = cli_parse_leading(&parser, argc, argv, &r, &first);

    if (rc >= 0)
        return rc;
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (r.json)
        printf("{\n  \"findings\": [");
    rc = run(&r, argc, argv, first);
    fflush(stdout);
    return rc;
}

const struct cli_command cli_commands_validate[] = {
    {"validate", cmd_validate, "check instances against their IOD and series geometry"},
    {NULL, NULL, NULL},
};
