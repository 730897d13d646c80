/* Fuzz target: IOD validation (src/series) of whatever the reader accepts.
 *
 * Each input is parsed with the default options; a parsed file is validated
 * (module tables, conditions, functional groups, enumerated values, VR/VM,
 * value syntax, File Meta Information) and every finding must be well
 * formed: known severity, non-NULL strings, one line. */
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "medseal/dicom.h"
#include "medseal/series.h"

static void check_finding(void *ctx, const struct ms_finding *f)
{
    FUZZ_ASSERT(f->severity <= MS_SEVERITY_ERROR);
    FUZZ_ASSERT(f->instance && f->check && f->attribute && f->module && f->message);
    FUZZ_ASSERT(f->check[0] != '\0');
    FUZZ_ASSERT(strchr(f->message, '\n') == NULL);
    FUZZ_ASSERT(strlen(f->attribute) < 1024 && strlen(f->message) < 1024);
    (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ms_file *f = NULL;
    struct ms_error err;
    size_t findings = 0, warned = 0;
    struct ms_read_options opt = {0};

    opt.warn = fuzz_warn;
    opt.warn_ctx = &warned;
    if (ms_file_read_memory(&f, data, size, &opt, &err) != MS_OK)
        return 0;
    FUZZ_ASSERT(ms_file_validate(f, "input", check_finding, &findings, &err) == MS_OK);
    ms_file_destroy(f);
    return 0;
}
