/* Where the commands that write one output per input file (protect,
 * unprotect, transcode, sign -o) put each output, and the refusal, before
 * anything is written, of a command line that would write two of them to the
 * same path. */
#ifndef MEDSEAL_CLI_OUTPUTS_H
#define MEDSEAL_CLI_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "medseal/util.h"

/** The plan of a run: every input file and its output path. */
struct cli_outputs {
    struct ms_pathlist files; /* the input files, in the order of the inputs */
    char **outs;              /* output path of each file (owned) */
    size_t nouts;             /* outputs named: files.count once planned */
    bool out_is_dir;          /* OUT is a directory: several inputs, a directory
                                 input, or OUT is an existing directory */
};

/** How output names are made under a directory OUT. */
struct cli_outputs_spec {
    const char *out;                /* -o OUT */
    const char *suffix;             /* appended to each name (protect: ".p7m"), or NULL */
    void (*rename)(char *name);     /* shortens each name in place (unprotect takes
                                       its suffix off), or NULL */
    bool (*skip)(const char *path); /* true for a file not handled on its own (a
                                       cbc-slices part), or NULL */
};

/** Collect the files of the inputs and name their outputs. With one input, a
 * directory's tree is mirrored into OUT and a file goes to OUT itself (or
 * OUT/its base name when OUT is an existing directory). With several inputs
 * each keeps its own name under OUT: a file as OUT/base name, a directory as
 * OUT/base name/its mirrored tree. When two files would get the same output
 * path (two inputs of the same name, a file given twice, names equal once
 * unprotect takes their suffixes off) the run is refused: a usage error names
 * both and nothing is written. Returns 0, else the exit code (reported on
 * stderr). On failure *o holds what was collected; cli_outputs_clear() frees
 * it in every case. Not thread-safe (it prints). */
int cli_outputs_plan(struct cli_outputs *o, const char *cmd, char *const *inputs, size_t ninputs,
                     const struct cli_outputs_spec *spec);

/** The refusals of cli_outputs_plan() alone: 0 when the n paths outs[] are
 * all different and none is an existing input file (the same file by any
 * path), else a usage error naming the inputs ins[] at fault (exit code 2). */
int cli_outputs_check(const char *cmd, char *const *ins, char *const *outs, size_t n);

/** Free the plan; it is empty afterwards. */
void cli_outputs_clear(struct cli_outputs *o);

#endif
