/* Unit tests of the DICOM digital signatures (PS3.15 Annex C): the MAC byte
 * stream against a hand-written known answer, round trips with RSA and EC
 * P-256 through several transfer syntaxes, several and nested signatures,
 * and negatives: tampered values and signatures, wrong and untrusted
 * certificates, malformed signature items and MAC parameters, bad sign
 * requests; then the regression files of tests/data/malformed/dsig/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h" /* test_nested grafts a dataset into a sequence */
#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/dsig.h"
#include "testutil.h"

#define TAG_DIGSIG MS_TAG(0xFFFA, 0xFFFA)
#define TAG_MACPARAMS MS_TAG(0x4FFE, 0x0001)
#define TAG_MAC_ID MS_TAG(0x0400, 0x0005)
#define TAG_MAC_TS MS_TAG(0x0400, 0x0010)
#define TAG_MAC_ALGO MS_TAG(0x0400, 0x0015)
#define TAG_DES MS_TAG(0x0400, 0x0020)
#define TAG_CERT_TYPE MS_TAG(0x0400, 0x0110)
#define TAG_CERT MS_TAG(0x0400, 0x0115)
#define TAG_SIGNATURE MS_TAG(0x0400, 0x0120)
#define TAG_PATIENT_NAME MS_TAG(0x0010, 0x0010)

static struct ms_pkey *rsa, *ec, *rsa2, *ed;

/* Results of one verification. */
struct results {
    struct ms_dsig_result r[8];
    size_t n;
};

static void collect(void *ctx, const struct ms_dsig_result *r)
{
    struct results *c = ctx;
    if (c->n < 8)
        c->r[c->n] = *r;
    c->n++;
}

static ms_status verify(struct ms_file *f, const struct ms_pkey *trust, struct results *out)
{
    struct ms_error err = {0};
    struct ms_dsig_verify_options vo = {0};
    const struct ms_pkey *anchors[1] = {trust};
    memset(out, 0, sizeof *out);
    vo.trusted = anchors;
    vo.ntrusted = trust ? 1 : 0;
    return ms_dsig_verify(f, &vo, collect, out, &err);
}

/* A small dataset: group length, UIDs, odd-length text, a sequence with an
 * item holding a group length, an empty item, a private creator and a UN
 * element that must not be signed, pixel data. */
static struct ms_file *make_file(void)
{
    struct ms_error err = {0};
    struct ms_file *f = NULL;
    struct ms_element *seq = NULL;
    struct ms_dataset *ds, *item = NULL;
    static const uint8_t px[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    if (ms_file_create(&f, NULL, &err) != MS_OK)
        return NULL;
    ds = ms_file_dataset(f);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0008, 0x0000), MS_VR_UL, 0, &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0016), MS_VR_UI,
                                    "1.2.840.10008.5.1.4.1.1.7", &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, "1.2.3.4.5.6", &err),
              MS_OK);
    CHECK_INT(ms_dataset_set_sequence(ds, MS_TAG(0x0008, 0x1140), &seq, &err), MS_OK);
    CHECK_INT(ms_element_add_item(seq, &item, &err), MS_OK);
    CHECK_INT(ms_dataset_set_int(item, MS_TAG(0x0008, 0x0000), MS_VR_UL, 0, &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(item, MS_TAG(0x0008, 0x1155), MS_VR_UI, "1.2.3", &err), MS_OK);
    CHECK_INT(ms_element_add_item(seq, &item, &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0009, 0x0010), MS_VR_LO, "MEDSEAL TEST", &err),
              MS_OK);
    CHECK_INT(ms_dataset_set_bytes(ds, MS_TAG(0x0009, 0x1001), MS_VR_UN, "abc", 3, &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, TAG_PATIENT_NAME, MS_VR_PN, "Doe^Jane", &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0010, 0x0020), MS_VR_LO, "ODD", &err), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0010), MS_VR_US, 2, &err), MS_OK);
    CHECK_INT(ms_dataset_set_bytes(ds, MS_TAG_PIXEL_DATA, MS_VR_OW, px, sizeof px, &err), MS_OK);
    return f;
}

/* Write f in ts (NULL: as it is) and read it back. */
static struct ms_file *reread(struct ms_file *f, const struct ms_transfer_syntax *ts)
{
    struct ms_error err = {0};
    struct tu_membuf m = {0};
    struct ms_file *g = NULL;

    if (ts)
        ms_file_set_transfer_syntax(f, ts);
    CHECK_INT(ms_file_write_sink(f, tu_mem_sink, &m, NULL, &err), MS_OK);
    CHECK_INT(ms_file_read_memory(&g, m.data, m.len, NULL, &err), MS_OK);
    free(m.data);
    return g;
}

