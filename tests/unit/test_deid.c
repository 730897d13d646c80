/* Unit tests of the `deid` scheme: the Table E.1-1 actions and their
 * resolution, the keyed UID mapping and its consistency across files, the
 * profile on a synthetic file, bit-exact round trips (synthetic, the bundled
 * CT series, pydicom's test files; certificate and passphrase recipients,
 * AuthEnvelopedData and EnvelopedData), and the negatives: wrong key, wrong
 * passphrase, tampered encrypted content, tampered de-identified data,
 * missing items and elements, truncated files, malformed recipes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "crypto/cms_buffer.h"
#include "medseal/cms.h"
#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/protect.h"
#include "protect/deid.h"
#include "testutil.h"

#define PYDICOM_FILES "/usr/lib/python3/dist-packages/pydicom/data/test_files"

static char key1[512], cert1[512], key2[512], cert2[512], eckey[512], eccert[512],
    edcert[512], pass_ok[512], pass_bad[512], symkey1[512], symkey2[512];

/* A path in the test directory (short: the tests name many). */
static const char *tmp(const char *name)
{
    return tu_path(name);
}

/* ---- keys -------------------------------------------------------------------------------- */

static void make_identity(ms_pkey_type type, unsigned bits, const char *key, const char *cert)
{
    struct ms_pkey *k = NULL;
    struct ms_error err = {0};
    CHECK(ms_pkey_generate(&k, type, bits, &err) == MS_OK);
    CHECK(ms_pkey_make_self_signed(k, "medseal deid test", 30, &err) == MS_OK);
    if (key)
        CHECK(ms_pkey_write_private(k, key, NULL, 0, &err) == MS_OK);
    CHECK(ms_pkey_write_cert(k, cert, &err) == MS_OK);
    ms_pkey_destroy(k);
}

static void make_keys(void)
{
    uint8_t raw[32];
    snprintf(key1, sizeof key1, "%s", tmp("key1.pem"));
    snprintf(cert1, sizeof cert1, "%s", tmp("cert1.pem"));
    snprintf(key2, sizeof key2, "%s", tmp("key2.pem"));
    snprintf(cert2, sizeof cert2, "%s", tmp("cert2.pem"));
    snprintf(eckey, sizeof eckey, "%s", tmp("eckey.pem"));
    snprintf(eccert, sizeof eccert, "%s", tmp("eccert.pem"));
    snprintf(edcert, sizeof edcert, "%s", tmp("edcert.pem"));
    snprintf(pass_ok, sizeof pass_ok, "%s", tmp("pass_ok.txt"));
    snprintf(pass_bad, sizeof pass_bad, "%s", tmp("pass_bad.txt"));
    snprintf(symkey1, sizeof symkey1, "%s", tmp("uid1.key"));
    snprintf(symkey2, sizeof symkey2, "%s", tmp("uid2.key"));
    make_identity(MS_PKEY_RSA, 2048, key1, cert1);
    make_identity(MS_PKEY_RSA, 2048, key2, cert2);
    make_identity(MS_PKEY_P256, 0, eckey, eccert);
    make_identity(MS_PKEY_ED25519, 0, NULL, edcert);
    tu_spit(pass_ok, "correct horse battery staple\n", 29);
    tu_spit(pass_bad, "correct horse battery stapler\n", 30);
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)i;
    tu_spit(symkey1, raw, 32);
    raw[0] = 0xFF;
    tu_spit(symkey2, raw, 32);
}

/* ---- a synthetic file with a bit of everything ------------------------------------------- */

#define UID_STUDY "1.2.826.0.1.3680043.10.999.100"
#define UID_INSTANCE "1.2.826.0.1.3680043.10.999.1"
#define UID_REFERENCED "1.2.826.0.1.3680043.10.999.2"

static void set_str(struct ms_dataset *ds, uint32_t tag, ms_vr vr, const char *v)
{
    CHECK(ms_dataset_set_string(ds, tag, vr, v, NULL) == MS_OK);
}

static struct ms_dataset *add_item(struct ms_dataset *ds, uint32_t tag)
{
    struct ms_element *seq = NULL;
    struct ms_dataset *item = NULL;
    CHECK(ms_dataset_set_sequence(ds, tag, &seq, NULL) == MS_OK);
    if (seq)
        CHECK(ms_element_add_item(seq, &item, NULL) == MS_OK);
    return item;
}

static void fill_synthetic(struct ms_dataset *ds, const char *instance)
{
    static const uint8_t pixels[8] = {1, 0, 2, 0, 3, 0, 4, 0}, overlay[4] = {0xFF};
    struct ms_dataset *item;

    set_str(ds, MS_TAG(0x0008, 0x0005), MS_VR_CS, "ISO_IR 100");
    set_str(ds, MS_TAG(0x0008, 0x0016), MS_VR_UI, "1.2.840.10008.5.1.4.1.1.7");
    set_str(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, instance);
    set_str(ds, MS_TAG(0x0008, 0x0020), MS_VR_DA, "20240102");
    set_str(ds, MS_TAG(0x0008, 0x0060), MS_VR_CS, "OT");
    set_str(ds, MS_TAG(0x0008, 0x0080), MS_VR_LO, "General Hospital Zurich");
    item = add_item(ds, MS_TAG(0x0008, 0x1140));
    if (item) {
        set_str(item, MS_TAG(0x0008, 0x1150), MS_VR_UI, "1.2.840.10008.5.1.4.1.1.7");
        set_str(item, MS_TAG(0x0008, 0x1155), MS_VR_UI, UID_REFERENCED);
    }
    set_str(ds, MS_TAG(0x0009, 0x0010), MS_VR_LO, "ACME 1.0");
    set_str(ds, MS_TAG(0x0009, 0x1001), MS_VR_LO, "Private Secret Value");
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0010, 0x0000), MS_VR_UL, 0, NULL) == MS_OK);
    set_str(ds, MS_TAG(0x0010, 0x0010), MS_VR_PN, "Doe^John");
    set_str(ds, MS_TAG(0x0010, 0x0020), MS_VR_LO, "PID-424242");
    set_str(ds, MS_TAG(0x0010, 0x0030), MS_VR_DA, "19700101");
    set_str(ds, MS_TAG(0x0010, 0x1000), MS_VR_LO, "OTHER-ID-77");
    set_str(ds, MS_TAG(0x0020, 0x000D), MS_VR_UI, UID_STUDY);
    set_str(ds, MS_TAG(0x0020, 0x000E), MS_VR_UI, "1.2.826.0.1.3680043.10.999.200");
    set_str(ds, MS_TAG(0x0020, 0x0020), MS_VR_CS, "");
    set_str(ds, MS_TAG(0x0020, 0x0052), MS_VR_UI, UID_STUDY ".5\\" UID_STUDY ".6");
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0002), MS_VR_US, 1, NULL) == MS_OK);
    set_str(ds, MS_TAG(0x0028, 0x0004), MS_VR_CS, "MONOCHROME2");
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0010), MS_VR_US, 2, NULL) == MS_OK);
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0011), MS_VR_US, 2, NULL) == MS_OK);
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0100), MS_VR_US, 16, NULL) == MS_OK);
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0101), MS_VR_US, 16, NULL) == MS_OK);
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0102), MS_VR_US, 15, NULL) == MS_OK);
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0103), MS_VR_US, 0, NULL) == MS_OK);
    item = add_item(ds, MS_TAG(0x0040, 0x0513));
    if (item)
        set_str(item, MS_TAG(0x0040, 0x0031), MS_VR_UT, "Local Issuer Basel");
    item = add_item(ds, MS_TAG(0x0040, 0xA730));
    if (item) {
        set_str(item, MS_TAG(0x0040, 0xA123), MS_VR_PN, "Observer^Anna");
        set_str(item, MS_TAG(0x0040, 0xA160), MS_VR_UT, "Seen by Dr Miller");
        set_str(item, MS_TAG(0x0008, 0x0104), MS_VR_LO, "Finding");
    }
    CHECK(ms_dataset_set_int(ds, MS_TAG(0x6000, 0x0010), MS_VR_US, 2, NULL) == MS_OK);
    CHECK(ms_dataset_set_bytes(ds, MS_TAG(0x6000, 0x3000), MS_VR_OW, overlay, 4, NULL) == MS_OK);
    CHECK(ms_dataset_set_bytes(ds, MS_TAG_PIXEL_DATA, MS_VR_OW, pixels, 8, NULL) == MS_OK);
}

