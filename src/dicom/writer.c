/* Part 10 writer: File Meta Information (recomputed), datasets in any native
 * transfer syntax or deflated, sequences and items as they were encoded
 * (defined or undefined length), encapsulated pixel data, group lengths
 * recomputed. Output goes through a small buffer to a sink; large values are
 * handed to the sink directly. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

#define OUTBUF 65536
#define IMPLEMENTATION_CLASS_UID "2.25.271676020165703483010609114832445954600"
#define IMPLEMENTATION_VERSION "MEDSEAL_010"

struct writer {
    struct msi_out out; /* first: large */
    bool explicit_vr;
    bool big_endian;
    struct ms_error *err;
};

#define TAG_ARGS(t) MS_TAG_GROUP(t), MS_TAG_ELEMENT(t)

static void put(struct writer *w, const void *data, size_t len)
{
    msi_out_put(&w->out, data, len);
}

static void put16(struct writer *w, uint16_t v)
{
    uint8_t b[2];
    if (w->big_endian)
        msi_wr16be(b, v);
    else
        msi_wr16le(b, v);
    put(w, b, 2);
}

static void put32(struct writer *w, uint32_t v)
{
    uint8_t b[4];
    if (w->big_endian)
        msi_wr32be(b, v);
    else
        msi_wr32le(b, v);
    put(w, b, 4);
}

static void put_tag(struct writer *w, uint32_t tag)
{
    put16(w, MS_TAG_GROUP(tag));
    put16(w, MS_TAG_ELEMENT(tag));
}

/* ---- sizes ------------------------------------------------------------------------- */

static uint64_t padded(uint64_t len) { return len + (len & 1); }

/* VR actually written: short-length VRs with values too long become UN. */
static ms_vr written_vr(const struct ms_element *el, bool explicit_vr)
{
    ms_vr vr = (ms_vr)el->vr;
    if (vr == MS_VR_NONE)
        vr = MS_VR_UN;
    if (explicit_vr && !ms_vr_has_long_length(vr) && padded(el->length) > 0xFFFF)
        return MS_VR_UN;
    return vr;
}

static uint64_t header_size(ms_vr vr, bool explicit_vr)
{
    if (!explicit_vr)
        return 8;
    return ms_vr_has_long_length(vr) ? 12 : 8;
}

static uint64_t dataset_size(const struct ms_dataset *ds, bool explicit_vr);

static uint64_t item_size(const struct ms_dataset *item, bool explicit_vr)
{
    return 8 + dataset_size(item, explicit_vr) + (item->undef ? 8 : 0);
}

/* Encoded size of an element including its header (and delimiters). */
static uint64_t element_size(const struct ms_element *el, bool explicit_vr)
{
    ms_vr vr = written_vr(el, explicit_vr);
    uint64_t size = header_size(vr, explicit_vr);

    if (el->vr == MS_VR_SQ) {
        for (uint32_t i = 0; i < el->nitems; i++)
            size += item_size(el->items[i], explicit_vr);
        return size + ((el->flags & MSI_EL_UNDEF) ? 8 : 0);
    }
    if (el->flags & MSI_EL_ENCAP) {
        for (uint32_t i = 0; i < el->nfrags; i++)
            size += 8 + padded(el->frags[i].len);
        return size + 8;
    }
    return size + padded(el->length);
}

static uint64_t dataset_size(const struct ms_dataset *ds, bool explicit_vr)
{
    uint64_t size = 0;
    for (uint32_t i = 0; i < ds->n; i++)
        size += element_size(ds->els[i], explicit_vr);
    return size;
}

/* Bytes of the elements of the same group that follow position i. */
static uint64_t group_size(const struct ms_dataset *ds, uint32_t i, bool explicit_vr)
{
    uint16_t group = MS_TAG_GROUP(ds->els[i]->tag);
    uint64_t size = 0;
    for (uint32_t k = i + 1; k < ds->n && MS_TAG_GROUP(ds->els[k]->tag) == group; k++)
        size += element_size(ds->els[k], explicit_vr);
    return size;
}

/* ---- values ------------------------------------------------------------------------- */