static struct ms_file *signed_file(const struct ms_pkey *k)
{
    struct ms_error err = {0};
    struct ms_file *f = make_file(), *g;
    if (!f)
        return NULL;
    CHECK_INT(ms_dsig_sign(f, k, NULL, NULL, NULL, &err), MS_OK); /* k carries its cert */
    g = reread(f, NULL);
    ms_file_destroy(f);
    return g;
}

static struct ms_dataset *sig_item(struct ms_file *f, size_t i)
{
    struct ms_element *el = ms_dataset_get(ms_file_dataset(f), TAG_DIGSIG);
    return el ? ms_element_item(el, i) : NULL;
}

static struct ms_dataset *mac_item(struct ms_file *f, size_t i)
{
    struct ms_element *el = ms_dataset_get(ms_file_dataset(f), TAG_MACPARAMS);
    return el ? ms_element_item(el, i) : NULL;
}

/* ---- the byte stream: a known answer -------------------------------------------- */

static void test_stream_kat(void)
{
    /* Every byte written by hand from PS3.15 C.2 as dcmsign encodes it. */
    static const uint8_t want[] = {
        /* (0008,0016) UI "1.2.840.10008.5.1.4.1.1.7" + NUL: 26 bytes */
        0x08, 0x00, 0x16, 0x00, 'U', 'I', 26, 0, '1', '.', '2', '.', '8', '4', '0', '.', '1',
        '0', '0', '0', '8', '.', '5', '.', '1', '.', '4', '.', '1', '.', '1', '.', '7', 0,
        /* (0008,0018) UI "1.2.3.4.5.6" + NUL */
        0x08, 0x00, 0x18, 0x00, 'U', 'I', 12, 0, '1', '.', '2', '.', '3', '.', '4', '.', '5',
        '.', '6', 0,
        /* (0008,1140) SQ, no length; items: tag only; group length left out */
        0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFE, 0xFF, 0x00, 0xE0, 0x08, 0x00, 0x55, 0x11,
        'U', 'I', 6, 0, '1', '.', '2', '.', '3', 0, 0xFE, 0xFF, 0x00, 0xE0, 0xFE, 0xFF, 0xDD,
        0xE0,
        /* (0009,0010) LO "MEDSEAL TEST"; (0009,1001) UN is not signed */
        0x09, 0x00, 0x10, 0x00, 'L', 'O', 12, 0, 'M', 'E', 'D', 'S', 'E', 'A', 'L', ' ', 'T',
        'E', 'S', 'T',
        /* (0010,0010) PN, (0010,0020) LO "ODD" + space */
        0x10, 0x00, 0x10, 0x00, 'P', 'N', 8, 0, 'D', 'o', 'e', '^', 'J', 'a', 'n', 'e', 0x10,
        0x00, 0x20, 0x00, 'L', 'O', 4, 0, 'O', 'D', 'D', ' ',
        /* (0028,0010) US 2, (7FE0,0010) OW: 4-byte length */
        0x28, 0x00, 0x10, 0x00, 'U', 'S', 2, 0, 2, 0, 0xE0, 0x7F, 0x10, 0x00, 'O', 'W', 0, 0, 8,
        0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        /* the signature item: MAC ID, UID, DateTime, Certificate Type */
        0x00, 0x04, 0x05, 0x00, 'U', 'S', 2, 0, 0, 0, 0x00, 0x04, 0x00, 0x01, 'U', 'I', 6, 0,
        '1', '.', '2', '.', '9', 0, 0x00, 0x04, 0x05, 0x01, 'D', 'T', 26, 0, '2', '0', '2',
        '5', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5', '.', '0', '0', '0', '0', '0',
        '0', '+', '0', '0', '0', '0', 0x00, 0x04, 0x10, 0x01, 'C', 'S', 14, 0, 'X', '5', '0',
        '9', '_', '1', '9', '9', '3', '_', 'S', 'I', 'G', ' '};
    struct ms_error err = {0};
    struct ms_dsig_sign_options so = {0};
    struct tu_membuf sdump = {0}, vdump = {0};
    struct ms_dsig_verify_options vo = {0};
    struct ms_file *f = make_file(), *g;
    char uid[MS_DSIG_UID_LEN];

    if (!f)
        return;
    so.uid = "1.2.9";
    so.datetime = "20250102030405.000000+0000";
    so.dump = tu_mem_sink;
    so.dump_ctx = &sdump;
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, &so, uid, &err), MS_OK);
    CHECK_STR(uid, "1.2.9");
    CHECK_INT(sdump.len, sizeof want);
    CHECK(sdump.len == sizeof want && memcmp(sdump.data, want, sizeof want) == 0);
    /* the verifier feeds the same bytes to the MAC, in any transfer syntax */
    g = reread(f, ms_ts_implicit_le());
    vo.dump = tu_mem_sink;
    vo.dump_ctx = &vdump;
    CHECK_INT(g ? ms_dsig_verify(g, &vo, NULL, NULL, &err) : MS_EINTERNAL, MS_OK);
    CHECK(vdump.len == sizeof want && memcmp(vdump.data, want, sizeof want) == 0);
    free(sdump.data);
    free(vdump.data);
    ms_file_destroy(g);
    ms_file_destroy(f);
}