static void write_synthetic(const char *path, const char *instance)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    CHECK(ms_file_create(&f, NULL, &err) == MS_OK);
    if (!f)
        return;
    fill_synthetic(ms_file_dataset(f), instance);
    CHECK(ms_file_write(f, path, NULL, &err) == MS_OK);
    ms_file_destroy(f);
}

/* ---- helpers around the scheme ------------------------------------------------------------ */

static const char *one_cert[1];

static struct ms_protect_options cert_options(const char *cert)
{
    struct ms_protect_options o;
    memset(&o, 0, sizeof o);
    o.scheme = "deid";
    one_cert[0] = cert;
    o.recipients = one_cert;
    o.nrecipients = 1;
    return o;
}

static ms_status protect(const char *in, const char *out, const struct ms_protect_options *o)
{
    struct ms_error err = {0};
    ms_status st = ms_protect_file(in, out, o, NULL, &err);
    if (st != MS_OK)
        fprintf(stderr, "  protect %s: %s\n", in, err.msg);
    return st;
}

static ms_status unprotect_key(const char *in, const char *out, const char *key,
                               const char *cert, const char *pass)
{
    struct ms_protect_options o;
    struct ms_error err = {0};
    ms_status st;
    memset(&o, 0, sizeof o);
    o.private_key = key;
    o.certificate = cert;
    o.passphrase_file = pass;
    st = ms_unprotect_file(in, out, &o, NULL, &err);
    if (st != MS_OK && getenv("DEID_VERBOSE"))
        fprintf(stderr, "  unprotect %s: %s\n", in, err.msg);
    return st;
}

static bool get_uid(const char *path, uint32_t tag, char *buf, size_t cap)
{
    struct ms_file *f = NULL;
    bool ok = ms_file_read(&f, path, NULL, NULL) == MS_OK &&
              ms_dataset_get_string(ms_file_dataset(f), tag, 0, buf, cap);
    ms_file_destroy(f);
    return ok;
}

/* ---- the table ---------------------------------------------------------------------------- */

static enum msi_deid_action action_of(uint32_t tag)
{
    const struct msi_deid_rule *r = msi_deid_find(tag);
    return r ? r->action : MSI_DEID_ACTION_COUNT;
}

static void test_table(void)
{
    CHECK(msi_deid_rule_count > 600);
    CHECK(msi_deid_exact_count < msi_deid_rule_count);
    for (size_t i = 1; i < msi_deid_exact_count; i++)
        CHECK(msi_deid_rules[i - 1].tag < msi_deid_rules[i].tag);
    CHECK_INT(action_of(MS_TAG(0x0010, 0x0010)), MSI_DEID_Z);
    CHECK_INT(action_of(MS_TAG(0x0008, 0x0018)), MSI_DEID_U);
    CHECK_INT(action_of(MS_TAG(0x0002, 0x0003)), MSI_DEID_U);
    CHECK_INT(action_of(MS_TAG(0x0010, 0x0020)), MSI_DEID_ZD);
    CHECK_INT(action_of(MS_TAG(0x0008, 0x0080)), MSI_DEID_XZD);
    CHECK_INT(action_of(MS_TAG(0x0008, 0x1140)), MSI_DEID_XZU);
    CHECK_INT(action_of(MS_TAG(0x0008, 0x0021)), MSI_DEID_XD);
    CHECK_INT(action_of(MS_TAG(0x0008, 0x0022)), MSI_DEID_XZ);
    CHECK_INT(action_of(MS_TAG(0x0010, 0x1000)), MSI_DEID_X);
    CHECK_INT(action_of(MS_TAG(0x0040, 0xA730)), MSI_DEID_D);
    CHECK_INT(action_of(MS_TAG(0x6002, 0x3000)), MSI_DEID_X);  /* (60XX,3000) */
    CHECK_INT(action_of(MS_TAG(0x501E, 0x1234)), MSI_DEID_X);  /* (50XX,XXXX) */
    CHECK_INT(action_of(MS_TAG(0xFFFA, 0xFFFA)), MSI_DEID_X);
    CHECK(msi_deid_find(MS_TAG(0x0028, 0x0010)) == NULL);      /* Rows: kept */
    CHECK(msi_deid_find(MS_TAG(0x7FE0, 0x0010)) == NULL);      /* Pixel Data: kept */
    CHECK(msi_deid_find(MS_TAG(0x6002, 0x0010)) == NULL);      /* not a listed element */
    CHECK_INT(msi_deid_private_action, MSI_DEID_X);
    CHECK_STR(msi_deid_action_name(MSI_DEID_XZU), "X/Z/U*");
    CHECK_STR(msi_deid_action_name(MSI_DEID_ACTION_COUNT), "?");
    CHECK_STR(msi_deid_find(MS_TAG(0x0010, 0x0010))->name, "Patient's Name");
}

static void test_resolve(void)
{
    CHECK_INT(msi_deid_resolve(MSI_DEID_XZ, MS_VR_LO), MSI_OP_EMPTY);
    CHECK_INT(msi_deid_resolve(MSI_DEID_XD, MS_VR_DA), MSI_OP_DUMMY);
    CHECK_INT(msi_deid_resolve(MSI_DEID_XZD, MS_VR_SH), MSI_OP_DUMMY);
    CHECK_INT(msi_deid_resolve(MSI_DEID_XZD, MS_VR_SQ), MSI_OP_EMPTY);
    CHECK_INT(msi_deid_resolve(MSI_DEID_ZD, MS_VR_LO), MSI_OP_DUMMY);
    CHECK_INT(msi_deid_resolve(MSI_DEID_XZU, MS_VR_SQ), MSI_OP_RECURSE);
    CHECK_INT(msi_deid_resolve(MSI_DEID_D, MS_VR_UI), MSI_OP_UID);
    CHECK_INT(msi_deid_resolve(MSI_DEID_D, MS_VR_SQ), MSI_OP_RECURSE);
    CHECK_INT(msi_deid_resolve(MSI_DEID_U, MS_VR_UI), MSI_OP_UID);
    CHECK_INT(msi_deid_resolve(MSI_DEID_K, MS_VR_SQ), MSI_OP_RECURSE);
    CHECK_INT(msi_deid_resolve(MSI_DEID_X, MS_VR_SQ), MSI_OP_REMOVE);
    CHECK_INT(msi_deid_resolve(MSI_DEID_ACTION_COUNT, MS_VR_LO), MSI_OP_REMOVE);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x0009, 0x1001), MS_VR_LO, false), MSI_OP_REMOVE);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x0009, 0x0010), MS_VR_LO, false), MSI_OP_REMOVE);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x0009, 0x1001), MS_VR_LO, true), MSI_OP_KEEP);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x0009, 0x1002), MS_VR_SQ, true), MSI_OP_RECURSE);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x0028, 0x0000), MS_VR_UL, false), MSI_OP_REMOVE);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x6000, 0x0010), MS_VR_US, false), MSI_OP_REMOVE);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x6001, 0x0010), MS_VR_LO, true), MSI_OP_KEEP);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x0028, 0x0010), MS_VR_US, false), MSI_OP_KEEP);
    CHECK_INT(msi_deid_op_for(MS_TAG(0x0008, 0x1115), MS_VR_SQ, false), MSI_OP_RECURSE);
}

