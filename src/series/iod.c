/* IOD validation of one dataset with the module tables generated from PS3.3
 * (tools/gen_iod.py): modules of the IOD chosen by SOP Class UID, their
 * attributes by type, items of sequences, functional groups of multi-frame
 * IODs, compiled Type 1C/2C conditions and enumerated values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series/iod_tables.h"
#include "series/series_internal.h"

#define TAG_SHARED_FG MS_TAG(0x5200, 0x9229)
#define TAG_PER_FRAME_FG MS_TAG(0x5200, 0x9230)
#define TAG_NUMBER_OF_FRAMES MS_TAG(0x0028, 0x0008)
#define TAG_SOP_CLASS MS_TAG(0x0008, 0x0016)
#define TAG_SOP_INSTANCE MS_TAG(0x0008, 0x0018)

/* Bits of the per-rule "already reported" flags: each kind of finding is
 * reported once per rule and file (per-frame items would repeat it). */
enum { SEEN_ABSENT = 1, SEEN_EMPTY = 2, SEEN_ENUM = 4 };

struct iod_check {
    const struct msi_iod *iod;
    uint16_t module_index;    /* module being checked (top-level rules) */
    ms_finding_fn fn;
    void *ctx;
    const char *label;
    const char *module;
    uint8_t *seen;            /* msi_iod_rule_count flags */
    char path[MSI_PATH_TEXT];
};

/* ---- lookups ---------------------------------------------------------------------- */

static const struct msi_iod *iod_for_sop_class(const char *uid)
{
    size_t lo = 0, hi = msi_iod_sop_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(msi_iod_sops[mid].uid, uid);
        if (c == 0)
            return &msi_iods[msi_iod_sops[mid].iod];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *ms_iod_name(const char *sop_class_uid)
{
    const struct msi_iod *iod = sop_class_uid ? iod_for_sop_class(sop_class_uid) : NULL;
    return iod ? iod->name : NULL;
}

/* Element with this tag in ds or, failing that, in the datasets that enclose
 * it (conditions name attributes of the enclosing levels too). */
static const struct ms_element *lookup_up(const struct ms_dataset *ds, uint32_t tag)
{
    for (; ds; ds = ms_dataset_parent(ds)) {
        const struct ms_element *el = ms_dataset_get(ds, tag);
        if (el)
            return el;
    }
    return NULL;
}

static bool element_empty(const struct ms_element *el)
{
    if (ms_element_vr(el) == MS_VR_SQ)
        return ms_element_item_count(el) == 0;
    if (ms_element_is_encapsulated(el))
        return ms_element_fragment_count(el) <= 1;
    return ms_element_length(el) == 0;
}

/* ---- values: conditions and enumerated values -------------------------------------- */

static bool binary_integer(ms_vr vr)
{
    return vr == MS_VR_US || vr == MS_VR_SS || vr == MS_VR_UL || vr == MS_VR_SL ||
           vr == MS_VR_IS || vr == MS_VR_UV || vr == MS_VR_SV;
}

/* Does value idx of el equal one of values[first..first+count)? */
static bool value_in(const struct ms_element *el, size_t idx, uint32_t first, uint32_t count)
{
    char buf[128];
    int64_t n;
    bool numeric = binary_integer(ms_element_vr(el));

    if (numeric ? !ms_element_get_int(el, idx, &n) : !ms_element_get_string(el, idx, buf, sizeof buf))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const char *v = msi_iod_values[first + i];
        if (numeric ? strtoll(v, NULL, 10) == n : strcmp(v, buf) == 0)
            return true;
    }
    return false;
}

/* Value vidx (1-based; 0 = any value) of el is one of the listed values. */
static bool values_match(const struct ms_element *el, uint8_t vidx, uint32_t first, uint32_t count)
{
    size_t vm = ms_element_vm(el);
    if (vidx)
        return vidx <= vm && value_in(el, vidx - 1u, first, count);
    for (size_t i = 0; i < vm; i++)
        if (value_in(el, i, first, count))
            return true;
    return false;
}

