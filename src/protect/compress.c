/* `protect --compress`: lossless, standard compression before any scheme
 * (seeds 002 and 004 compress before encrypting): the file is rewritten in
 * Deflated Explicit VR LE, RLE Lossless or JPEG-LS lossless, with a small
 * private block recording what `unprotect` needs to give back the original
 * bytes: the original transfer syntax, the Pixel Data VR and the SHA-256 of
 * the original file. Compression is refused for a file whose decompression
 * would not reproduce it exactly (checked before anything is written). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "medseal/codec.h"
#include "medseal/crypto.h"
#include "protect/scheme.h"

#define GROUP 0x7FD3u
#define CREATOR "MEDSEAL COMPRESS 1"
#define TAG_CREATOR MS_TAG(GROUP, 0x0010)
#define TAG_SYNTAX MS_TAG(GROUP, 0x1001)
#define TAG_PIXEL_VR MS_TAG(GROUP, 0x1002)
#define TAG_SHA256 MS_TAG(GROUP, 0x1003)

static const struct {
    const char *name;
    const char *uid;
} methods[] = {
    {"deflate", "1.2.840.10008.1.2.1.99"},
    {"rle", MS_TS_RLE},
    {"jpeg-ls", MS_TS_JPEG_LS},
};

const struct ms_transfer_syntax *msi_compress_syntax(const char *method)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, method) == 0)
            return ms_ts_find(methods[i].uid);
    return NULL;
}

/* The --compress method of a transfer syntax: its name in the table, else
 * the syntax's own name (a file compressed by another version). Static. */
static const char *method_of(const struct ms_transfer_syntax *ts)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].uid, ts->uid) == 0)
            return methods[i].name;
    return ts->name;
}

struct hasher {
    struct ms_hash *h;
    uint64_t bytes;
};

static int hash_sink(void *ctx, const void *data, size_t len)
{
    struct hasher *x = ctx;
    x->bytes += len;
    return ms_hash_update(x->h, data, len, NULL) == MS_OK ? 0 : -1;
}

/* SHA-256 of f as it would be written. */
static ms_status encoded_digest(struct ms_file *f, uint8_t out[32], struct ms_error *err)
{
    struct hasher x = {NULL, 0};
    ms_status st = ms_hash_create(&x.h, MS_HASH_SHA256, err);
    if (st == MS_OK)
        st = ms_file_write_sink(f, hash_sink, &x, NULL, err);
    if (st == MS_OK)
        st = ms_hash_final(x.h, out, err);
    ms_hash_destroy(x.h);
    return st;
}

/* Give f back its original syntax and Pixel Data VR, and drop the block. */
static ms_status restore(struct ms_file *f, const char *uid, ms_vr vr, struct ms_error *err)
{
    const struct ms_transfer_syntax *ts = ms_ts_find(uid);
    struct ms_dataset *ds = ms_file_dataset(f);
    if (!ts)
        return ms_error_set(err, MS_EMALFORMED, "compression block names an unknown syntax");
    ms_dataset_remove(ds, TAG_CREATOR);
    ms_dataset_remove(ds, TAG_SYNTAX);
    ms_dataset_remove(ds, TAG_PIXEL_VR);
    ms_dataset_remove(ds, TAG_SHA256);
    return ms_file_transcode(f, ts, vr, err);
}