static void put_value(struct writer *w, const struct ms_element *el)
{
    unsigned size = ms_vr_binary_size((ms_vr)el->vr);
    uint8_t pad = ms_vr_padding((ms_vr)el->vr);

    if (w->big_endian && size > 1 && el->vr != MS_VR_UN) {
        uint8_t chunk[4096];
        uint64_t done = 0;
        if (el->vr == MS_VR_AT)
            size = 2;
        while (done < el->length) {
            uint64_t n = el->length - done;
            if (n > sizeof chunk)
                n = sizeof chunk;
            n -= n % size;
            if (n == 0) { /* trailing bytes of a ragged value */
                put(w, el->value + done, (size_t)(el->length - done));
                break;
            }
            for (uint64_t i = 0; i < n; i += size)
                for (unsigned k = 0; k < size; k++)
                    chunk[i + k] = el->value[done + i + size - 1 - k];
            put(w, chunk, (size_t)n);
            done += n;
        }
    } else if (el->length) {
        put(w, el->value, (size_t)el->length);
    }
    if (el->length & 1)
        put(w, &pad, 1);
}

static void put_header(struct writer *w, uint32_t tag, ms_vr vr, uint64_t len)
{
    put_tag(w, tag);
    if (!w->explicit_vr) {
        put32(w, (uint32_t)len);
        return;
    }
    put(w, ms_vr_name(vr), 2);
    if (ms_vr_has_long_length(vr)) {
        put16(w, 0);
        put32(w, (uint32_t)len);
    } else {
        put16(w, (uint16_t)len);
    }
}

static ms_status write_dataset(struct writer *w, const struct ms_dataset *ds);

/* Readers of Implicit VR take the VR from the dictionary (UN when unknown). */
static ms_vr dictionary_vr(uint32_t tag)
{
    const struct ms_dict_entry *d = ms_dict_find(tag);
    return d ? d->vr : MS_VR_NONE;
}

static ms_status write_sequence(struct writer *w, const struct ms_element *el)
{
    bool undef = el->flags & MSI_EL_UNDEF;
    uint64_t len = undef ? MS_UNDEFINED_LENGTH : element_size(el, w->explicit_vr) -
                                                     header_size(MS_VR_SQ, w->explicit_vr);
    ms_vr dvr = dictionary_vr(el->tag);
    ms_status st;

    if (!w->explicit_vr && dvr != MS_VR_SQ && dvr != MS_VR_UN && dvr != MS_VR_NONE)
        return ms_error_set(w->err, MS_EUNSUPPORTED,
                            "(%04X,%04X) is a sequence, Implicit VR would make it %s",
                            TAG_ARGS(el->tag), ms_vr_name(dvr));

    if (!undef && len >= MS_UNDEFINED_LENGTH)
        return ms_error_set(w->err, MS_ELIMIT, "sequence (%04X,%04X) is too long",
                            TAG_ARGS(el->tag));
    put_header(w, el->tag, MS_VR_SQ, len);
    for (uint32_t i = 0; i < el->nitems; i++) {
        const struct ms_dataset *item = el->items[i];
        uint64_t ilen = item->undef ? MS_UNDEFINED_LENGTH : dataset_size(item, w->explicit_vr);
        put_tag(w, MS_TAG_ITEM);
        put32(w, (uint32_t)ilen);
        if ((st = write_dataset(w, item)) != MS_OK)
            return st;
        if (item->undef) {
            put_tag(w, MS_TAG_ITEM_DELIM);
            put32(w, 0);
        }
    }
    if (undef) {
        put_tag(w, MS_TAG_SEQ_DELIM);
        put32(w, 0);
    }
    return MS_OK;
}

static ms_status write_fragments(struct writer *w, const struct ms_element *el)
{
    uint8_t zero = 0;
    if (!w->explicit_vr && el->tag != MS_TAG_PIXEL_DATA) /* a reader would take it for UN SQ */
        return ms_error_set(w->err, MS_EUNSUPPORTED,
                            "(%04X,%04X): fragments other than Pixel Data need an explicit VR",
                            TAG_ARGS(el->tag));
    put_header(w, el->tag, el->vr == MS_VR_OW ? MS_VR_OW : MS_VR_OB, MS_UNDEFINED_LENGTH);
    for (uint32_t i = 0; i < el->nfrags; i++) {
        put_tag(w, MS_TAG_ITEM);
        put32(w, (uint32_t)padded(el->frags[i].len));
        if (el->frags[i].len)
            put(w, el->frags[i].data, (size_t)el->frags[i].len);
        if (el->frags[i].len & 1)
            put(w, &zero, 1);
    }
    put_tag(w, MS_TAG_SEQ_DELIM);
    put32(w, 0);
    return MS_OK;
}