static bool term_true(const struct msi_iod_term *t, const struct ms_dataset *ds)
{
    const struct ms_element *el = lookup_up(ds, t->tag);
    double d;

    switch (t->kind) {
    case MSI_C_PRESENT: return el != NULL;
    case MSI_C_ABSENT: return el == NULL;
    case MSI_C_EQ: return el && values_match(el, t->vidx, t->value_first, t->value_count);
    case MSI_C_NE:
        return el && !element_empty(el) &&
               !values_match(el, t->vidx, t->value_first, t->value_count);
    case MSI_C_GT:
        return el && ms_element_get_double(el, 0, &d) &&
               d > strtod(msi_iod_values[t->value_first], NULL);
    default: return false;
    }
}

/* Terms joined left to right, "and" binding tighter than "or". */
static bool condition_true(uint32_t first, uint32_t count, const struct ms_dataset *ds)
{
    bool any = false, group = true;
    for (uint32_t i = 0; i < count; i++) {
        const struct msi_iod_term *t = &msi_iod_terms[first + i];
        bool v = term_true(t, ds);
        if (i > 0 && t->join == MSI_J_OR) {
            any = any || group;
            group = v;
        } else {
            group = group && v;
        }
    }
    return any || group;
}

/* ---- reporting -------------------------------------------------------------------------- */

static bool first_time(struct iod_check *c, size_t rule, uint8_t kind)
{
    if (c->seen[rule] & kind)
        return false;
    c->seen[rule] |= kind;
    return true;
}

static const char *const type_names[] = {"1", "1C", "2", "2C", "3"};
static const char *const type_checks[] = {"type1", "type1c", "type2", "type2c", "type3"};

static void report_rule(struct iod_check *c, size_t rule, uint32_t tag, uint8_t kind,
                        const char *what)
{
    const struct msi_iod_rule *r = &msi_iod_rules[rule];
    size_t old;
    if (!first_time(c, rule, kind))
        return;
    old = msi_path_push(c->path, tag, 0);
    msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, type_checks[r->type], tag, c->path,
               c->module, "Type %s attribute %s (%s)", type_names[r->type], what, c->module);
    c->path[old] = '\0';
}

static void check_enums(struct iod_check *c, size_t rule, const struct ms_element *el)
{
    const struct msi_iod_rule *r = &msi_iod_rules[rule];
    for (uint32_t k = 0; k < r->enum_count; k++) {
        const struct msi_iod_enum *e = &msi_iod_enums[r->enum_first + k];
        size_t vm = ms_element_vm(el);
        for (size_t i = 0; i < vm; i++) {
            char buf[80], list[256] = "";
            if ((e->vidx && i + 1 != e->vidx) || value_in(el, i, e->value_first, e->value_count))
                continue;
            if (!ms_element_get_string(el, i, buf, sizeof buf) && binary_integer(ms_element_vr(el))) {
                int64_t n = 0;
                ms_element_get_int(el, i, &n);
                snprintf(buf, sizeof buf, "%lld", (long long)n);
            }
            if (!buf[0] || !first_time(c, rule, SEEN_ENUM))
                continue;
            for (uint32_t j = 0; j < e->value_count; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                         msi_iod_values[e->value_first + j]);
            size_t old = msi_path_push(c->path, ms_element_tag(el), 0);
            msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, "enum", ms_element_tag(el),
                       c->path, c->module, "value %zu '%s' is not one of the enumerated values (%s)",
                       i + 1, buf, list);
            c->path[old] = '\0';
        }
    }
}

/* ---- one rule -------------------------------------------------------------------------- */

/* Type checks of one attribute present as el (or absent: NULL). */
static void check_presence(struct iod_check *c, size_t rule, uint32_t tag,
                           const struct ms_element *el, const struct ms_dataset *ds)
{
    const struct msi_iod_rule *r = &msi_iod_rules[rule];
    bool required = r->type == MSI_T1 || r->type == MSI_T2;
    bool needs_value = r->type == MSI_T1 || r->type == MSI_T1C;

    if ((r->type == MSI_T1C || r->type == MSI_T2C) && r->cond_count)
        required = condition_true(r->cond_first, r->cond_count, ds);
    if (!el) {
        if (required)
            report_rule(c, rule, tag, SEEN_ABSENT, "is absent");
        return;
    }
    if (needs_value && element_empty(el))
        report_rule(c, rule, tag, SEEN_EMPTY, "is present but empty");
    if (r->enum_count && !element_empty(el))
        check_enums(c, rule, el);
}