/* ---- positives -------------------------------------------------------------------- */

static void roundtrip(const struct ms_pkey *k, const char *algorithm)
{
    const struct ms_transfer_syntax *syntaxes[] = {NULL, ms_ts_implicit_le(),
                                                   ms_ts_explicit_be(), ms_ts_deflated()};
    struct ms_file *f = signed_file(k);
    struct results res;

    if (!f)
        return;
    CHECK_INT(verify(f, k, &res), MS_OK);
    CHECK_INT(res.n, 1);
    CHECK_INT(res.r[0].status, MS_OK);
    CHECK_STR(res.r[0].algorithm, algorithm);
    CHECK_STR(res.r[0].mac_algorithm, "SHA256");
    CHECK_STR(res.r[0].subject, "CN=medseal dsig test");
    CHECK_STR(res.r[0].location, "top level");
    CHECK(strncmp(res.r[0].uid, "2.25.", 5) == 0);
    CHECK_INT(res.r[0].mac_id, 0);
    CHECK_INT(res.r[0].nsigned, 8); /* not the group length, nor the UN element */
    CHECK_INT(res.r[0].nunsigned, 1); /* the UN element */
    CHECK(res.r[0].trust_checked);
    for (size_t i = 1; i < sizeof syntaxes / sizeof syntaxes[0]; i++) {
        struct ms_file *g = reread(f, syntaxes[i]);
        CHECK_INT(g ? verify(g, k, &res) : MS_EINTERNAL, MS_OK);
        ms_file_destroy(g);
    }
    ms_file_destroy(f);
}

static void test_two_signatures(void)
{
    struct ms_error err = {0};
    struct ms_file *f = signed_file(rsa), *g;
    struct results res;
    uint32_t only = TAG_PATIENT_NAME;
    struct ms_dsig_sign_options so = {0};

    if (!f)
        return;
    so.tags = &only;
    so.ntags = 1;
    CHECK_INT(ms_dsig_sign(f, ec, ec, &so, NULL, &err), MS_OK);
    g = reread(f, NULL);
    CHECK_INT(g ? verify(g, NULL, &res) : MS_EINTERNAL, MS_OK);
    CHECK_INT(res.n, 2);
    CHECK_INT(res.r[1].mac_id, 1);
    CHECK_INT(res.r[1].nsigned, 1);
    CHECK_INT(res.r[1].nunsigned, 8);
    CHECK(!res.r[1].trust_checked);
    /* an element only the first signature covers changes: only it fails */
    CHECK_INT(ms_dataset_set_string(ms_file_dataset(g), MS_TAG(0x0010, 0x0020), MS_VR_LO,
                                    "OTHER", &err), MS_OK);
    CHECK_INT(verify(g, NULL, &res), MS_EPROBLEM);
    CHECK_INT(res.r[0].status, MS_EPROBLEM);
    CHECK_INT(res.r[1].status, MS_OK);
    ms_file_destroy(g);
    ms_file_destroy(f);
}

/* A signature inside a sequence item verifies where it is: a signed dataset
 * grafted as the second item of a sequence (the test may reach inside). */
static void test_nested(void)
{
    struct ms_error err = {0};
    struct ms_file *outer = NULL, *inner = signed_file(ec);
    struct ms_element *seq = NULL;
    struct ms_dataset *item = NULL;
    struct results res;

    if (!inner || ms_file_create(&outer, NULL, &err) != MS_OK)
        goto done;
    CHECK_INT(ms_dataset_set_string(ms_file_dataset(outer), TAG_PATIENT_NAME, MS_VR_PN, "Outer",
                                    &err), MS_OK);
    CHECK_INT(ms_dataset_set_sequence(ms_file_dataset(outer), MS_TAG(0x0040, 0xA730), &seq, &err),
              MS_OK);
    CHECK_INT(ms_element_add_item(seq, &item, &err), MS_OK);
    CHECK_INT(ms_element_add_item(seq, &item, &err), MS_OK);
    seq->items[1] = ms_file_dataset(inner);
    CHECK_INT(verify(outer, ec, &res), MS_OK);
    CHECK_INT(res.n, 1);
    CHECK_STR(res.r[0].location, "(0040,A730)[2]");
    CHECK_INT(res.r[0].index, 1);
    /* the outer level has none of its own; a change inside the item is seen */
    CHECK_INT(ms_dataset_set_string(ms_file_dataset(inner), TAG_PATIENT_NAME, MS_VR_PN, "X",
                                    &err), MS_OK);
    CHECK_INT(verify(outer, NULL, &res), MS_EPROBLEM);
    CHECK_STR(res.r[0].location, "(0040,A730)[2]");
    seq->items[1] = item;
done:
    ms_file_destroy(outer);
    ms_file_destroy(inner);
}

