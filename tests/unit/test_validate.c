/* Unit tests of the IOD validation of one instance: tables generated from
 * PS3.3, Type 1/1C/2 checks, nested sequences, functional groups,
 * enumerated values, VR/VM against the dictionary, value syntax, File Meta
 * Information. Each negative test edits one slice of the bundled CT. */
#include "series_fixture.h"

#include "series/series_internal.h"

#define TAG(g, e) MS_TAG(0x##g, 0x##e)

typedef void (*edit_fn)(struct ms_dataset *ds);

/* Validate slice 1 after edit (NULL: as it is). */
static void validate_edited(edit_fn edit, struct fx_findings *c)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    memset(c, 0, sizeof *c);
    CHECK_INT(ms_file_read(&f, tu_ct(1), NULL, &err), MS_OK);
    if (!f)
        return;
    if (edit)
        edit(ms_file_dataset(f));
    CHECK_INT(ms_file_validate(f, "slice", fx_collect, c, &err), MS_OK);
    ms_file_destroy(f);
}

static void set(struct ms_dataset *ds, uint32_t tag, ms_vr vr, const char *v)
{
    fx_set_string(ds, tag, vr, v);
}

/* ---- positive ----------------------------------------------------------------------------- */

static void test_valid_ct(void)
{
    struct fx_findings c;
    validate_edited(NULL, &c);
    CHECK_INT(c.n, 0);
    if (c.n)
        fx_dump(&c);
}