static void check_rules(struct iod_check *c, const struct ms_dataset *ds, size_t first,
                        size_t end, unsigned depth);

static void check_items(struct iod_check *c, const struct ms_element *el, size_t first,
                        size_t end, unsigned depth)
{
    for (size_t k = 0; k < ms_element_item_count(el); k++) {
        size_t old = msi_path_push(c->path, ms_element_tag(el), k + 1);
        check_rules(c, ms_element_item(el, k), first, end, depth + 1);
        c->path[old] = '\0';
    }
}

/* A repeating-group rule (60xx) applies to every group of the range present. */
static void check_repeating(struct iod_check *c, const struct ms_dataset *ds, size_t rule)
{
    const struct msi_iod_rule *r = &msi_iod_rules[rule];
    for (uint32_t g = 0x6000; g <= 0x601E; g += 2) {
        bool group_present = false;
        for (size_t i = 0; i < ms_dataset_count(ds) && !group_present; i++)
            group_present = MS_TAG_GROUP(ms_element_tag(ms_dataset_at(ds, i))) == g;
        if (group_present) {
            uint32_t tag = (r->tag & 0x0000FFFFu) | (g << 16);
            check_presence(c, rule, tag, ms_dataset_get(ds, tag), ds);
        }
    }
}

/* Is this top-level attribute of the module being checked overridden by
 * another module of the IOD? */
static bool suppressed(const struct iod_check *c, uint32_t tag)
{
    for (uint32_t i = 0; c->iod && i < c->iod->supp_count; i++) {
        const struct msi_iod_suppressed *s = &msi_iod_suppressed[c->iod->supp_first + i];
        if (s->module == c->module_index && s->tag == tag)
            return true;
    }
    return false;
}

static void check_rules(struct iod_check *c, const struct ms_dataset *ds, size_t first,
                        size_t end, unsigned depth)
{
    size_t i = first;
    while (i < end) {
        const struct msi_iod_rule *r = &msi_iod_rules[i];
        size_t j = i + 1;
        while (j < end && msi_iod_rules[j].depth > depth)
            j++;
        if (r->depth == depth && !(depth == 0 && suppressed(c, r->tag))) {
            if (r->mask != 0xFFFFFFFFu) {
                check_repeating(c, ds, i);
            } else {
                const struct ms_element *el = ms_dataset_get(ds, r->tag);
                check_presence(c, i, r->tag, el, ds);
                if (el && j > i + 1 && ms_element_vr(el) == MS_VR_SQ)
                    check_items(c, el, i + 1, j, depth);
            }
        }
        i = j;
    }
}

/* ---- modules ------------------------------------------------------------------------------ */

static bool rule_present(const struct ms_dataset *ds, const struct msi_iod_rule *r)
{
    if (r->mask == 0xFFFFFFFFu)
        return ms_dataset_get(ds, r->tag) != NULL;
    for (size_t i = 0; i < ms_dataset_count(ds); i++) {
        uint32_t t = ms_element_tag(ms_dataset_at(ds, i));
        if ((t & r->mask) == r->tag && MS_TAG_GROUP(t) <= 0x601E && !(MS_TAG_GROUP(t) & 1))
            return true;
    }
    return false;
}

/* A conditional or optional module is taken as present when one of its own
 * top-level attributes of Type 1C, 2C or 3 is, or two of Type 1 or 2: a
 * lone Type 1 attribute shared with a module newer than the tables (Pixel
 * Spacing in today's SC Image module) must not make a whole module required. */
static bool module_present(const struct ms_dataset *ds, const struct msi_iod_use *u)
{
    uint32_t strong = 0;
    for (uint32_t i = 0; i < u->marker_count; i++) {
        const struct msi_iod_rule *r = &msi_iod_rules[msi_iod_markers[u->marker_first + i]];
        if (!rule_present(ds, r))
            continue;
        if (r->type != MSI_T1 && r->type != MSI_T2)
            return true;
        if (++strong == 2 || u->marker_count == 1)
            return true;
    }
    return false;
}