/* An ECDSA signature of odd length is padded in the file and still verifies;
 * one padding byte is tolerated, two are not. */
static void test_padded_ecdsa(void)
{
    struct ms_error err = {0};
    struct results res;
    struct ms_file *f = signed_file(ec);
    struct ms_element *sig = f ? ms_dataset_get(sig_item(f, 0), TAG_SIGNATURE) : NULL;
    size_t len = sig ? (size_t)ms_element_length(sig) : 0, der;
    uint8_t buf[80] = {0};

    if (!sig || len < 8 || len > sizeof buf - 2) {
        CHECK(sig != NULL);
        ms_file_destroy(f);
        return;
    }
    memcpy(buf, ms_element_value(sig), len);
    der = 2 + (size_t)buf[1];
    CHECK(len == der || len == der + 1); /* + 1: padded by the writer */
    CHECK_INT(verify(f, NULL, &res), MS_OK);
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_SIGNATURE, MS_VR_OB, buf, der + 1, &err),
              MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_OK);
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_SIGNATURE, MS_VR_OB, buf, der + 2, &err),
              MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_EPROBLEM);
    buf[der] = 1; /* a padding byte that is not zero */
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_SIGNATURE, MS_VR_OB, buf, der + 1, &err),
              MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_EPROBLEM);
    ms_file_destroy(f);
}

/* ---- negatives: the signed data or the signature changed ------------------------------ */

static void test_tampered(void)
{
    struct ms_error err = {0};
    struct ms_file *f = signed_file(rsa), *g = NULL;
    struct ms_element *sig;
    struct results res;
    uint8_t buf[512];

    if (!f)
        return;
    /* a changed value, written and read again */
    CHECK_INT(ms_dataset_set_string(ms_file_dataset(f), TAG_PATIENT_NAME, MS_VR_PN, "Doe^John",
                                    &err), MS_OK);
    g = reread(f, NULL);
    CHECK_INT(g ? verify(g, rsa, &res) : MS_EINTERNAL, MS_EPROBLEM);
    CHECK(strstr(res.r[0].reason, "does not match") != NULL);
    ms_file_destroy(g);
    ms_file_destroy(f);

    /* an item inside a signed sequence changed */
    f = signed_file(ec);
    if (!f)
        return;
    {
        struct ms_element *seq = ms_dataset_get(ms_file_dataset(f), MS_TAG(0x0008, 0x1140));
        struct ms_dataset *item = NULL;
        CHECK_INT(ms_element_add_item(seq, &item, &err), MS_OK);
        CHECK_INT(verify(f, NULL, &res), MS_EPROBLEM);
    }
    ms_file_destroy(f);

    /* a flipped bit in the signature; a truncated signature; an empty one */
    f = signed_file(rsa);
    sig = f ? ms_dataset_get(sig_item(f, 0), TAG_SIGNATURE) : NULL;
    if (!sig || ms_element_length(sig) > sizeof buf) {
        ms_file_destroy(f);
        return;
    }
    memcpy(buf, ms_element_value(sig), (size_t)ms_element_length(sig));
    buf[7] ^= 0x01;
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_SIGNATURE, MS_VR_OB, buf, 256, &err),
              MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_EPROBLEM);
    buf[7] ^= 0x01;
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_SIGNATURE, MS_VR_OB, buf, 128, &err),
              MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_EPROBLEM);
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_SIGNATURE, MS_VR_OB, buf, 0, &err),
              MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_EMALFORMED);
    ms_file_destroy(f);
}

/* A signed element removed: named in the reason. Unsigned ones may come and go. */
static void test_missing_element(void)
{
    struct ms_error err = {0};
    struct ms_file *f = signed_file(ec);
    struct results res;

    if (!f)
        return;
    CHECK_INT(ms_dataset_set_string(ms_file_dataset(f), MS_TAG(0x0008, 0x0020), MS_VR_DA,
                                    "20250101", &err), MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_OK);
    CHECK_INT(res.r[0].nunsigned, 2);
    CHECK(ms_dataset_remove(ms_file_dataset(f), MS_TAG(0x0010, 0x0020)));
    CHECK_INT(verify(f, NULL, &res), MS_EPROBLEM);
    CHECK(strstr(res.r[0].reason, "(0010,0020) is missing") != NULL);
    ms_file_destroy(f);
}

