/* Output paths of the per-file commands, and the refusal of two inputs that
 * would be written to one output (cli_outputs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_outputs.h"

/* "a" + "/" + "b" + "c", allocated; sep and c may be "". */
static char *join(const char *a, const char *sep, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + strlen(c) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s%s", a, sep, b, c);
    return p;
}

/* The last component of path without trailing slashes: *len bytes at the
 * returned pointer. */
static const char *last_component(const char *path, size_t *len)
{
    size_t n = strlen(path);
    const char *b;
    while (n > 1 && path[n - 1] == '/')
        n--;
    b = path + n;
    while (b > path && b[-1] != '/')
        b--;
    *len = (size_t)(path + n - b);
    return b;
}

/* The name a directory input keeps under OUT when there are several inputs:
 * its last component as given (a symbolic link keeps its own name), or for
 * ".", ".." and "/" that of its real path ("" for the root: mirrored into
 * OUT itself). Allocated; NULL when out of memory. */
static char *dir_label(const char *dir)
{
    size_t len;
    const char *b = last_component(dir, &len);
    bool dots = (len == 1 && b[0] == '.') || (len == 2 && b[0] == '.' && b[1] == '.');
    char *real, *label;

    if (len > 0 && b[0] != '/' && !dots)
        return strndup(b, len);
    real = realpath(dir, NULL);
    if (!real)
        return strndup(b, len);
    b = last_component(real, &len);
    label = strndup(b, len); /* "" for "/" */
    free(real);
    return label;
}

/* The name of file i (of input in) below OUT. label: the input directory's
 * name under OUT, NULL with a single input. Allocated. */
static char *name_below(const char *path, const char *in, bool in_is_dir, const char *label)
{
    const char *rel = path;
    if (in_is_dir) {
        rel += strlen(in);
        while (*rel == '/')
            rel++;
    } else {
        const char *slash = strrchr(path, '/');
        rel = slash ? slash + 1 : path;
    }
    if (!in_is_dir || !label || !label[0])
        return strdup(rel);
    return join(label, "/", rel, "");
}

/* Drop the files spec->skip() does not want, from index first on. */
static void drop_skipped(struct cli_outputs *o, size_t first, const struct cli_outputs_spec *spec)
{
    size_t k = first;
    if (!spec->skip)
        return;
    for (size_t i = first; i < o->files.count; i++) {
        if (spec->skip(o->files.paths[i]))
            free(o->files.paths[i]);
        else
            o->files.paths[k++] = o->files.paths[i];
    }
    o->files.count = k;
}

/* The output path of the file path of input in. */
static char *output_of(const struct cli_outputs *o, const char *path, const char *in,
                       const char *label, const struct cli_outputs_spec *spec)
{
    bool in_is_dir = ms_is_dir(in);
    char *name, *out;

    if (!o->out_is_dir)
        return strdup(spec->out);
    name = name_below(path, in, in_is_dir, label);
    if (!name)
        return NULL;
    out = join(spec->out, "/", name, spec->suffix ? spec->suffix : "");
    free(name);
    if (out && spec->rename)
        spec->rename(out);
    return out;
}

/* Name the outputs of the files collected since the last call. Returns 0 or
 * 5 (out of memory). */
static int name_outputs(struct cli_outputs *o, const char *in, const char *label,
                        const struct cli_outputs_spec *spec)
{
    char **outs = realloc(o->outs, (o->files.count + 1) * sizeof *outs);
    if (!outs)
        return 5;
    o->outs = outs;
    while (o->nouts < o->files.count) {
        char *out = output_of(o, o->files.paths[o->nouts], in, label, spec);
        if (!out)
            return 5;
        o->outs[o->nouts++] = out;
    }
    return 0;
}

static int out_of_memory(void)
{
    fprintf(stderr, "medseal: out of memory\n");
    return 5;
}

/* The files of one input and their outputs. Returns 0 or the exit code
 * (reported on stderr). */