static ms_status write_element(struct writer *w, const struct ms_dataset *ds, uint32_t i)
{
    const struct ms_element *el = ds->els[i];
    ms_vr vr;

    if (el->vr == MS_VR_SQ)
        return write_sequence(w, el);
    if (el->flags & MSI_EL_ENCAP)
        return write_fragments(w, el);
    vr = written_vr(el, w->explicit_vr);
    if (!w->explicit_vr && el->length && dictionary_vr(el->tag) == MS_VR_SQ)
        return ms_error_set(w->err, MS_EUNSUPPORTED,
                            "(%04X,%04X) has VR %s, Implicit VR would make it a sequence",
                            TAG_ARGS(el->tag), ms_vr_name((ms_vr)el->vr));
    if (padded(el->length) >= MS_UNDEFINED_LENGTH)
        return ms_error_set(w->err, MS_ELIMIT, "(%04X,%04X) is too long", TAG_ARGS(el->tag));
    if (MS_TAG_ELEMENT(el->tag) == 0 && el->length == 4 && (el->vr == MS_VR_UL || el->vr == MS_VR_UN)) {
        uint64_t gl = group_size(ds, i, w->explicit_vr);
        put_header(w, el->tag, vr, 4);
        put32(w, (uint32_t)gl);
        return MS_OK;
    }
    put_header(w, el->tag, vr, padded(el->length));
    put_value(w, el);
    return MS_OK;
}

static ms_status write_dataset(struct writer *w, const struct ms_dataset *ds)
{
    for (uint32_t i = 0; i < ds->n; i++) {
        ms_status st = write_element(w, ds, i);
        if (st != MS_OK)
            return st;
        if (w->out.failed)
            return ms_error_set(w->err, MS_EIO, "write failed");
    }
    return MS_OK;
}

/* ---- deflate sink ----------------------------------------------------------------- */

struct deflater {
    z_stream zs;
    ms_sink_fn sink;
    void *ctx;
    uint8_t out[OUTBUF];
};

static int deflate_chunk(struct deflater *d, const void *data, size_t len, int flush_mode)
{
    d->zs.next_in = (Bytef *)data;
    d->zs.avail_in = (uInt)len;
    do {
        int zr;
        d->zs.next_out = d->out;
        d->zs.avail_out = sizeof d->out;
        zr = deflate(&d->zs, flush_mode);
        if (zr == Z_STREAM_ERROR)
            return -1;
        if (d->sink(d->ctx, d->out, sizeof d->out - d->zs.avail_out) != 0)
            return -1;
        if (zr == Z_STREAM_END)
            break;
    } while (d->zs.avail_out == 0 || d->zs.avail_in > 0);
    return 0;
}