/* The certificate of another key, and an untrusted or not yet valid signer. */
static void test_wrong_cert(void)
{
    struct ms_error err = {0};
    struct ms_file *f = signed_file(rsa), *other = signed_file(rsa2), *g = NULL;
    struct ms_dsig_sign_options so = {0};
    struct ms_element *cert;
    struct results res;

    if (!f || !other)
        goto done;
    cert = ms_dataset_get(sig_item(other, 0), TAG_CERT);
    CHECK_INT(verify(f, rsa2, &res), MS_EKEY);
    CHECK(strstr(res.r[0].reason, "not trusted") != NULL);
    CHECK_INT(verify(f, ec, &res), MS_EKEY);
    /* another signer's certificate put in: the signature no longer matches */
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_CERT, MS_VR_OB, ms_element_value(cert),
                                   ms_element_length(cert), &err), MS_OK);
    CHECK_INT(verify(f, NULL, &res), MS_EPROBLEM);
    CHECK_INT(verify(f, rsa2, &res), MS_EPROBLEM); /* invalid comes before untrusted */
    /* signed at a time the certificate was not valid yet */
    g = make_file();
    so.datetime = "19990101000000";
    CHECK_INT(g ? ms_dsig_sign(g, rsa, rsa, &so, NULL, &err) : MS_EINTERNAL, MS_OK);
    CHECK_INT(g ? verify(g, NULL, &res) : MS_EINTERNAL, MS_OK);
    CHECK_INT(g ? verify(g, rsa, &res) : MS_EINTERNAL, MS_EKEY);
    CHECK(strstr(res.r[0].reason, "not yet valid") != NULL);
done:
    ms_file_destroy(g);
    ms_file_destroy(f);
    ms_file_destroy(other);
}

/* ---- negatives: malformed signature items and MAC parameters -------------------------- */

typedef void (*damage_fn)(struct ms_file *f);

static void no_mac_id(struct ms_file *f) { ms_dataset_remove(sig_item(f, 0), TAG_MAC_ID); }
static void no_mac_params(struct ms_file *f) { ms_dataset_remove(ms_file_dataset(f), TAG_MACPARAMS); }
static void no_des(struct ms_file *f) { ms_dataset_remove(mac_item(f, 0), TAG_DES); }
static void no_cert(struct ms_file *f) { ms_dataset_remove(sig_item(f, 0), TAG_CERT); }
static void no_signature(struct ms_file *f) { ms_dataset_remove(sig_item(f, 0), TAG_SIGNATURE); }
static void no_algo(struct ms_file *f) { ms_dataset_remove(mac_item(f, 0), TAG_MAC_ALGO); }
static void no_cert_type(struct ms_file *f) { ms_dataset_remove(sig_item(f, 0), TAG_CERT_TYPE); }

static void mac_id_mismatch(struct ms_file *f)
{
    CHECK_INT(ms_dataset_set_int(mac_item(f, 0), TAG_MAC_ID, MS_VR_US, 7, NULL), MS_OK);
}

static void mac_id_wrong_vr(struct ms_file *f)
{
    CHECK_INT(ms_dataset_set_string(sig_item(f, 0), TAG_MAC_ID, MS_VR_IS, "0", NULL), MS_OK);
}

static void des_odd_length(struct ms_file *f)
{
    static const uint8_t at[6] = {0x10, 0x00, 0x10, 0x00, 0x10, 0x00};
    CHECK_INT(ms_dataset_set_bytes(mac_item(f, 0), TAG_DES, MS_VR_AT, at, 6, NULL), MS_OK);
}

static void des_group_length(struct ms_file *f)
{
    static const uint8_t at[8] = {0x08, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00};
    CHECK_INT(ms_dataset_set_bytes(mac_item(f, 0), TAG_DES, MS_VR_AT, at, 8, NULL), MS_OK);
}

static void des_twice(struct ms_file *f)
{
    static const uint8_t at[8] = {0x10, 0x00, 0x10, 0x00, 0x10, 0x00, 0x10, 0x00};
    CHECK_INT(ms_dataset_set_bytes(mac_item(f, 0), TAG_DES, MS_VR_AT, at, 8, NULL), MS_OK);
}

static void garbled_cert(struct ms_file *f)
{
    static const uint8_t junk[40] = {0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef};
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_CERT, MS_VR_OB, junk, sizeof junk, NULL),
              MS_OK);
}

static void truncated_cert(struct ms_file *f)
{
    struct ms_element *c = ms_dataset_get(sig_item(f, 0), TAG_CERT);
    CHECK_INT(ms_dataset_set_bytes(sig_item(f, 0), TAG_CERT, MS_VR_OB, ms_element_value(c),
                                   ms_element_length(c) / 2, NULL), MS_OK);
}

static void digsig_not_sequence(struct ms_file *f)
{
    ms_dataset_remove(ms_file_dataset(f), TAG_DIGSIG);
    CHECK_INT(ms_dataset_set_bytes(ms_file_dataset(f), TAG_DIGSIG, MS_VR_OB, "xy", 2, NULL),
              MS_OK);
}