static int add_input(struct cli_outputs *o, const char *in, bool several,
                     const struct cli_outputs_spec *spec)
{
    struct ms_error err = {0};
    size_t first = o->files.count;
    char *label = NULL;
    int rc = 0;

    if (several && ms_is_dir(in) && !(label = dir_label(in)))
        return out_of_memory();
    if (ms_pathlist_collect(&o->files, &in, 1, &err) != MS_OK)
        rc = cli_fail(NULL, &err);
    if (rc == 0) {
        drop_skipped(o, first, spec);
        if (name_outputs(o, in, label, spec) != 0)
            rc = out_of_memory();
    }
    free(label);
    return rc;
}

int cli_outputs_plan(struct cli_outputs *o, const char *cmd, char *const *inputs, size_t ninputs,
                     const struct cli_outputs_spec *spec)
{
    memset(o, 0, sizeof *o);
    if (ninputs == 0)
        return 0;
    o->out_is_dir = ninputs > 1 || ms_is_dir(inputs[0]) || ms_is_dir(spec->out);
    for (size_t k = 0; k < ninputs; k++) {
        int rc = add_input(o, inputs[k], ninputs > 1, spec);
        if (rc != 0)
            return rc;
    }
    return cli_outputs_check(cmd, o->files.paths, o->outs, o->files.count);
}

struct named {
    const char *out, *in;
    size_t i;
};

static int by_output(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    int c = strcmp(x->out, y->out);
    /* equal outputs in input order, so that the message is stable */
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

struct file_id {
    dev_t dev;
    ino_t ino;
    size_t i;
};

static int by_id(const void *a, const void *b)
{
    const struct file_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return (x->ino > y->ino) - (x->ino < y->ino);
}

/* An output that is one of the inputs (the same file, by any path: "-o" onto
 * the input directory, a link): refused, the input would be replaced. */
static int check_overwrite(const char *cmd, char *const *ins, char *const *outs, size_t n)
{
    struct file_id *ids = malloc((n ? n : 1) * sizeof *ids), key;
    struct stat sb;
    size_t m = 0;
    int rc = 0;

    if (!ids) {
        fprintf(stderr, "medseal: out of memory\n");
        return 5;
    }
    for (size_t i = 0; i < n; i++)
        if (stat(ins[i], &sb) == 0)
            ids[m++] = (struct file_id){sb.st_dev, sb.st_ino, i};
    qsort(ids, m, sizeof *ids, by_id);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct file_id *hit;
        if (stat(outs[i], &sb) != 0)
            continue;
        key = (struct file_id){sb.st_dev, sb.st_ino, 0};
        if ((hit = bsearch(&key, ids, m, sizeof *ids, by_id)) != NULL)
            rc = cli_usage(cmd, "%s would overwrite the input %s; nothing was written: give -o "
                                "another place",
                           outs[i], ins[hit->i]);
    }
    free(ids);
    return rc;
}

int cli_outputs_check(const char *cmd, char *const *ins, char *const *outs, size_t n)
{
    struct named *v;
    size_t twice = 0, first = 0;
    int rc = check_overwrite(cmd, ins, outs, n);

    if (rc != 0 || n < 2)
        return rc;
    if (!(v = malloc(n * sizeof *v))) {
        fprintf(stderr, "medseal: out of memory\n");
        return 5;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (struct named){outs[i], ins[i], i};
    qsort(v, n, sizeof *v, by_output);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1].out, v[i].out) == 0 && twice++ == 0)
            first = i;
    if (twice)
        cli_usage(cmd,
                  "%s and %s would both be written to %s%s; nothing was written: give inputs of "
                  "the same name separate -o directories",
                  v[first - 1].in, v[first].in, v[first].out,
                  twice > 1 ? " (and more outputs are taken twice)" : "");
    free(v);
    return twice ? 2 : 0;
}

void cli_outputs_clear(struct cli_outputs *o)
{
    for (size_t i = 0; i < o->nouts; i++)
        free(o->outs[i]);
    free(o->outs);
    ms_pathlist_clear(&o->files);
    o->outs = NULL;
    o->nouts = 0;
    o->out_is_dir = false;
}