static void test_iod_names(void)
{
    static const struct {
        const char *uid, *iod;
    } cases[] = {
        {"1.2.840.10008.5.1.4.1.1.2", "CT Image"},
        {"1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image"},
        {"1.2.840.10008.5.1.4.1.1.4", "MR Image"},
        {"1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image"},
        {"1.2.840.10008.5.1.4.1.1.128", "Positron Emission Tomography Image"},
        {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image"},
        {"1.2.840.10008.5.1.4.1.1.481.2", "RT Dose"},
        {"1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set"},
        {"1.2.840.10008.5.1.4.1.1.481.5", "RT Plan"},
        {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR"},
        {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_STR(ms_iod_name(cases[i].uid), cases[i].iod);
}

/* A Type 1C attribute whose condition is false may be absent. */
static void drop_both_windows(struct ms_dataset *ds)
{
    ms_dataset_remove(ds, TAG(0028, 1050));
    ms_dataset_remove(ds, TAG(0028, 1051));
}

static void test_condition_false(void)
{
    struct fx_findings c;
    validate_edited(drop_both_windows, &c);
    CHECK_INT(c.errors, 0);
}

static void test_uid_syntax(void)
{
    const char *why;
    CHECK(msi_uid_valid("1.2.840.10008.1.2.1", &why));
    CHECK(msi_uid_valid("2.25.0", &why));
    CHECK(!msi_uid_valid("1.2.03", &why));
    CHECK(!msi_uid_valid("1..2", &why));
    CHECK(!msi_uid_valid("1.2.", &why));
    CHECK(!msi_uid_valid("9.8.7", &why));
    CHECK(!msi_uid_valid("0", &why));
    CHECK(!msi_uid_valid("1.2.a", &why));
    CHECK(!msi_uid_valid("", &why));
    CHECK(!msi_uid_valid("1.2.3456789012345678901234567890123456789012345678901234567890123", &why));
}

/* ---- negative: types ---------------------------------------------------------------------- */

static void empty_image_type(struct ms_dataset *ds) { set(ds, TAG(0008, 0008), MS_VR_CS, ""); }
static void drop_rows(struct ms_dataset *ds) { ms_dataset_remove(ds, TAG(0028, 0010)); }
static void drop_patient_name(struct ms_dataset *ds) { ms_dataset_remove(ds, TAG(0010, 0010)); }
static void drop_window_width(struct ms_dataset *ds) { ms_dataset_remove(ds, TAG(0028, 1051)); }
static void empty_charset(struct ms_dataset *ds) { set(ds, TAG(0008, 0005), MS_VR_CS, ""); }

static void test_type1_empty(void)
{
    struct fx_findings c;
    validate_edited(empty_image_type, &c);
    CHECK_INT(fx_count(&c, "type1", TAG(0008, 0008), NULL), 1);
    CHECK_INT(c.errors, 1);
}

static void test_type1_absent(void)
{
    struct fx_findings c;
    validate_edited(drop_rows, &c);
    CHECK_INT(fx_count(&c, "type1", TAG(0028, 0010), NULL), 1);
}

static void test_type2_absent(void)
{
    struct fx_findings c;
    validate_edited(drop_patient_name, &c);
    CHECK_INT(fx_count(&c, "type2", TAG(0010, 0010), NULL), 1);
    CHECK_INT(c.errors, 1);
}

static void test_type1c_condition_true(void)
{
    struct fx_findings c;
    validate_edited(drop_window_width, &c);
    CHECK_INT(fx_count(&c, "type1c", TAG(0028, 1051), NULL), 1);
}

static void test_type1c_present_empty(void)
{
    struct fx_findings c;
    validate_edited(empty_charset, &c);
    CHECK_INT(fx_count(&c, "type1c", TAG(0008, 0005), NULL), 1);
}

/* An item of Source Image Sequence without its Type 1 references. */
static void empty_source_item(struct ms_dataset *ds)
{
    struct ms_element *seq;
    struct ms_dataset *item;
    struct ms_error err;
    if (ms_dataset_set_sequence(ds, TAG(0008, 2112), &seq, &err) != MS_OK ||
        ms_element_add_item(seq, &item, &err) != MS_OK)
        exit(1);
    set(item, TAG(0008, 1150), MS_VR_UI, "1.2.840.10008.5.1.4.1.1.2");
}

static void test_nested_type1(void)
{
    struct fx_findings c;
    validate_edited(empty_source_item, &c);
    CHECK_INT(fx_count(&c, "type1", TAG(0008, 1155), NULL), 1);
    CHECK_INT(fx_count(&c, "type1", TAG(0008, 1150), NULL), 0);
}

static void no_sop_class(struct ms_dataset *ds) { ms_dataset_remove(ds, TAG(0008, 0016)); }
static void unknown_sop_class(struct ms_dataset *ds) { set(ds, TAG(0008, 0016), MS_VR_UI, "1.2.3.4"); }

static void test_sop_class(void)
{
    struct fx_findings c;
    validate_edited(no_sop_class, &c);
    CHECK_INT(fx_count(&c, "iod", TAG(0008, 0016), NULL), 1);
    CHECK_INT(c.errors, 1);
    validate_edited(unknown_sop_class, &c);
    CHECK_INT(fx_count(&c, "iod", TAG(0008, 0016), NULL), 1);
    for (size_t i = 0; i < c.n; i++) /* the IOD is unknown: a warning, not an error */
        if (strcmp(c.f[i].check, "iod") == 0)
            CHECK_INT(c.f[i].severity, MS_SEVERITY_WARNING);
}

/* Enhanced CT with two frames, one per-frame item, no plane position. */
static void enhanced_ct(struct ms_dataset *ds)
{
    struct ms_element *shared, *per_frame, *measures;
    struct ms_dataset *item, *m;
    struct ms_error err;
    set(ds, TAG(0008, 0016), MS_VR_UI, "1.2.840.10008.5.1.4.1.1.2.1");
    set(ds, TAG(0028, 0008), MS_VR_IS, "2");
    if (ms_dataset_set_sequence(ds, TAG(5200, 9229), &shared, &err) != MS_OK ||
        ms_element_add_item(shared, &item, &err) != MS_OK ||
        ms_dataset_set_sequence(item, TAG(0028, 9110), &measures, &err) != MS_OK ||
        ms_element_add_item(measures, &m, &err) != MS_OK ||
        ms_dataset_set_sequence(ds, TAG(5200, 9230), &per_frame, &err) != MS_OK ||
        ms_element_add_item(per_frame, &item, &err) != MS_OK)
        exit(1);
    set(m, TAG(0028, 0030), MS_VR_DS, "0.5\\0.5");
}

static void test_functional_groups(void)
{
    struct fx_findings c;
    validate_edited(enhanced_ct, &c);
    /* 1 item for 2 frames; Plane Position missing everywhere */
    CHECK_INT(fx_count(&c, "functional-group", TAG(5200, 9230), NULL), 1);
    CHECK_INT(fx_count(&c, "functional-group", TAG(0020, 9113), NULL), 1);
    /* Pixel Measures is shared, its Type 1C Slice Thickness... is checked in the item */
    CHECK_INT(fx_count(&c, "functional-group", TAG(0028, 9110), NULL), 0);
}

/* ---- negative: values --------------------------------------------------------------------- */

static void bad_sex(struct ms_dataset *ds) { set(ds, TAG(0010, 0040), MS_VR_CS, "X"); }
static void rgb_ct(struct ms_dataset *ds) { set(ds, TAG(0028, 0004), MS_VR_CS, "RGB"); }
static void leading_zero_uid(struct ms_dataset *ds) { set(ds, TAG(0020, 000E), MS_VR_UI, "1.2.03.4"); }
static void bad_date(struct ms_dataset *ds) { set(ds, TAG(0008, 0020), MS_VR_DA, "20121340"); }
static void bad_time(struct ms_dataset *ds) { set(ds, TAG(0008, 0030), MS_VR_TM, "251000"); }
static void bad_ds(struct ms_dataset *ds) { set(ds, TAG(0018, 0060), MS_VR_DS, "1.5."); }
static void bad_is(struct ms_dataset *ds) { set(ds, TAG(0020, 0013), MS_VR_IS, "1A"); }
static void bad_cs(struct ms_dataset *ds) { set(ds, TAG(0018, 0015), MS_VR_CS, "head"); }
static void bad_as(struct ms_dataset *ds) { set(ds, TAG(0010, 1010), MS_VR_AS, "42"); }
static void long_sh(struct ms_dataset *ds) { set(ds, TAG(0020, 0010), MS_VR_SH, "0123456789ABCDEFG"); }
static void one_spacing(struct ms_dataset *ds) { set(ds, TAG(0028, 0030), MS_VR_DS, "0.5"); }
static void name_as_lo(struct ms_dataset *ds) { set(ds, TAG(0010, 0010), MS_VR_LO, "DOE^JOHN"); }
static void other_uid(struct ms_dataset *ds) { set(ds, TAG(0008, 0018), MS_VR_UI, "1.2.3.4.5"); }

static const struct {
    edit_fn edit;
    const char *check;
    uint32_t tag;
} value_cases[] = {
    {bad_sex, "enum", TAG(0010, 0040)},
    {rgb_ct, "enum", TAG(0028, 0004)},
    {leading_zero_uid, "value", TAG(0020, 000E)},
    {bad_date, "value", TAG(0008, 0020)},
    {bad_time, "value", TAG(0008, 0030)},
    {bad_ds, "value", TAG(0018, 0060)},
    {bad_is, "value", TAG(0020, 0013)},
    {bad_cs, "value", TAG(0018, 0015)},
    {bad_as, "value", TAG(0010, 1010)},
    {long_sh, "value", TAG(0020, 0010)},
    {one_spacing, "vm", TAG(0028, 0030)},
    {name_as_lo, "vr", TAG(0010, 0010)},
    {other_uid, "meta", TAG(0002, 0003)},
};

static void test_values(void)
{
    for (size_t i = 0; i < sizeof value_cases / sizeof *value_cases; i++) {
        struct fx_findings c;
        validate_edited(value_cases[i].edit, &c);
        if (fx_count(&c, value_cases[i].check, value_cases[i].tag, NULL) != 1) {
            fprintf(stderr, "value case %zu (%s):\n", i, value_cases[i].check);
            fx_dump(&c);
        }
        CHECK_INT(fx_count(&c, value_cases[i].check, value_cases[i].tag, NULL), 1);
    }
}

/* Regression (fuzz): a value holding a line break is quoted on one line. */
static void test_one_line_messages(void)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    struct fx_findings c = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/malformed/validate_value_with_newline.dcm", tu_src());
    CHECK_INT(ms_file_read(&f, path, NULL, &err), MS_OK);
    if (!f)
        return;
    CHECK_INT(ms_file_validate(f, path, fx_collect, &c, &err), MS_OK);
    CHECK(fx_count(&c, "value", MS_TAG(0x0002, 0x0003), NULL) == 1);
    for (size_t i = 0; i < c.n; i++)
        CHECK(strchr(c.f[i].message, '\n') == NULL);
    ms_file_destroy(f);
}

int main(void)
{
    test_valid_ct();
    test_iod_names();
    test_condition_false();
    test_uid_syntax();
    test_type1_empty();
    test_type1_absent();
    test_type2_absent();
    test_type1c_condition_true();
    test_type1c_present_empty();
    test_nested_type1();
    test_sop_class();
    test_functional_groups();
    test_values();
    test_one_line_messages();
    return check_done();
}