static void mac_params_not_sequence(struct ms_file *f)
{
    ms_dataset_remove(ms_file_dataset(f), TAG_MACPARAMS);
    CHECK_INT(ms_dataset_set_bytes(ms_file_dataset(f), TAG_MACPARAMS, MS_VR_OB, "xy", 2, NULL),
              MS_OK);
}

static void no_mac_ts(struct ms_file *f) { ms_dataset_remove(mac_item(f, 0), TAG_MAC_TS); }

static void set_string(struct ms_dataset *ds, uint32_t tag, ms_vr vr, const char *s)
{
    CHECK_INT(ms_dataset_set_string(ds, tag, vr, s, NULL), MS_OK);
}

static void algo_md5(struct ms_file *f) { set_string(mac_item(f, 0), TAG_MAC_ALGO, MS_VR_CS, "MD5"); }
static void algo_ripemd(struct ms_file *f)
{
    set_string(mac_item(f, 0), TAG_MAC_ALGO, MS_VR_CS, "RIPEMD160");
}
static void algo_unknown(struct ms_file *f)
{
    set_string(mac_item(f, 0), TAG_MAC_ALGO, MS_VR_CS, "CRC32");
}
static void ts_big_endian(struct ms_file *f)
{
    set_string(mac_item(f, 0), TAG_MAC_TS, MS_VR_UI, "1.2.840.10008.1.2.2");
}
static void ts_implicit(struct ms_file *f)
{
    set_string(mac_item(f, 0), TAG_MAC_TS, MS_VR_UI, "1.2.840.10008.1.2");
}
static void cert_type_other(struct ms_file *f)
{
    set_string(sig_item(f, 0), TAG_CERT_TYPE, MS_VR_CS, "X509_1993_PKC");
}
static void sha512_claimed(struct ms_file *f)
{
    set_string(mac_item(f, 0), TAG_MAC_ALGO, MS_VR_CS, "SHA512");
}