/* ---- UIDs ---------------------------------------------------------------------------------- */

static bool is_uid_25(const char *s)
{
    size_t n = strlen(s);
    if (n < 6 || n > MSI_DEID_UID_LEN || strncmp(s, "2.25.", 5) != 0)
        return false;
    if (s[5] == '0' && n > 6)
        return false; /* no leading zero */
    for (size_t i = 5; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static void test_uid_mapping(void)
{
    uint8_t k1[32] = {1}, k2[32] = {2};
    char a[MSI_DEID_UID_LEN + 1], b[MSI_DEID_UID_LEN + 1], c[MSI_DEID_UID_LEN + 1],
        d[MSI_DEID_UID_LEN + 1];

    CHECK(msi_deid_map_uid(k1, UID_STUDY, strlen(UID_STUDY), a, NULL) == MS_OK);
    CHECK(msi_deid_map_uid(k1, UID_STUDY "\0", strlen(UID_STUDY) + 1, b, NULL) == MS_OK);
    CHECK(msi_deid_map_uid(k2, UID_STUDY, strlen(UID_STUDY), c, NULL) == MS_OK);
    CHECK(msi_deid_map_uid(k1, UID_INSTANCE, strlen(UID_INSTANCE), d, NULL) == MS_OK);
    CHECK(is_uid_25(a) && is_uid_25(c) && is_uid_25(d));
    CHECK_STR(a, b);                /* padding does not count */
    CHECK(strcmp(a, c) != 0);       /* another key, another UID */
    CHECK(strcmp(a, d) != 0);       /* another UID, another UID */
    CHECK(strstr(a, "999") == NULL || strstr(a, UID_STUDY) == NULL);
    /* many UIDs: all distinct, all valid */
    for (int i = 0; i < 200; i++) {
        char in[32];
        snprintf(in, sizeof in, "1.2.3.%d", i);
        CHECK(msi_deid_map_uid(k1, in, strlen(in), b, NULL) == MS_OK);
        if (!is_uid_25(b) || strcmp(a, b) == 0)
            CHECK(!"bad mapped UID");
    }
}

/* ---- the profile on a synthetic dataset ----------------------------------------------------- */

static struct ms_element *get(struct ms_dataset *ds, uint32_t tag)
{
    return ms_dataset_get(ds, tag);
}

static bool has_text(struct ms_dataset *ds, uint32_t tag, const char *text)
{
    char buf[128];
    return ms_dataset_get_string(ds, tag, 0, buf, sizeof buf) && strcmp(buf, text) == 0;
}

static void test_profile(void)
{
    struct msi_deid_profile p = {{7}, false};
    struct msi_deid_stats st;
    struct ms_file *f = NULL;
    struct ms_dataset *ds, *modified = NULL, *item;
    char mapped[MSI_DEID_UID_LEN + 1], buf[128];
    const char *path = tmp("synthetic.dcm");

    write_synthetic(path, UID_INSTANCE);
    CHECK(ms_file_read(&f, path, NULL, NULL) == MS_OK);
    CHECK(ms_dataset_create(&modified, NULL) == MS_OK);
    if (!f || !modified)
        return;
    ds = ms_file_dataset(f);
    CHECK(msi_deid_apply(&p, f, modified, &st, NULL) == MS_OK);
    CHECK(get(ds, MS_TAG(0x0009, 0x0010)) == NULL && get(ds, MS_TAG(0x0009, 0x1001)) == NULL);
    CHECK(get(ds, MS_TAG(0x0010, 0x0000)) == NULL);
    CHECK(get(ds, MS_TAG(0x0010, 0x1000)) == NULL);
    CHECK(get(ds, MS_TAG(0x6000, 0x0010)) == NULL && get(ds, MS_TAG(0x6000, 0x3000)) == NULL);
    CHECK(get(ds, MS_TAG(0x0010, 0x0010)) && ms_element_length(get(ds, MS_TAG(0x0010, 0x0010))) == 0);
    CHECK(get(ds, MS_TAG(0x0008, 0x0020)) && ms_element_length(get(ds, MS_TAG(0x0008, 0x0020))) == 0);
    CHECK(ms_dataset_get_string(ds, MS_TAG(0x0010, 0x0020), 0, buf, sizeof buf) &&
          strncmp(buf, "ANON", 4) == 0 && strlen(buf) == 12);
    CHECK(ms_dataset_get_string(ds, MS_TAG(0x0008, 0x0080), 0, buf, sizeof buf) &&
          strncmp(buf, "ANON", 4) == 0);
    CHECK(msi_deid_map_uid(p.key, UID_STUDY, strlen(UID_STUDY), mapped, NULL) == MS_OK);
    CHECK(has_text(ds, MS_TAG(0x0020, 0x000D), mapped));
    CHECK(msi_deid_map_uid(p.key, UID_REFERENCED, strlen(UID_REFERENCED), mapped, NULL) == MS_OK);
    item = ms_element_item(get(ds, MS_TAG(0x0008, 0x1140)), 0);
    CHECK(item && has_text(item, MS_TAG(0x0008, 0x1155), mapped));
    CHECK(item && has_text(item, MS_TAG(0x0008, 0x1150), "1.2.840.10008.5.1.4.1.1.7"));
    CHECK(ms_dataset_get_string(ds, MS_TAG(0x0020, 0x0052), 1, buf, sizeof buf) &&
          is_uid_25(buf)); /* multi-valued UI: each value mapped */
    CHECK(ms_element_item_count(get(ds, MS_TAG(0x0040, 0x0513))) == 0); /* Z sequence */
    item = ms_element_item(get(ds, MS_TAG(0x0040, 0xA730)), 0);         /* D sequence */
    CHECK(item && ms_dataset_get_string(item, MS_TAG(0x0040, 0xA123), 0, buf, sizeof buf) &&
          strncmp(buf, "ANON", 4) == 0);
    CHECK(item && ms_dataset_get_string(item, MS_TAG(0x0040, 0xA160), 0, buf, sizeof buf) &&
          strncmp(buf, "ANON", 4) == 0);
    CHECK(item && has_text(item, MS_TAG(0x0008, 0x0104), "Finding"));
    CHECK(get(ds, MS_TAG(0x0020, 0x0020)) != NULL); /* empty: nothing to hide */
    CHECK(has_text(ds, MS_TAG(0x0028, 0x0004), "MONOCHROME2"));
    CHECK(get(ds, MS_TAG_PIXEL_DATA) != NULL);
    CHECK(has_text(ds, MS_TAG(0x0012, 0x0062), "YES"));
    CHECK(ms_dataset_get_string(ds, MS_TAG(0x0012, 0x0063), 0, buf, sizeof buf) &&
          strstr(buf, "113100") != NULL);
    item = ms_element_item(get(ds, MS_TAG(0x0012, 0x0064)), 0);
    CHECK(item && has_text(item, MS_TAG(0x0008, 0x0100), "113100") &&
          has_text(item, MS_TAG(0x0008, 0x0102), "DCM"));
    /* originals of what changed, and only those */
    CHECK(has_text(modified, MS_TAG(0x0010, 0x0010), "Doe^John"));
    CHECK(has_text(modified, MS_TAG(0x0009, 0x1001), "Private Secret Value"));
    CHECK(has_text(modified, MS_TAG(0x0020, 0x000D), UID_STUDY));
    CHECK(get(modified, MS_TAG(0x0008, 0x1140)) != NULL);
    CHECK(get(modified, MS_TAG(0x0010, 0x0000)) == NULL); /* group length: not restored */
    CHECK(get(modified, MS_TAG(0x0028, 0x0010)) == NULL);
    CHECK(get(modified, MS_TAG(0x0020, 0x0020)) == NULL);
    CHECK(get(modified, MS_TAG_PIXEL_DATA) == NULL);
    CHECK(st.removed >= 5 && st.uids >= 4 && st.dummies >= 3 && !st.burned_in);
    CHECK(ms_file_preamble(f) == NULL);
    ms_dataset_destroy(modified);
    ms_file_destroy(f);

    /* --keep-private keeps the private block */
    p.keep_private = true;
    f = NULL;
    modified = NULL;
    CHECK(ms_file_read(&f, path, NULL, NULL) == MS_OK);
    CHECK(ms_dataset_create(&modified, NULL) == MS_OK);
    if (f && modified) {
        CHECK(msi_deid_apply(&p, f, modified, &st, NULL) == MS_OK);
        CHECK(has_text(ms_file_dataset(f), MS_TAG(0x0009, 0x1001), "Private Secret Value"));
    }
    ms_dataset_destroy(modified);
    ms_file_destroy(f);
}

/* ---- round trips ----------------------------------------------------------------------------- */

static void test_roundtrip_synthetic(void)
{
    struct ms_protect_options o = cert_options(cert1);
    const char *in = tmp("rt_in.dcm"), *out = tmp("rt_deid.dcm"), *re = tmp("rt_re.dcm");
    char buf[128];
    const struct ms_scheme_info *s;

    write_synthetic(in, UID_INSTANCE);
    CHECK(protect(in, out, &o) == MS_OK);
    s = ms_protect_identify(out);
    CHECK(s && strcmp(s->name, "deid") == 0);
    CHECK(ms_protect_identify(in) == NULL);
    CHECK(get_uid(out, MS_TAG(0x0012, 0x0062), buf, sizeof buf) && strcmp(buf, "YES") == 0);
    CHECK(unprotect_key(out, re, key1, NULL, NULL) == MS_OK);
    CHECK(tu_same_files(in, re));
    unlink(re);
    CHECK(unprotect_key(out, re, key1, cert1, NULL) == MS_OK);
    CHECK(tu_same_files(in, re));
    unlink(re);

    /* EnvelopedData with PKCS#1 v1.5 (what gdcmanon writes), several recipients */
    {
        const char *certs[3] = {cert2, eccert, cert1};
        o.recipients = certs;
        o.nrecipients = 3;
        o.strict_dicom = true;
        o.rsa_pkcs1 = true;
        CHECK(protect(in, out, &o) == MS_OK);
        CHECK(unprotect_key(out, re, key1, NULL, NULL) == MS_OK && tu_same_files(in, re));
        unlink(re);
        CHECK(unprotect_key(out, re, eckey, NULL, NULL) == MS_OK && tu_same_files(in, re));
        unlink(re);
        CHECK(unprotect_key(out, re, key2, cert2, NULL) == MS_OK && tu_same_files(in, re));
        unlink(re);
    }

    /* passphrase recipient (Argon2id key-encryption key) */
    memset(&o, 0, sizeof o);
    o.scheme = "deid";
    o.passphrase_file = pass_ok;
    CHECK(protect(in, out, &o) == MS_OK);
    CHECK(unprotect_key(out, re, NULL, NULL, pass_ok) == MS_OK && tu_same_files(in, re));
    unlink(re);
}

/* UIDs: the same in every file of a run, and in two runs with the same -k key. */
static void test_uid_consistency(void)
{
    struct ms_protect_options o = cert_options(cert1);
    char u1[80], u2[80], u3[80], u4[80], r1[80], i1[80];

    write_synthetic(tmp("c1.dcm"), UID_INSTANCE);
    write_synthetic(tmp("c2.dcm"), UID_REFERENCED); /* c1 refers to this instance */
    CHECK(protect(tmp("c1.dcm"), tmp("c1d.dcm"), &o) == MS_OK);
    CHECK(protect(tmp("c2.dcm"), tmp("c2d.dcm"), &o) == MS_OK);
    CHECK(get_uid(tmp("c1d.dcm"), MS_TAG(0x0020, 0x000D), u1, sizeof u1));
    CHECK(get_uid(tmp("c2d.dcm"), MS_TAG(0x0020, 0x000D), u2, sizeof u2));
    CHECK(strcmp(u1, u2) == 0 && strcmp(u1, UID_STUDY) != 0 && is_uid_25(u1));
    /* the reference in c1 points at c2's new SOP Instance UID */
    {
        struct ms_file *f = NULL;
        struct ms_dataset *item;
        CHECK(ms_file_read(&f, tmp("c1d.dcm"), NULL, NULL) == MS_OK);
        item = f ? ms_element_item(ms_dataset_get(ms_file_dataset(f), MS_TAG(0x0008, 0x1140)), 0)
                 : NULL;
        CHECK(item && ms_dataset_get_string(item, MS_TAG(0x0008, 0x1155), 0, r1, sizeof r1));
        ms_file_destroy(f);
    }
    CHECK(get_uid(tmp("c2d.dcm"), MS_TAG(0x0008, 0x0018), i1, sizeof i1));
    CHECK_STR(r1, i1);
    /* -k: reproducible across runs; another key, other UIDs */
    o.key_file = symkey1;
    CHECK(protect(tmp("c1.dcm"), tmp("k1a.dcm"), &o) == MS_OK);
    CHECK(protect(tmp("c1.dcm"), tmp("k1b.dcm"), &o) == MS_OK);
    o.key_file = symkey2;
    CHECK(protect(tmp("c1.dcm"), tmp("k2.dcm"), &o) == MS_OK);
    CHECK(get_uid(tmp("k1a.dcm"), MS_TAG(0x0020, 0x000D), u1, sizeof u1));
    CHECK(get_uid(tmp("k1b.dcm"), MS_TAG(0x0020, 0x000D), u2, sizeof u2));
    CHECK(get_uid(tmp("k2.dcm"), MS_TAG(0x0020, 0x000D), u3, sizeof u3));
    CHECK(get_uid(tmp("c1d.dcm"), MS_TAG(0x0020, 0x000D), u4, sizeof u4));
    CHECK_STR(u1, u2);
    CHECK(strcmp(u1, u3) != 0 && strcmp(u1, u4) != 0);
    o.key_file = tmp("missing.key");
    CHECK(protect(tmp("c1.dcm"), tmp("k3.dcm"), &o) == MS_EIO);
}

/* Every file of a directory: protect, unprotect, compare bytes. */
static void roundtrip_dir(const char *dir, size_t max, const char *const *bad)
{
    struct ms_protect_options o = cert_options(cert1);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort), done = 0, exact = 0;
    char in[1024];

    if (n < 0) {
        fprintf(stderr, "  (skipped %s: not found)\n", dir);
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t len = strlen(name);
        bool expected_bad = false;
        if (len < 4 || strcmp(name + len - 4, ".dcm") != 0 || (size_t)done >= max)
            continue;
        for (size_t b = 0; bad && bad[b]; b++)
            expected_bad |= strcmp(bad[b], name) == 0;
        snprintf(in, sizeof in, "%s/%s", dir, name);
        unlink(tmp("dir_d.dcm"));
        if (expected_bad) {
            struct ms_error err = {0};
            CHECK(ms_protect_file(in, tmp("dir_d.dcm"), &o, NULL, &err) != MS_OK);
            CHECK(!tu_exists(tmp("dir_d.dcm")));
            continue;
        }
        done++;
        if (protect(in, tmp("dir_d.dcm"), &o) != MS_OK) {
            CHECK(!"protect failed");
            continue;
        }
        CHECK(unprotect_key(tmp("dir_d.dcm"), tmp("dir_r.dcm"), key1, NULL, NULL) == MS_OK);
        if (tu_same_files(in, tmp("dir_r.dcm")))
            exact++;
        else
            fprintf(stderr, "  not bit-exact: %s\n", in);
        unlink(tmp("dir_r.dcm"));
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    CHECK_INT(exact, done);
    fprintf(stderr, "  %s: %d of %d files bit-exact\n", dir, exact, done);
}

static void test_roundtrip_corpora(void)
{
    static const char *const pydicom_bad[] = {"MR_truncated.dcm", "rtplan_truncated.dcm",
                                              "no_meta.dcm", "SC_rgb_jpeg.dcm", NULL};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/cranium-ct", tu_src());
    roundtrip_dir(dir, 12, NULL);
    roundtrip_dir(PYDICOM_FILES, 1000, pydicom_bad);
}

/* ---- negatives ------------------------------------------------------------------------------ */

/* Offset of the value of (0400,0520) and its length in a de-identified file. */
static bool content_extent(const char *path, uint64_t *off, uint64_t *len)
{
    struct ms_file *f = NULL;
    struct ms_element *seq, *el = NULL;
    if (ms_file_read(&f, path, NULL, NULL) != MS_OK)
        return false;
    seq = ms_dataset_get(ms_file_dataset(f), MS_TAG(0x0400, 0x0500));
    if (seq && ms_element_item(seq, 0))
        el = ms_dataset_get(ms_element_item(seq, 0), MS_TAG(0x0400, 0x0520));
    if (el) {
        *off = ms_element_offset(el) + 12; /* explicit VR OB header */
        *len = ms_element_length(el);
    }
    ms_file_destroy(f);
    return el != NULL;
}

static void flip_byte(const char *src, const char *dst, uint64_t at)
{
    size_t len;
    uint8_t *p = tu_slurp(src, &len);
    if (p && at < len) {
        p[at] ^= 0x5A;
        tu_spit(dst, p, len);
    }
    free(p);
}

static void truncate_to(const char *src, const char *dst, size_t keep)
{
    size_t len;
    uint8_t *p = tu_slurp(src, &len);
    if (p)
        tu_spit(dst, p, keep < len ? keep : len);
    free(p);
}

/* Expect unprotect to fail with st and leave no output. */
static void expect_fail(const char *in, const char *key, const char *cert, const char *pass,
                        ms_status want)
{
    const char *re = tmp("neg_re.dcm");
    ms_status got;
    unlink(re);
    got = unprotect_key(in, re, key, cert, pass);
    CHECK_INT(got, want);
    CHECK(!tu_exists(re));
}

static void test_wrong_keys(void)
{
    struct ms_protect_options o = cert_options(cert1);
    const char *in = tmp("n_in.dcm"), *out = tmp("n_d.dcm"), *outp = tmp("n_dp.dcm");

    write_synthetic(in, UID_INSTANCE);
    CHECK(protect(in, out, &o) == MS_OK);
    expect_fail(out, key2, NULL, NULL, MS_EKEY);            /* wrong RSA key */
    expect_fail(out, eckey, NULL, NULL, MS_EKEY);           /* wrong kind of key */
    expect_fail(out, key2, cert2, NULL, MS_EKEY);           /* no recipient for cert2 */
    expect_fail(out, key1, cert2, NULL, MS_EKEY);           /* cert does not match key */
    expect_fail(out, NULL, NULL, pass_ok, MS_EKEY);         /* no passphrase recipient */
    expect_fail(out, NULL, NULL, NULL, MS_EUSAGE);          /* no key at all */
    expect_fail(out, tmp("nokey.pem"), NULL, NULL, MS_EIO); /* key file missing */
    expect_fail(out, cert1, NULL, NULL, MS_EMALFORMED);     /* a certificate is no key */
    memset(&o, 0, sizeof o);
    o.scheme = "deid";
    o.passphrase_file = pass_ok;
    CHECK(protect(in, outp, &o) == MS_OK);
    expect_fail(outp, NULL, NULL, pass_bad, MS_EKEY);       /* wrong passphrase */
    expect_fail(outp, key1, NULL, NULL, MS_EKEY);           /* a key, no key recipient */
    o.strict_dicom = true;                                  /* EnvelopedData */
    CHECK(protect(in, outp, &o) == MS_OK);
    expect_fail(outp, NULL, NULL, pass_bad, MS_EKEY);
}

/* A passphrase-protected private key (encrypted PKCS#8 with scrypt, as
 * keygen writes it) unlocked with --key-passphrase-file; wrong or missing key
 * passphrase: MS_EKEY and no output. */
static void test_locked_key(void)
{
    struct ms_protect_options o = cert_options(eccert);
    const char *in = tmp("lk_in.dcm"), *out = tmp("lk_d.dcm"), *re = tmp("lk_re.dcm");
    const char *locked = tmp("eckey_locked.pem"), *kp = tmp("keypass.txt"),
               *kbad = tmp("keypass_bad.txt");
    struct ms_pkey *k = NULL;
    struct ms_error err = {0};

    CHECK(ms_pkey_load_private(&k, eckey, NULL, 0, &err) == MS_OK);
    CHECK(k && ms_pkey_write_private(k, locked, "key pass", 8, &err) == MS_OK);
    ms_pkey_destroy(k);
    tu_spit(kp, "key pass\n", 9);
    tu_spit(kbad, "key pas\n", 8);
    write_synthetic(in, UID_INSTANCE);
    CHECK(protect(in, out, &o) == MS_OK);

    memset(&o, 0, sizeof o);
    o.private_key = locked;
    o.key_passphrase_file = kp;
    unlink(re);
    CHECK_INT(ms_unprotect_file(out, re, &o, NULL, &err), MS_OK);
    CHECK(tu_same_files(in, re));
    o.key_passphrase_file = kbad;
    unlink(re);
    CHECK_INT(ms_unprotect_file(out, re, &o, NULL, &err), MS_EKEY);
    CHECK(!tu_exists(re));
    CHECK(strstr(err.msg, "key pas") == NULL);
    o.key_passphrase_file = NULL;
    CHECK_INT(ms_unprotect_file(out, re, &o, NULL, &err), MS_EKEY);
    CHECK(!tu_exists(re));
}

static void test_protect_refusals(void)
{
    struct ms_protect_options o = cert_options(cert1), none;
    struct ms_error err = {0};
    const char *in = tmp("p_in.dcm"), *out = tmp("p_d.dcm");

    write_synthetic(in, UID_INSTANCE);
    memset(&none, 0, sizeof none);
    none.scheme = "deid";
    unlink(out);
    CHECK_INT(ms_protect_file(in, out, &none, NULL, &err), MS_EUSAGE); /* no recipient */
    CHECK(!tu_exists(out));
    o = cert_options(edcert);
    CHECK_INT(ms_protect_file(in, out, &o, NULL, &err), MS_EUNSUPPORTED); /* Ed25519 */
    CHECK(!tu_exists(out));
    o = cert_options(tmp("nocert.pem"));
    CHECK_INT(ms_protect_file(in, out, &o, NULL, &err), MS_EIO);
    o = cert_options(key1); /* a private key is not a certificate */
    CHECK(ms_protect_file(in, out, &o, NULL, &err) != MS_OK);
    CHECK(!tu_exists(out));
    o = cert_options(cert1);
    tu_spit(tmp("junk.dcm"), "this is not DICOM at all, only text", 35);
    CHECK_INT(ms_protect_file(tmp("junk.dcm"), out, &o, NULL, &err), MS_EMALFORMED);
    CHECK(protect(in, out, &o) == MS_OK);
    CHECK_INT(ms_protect_file(out, tmp("p_dd.dcm"), &o, NULL, &err), MS_EUNSUPPORTED); /* twice */
    CHECK(!tu_exists(tmp("p_dd.dcm")));
}

static void test_tampering(void)
{
    struct ms_protect_options o = cert_options(cert1);
    const char *in = tmp("t_in.dcm"), *out = tmp("t_d.dcm"), *bad = tmp("t_bad.dcm");
    uint64_t off = 0, len = 0;
    size_t size;
    uint8_t *bytes;

    write_synthetic(in, UID_INSTANCE);
    CHECK(protect(in, out, &o) == MS_OK);
    CHECK(content_extent(out, &off, &len) && len > 100);
    flip_byte(out, bad, off + len / 2);              /* GCM ciphertext */
    expect_fail(bad, key1, NULL, NULL, MS_EKEY);
    flip_byte(out, bad, off + len - 3);              /* GCM tag */
    expect_fail(bad, key1, NULL, NULL, MS_EKEY);
    flip_byte(out, bad, off + 1);                    /* DER structure */
    expect_fail(bad, key1, NULL, NULL, MS_EMALFORMED);
    bytes = tu_slurp(out, &size);
    if (bytes) {                                     /* the kept pixel data */
        flip_byte(out, bad, size - 3);
        expect_fail(bad, key1, NULL, NULL, MS_EKEY);
        free(bytes);
    }
    /* EnvelopedData: no tag, the recipe's SHA-256 still catches it */
    o.strict_dicom = true;
    CHECK(protect(in, out, &o) == MS_OK);
    CHECK(content_extent(out, &off, &len) && len > 100);
    flip_byte(out, bad, off + len - 20);             /* last CBC blocks */
    expect_fail(bad, key1, NULL, NULL, MS_EKEY);
    flip_byte(out, bad, off + len / 2);
    {
        ms_status st = unprotect_key(bad, tmp("t_re.dcm"), key1, NULL, NULL);
        CHECK(st == MS_EKEY || st == MS_EMALFORMED);
        CHECK(!tu_exists(tmp("t_re.dcm")));
    }
}

static void test_truncated(void)
{
    struct ms_protect_options o = cert_options(cert1);
    const char *in = tmp("tr_in.dcm"), *out = tmp("tr_d.dcm"), *bad = tmp("tr_bad.dcm");
    uint64_t off = 0, len = 0;
    size_t size;
    uint8_t *bytes;

    write_synthetic(in, UID_INSTANCE);
    CHECK(protect(in, out, &o) == MS_OK);
    CHECK(content_extent(out, &off, &len));
    bytes = tu_slurp(out, &size);
    free(bytes);
    truncate_to(out, bad, (size_t)(off + len / 2));  /* inside the encrypted content */
    expect_fail(bad, key1, NULL, NULL, MS_EUNSUPPORTED); /* not even recognised */
    truncate_to(out, bad, size - 4);                 /* inside the pixel data */
    expect_fail(bad, key1, NULL, NULL, MS_EMALFORMED);
    truncate_to(out, bad, 100);                      /* inside the preamble */
    expect_fail(bad, key1, NULL, NULL, MS_EUNSUPPORTED);
    tu_spit(bad, "", 0);
    expect_fail(bad, key1, NULL, NULL, MS_EUNSUPPORTED);
}

/* Rewrite a de-identified file with its (0400,0500) changed by edit. */
typedef void (*edit_fn)(struct ms_dataset *ds, struct ms_dataset *item, void *ctx);

static void rewrite(const char *src, const char *dst, edit_fn edit, void *ctx)
{
    struct ms_file *f = NULL;
    struct ms_element *seq;
    CHECK(ms_file_read(&f, src, NULL, NULL) == MS_OK);
    if (!f)
        return;
    seq = ms_dataset_get(ms_file_dataset(f), MS_TAG(0x0400, 0x0500));
    edit(ms_file_dataset(f), seq ? ms_element_item(seq, 0) : NULL, ctx);
    CHECK(ms_file_write(f, dst, NULL, NULL) == MS_OK);
    ms_file_destroy(f);
}

static void drop_items(struct ms_dataset *ds, struct ms_dataset *item, void *ctx)
{
    struct ms_element *seq;
    (void)item;
    (void)ctx;
    CHECK(ms_dataset_set_sequence(ds, MS_TAG(0x0400, 0x0500), &seq, NULL) == MS_OK);
}

static void drop_content(struct ms_dataset *ds, struct ms_dataset *item, void *ctx)
{
    (void)ds;
    CHECK(item && ms_dataset_remove(item, *(uint32_t *)ctx));
}

static void set_ts(struct ms_dataset *ds, struct ms_dataset *item, void *ctx)
{
    (void)ds;
    if (item)
        set_str(item, MS_TAG(0x0400, 0x0510), MS_VR_UI, ctx);
}

static void test_missing(void)
{
    struct ms_protect_options o = cert_options(cert1);
    const char *in = tmp("m_in.dcm"), *out = tmp("m_d.dcm"), *bad = tmp("m_bad.dcm");
    uint32_t content = MS_TAG(0x0400, 0x0520), ts = MS_TAG(0x0400, 0x0510);

    write_synthetic(in, UID_INSTANCE);
    CHECK(protect(in, out, &o) == MS_OK);
    rewrite(out, bad, drop_items, NULL);                 /* (0400,0500) without item */
    CHECK(ms_protect_identify(bad) == NULL);
    expect_fail(bad, key1, NULL, NULL, MS_EUNSUPPORTED);
    rewrite(out, bad, drop_content, &content);           /* no (0400,0520) */
    expect_fail(bad, key1, NULL, NULL, MS_EMALFORMED);
    rewrite(out, bad, drop_content, &ts);                /* no (0400,0510) */
    expect_fail(bad, key1, NULL, NULL, MS_EUNSUPPORTED);
    rewrite(out, bad, set_ts, "1.2.840.10008.1.2.2");    /* big endian: not supported */
    expect_fail(bad, key1, NULL, NULL, MS_EUNSUPPORTED);
    expect_fail(in, key1, NULL, NULL, MS_EUNSUPPORTED);  /* not de-identified at all */
}

/* ---- crafted encrypted contents ---------------------------------------------------------- */

/* The `cms` scheme's key objects, as the schemes build them once per run. */
static struct ms_cms_recipients *cms_recipients(const char *cert, const char *pass)
{
    struct ms_cms_recipients *r = NULL;
    CHECK(ms_cms_recipients_create(&r, NULL) == MS_OK);
    if (r && cert)
        CHECK(ms_cms_recipients_add_cert_file(r, cert, NULL) == MS_OK);
    if (r && pass)
        CHECK(ms_cms_recipients_add_passphrase_file(r, pass, NULL, NULL) == MS_OK);
    return r;
}

static struct ms_cms_keyring *cms_keyring(const char *key, const char *pass)
{
    struct ms_cms_keyring *k = NULL;
    CHECK(ms_cms_keyring_create(&k, NULL) == MS_OK);
    if (k && key)
        CHECK(ms_cms_keyring_add_key_file(k, key, NULL, NULL, NULL) == MS_OK);
    if (k && pass)
        CHECK(ms_cms_keyring_add_passphrase_file(k, pass, NULL) == MS_OK);
    return k;
}

struct crafted {
    const uint8_t *plain;
    size_t len;
};

static void put_crafted(struct ms_dataset *ds, struct ms_dataset *item, void *ctx)
{
    const struct crafted *c = ctx;
    struct ms_cms_recipients *r = cms_recipients(cert1, NULL);
    uint8_t *der = NULL;
    size_t dlen = 0;
    (void)ds;
    CHECK(msi_cmsbuf_encrypt(r, NULL, c->plain, c->len, &der, &dlen, NULL) == MS_OK);
    ms_cms_recipients_destroy(r);
    if (item && der)
        CHECK(ms_dataset_set_bytes(item, MS_TAG(0x0400, 0x0520), MS_VR_OB, der, dlen, NULL) ==
              MS_OK);
    msi_cmsbuf_free(der, dlen);
}

/* Encode ds (Explicit VR LE) and put it, encrypted for cert1, into out's item. */
static void craft(const char *out, const char *bad, const struct ms_dataset *ds)
{
    struct tu_membuf m = {0};
    struct crafted c;
    CHECK(ms_dataset_write_sink(ds, ms_ts_explicit_le(), tu_mem_sink, &m, NULL) == MS_OK);
    c.plain = m.data;
    c.len = m.len;
    rewrite(out, bad, put_crafted, &c);
    free(m.data);
}

static void test_crafted_contents(void)
{
    struct ms_protect_options o = cert_options(cert1);
    const char *in = tmp("cc_in.dcm"), *out = tmp("cc_d.dcm"), *bad = tmp("cc_bad.dcm");
    struct ms_dataset *ds = NULL;
    struct ms_element *seq = NULL;
    struct ms_dataset *item = NULL;
    struct crafted garbage = {(const uint8_t *)"garbage, not a dataset", 22};
    static const uint8_t bad_recipe[64] = "MSDEID99";

    write_synthetic(in, UID_INSTANCE);
    CHECK(protect(in, out, &o) == MS_OK);
    rewrite(out, bad, put_crafted, &garbage);            /* authenticated garbage */
    expect_fail(bad, key1, NULL, NULL, MS_EMALFORMED);

    CHECK(ms_dataset_create(&ds, NULL) == MS_OK);        /* no (0400,0550) */
    if (!ds)
        return;
    set_str(ds, MS_TAG(0x0010, 0x0010), MS_VR_PN, "Doe^John");
    craft(out, bad, ds);
    expect_fail(bad, key1, NULL, NULL, MS_EMALFORMED);
    ms_dataset_destroy(ds);

    ds = NULL;                                           /* (0400,0550) with two items */
    CHECK(ms_dataset_create(&ds, NULL) == MS_OK);
    CHECK(ms_dataset_set_sequence(ds, MS_TAG(0x0400, 0x0550), &seq, NULL) == MS_OK);
    CHECK(ms_element_add_item(seq, &item, NULL) == MS_OK);
    CHECK(ms_element_add_item(seq, &item, NULL) == MS_OK);
    craft(out, bad, ds);
    expect_fail(bad, key1, NULL, NULL, MS_EMALFORMED);
    ms_dataset_destroy(ds);

    ds = NULL;                                           /* a recipe that is not one */
    CHECK(ms_dataset_create(&ds, NULL) == MS_OK);
    CHECK(ms_dataset_set_sequence(ds, MS_TAG(0x0400, 0x0550), &seq, NULL) == MS_OK);
    CHECK(ms_element_add_item(seq, &item, NULL) == MS_OK);
    set_str(item, MS_TAG(0x0010, 0x0010), MS_VR_PN, "Doe^John");
    set_str(ds, MS_TAG(0x0401, 0x0010), MS_VR_LO, "MEDSEAL DEID 1");
    CHECK(ms_dataset_set_bytes(ds, MS_TAG(0x0401, 0x1001), MS_VR_OB, bad_recipe,
                               sizeof bad_recipe, NULL) == MS_OK);
    craft(out, bad, ds);
    expect_fail(bad, key1, NULL, NULL, MS_EMALFORMED);

    /* without medseal's recipe: the standard re-identification (not bit-exact) */
    ms_dataset_remove(ds, MS_TAG(0x0401, 0x1001));
    ms_dataset_remove(ds, MS_TAG(0x0401, 0x0010));
    craft(out, bad, ds);
    CHECK(unprotect_key(bad, tmp("cc_re.dcm"), key1, NULL, NULL) == MS_OK);
    {
        char name[64];
        CHECK(get_uid(tmp("cc_re.dcm"), MS_TAG(0x0010, 0x0010), name, sizeof name) &&
              strcmp(name, "Doe^John") == 0);
        CHECK(!get_uid(tmp("cc_re.dcm"), MS_TAG(0x0012, 0x0062), name, sizeof name));
        CHECK(!get_uid(tmp("cc_re.dcm"), MS_TAG(0x0400, 0x0500), name, sizeof name));
    }
    ms_dataset_destroy(ds);
}

/* ---- the recipe on its own ----------------------------------------------------------------- */

static ms_status apply(const uint8_t *recipe, size_t len, const uint8_t *base,
                       const struct msi_deid_layout *bl, struct tu_membuf *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
    return msi_deid_recipe_apply(recipe, len, base, bl, tu_mem_sink, m, NULL);
}

static void test_recipe(void)
{
    static const uint8_t orig[] = "XXAAAABBBBYYCCCC", base[] = "AAAABBBBCCCC";
    uint64_t ooff[] = {2, 6, 10, 12, 16}, boff[] = {0, 4, 8, 12}, boff_bad[] = {0, 4, 9, 12};
    uint32_t otags[] = {1, 2, 5, 3}, btags[] = {1, 2, 3};
    struct msi_deid_layout ol = {ooff, otags, 4}, bl = {boff, btags, 3}, bl2 = {boff, btags, 2},
                           bl3 = {boff_bad, btags, 3};
    struct tu_membuf m = {0};
    uint8_t *r = NULL, *c = NULL;
    size_t len = 0;
    uint8_t tampered[12];

    CHECK(msi_deid_recipe_build(orig, 16, &ol, base, &bl, &r, &len, NULL) == MS_OK);
    if (!r)
        return;
    CHECK_INT(len, MSI_DEID_RECIPE_HEAD + 11 + 13 + 13 + 11 + 13); /* copies, two literals */
    CHECK(apply(r, len, base, &bl, &m) == MS_OK && m.len == 16 && memcmp(m.data, orig, 16) == 0);
    c = malloc(len + 2);
    if (!c)
        return;
    memcpy(c, r, len);
    c[len] = 0;
    CHECK(apply(c, len + 1, base, &bl, &m) == MS_OK);          /* DICOM padding NUL */
    c[len] = 1;
    CHECK_INT(apply(c, len + 1, base, &bl, &m), MS_EMALFORMED); /* other trailing byte */
    CHECK_INT(apply(r, len - 1, base, &bl, &m), MS_EMALFORMED); /* truncated */
    CHECK_INT(apply(r, 20, base, &bl, &m), MS_EMALFORMED);
    memcpy(c, r, len);
    c[0] = 'N';
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EMALFORMED);     /* magic */
    memcpy(c, r, len);
    msi_wr32le(c + 52, 0x7FFFFFFF);
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EMALFORMED);     /* op count */
    memcpy(c, r, len);
    c[MSI_DEID_RECIPE_HEAD] = 9;
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EMALFORMED);     /* unknown op */
    memcpy(c, r, len);
    msi_wr64le(c + MSI_DEID_RECIPE_HEAD + 1, 1u << 30);
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EMALFORMED);     /* literal past the end */
    memcpy(c, r, len);
    c[MSI_DEID_RECIPE_HEAD + 9] ^= 1;                           /* literal byte changed */
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EKEY);
    memcpy(c, r, len);
    c[20] ^= 1;                                                 /* stored digest changed */
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EKEY);
    memcpy(c, r, len);
    msi_wr64le(c + 8, 17);                                      /* size changed */
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EKEY);
    memcpy(c, r, len);
    msi_wr32le(c + MSI_DEID_RECIPE_HEAD + 11 + 1, 7);           /* copy index out of range */
    CHECK_INT(apply(c, len, base, &bl, &m), MS_EKEY);
    CHECK_INT(apply(r, len, base, &bl2, &m), MS_EKEY);          /* element count differs */
    CHECK_INT(apply(r, len, base, &bl3, &m), MS_EKEY);          /* element length differs */
    memcpy(tampered, base, sizeof tampered);
    tampered[5] ^= 1;
    CHECK_INT(apply(r, len, tampered, &bl, &m), MS_EKEY);       /* base changed */
    msi_deid_recipe_free(r, len);

    /* no layout (deflated input): one literal */
    r = NULL;
    CHECK(msi_deid_recipe_build(orig, 16, NULL, base, &bl, &r, &len, NULL) == MS_OK);
    CHECK(r && len == MSI_DEID_RECIPE_HEAD + 9 + 16);
    CHECK(r && apply(r, len, base, &bl, &m) == MS_OK && m.len == 16);
    msi_deid_recipe_free(r, len);
    free(c);
    free(m.data);
}