static int deflate_sink(void *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) { /* avail_in is 32-bit */
        size_t n = len > (1u << 30) ? (1u << 30) : len;
        if (deflate_chunk(ctx, p, n, Z_NO_FLUSH) != 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

/* ---- public --------------------------------------------------------------------------- */

static ms_status encode(const struct ms_dataset *ds, const struct ms_transfer_syntax *ts,
                        ms_sink_fn sink, void *ctx, struct ms_error *err)
{
    struct writer *w = calloc(1, sizeof *w);
    ms_status st;

    if (!w)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    msi_out_init(&w->out, sink, ctx);
    w->explicit_vr = ts->explicit_vr;
    w->big_endian = ts->big_endian;
    w->err = err;
    st = write_dataset(w, ds);
    if (!msi_out_flush(&w->out) && st == MS_OK)
        st = ms_error_set(err, MS_EIO, "write failed");
    free(w);
    return st;
}

ms_status ms_dataset_write_sink(const struct ms_dataset *ds, const struct ms_transfer_syntax *ts,
                                ms_sink_fn sink, void *ctx, struct ms_error *err)
{
    struct deflater *d;
    ms_status st;

    if (!ts->deflated)
        return encode(ds, ts, sink, ctx, err);
    d = calloc(1, sizeof *d);
    if (!d)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (deflateInit2(&d->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        free(d);
        return ms_error_set(err, MS_ENOMEM, "cannot start deflate");
    }
    d->sink = sink;
    d->ctx = ctx;
    st = encode(ds, ms_ts_explicit_le(), deflate_sink, d, err);
    if (st == MS_OK && deflate_chunk(d, NULL, 0, Z_FINISH) != 0)
        st = ms_error_set(err, MS_EIO, "write failed");
    deflateEnd(&d->zs);
    free(d);
    return st;
}

/* Encapsulated pixel data needs an encapsulated syntax and vice versa. */
static ms_status check_syntax(const struct ms_file *f, struct ms_error *err)
{
    struct ms_element *px = ms_dataset_get(f->ds, MS_TAG_PIXEL_DATA);
    if (px && (px->flags & MSI_EL_ENCAP) && !f->ts->encapsulated)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "encapsulated Pixel Data cannot be written as %s", f->ts->name);
    if (px && !(px->flags & MSI_EL_ENCAP) && f->ts->encapsulated)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "native Pixel Data cannot be written as %s without a codec",
                            f->ts->name);
    return MS_OK;
}

/* Make the File Meta Information agree with the dataset and syntax. */
static ms_status update_meta(struct ms_file *f, struct ms_error *err)
{
    static const uint8_t version[2] = {0, 1};
    char uid[80];
    ms_status st = MS_OK;
    struct ms_dataset *m = f->meta;

    if (!ms_dataset_get(m, MS_TAG(0x0002, 0x0000)))
        st = ms_dataset_set_int(m, MS_TAG(0x0002, 0x0000), MS_VR_UL, 0, err);
    if (st == MS_OK && !ms_dataset_get(m, MS_TAG(0x0002, 0x0001)))
        st = ms_dataset_set_bytes(m, MS_TAG(0x0002, 0x0001), MS_VR_OB, version, 2, err);
    if (st == MS_OK && !ms_dataset_get(m, MS_TAG(0x0002, 0x0002)) &&
        ms_dataset_get_string(f->ds, MS_TAG(0x0008, 0x0016), 0, uid, sizeof uid))
        st = ms_dataset_set_string(m, MS_TAG(0x0002, 0x0002), MS_VR_UI, uid, err);
    if (st == MS_OK && !ms_dataset_get(m, MS_TAG(0x0002, 0x0003)) &&
        ms_dataset_get_string(f->ds, MS_TAG(0x0008, 0x0018), 0, uid, sizeof uid))
        st = ms_dataset_set_string(m, MS_TAG(0x0002, 0x0003), MS_VR_UI, uid, err);
    if (st == MS_OK &&
        (!ms_dataset_get_string(m, MS_TAG_TRANSFER_SYNTAX, 0, uid, sizeof uid) ||
         strcmp(uid, f->ts->uid) != 0))
        st = ms_dataset_set_string(m, MS_TAG_TRANSFER_SYNTAX, MS_VR_UI, f->ts->uid, err);
    if (st == MS_OK && !ms_dataset_get(m, MS_TAG(0x0002, 0x0012)))
        st = ms_dataset_set_string(m, MS_TAG(0x0002, 0x0012), MS_VR_UI, IMPLEMENTATION_CLASS_UID,
                                   err);
    if (st == MS_OK && !ms_dataset_get(m, MS_TAG(0x0002, 0x0013)))
        st = ms_dataset_set_string(m, MS_TAG(0x0002, 0x0013), MS_VR_SH, IMPLEMENTATION_VERSION,
                                   err);
    return st;
}

ms_status ms_file_write_sink(struct ms_file *f, ms_sink_fn sink, void *ctx,
                             const struct ms_write_options *opt, struct ms_error *err)
{
    static const uint8_t zeros[128];
    ms_status st = check_syntax(f, err);

    if (st != MS_OK)
        return st;
    if (!(opt && opt->no_preamble)) {
        if (!(opt && opt->keep_meta) && (st = update_meta(f, err)) != MS_OK)
            return st;
        if (sink(ctx, f->has_preamble ? f->preamble : zeros, 128) != 0 ||
            sink(ctx, "DICM", 4) != 0)
            return ms_error_set(err, MS_EIO, "write failed");
        st = encode(f->meta, ms_ts_explicit_le(), sink, ctx, err);
        if (st != MS_OK)
            return st;
    }
    return ms_dataset_write_sink(f->ds, f->ts, sink, ctx, err);
}

ms_status ms_file_write(struct ms_file *f, const char *path, const struct ms_write_options *opt,
                        struct ms_error *err)
{
    char tmp[4096];
    int fd;
    ms_status st = msi_atomic_open(path, tmp, sizeof tmp, &fd, err);

    if (st != MS_OK)
        return st;
    st = ms_file_write_sink(f, msi_fd_sink, &fd, opt, err);
    if (st != MS_OK) {
        msi_atomic_close(fd, tmp, path, false, NULL);
        return st;
    }
    return msi_atomic_commit(fd, tmp, path, true, !(opt && opt->no_fsync), err);
}