static void test_malformed_items(void)
{
    static const struct {
        const char *name;
        damage_fn damage;
        ms_status want;
        const char *reason;
    } cases[] = {
        {"MAC ID missing", no_mac_id, MS_EMALFORMED, "MAC ID Number"},
        {"MAC ID not US", mac_id_wrong_vr, MS_EMALFORMED, "MAC ID Number"},
        {"MAC parameters missing", no_mac_params, MS_EMALFORMED, "MAC Parameters Sequence"},
        {"MAC parameters not a sequence", mac_params_not_sequence, MS_EMALFORMED, "(4FFE,0001)"},
        {"MAC ID mismatch", mac_id_mismatch, MS_EMALFORMED, "MAC ID Number 0"},
        {"no Data Elements Signed", no_des, MS_EMALFORMED, "Data Elements Signed"},
        {"DES of 6 bytes", des_odd_length, MS_EMALFORMED, "Data Elements Signed"},
        {"DES lists a group length", des_group_length, MS_EMALFORMED, "(0008,0000)"},
        {"DES lists a tag twice", des_twice, MS_EMALFORMED, "twice"},
        {"no MAC algorithm", no_algo, MS_EMALFORMED, "MAC Algorithm"},
        {"MD5", algo_md5, MS_EUNSUPPORTED, "insecure"},
        {"RIPEMD160", algo_ripemd, MS_EUNSUPPORTED, "not supported"},
        {"unknown MAC", algo_unknown, MS_EUNSUPPORTED, "CRC32"},
        {"no MAC transfer syntax", no_mac_ts, MS_EMALFORMED, "Transfer Syntax"},
        {"big endian MAC syntax", ts_big_endian, MS_EUNSUPPORTED, "little"},
        {"implicit MAC syntax", ts_implicit, MS_EUNSUPPORTED, "explicit"},
        {"no certificate type", no_cert_type, MS_EMALFORMED, "Certificate Type"},
        {"other certificate type", cert_type_other, MS_EUNSUPPORTED, "X509_1993_PKC"},
        {"no certificate", no_cert, MS_EMALFORMED, "Certificate of Signer"},
        {"garbled certificate", garbled_cert, MS_EMALFORMED, "Certificate of Signer"},
        {"truncated certificate", truncated_cert, MS_EMALFORMED, "Certificate of Signer"},
        {"no signature", no_signature, MS_EMALFORMED, "Signature"},
        {"(FFFA,FFFA) not a sequence", digsig_not_sequence, MS_EMALFORMED, "not a sequence"},
        {"SHA512 claimed, SHA256 used", sha512_claimed, MS_EPROBLEM, "does not match"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ms_file *f = signed_file(i % 2 ? ec : rsa);
        struct results res;
        ms_status st;
        if (!f)
            continue;
        cases[i].damage(f);
        st = verify(f, NULL, &res);
        if (st != cases[i].want || res.n != 1 || !strstr(res.r[0].reason, cases[i].reason))
            fprintf(stderr, "case '%s': status %d, %zu results, reason '%s'\n", cases[i].name,
                    (int)st, res.n, res.n ? res.r[0].reason : "");
        CHECK_INT(st, cases[i].want);
        CHECK_INT(res.n, 1);
        CHECK(strstr(res.r[0].reason, cases[i].reason) != NULL);
        ms_file_destroy(f);
    }
}

/* No signature at all, and one good next to one malformed. */
static void test_none_and_mixed(void)
{
    struct ms_error err = {0};
    struct ms_file *f = make_file(), *g = signed_file(rsa);
    struct results res;

    CHECK_INT(f ? ms_dsig_verify(f, NULL, NULL, NULL, &err) : MS_EINTERNAL, MS_ENOTFOUND);
    CHECK(strstr(err.msg, "no digital signature") != NULL);
    CHECK_INT(ms_status_exit_code(MS_ENOTFOUND), 1);
    if (g) {
        CHECK_INT(ms_dsig_sign(g, ec, ec, NULL, NULL, &err), MS_OK);
        ms_dataset_remove(sig_item(g, 1), TAG_SIGNATURE);
        CHECK_INT(verify(g, NULL, &res), MS_EMALFORMED);
        CHECK_INT(res.n, 2);
        CHECK_INT(res.r[0].status, MS_OK);
        CHECK_INT(res.r[1].status, MS_EMALFORMED);
        CHECK_INT(ms_dsig_verify(g, NULL, NULL, NULL, &err), MS_EMALFORMED);
        CHECK(strstr(err.msg, "1 of 2 signatures") != NULL);
    }
    ms_file_destroy(f);
    ms_file_destroy(g);
}

/* ---- negatives: what cannot be signed ------------------------------------------------ */

static void test_sign_errors(void)
{
    struct ms_error err = {0};
    struct ms_file *f = make_file();
    struct ms_dsig_sign_options so = {0};
    struct ms_pkey *pub = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    uint32_t tags[2];

    if (!f)
        return;
    CHECK_INT(ms_dsig_sign(f, rsa, ec, NULL, NULL, &err), MS_EUSAGE); /* another key's cert */
    CHECK(strstr(err.msg, "not that of the signing key") != NULL);
    CHECK_INT(ms_dsig_sign(f, rsa2, rsa2, NULL, NULL, &err), MS_EUSAGE); /* no certificate */
    CHECK_INT(ms_dsig_sign(f, ed, ed, NULL, NULL, &err), MS_EUNSUPPORTED);
    CHECK_INT(ms_pkey_public_der(rsa, &der, &der_len, &err), MS_OK);
    CHECK_INT(ms_pkey_parse_public(&pub, der, der_len, &err), MS_OK);
    CHECK_INT(pub ? ms_dsig_sign(f, pub, rsa, NULL, NULL, &err) : MS_EINTERNAL, MS_EUSAGE);
    tags[0] = MS_TAG(0x0010, 0x1010); /* absent */
    so.tags = tags;
    so.ntags = 1;
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, &so, NULL, &err), MS_EUSAGE);
    CHECK(strstr(err.msg, "not in the dataset") != NULL);
    tags[0] = MS_TAG(0x0009, 0x1001); /* UN */
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, &so, NULL, &err), MS_EUSAGE);
    CHECK(strstr(err.msg, "cannot be signed") != NULL);
    tags[0] = MS_TAG(0x0008, 0x0000); /* group length */
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, &so, NULL, &err), MS_EUSAGE);
    tags[0] = tags[1] = TAG_PATIENT_NAME;
    so.ntags = 2;
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, &so, NULL, &err), MS_EUSAGE);
    memset(&so, 0, sizeof so);
    so.uid = "1..2";
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, &so, NULL, &err), MS_EUSAGE);
    so.uid = NULL;
    so.datetime = "yesterday";
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, &so, NULL, &err), MS_EUSAGE);
    /* none of that changed the file */
    CHECK(ms_dataset_get(ms_file_dataset(f), TAG_DIGSIG) == NULL);
    CHECK(ms_dataset_get(ms_file_dataset(f), TAG_MACPARAMS) == NULL);
    /* an existing (FFFA,FFFA) that is not a sequence */
    CHECK_INT(ms_dataset_set_bytes(ms_file_dataset(f), TAG_DIGSIG, MS_VR_OB, "xy", 2, &err),
              MS_OK);
    CHECK_INT(ms_dsig_sign(f, rsa, rsa, NULL, NULL, &err), MS_EMALFORMED);
    CHECK(ms_dataset_get(ms_file_dataset(f), TAG_MACPARAMS) == NULL);
    CHECK(!ms_dsig_tag_signable(MS_TAG(0x0002, 0x0010)));
    CHECK(!ms_dsig_tag_signable(MS_TAG(0xFFFC, 0xFFFC)));
    CHECK(!ms_dsig_tag_signable(MS_TAG(0x0008, 0x0001)));
    CHECK(ms_dsig_tag_signable(MS_TAG(0x0009, 0x0010)));
    free(der);
    ms_pkey_destroy(pub);
    ms_file_destroy(f);
}

