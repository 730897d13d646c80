/* The summary of one instance kept by a scan: identifiers, image size, and
 * the geometry and value transform of each frame, from the top-level
 * attributes (single-frame), the shared and per-frame functional groups
 * (enhanced multi-frame) or the Grid Frame Offset Vector (RT Dose). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "series/series_internal.h"

#define TAG(g, e) MS_TAG(0x##g, 0x##e)
#define T_IPP TAG(0020, 0032)
#define T_IOP TAG(0020, 0037)
#define T_PIXEL_SPACING TAG(0028, 0030)
#define T_THICKNESS TAG(0018, 0050)
#define T_SLOPE TAG(0028, 1053)
#define T_INTERCEPT TAG(0028, 1052)
#define T_TEMPORAL_ID TAG(0020, 0100)
#define T_TEMPORAL_INDEX TAG(0020, 9128)
#define T_SHARED_FG TAG(5200, 9229)
#define T_PER_FRAME_FG TAG(5200, 9230)
#define T_PLANE_POSITION TAG(0020, 9113)
#define T_PLANE_ORIENTATION TAG(0020, 9116)
#define T_PIXEL_MEASURES TAG(0028, 9110)
#define T_VALUE_TRANSFORM TAG(0028, 9145)
#define T_FRAME_CONTENT TAG(0020, 9111)
#define T_GRID_OFFSETS TAG(3004, 000C)

/* ---- identifiers --------------------------------------------------------------------- */

struct string_field {
    uint32_t tag;
    size_t offset; /* of the const char * in struct msi_instance */
};

#define FIELD(name) offsetof(struct msi_instance, name)
static const struct string_field string_fields[] = {
    {TAG(0010, 0020), FIELD(patient_id)},
    {TAG(0010, 0010), FIELD(patient_name)},
    {TAG(0020, 000D), FIELD(study_uid)},
    {TAG(0008, 0020), FIELD(study_date)},
    {TAG(0008, 1030), FIELD(study_description)},
    {TAG(0020, 000E), FIELD(series_uid)},
    {TAG(0008, 103E), FIELD(series_description)},
    {TAG(0008, 0060), FIELD(modality)},
    {TAG(0020, 0052), FIELD(frame_of_reference)},
    {TAG(0028, 1054), FIELD(rescale_type)},
    {TAG(0008, 0016), FIELD(info.sop_class_uid)},
    {TAG(0008, 0018), FIELD(info.sop_instance_uid)},
};

static bool copy_strings(struct msi_instance *in, struct msi_arena *a, const struct ms_dataset *ds)
{
    char buf[256];
    for (size_t i = 0; i < sizeof string_fields / sizeof *string_fields; i++) {
        const char **dst = (const char **)((char *)in + string_fields[i].offset);
        const struct ms_element *el = ms_dataset_get(ds, string_fields[i].tag);
        /* whole value (all values with their backslashes) for names; value 1 otherwise */
        if (el && ms_element_value(el) && string_fields[i].tag == TAG(0010, 0010)) {
            size_t n = (size_t)ms_element_length(el) < sizeof buf - 1 ? (size_t)ms_element_length(el)
                                                                      : sizeof buf - 1;
            memcpy(buf, ms_element_value(el), n);
            while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\0'))
                n--;
            buf[n] = '\0';
        } else if (!ms_dataset_get_string(ds, string_fields[i].tag, 0, buf, sizeof buf)) {
            buf[0] = '\0';
        }
        *dst = msi_strdup(a, buf);
        if (!*dst)
            return false;
    }
    return true;
}

static int64_t get_int_or(const struct ms_dataset *ds, uint32_t tag, int64_t dflt)
{
    int64_t v;
    return ms_dataset_get_int(ds, tag, 0, &v) ? v : dflt;
}

/* ---- geometry of a frame ---------------------------------------------------------------- */

static bool get_doubles(const struct ms_dataset *ds, uint32_t tag, double *out, size_t n)
{
    const struct ms_element *el = ds ? ms_dataset_get(ds, tag) : NULL;
    if (!el || ms_element_vm(el) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!ms_element_get_double(el, i, &out[i]) || !isfinite(out[i]))
            return false;
    return true;
}

/* First item of sequence tag in ds, or NULL. */
static const struct ms_dataset *item0(const struct ms_dataset *ds, uint32_t tag)
{
    const struct ms_element *el = ds ? ms_dataset_get(ds, tag) : NULL;
    return el ? ms_element_item(el, 0) : NULL;
}

/* Read what ds (a dataset or a functional group item) says about the frame;
 * attributes it does not have leave the frame as it is. */
