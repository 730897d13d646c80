/* The medseal private block (docs/formats/protected-dicom.md): private
 * creator "MEDSEAL PROTECT 1" in group 7FD1, holding the scheme name, the
 * format version, a parameters text and the scheme's binary parameters (IVs,
 * tags, salts). Encoded in the file's own transfer syntax and inserted where
 * the tag order puts it, so the original bytes come back by removing it. */
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"

#define MAX_PARAMS 1024u

static void put16(uint8_t *p, uint16_t v, bool be)
{
    if (be)
        msi_wr16be(p, v);
    else
        msi_wr16le(p, v);
}

static void put32(uint8_t *p, uint32_t v, bool be)
{
    if (be)
        msi_wr32be(p, v);
    else
        msi_wr32le(p, v);
}

/* Bytes an element of len value bytes takes (value padded to even). */
static size_t element_size(ms_vr vr, size_t len, bool explicit_vr)
{
    size_t hdr = (explicit_vr && ms_vr_has_long_length(vr)) ? 12 : 8;
    return hdr + len + (len & 1);
}

/* Encode one element at p; returns the bytes written and the value's offset
 * within them in *value_at. */
static size_t put_element(uint8_t *p, const struct ms_transfer_syntax *ts, uint32_t tag, ms_vr vr,
                          const void *value, size_t len, size_t *value_at)
{
    bool be = ts->big_endian;
    size_t padded = len + (len & 1), h;
    const char *name = ms_vr_name(vr);

    put16(p, MS_TAG_GROUP(tag), be);
    put16(p + 2, MS_TAG_ELEMENT(tag), be);
    if (!ts->explicit_vr) {
        put32(p + 4, (uint32_t)padded, be);
        h = 8;
    } else if (ms_vr_has_long_length(vr)) {
        p[4] = (uint8_t)name[0];
        p[5] = (uint8_t)name[1];
        p[6] = p[7] = 0;
        put32(p + 8, (uint32_t)padded, be);
        h = 12;
    } else {
        p[4] = (uint8_t)name[0];
        p[5] = (uint8_t)name[1];
        put16(p + 6, (uint16_t)padded, be);
        h = 8;
    }
    if (len)
        memcpy(p + h, value, len);
    if (len & 1)
        p[h + len] = ms_vr_padding(vr);
    if (value_at)
        *value_at = h;
    return h + padded;
}

/* First block number whose creator slot and element range are free. */
static unsigned free_block(const struct msi_pfile *pf)
{
    for (unsigned xx = 0x10; xx <= 0xFF; xx++) {
        bool used = ms_dataset_get(pf->ds, MS_TAG(MSI_PB_GROUP, xx)) != NULL;
        for (size_t i = 0; i < pf->ntop && !used; i++) {
            uint32_t t = ms_element_tag(ms_dataset_at(pf->ds, i));
            used = MS_TAG_GROUP(t) == MSI_PB_GROUP && (MS_TAG_ELEMENT(t) >> 8) == xx;
        }
        if (!used)
            return xx;
    }
    return 0;
}

ms_status msi_pblock_encode(const struct msi_pfile *pf, const char *scheme, const char *params,
                            const uint8_t *blob, size_t blob_len, struct msi_pblock_out *out,
                            struct ms_error *err)
{
    const struct ms_transfer_syntax *ts = pf->ts;
    size_t plen = strlen(params), slen = strlen(scheme), total, at;
    unsigned xx = free_block(pf);
    uint8_t *p;

    memset(out, 0, sizeof *out);
    if (!xx)
        return ms_error_set(err, MS_EUNSUPPORTED, "no free private block in group %04X",
                            MSI_PB_GROUP);
    if (plen > MAX_PARAMS || slen > 64 || blob_len > MSI_PB_MAX_BLOB)
        return ms_error_set(err, MS_ELIMIT, "private block parameters too large");
    total = element_size(MS_VR_LO, strlen(MSI_PB_CREATOR), ts->explicit_vr) +
            element_size(MS_VR_LO, slen, ts->explicit_vr) +
            element_size(MS_VR_LO, 1, ts->explicit_vr) +
            element_size(MS_VR_LT, plen, ts->explicit_vr) +
            element_size(MS_VR_OB, blob_len, ts->explicit_vr);
    p = malloc(total);
    if (!p)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    out->bytes = p;
    at = put_element(p, ts, MS_TAG(MSI_PB_GROUP, xx), MS_VR_LO, MSI_PB_CREATOR,
                     strlen(MSI_PB_CREATOR), NULL);
    out->creator_len = at;
    at += put_element(p + at, ts, MS_TAG(MSI_PB_GROUP, (xx << 8) | MSI_PB_SCHEME), MS_VR_LO,
                      scheme, slen, NULL);
    at += put_element(p + at, ts, MS_TAG(MSI_PB_GROUP, (xx << 8) | MSI_PB_VERSION), MS_VR_LO,
                      "1", 1, NULL);
    at += put_element(p + at, ts, MS_TAG(MSI_PB_GROUP, (xx << 8) | MSI_PB_PARAMS), MS_VR_LT,
                      params, plen, NULL);
    {
        size_t vat = 0;
        size_t n = put_element(p + at, ts, MS_TAG(MSI_PB_GROUP, (xx << 8) | MSI_PB_BLOB),
                               MS_VR_OB, blob, blob_len, &vat);
        out->blob_pos = at + vat;
        at += n;
    }
    out->len = at;
    out->creator_at = msi_pfile_insert_point(pf, MS_TAG(MSI_PB_GROUP, xx));
    out->data_at = msi_pfile_insert_point(pf, MS_TAG(MSI_PB_GROUP, (xx << 8) | MSI_PB_BLOB));
    return MS_OK;
}

void msi_pblock_free(struct msi_pblock_out *out)
{
    free(out->bytes);
    memset(out, 0, sizeof *out);
}

/* Value of a top-level element as a trimmed string; false if too long. */
static bool trimmed(const struct ms_element *el, char *buf, size_t cap)
{
    const uint8_t *v = el ? ms_element_value(el) : NULL;
    uint64_t n = v ? ms_element_length(el) : 0;
    if (!v || n >= cap)
        return false;
    memcpy(buf, v, (size_t)n);
    while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\0'))
        n--;
    buf[n] = '\0';
    return true;
}

bool msi_pblock_identify(const char *path, const char *scheme)
{
    struct ms_read_options ro = {0};
    struct ms_file *f = NULL;
    const struct ms_dataset *ds;
    bool found = false;
    char buf[80];

    ro.stop_before_pixels = true;
    if (ms_file_read(&f, path, &ro, NULL) != MS_OK)
        return false;
    ds = ms_file_dataset(f);
    for (unsigned xx = 0x10; xx <= 0xFF; xx++) {
        if (!trimmed(ms_dataset_get(ds, MS_TAG(MSI_PB_GROUP, xx)), buf, sizeof buf) ||
            strcmp(buf, MSI_PB_CREATOR) != 0)
            continue;
        found = trimmed(ms_dataset_get(ds, MS_TAG(MSI_PB_GROUP, (xx << 8) | MSI_PB_SCHEME)), buf,
                        sizeof buf) &&
                strcmp(buf, scheme) == 0;
        break;
    }
    ms_file_destroy(f);
    return found;
}