/* ---- the same envelopes as the `cms` scheme ---------------------------------------------- */

static void test_cms_compat(void)
{
    static const uint8_t msg[] = "(0400,0550) and a recipe, for instance";
    struct ms_cms_recipients *r = cms_recipients(cert1, pass_ok), *rs;
    struct ms_cms_keyring *kp = cms_keyring(NULL, pass_ok), *kk = cms_keyring(key1, NULL),
                          *kbad = cms_keyring(NULL, pass_bad);
    uint8_t *der = NULL, *pt = NULL;
    size_t dlen = 0, plen = 0;

    /* medseal's deid envelope opens with the cms scheme's decryptor */
    CHECK(msi_cmsbuf_encrypt(r, NULL, msg, sizeof msg, &der, &dlen, NULL) == MS_OK);
    tu_spit(tmp("compat.der"), der, dlen);
    msi_cmsbuf_free(der, dlen);
    CHECK(ms_cms_decrypt_file(kp, tmp("compat.der"), tmp("compat.out"), NULL, NULL, NULL) ==
          MS_OK);
    pt = tu_slurp(tmp("compat.out"), &plen);
    CHECK(pt && plen == sizeof msg && memcmp(pt, msg, plen) == 0);
    free(pt);
    ms_cms_recipients_destroy(r);

    /* and the cms scheme's streamed BER envelope opens here */
    tu_spit(tmp("compat.in"), msg, sizeof msg);
    rs = cms_recipients(cert1, pass_ok);
    CHECK(ms_cms_encrypt_file(rs, tmp("compat.in"), tmp("compat.cms"), NULL, NULL) == MS_OK);
    ms_cms_recipients_destroy(rs);
    der = tu_slurp(tmp("compat.cms"), &dlen);
    pt = NULL;
    CHECK(der && msi_cmsbuf_decrypt(kp, der, dlen, &pt, &plen, NULL, NULL) == MS_OK);
    CHECK(pt && plen == sizeof msg && memcmp(pt, msg, plen) == 0);
    msi_cmsbuf_free(pt, plen);
    pt = NULL;
    CHECK(der && msi_cmsbuf_decrypt(kk, der, dlen, &pt, &plen, NULL, NULL) == MS_OK);
    CHECK(pt && plen == sizeof msg && memcmp(pt, msg, plen) == 0);
    msi_cmsbuf_free(pt, plen);
    pt = NULL;
    CHECK(der && msi_cmsbuf_decrypt(kbad, der, dlen, &pt, &plen, NULL, NULL) == MS_EKEY);
    CHECK(pt == NULL);
    free(der);
    ms_cms_keyring_destroy(kp);
    ms_cms_keyring_destroy(kk);
    ms_cms_keyring_destroy(kbad);
}

int main(void)
{
    tu_dir_open();
    make_keys();
    test_table();
    test_resolve();
    test_uid_mapping();
    test_profile();
    test_roundtrip_synthetic();
    test_uid_consistency();
    test_roundtrip_corpora();
    test_wrong_keys();
    test_locked_key();
    test_protect_refusals();
    test_tampering();
    test_truncated();
    test_missing();
    test_crafted_contents();
    test_recipe();
    test_cms_compat();
    tu_dir_close();
    return check_done();
}