/* Mandatory, or conditional with a compiled condition that holds. */
static bool use_required(const struct msi_iod_use *u, const struct ms_dataset *ds)
{
    return u->usage == MSI_U_M || (u->cond_count && condition_true(u->cond_first, u->cond_count, ds));
}

static void check_module(struct iod_check *c, const struct ms_dataset *ds,
                         const struct msi_iod_use *u)
{
    const struct msi_iod_module *m = &msi_iod_modules[u->module];
    if (!use_required(u, ds) && !module_present(ds, u))
        return;
    c->module = m->name;
    c->module_index = u->module;
    check_rules(c, ds, m->rule_first, m->rule_first + m->rule_count, 0);
}

/* ---- functional groups of multi-frame IODs ------------------------------------------------ */

static bool macro_in(const struct ms_dataset *item, const struct msi_iod_module *m)
{
    for (uint32_t i = 0; item && i < m->rule_count; i++) {
        const struct msi_iod_rule *r = &msi_iod_rules[m->rule_first + i];
        if (r->depth == 0 && ms_dataset_get(item, r->tag))
            return true;
    }
    return false;
}

static void check_macro_in_item(struct iod_check *c, const struct ms_dataset *item,
                                const struct msi_iod_module *m, uint32_t seq, size_t k)
{
    size_t old = msi_path_push(c->path, seq, k + 1);
    check_rules(c, item, m->rule_first, m->rule_first + m->rule_count, 0);
    c->path[old] = '\0';
}

static void check_functional_group(struct iod_check *c, const struct ms_dataset *ds,
                                   const struct ms_dataset *shared,
                                   const struct ms_element *per_frame, size_t nframes,
                                   const struct msi_iod_use *u)
{
    const struct msi_iod_module *m = &msi_iod_modules[u->module];
    bool in_shared = macro_in(shared, m);
    size_t missing = 0, first_missing = 0, both = 0;

    c->module = m->name;
    c->module_index = UINT16_MAX;
    if (in_shared)
        check_macro_in_item(c, shared, m, TAG_SHARED_FG, 0);
    for (size_t k = 0; k < nframes; k++) {
        const struct ms_dataset *item = per_frame ? ms_element_item(per_frame, k) : NULL;
        bool here = macro_in(item, m);
        if (here && in_shared)
            both++;
        if (here)
            check_macro_in_item(c, item, m, TAG_PER_FRAME_FG, k);
        else if (!in_shared && missing++ == 0)
            first_missing = k + 1;
    }
    if (missing && use_required(u, ds))
        msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, "functional-group",
                   msi_iod_rules[m->rule_first].tag, "", m->name,
                   "functional group '%s' is in neither the shared nor the per-frame groups of "
                   "%zu of %zu frames (first: frame %zu)", m->name, missing, nframes, first_missing);
    if (both)
        msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, "functional-group",
                   msi_iod_rules[m->rule_first].tag, "", m->name,
                   "functional group '%s' is both shared and per-frame (%zu frames)", m->name, both);
}

static void check_functional_groups(struct iod_check *c, const struct ms_dataset *ds,
                                    const struct msi_iod *iod)
{
    const struct ms_element *shared_el = ms_dataset_get(ds, TAG_SHARED_FG);
    const struct ms_element *per_frame = ms_dataset_get(ds, TAG_PER_FRAME_FG);
    const struct ms_dataset *shared = shared_el ? ms_element_item(shared_el, 0) : NULL;
    int64_t frames = 0;
    size_t items = per_frame ? ms_element_item_count(per_frame) : 0;

    bool has_frames = ms_dataset_get_int(ds, TAG_NUMBER_OF_FRAMES, 0, &frames) && frames >= 0;
    if (!has_frames)
        frames = 1; /* as for a single-frame image */
    if (per_frame && (size_t)frames != items)
        msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, "functional-group",
                   TAG_PER_FRAME_FG, "PerFrameFunctionalGroupsSequence", "Multi-frame Functional Groups",
                   "%zu items in the Per-frame Functional Groups Sequence for %lld frame%s%s", items,
                   (long long)frames, frames == 1 ? "" : "s",
                   has_frames ? "" : " (Number of Frames absent)");
    if (items < (size_t)frames)
        frames = (int64_t)items;
    for (uint32_t i = 0; i < iod->fg_count; i++)
        check_functional_group(c, ds, shared, per_frame, (size_t)frames,
                               &msi_iod_uses[iod->fg_first + i]);
}