/* ---- regression files --------------------------------------------------------------- */

static void test_regression_files(void)
{
    static const struct {
        const char *name;
        ms_status read, verify;
    } files[] = {
        {"good_rsa.dcm", MS_OK, MS_OK},
        {"good_ec_dcmsign.dcm", MS_OK, MS_OK},
        {"truncated_in_signature.dcm", MS_EMALFORMED, MS_OK},
        {"no_mac_parameters.dcm", MS_OK, MS_EMALFORMED},
        {"mac_id_mismatch.dcm", MS_OK, MS_EMALFORMED},
        {"no_mac_id.dcm", MS_OK, MS_EMALFORMED},
        {"garbled_certificate.dcm", MS_OK, MS_EMALFORMED},
        {"des_group_length.dcm", MS_OK, MS_EMALFORMED},
        {"des_not_at.dcm", MS_OK, MS_EMALFORMED},
        {"digsig_not_sequence.dcm", MS_OK, MS_EMALFORMED},
        {"empty_signature.dcm", MS_OK, MS_EMALFORMED},
        {"garbled_signature.dcm", MS_OK, MS_EPROBLEM},
        {"ecdsa_not_der.dcm", MS_OK, MS_EPROBLEM},
        {"mac_md5.dcm", MS_OK, MS_EUNSUPPORTED},
        {"mac_ts_implicit.dcm", MS_OK, MS_EUNSUPPORTED},
        {"changed_patient_name.dcm", MS_OK, MS_EPROBLEM},
    };
    char path[4096];

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct ms_error err = {0};
        struct ms_file *f = NULL;
        ms_status st;
        snprintf(path, sizeof path, "%s/tests/data/malformed/dsig/%s", tu_src(), files[i].name);
        st = ms_file_read(&f, path, NULL, &err);
        if (st != files[i].read)
            fprintf(stderr, "%s: read %d: %s\n", files[i].name, (int)st, err.msg);
        CHECK_INT(st, files[i].read);
        if (st == MS_OK) {
            st = ms_dsig_verify(f, NULL, NULL, NULL, &err);
            if (st != files[i].verify)
                fprintf(stderr, "%s: verify %d: %s\n", files[i].name, (int)st, err.msg);
            CHECK_INT(st, files[i].verify);
        }
        ms_file_destroy(f);
    }
}

/* ---- keys ------------------------------------------------------------------------------ */

static bool make_keys(void)
{
    struct ms_error err = {0};
    bool ok = ms_pkey_generate(&rsa, MS_PKEY_RSA, 2048, &err) == MS_OK &&
              ms_pkey_make_self_signed(rsa, "medseal dsig test", 30, &err) == MS_OK &&
              ms_pkey_generate(&ec, MS_PKEY_P256, 0, &err) == MS_OK &&
              ms_pkey_make_self_signed(ec, "medseal dsig test", 30, &err) == MS_OK &&
              ms_pkey_generate(&rsa2, MS_PKEY_RSA, 2048, &err) == MS_OK && /* no cert yet */
              ms_pkey_generate(&ed, MS_PKEY_ED25519, 0, &err) == MS_OK &&
              ms_pkey_make_self_signed(ed, "medseal dsig test", 30, &err) == MS_OK;
    if (!ok)
        fprintf(stderr, "key generation failed: %s\n", err.msg);
    return ok;
}

int main(void)
{
    struct ms_error err = {0};
    if (make_keys()) {
        test_sign_errors(); /* rsa2 has no certificate yet */
        CHECK_INT(ms_pkey_make_self_signed(rsa2, "another signer", 30, &err), MS_OK);
        test_stream_kat();
        roundtrip(rsa, "RSA PKCS#1 v1.5 SHA-256");
        roundtrip(ec, "ECDSA P-256 SHA-256");
        test_two_signatures();
        test_nested();
        test_padded_ecdsa();
        test_tampered();
        test_missing_element();
        test_wrong_cert();
        test_malformed_items();
        test_none_and_mixed();
    } else {
        CHECK(!"keys");
    }
    test_regression_files();
    ms_pkey_destroy(rsa);
    ms_pkey_destroy(ec);
    ms_pkey_destroy(rsa2);
    ms_pkey_destroy(ed);
    return check_done();
}