static void frame_from(struct msi_frame *fr, const struct ms_dataset *ds, bool groups)
{
    const struct ms_dataset *pos = groups ? item0(ds, T_PLANE_POSITION) : ds;
    const struct ms_dataset *ori = groups ? item0(ds, T_PLANE_ORIENTATION) : ds;
    const struct ms_dataset *meas = groups ? item0(ds, T_PIXEL_MEASURES) : ds;
    const struct ms_dataset *xf = groups ? item0(ds, T_VALUE_TRANSFORM) : ds;
    const struct ms_dataset *content = groups ? item0(ds, T_FRAME_CONTENT) : NULL;
    double v;
    int64_t t;

    if (get_doubles(pos, T_IPP, fr->position, 3))
        fr->has_position = true;
    if (get_doubles(ori, T_IOP, fr->orientation, 6))
        fr->has_orientation = true;
    if (get_doubles(meas, T_PIXEL_SPACING, fr->spacing, 2))
        fr->has_spacing = true;
    if (get_doubles(meas, T_THICKNESS, &v, 1))
        fr->thickness = v;
    if (get_doubles(xf, T_SLOPE, &v, 1))
        fr->slope = v;
    if (get_doubles(xf, T_INTERCEPT, &v, 1))
        fr->intercept = v;
    if (!groups && ms_dataset_get_int(ds, T_TEMPORAL_ID, 0, &t))
        fr->temporal_id = t;
    if (content && ms_dataset_get_int(content, T_TEMPORAL_INDEX, 0, &t))
        fr->temporal_id = t;
}

static void frame_init(struct msi_frame *fr, struct msi_instance *in, uint32_t index)
{
    memset(fr, 0, sizeof *fr);
    fr->inst = in;
    fr->index = index;
    fr->slope = 1.0;
    fr->temporal_id = -1;
}

static void cross(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

/* Number of frame records the data itself supports: never more than the
 * items or offsets actually present, whatever Number of Frames says. */
static size_t record_count(const struct msi_instance *in, const struct ms_dataset *ds,
                           const struct ms_element **per_frame, const struct ms_element **offsets)
{
    size_t frames = in->info.frames;
    *per_frame = ms_dataset_get(ds, T_PER_FRAME_FG);
    *offsets = ms_dataset_get(ds, T_GRID_OFFSETS);
    if (*per_frame && ms_element_item_count(*per_frame) > 0)
        return frames < ms_element_item_count(*per_frame) ? frames : ms_element_item_count(*per_frame);
    *per_frame = NULL;
    if (frames > 1 && *offsets && ms_element_vm(*offsets) > 0)
        return frames < ms_element_vm(*offsets) ? frames : ms_element_vm(*offsets);
    *offsets = NULL;
    return in->info.rows ? 1 : 0;
}

static ms_status summarize_frames(struct msi_instance *in, struct msi_arena *a,
                                  const struct ms_dataset *ds, struct ms_error *err)
{
    const struct ms_element *per_frame, *offsets;
    const struct ms_dataset *shared = item0(ds, T_SHARED_FG);
    size_t n = record_count(in, ds, &per_frame, &offsets);

    in->nrec = n;
    if (n == 0)
        return MS_OK;
    in->frames = msi_arena_alloc(a, n * sizeof *in->frames);
    if (!in->frames)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        struct msi_frame *fr = &in->frames[k];
        frame_init(fr, in, (uint32_t)k);
        frame_from(fr, ds, false);
        if (shared)
            frame_from(fr, shared, true);
        if (per_frame)
            frame_from(fr, ms_element_item(per_frame, k), true);
        if (offsets) {
            double off, nrm[3];
            if (!ms_element_get_double(offsets, k, &off) || !fr->has_orientation) {
                fr->has_position = false;
                continue;
            }
            cross(fr->orientation, fr->orientation + 3, nrm);
            for (int i = 0; i < 3; i++)
                fr->position[i] += off * nrm[i];
        }
    }
    if (in->info.frames > 1 && !per_frame && !offsets)
        in->frames[0].has_position = false; /* frames of unknown place (cine, NM) */
    return MS_OK;
}

ms_status msi_instance_summarize(struct msi_instance *in, struct msi_arena *a, const char *path,
                                 const struct ms_dataset *ds, struct ms_error *err)
{
    int64_t frames;

    memset(in, 0, sizeof *in);
    in->info.path = msi_strdup(a, path);
    if (!in->info.path || !copy_strings(in, a, ds))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    in->info.instance_number = get_int_or(ds, TAG(0020, 0013), -1);
    in->series_number = get_int_or(ds, TAG(0020, 0011), -1);
    in->acquisition_number = get_int_or(ds, TAG(0020, 0012), -1);
    in->info.rows = (uint32_t)get_int_or(ds, TAG(0028, 0010), 0);
    in->info.columns = (uint32_t)get_int_or(ds, TAG(0028, 0011), 0);
    in->bits_allocated = (uint16_t)get_int_or(ds, TAG(0028, 0100), 0);
    in->bits_stored = (uint16_t)get_int_or(ds, TAG(0028, 0101), 0);
    in->pixel_representation = (uint16_t)get_int_or(ds, TAG(0028, 0103), 0);
    in->samples_per_pixel = (uint16_t)get_int_or(ds, TAG(0028, 0002), 1);
    frames = get_int_or(ds, TAG(0028, 0008), 1);
    if (frames < 1 || frames > UINT32_MAX)
        frames = 1;
    in->info.frames = in->info.rows ? (uint32_t)frames : 0;
    return summarize_frames(in, a, ds, err);
}