/* ---- File Meta Information ------------------------------------------------------------------ */

static void check_meta_pair(struct iod_check *c, struct ms_file *f, uint32_t meta_tag,
                            uint32_t ds_tag, const char *what)
{
    char a[80], b[80];
    bool has_a = ms_dataset_get_string(ms_file_meta(f), meta_tag, 0, a, sizeof a);
    bool has_b = ms_dataset_get_string(ms_file_dataset(f), ds_tag, 0, b, sizeof b);
    if (has_a && has_b && strcmp(a, b) != 0)
        msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, "meta", meta_tag, "", "File Meta Information",
                   "%s '%s' in the File Meta Information differs from '%s' in the dataset", what, a, b);
}

static void check_meta(struct iod_check *c, struct ms_file *f)
{
    struct msi_vctx v = {c->fn, c->ctx, c->label};
    if (!ms_file_has_dicm(f)) {
        msi_report(c->fn, c->ctx, MS_SEVERITY_WARNING, c->label, "meta", 0, "", "File Meta Information",
                   "no preamble and DICM prefix: not a DICOM Part 10 file");
        return;
    }
    check_meta_pair(c, f, MS_TAG(0x0002, 0x0002), TAG_SOP_CLASS, "Media Storage SOP Class UID");
    check_meta_pair(c, f, MS_TAG(0x0002, 0x0003), TAG_SOP_INSTANCE, "Media Storage SOP Instance UID");
    if (!ms_dataset_get(ms_file_meta(f), MS_TAG_TRANSFER_SYNTAX))
        msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, "meta", MS_TAG_TRANSFER_SYNTAX,
                   "TransferSyntaxUID", "File Meta Information", "Transfer Syntax UID is absent");
    msi_check_values(ms_file_meta(f), &v);
}

/* ---- entry point ------------------------------------------------------------------------------ */

static void check_iod(struct iod_check *c, const struct ms_dataset *ds)
{
    char uid[80];
    const struct msi_iod *iod;

    if (!ms_dataset_get_string(ds, TAG_SOP_CLASS, 0, uid, sizeof uid)) {
        msi_report(c->fn, c->ctx, MS_SEVERITY_ERROR, c->label, "iod", TAG_SOP_CLASS, "SOPClassUID",
                   "SOP Common", "SOP Class UID is absent: the IOD cannot be determined");
        return;
    }
    iod = iod_for_sop_class(uid);
    if (!iod) {
        const char *name = ms_uid_name(uid);
        msi_report(c->fn, c->ctx, MS_SEVERITY_WARNING, c->label, "iod", TAG_SOP_CLASS, "SOPClassUID",
                   "", "no module table for SOP Class %s (%s): IOD not checked", uid,
                   name ? name : "unknown");
        return;
    }
    c->iod = iod;
    for (uint32_t i = 0; i < iod->use_count; i++)
        check_module(c, ds, &msi_iod_uses[iod->use_first + i]);
    if (iod->fg_count)
        check_functional_groups(c, ds, iod);
}

ms_status ms_file_validate(struct ms_file *f, const char *label, ms_finding_fn fn, void *ctx,
                           struct ms_error *err)
{
    struct iod_check c;
    struct msi_vctx v;

    memset(&c, 0, sizeof c);
    c.fn = fn;
    c.ctx = ctx;
    c.label = label ? label : "";
    c.module = "";
    c.seen = calloc(msi_iod_rule_count, 1);
    if (!c.seen)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    check_meta(&c, f);
    check_iod(&c, ms_file_dataset(f));
    v.fn = fn;
    v.ctx = ctx;
    v.label = c.label;
    msi_check_values(ms_file_dataset(f), &v);
    free(c.seen);
    return MS_OK;
}