static ms_status add_block(struct ms_file *f, const char *uid, ms_vr vr, const uint8_t sha[32],
                           struct ms_error *err)
{
    struct ms_dataset *ds = ms_file_dataset(f);
    ms_status st = ms_dataset_set_string(ds, TAG_CREATOR, MS_VR_LO, CREATOR, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(ds, TAG_SYNTAX, MS_VR_UI, uid, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(ds, TAG_PIXEL_VR, MS_VR_CS, ms_vr_name(vr), err);
    if (st == MS_OK)
        st = ms_dataset_set_bytes(ds, TAG_SHA256, MS_VR_OB, sha, 32, err);
    return st;
}

/* in into out, compressed with ts, with the block that undoes it (orig:
 * SHA-256 of in); uid and *vr receive in's syntax and Pixel Data VR. */
static ms_status write_compressed(const char *in, const char *out,
                                  const struct ms_transfer_syntax *ts, const uint8_t orig[32],
                                  char uid[80], ms_vr *vr, struct ms_error *err)
{
    struct ms_file *f = NULL;
    struct ms_element *px;
    ms_status st = ms_file_read(&f, in, NULL, err);

    if (st == MS_OK && !ms_file_has_dicm(f))
        st = ms_error_set(err, MS_EUNSUPPORTED, "--compress needs a Part 10 DICOM file");
    if (st == MS_OK && ms_dataset_get(ms_file_dataset(f), TAG_CREATOR))
        st = ms_error_set(err, MS_EUNSUPPORTED, "the file is already compressed by medseal");
    if (st == MS_OK) {
        snprintf(uid, 80, "%s", ms_file_transfer_syntax(f)->uid);
        px = ms_dataset_get(ms_file_dataset(f), MS_TAG_PIXEL_DATA);
        *vr = px ? ms_element_vr(px) : MS_VR_OW;
        st = ms_file_transcode(f, ts, MS_VR_NONE, err);
    }
    if (st == MS_OK)
        st = add_block(f, uid, *vr, orig, err);
    if (st == MS_OK)
        st = ms_file_write(f, out, NULL, err);
    ms_file_destroy(f);
    return st;
}

/* Prove that unprotect will give the original (SHA-256 orig) back from out. */
static ms_status check_restorable(const char *out, const char *uid, ms_vr vr,
                                  const uint8_t orig[32], uint64_t *compressed_bytes,
                                  struct ms_error *err)
{
    struct ms_file *check = NULL;
    uint8_t again[32];
    ms_status st = ms_file_read(&check, out, NULL, err);

    if (st == MS_OK)
        st = restore(check, uid, vr, err);
    if (st == MS_OK)
        st = encoded_digest(check, again, err);
    if (st == MS_OK && memcmp(orig, again, 32) != 0)
        st = ms_error_set(err, MS_EUNSUPPORTED,
                          "this file cannot be compressed and restored bit-exactly (its encoding "
                          "is not canonical): protect it without --compress");
    if (st == MS_OK)
        *compressed_bytes = ms_file_input_size(check);
    ms_file_destroy(check);
    return st;
}

ms_status msi_compress_file(const char *in, const char *out, const char *method,
                            struct ms_protect_report *rep, struct ms_error *err)
{
    const struct ms_transfer_syntax *ts = msi_compress_syntax(method);
    uint8_t orig[32];
    char uid[80];
    ms_vr vr = MS_VR_NONE;
    ms_status st;

    if (!ts)
        return ms_error_set(err, MS_EUSAGE, "unknown compression '%s' (deflate, rle, jpeg-ls)",
                            method);
    st = ms_hash_file(MS_HASH_SHA256, in, orig, err);
    if (st == MS_OK)
        st = write_compressed(in, out, ts, orig, uid, &vr, err);
    if (st == MS_OK)
        st = check_restorable(out, uid, vr, orig, &rep->compressed_bytes, err);
    if (st == MS_OK)
        rep->compress = method_of(ts);
    if (st != MS_OK)
        remove(out);
    return st;
}

ms_status msi_decompress_file(const char *in, const char *out, bool *was_compressed,
                              struct ms_protect_report *rep, struct ms_error *err)
{
    struct ms_file *f = NULL;
    struct ms_read_options ro = {0};
    char uid[80], vrname[8], tmp[4096];
    struct ms_element *sha;
    uint8_t digest[32];
    int fd;
    ms_status st;

    *was_compressed = false;
    if (ms_file_read(&f, in, &ro, NULL) != MS_OK)
        return MS_OK; /* not DICOM: nothing to undo */
    if (!ms_dataset_get_string(ms_file_dataset(f), TAG_CREATOR, 0, uid, sizeof uid) ||
        strcmp(uid, CREATOR) != 0) {
        ms_file_destroy(f);
        return MS_OK;
    }
    *was_compressed = true;
    rep->compress = method_of(ms_file_transfer_syntax(f));
    rep->compressed_bytes = ms_file_input_size(f);
    sha = ms_dataset_get(ms_file_dataset(f), TAG_SHA256);
    if (!sha || ms_element_length(sha) != 32 ||
        !ms_dataset_get_string(ms_file_dataset(f), TAG_SYNTAX, 0, uid, sizeof uid) ||
        !ms_dataset_get_string(ms_file_dataset(f), TAG_PIXEL_VR, 0, vrname, sizeof vrname)) {
        ms_file_destroy(f);
        return ms_error_set(err, MS_EMALFORMED, "compression block is incomplete");
    }
    memcpy(digest, ms_element_value(sha), 32);
    st = restore(f, uid, ms_vr_from_chars(vrname[0], vrname[1]), err);
    if (st == MS_OK)
        st = msi_atomic_open(out, tmp, sizeof tmp, &fd, err);
    if (st == MS_OK) {
        uint8_t again[32];
        st = ms_file_write_sink(f, msi_fd_sink, &fd, NULL, err);
        if (st == MS_OK)
            st = encoded_digest(f, again, err);
        if (st == MS_OK && !ms_crypto_equal(again, digest, 32))
            st = ms_error_set(err, MS_EKEY, "decompressed file differs from the original");
        if (st == MS_OK)
            st = msi_atomic_close(fd, tmp, out, true, err);
        else
            msi_atomic_close(fd, tmp, out, false, NULL);
    }
    ms_file_destroy(f);
    return st;
}
