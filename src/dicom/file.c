/* File objects: creation, accessors, destruction. */
#include <string.h>

#include "internal.h"

ms_status ms_file_create(struct ms_file **out, const struct ms_transfer_syntax *ts,
                         struct ms_error *err)
{
    struct msi_arena *a = msi_arena_create();
    struct ms_file *f = a ? msi_arena_alloc(a, sizeof *f) : NULL;

    *out = NULL;
    if (!f) {
        msi_arena_destroy(a);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    f->arena = a;
    f->has_preamble = true;
    f->has_dicm = true;
    f->ts = ts ? ts : ms_ts_explicit_le();
    f->meta = msi_dataset_new(a, NULL);
    f->ds = msi_dataset_new(a, NULL);
    if (!f->meta || !f->ds) {
        msi_arena_destroy(a);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    *out = f;
    return MS_OK;
}

void ms_file_destroy(struct ms_file *f)
{
    if (f)
        msi_arena_destroy(f->arena);
}

struct ms_dataset *ms_file_meta(struct ms_file *f) { return f->meta; }
struct ms_dataset *ms_file_dataset(struct ms_file *f) { return f->ds; }
const struct ms_transfer_syntax *ms_file_transfer_syntax(const struct ms_file *f) { return f->ts; }
void ms_file_set_transfer_syntax(struct ms_file *f, const struct ms_transfer_syntax *ts)
{
    f->ts = ts;
}
const uint8_t *ms_file_preamble(const struct ms_file *f)
{
    return f->has_preamble ? f->preamble : NULL;
}
bool ms_file_has_dicm(const struct ms_file *f) { return f->has_dicm; }
uint64_t ms_file_input_size(const struct ms_file *f) { return f->input_size; }
uint64_t ms_file_dataset_offset(const struct ms_file *f) { return f->dataset_offset; }
