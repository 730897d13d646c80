/* Internals shared by the DICOM-based protection schemes (pixel-gcm, chaos,
 * ecb, otp, stego) and cbc-slices: the parsed input file with the byte
 * extents of its top-level elements, the medseal private block
 * (docs/formats/protected-dicom.md), an output writer that splices the input
 * (temporary file, renamed only when the scheme says every check passed),
 * key loading, sample access, the logistic-map cipher and the identifying
 * attributes. Not installed. */
#ifndef MEDSEAL_PROTECT_INTERNAL_H
#define MEDSEAL_PROTECT_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/pixel.h"
#include "protect/scheme.h"

/* ---- the parsed input ------------------------------------------------------------ */

/** Byte range [off, off + len) of the input. */
struct msi_extent {
    uint64_t off, len;
};

/** The private block medseal adds: group, creator, its elements. */
#define MSI_PB_GROUP 0x7FD1u
#define MSI_PB_CREATOR "MEDSEAL PROTECT 1"
#define MSI_PB_SCHEME 0x10u  /* LO scheme name */
#define MSI_PB_VERSION 0x11u /* LO format version of the scheme */
#define MSI_PB_PARAMS 0x12u  /* LT parameters, for people */
#define MSI_PB_BLOB 0x13u    /* OB binary parameters (little-endian, per scheme) */
#define MSI_PB_MAX_BLOB (64u << 20)

/** A medseal private block found in a file. */
struct msi_pblock {
    char scheme[32];
    unsigned version;
    char params[512];
    const uint8_t *blob; /* borrowed from the mapping */
    uint64_t blob_len;
    struct msi_extent ext[5]; /* the block's elements, in file order */
    size_t next;
};

/** A DICOM input opened by a scheme: the mapping, the parsed tree and the
 * extents a scheme needs to splice it. */
struct msi_pfile {
    struct ms_file *file;
    struct ms_dataset *ds;
    const uint8_t *map;
    uint64_t size;
    const struct ms_transfer_syntax *ts;
    uint64_t *top_off;   /* offsets of the top-level elements, n + 1 (last = end) */
    size_t ntop;
    struct ms_element *px; /* Pixel Data, NULL when absent */
    size_t px_index;       /* its index among the top-level elements */
    uint64_t px_value_off; /* native: value bytes [px_value_off, + px_value_len) */
    uint64_t px_value_len;
    struct ms_pixel_info pi;
    bool has_pi;
    bool has_block;
    struct msi_pblock pb;
};

/** Map and parse path. Refuses deflated files (their bytes cannot be spliced)
 * and files whose top-level elements do not tile the input. On success pf
 * owns the mapping and the tree (msi_pfile_close()). Errors: those of
 * ms_file_read(), MS_EUNSUPPORTED. */
ms_status msi_pfile_open(struct msi_pfile *pf, const char *path, struct ms_error *err);
void msi_pfile_close(struct msi_pfile *pf);
/** The bytes [off, off + len) of the input have been read for good: drop
 * their pages from the process (memory stays bounded on big files). */
void msi_pfile_done(const struct msi_pfile *pf, uint64_t off, uint64_t len);

/** Pixel Data must be present and its attributes consistent (pi filled);
 * encapsulated data is allowed only when allow_encap. */
ms_status msi_pfile_need_pixels(struct msi_pfile *pf, bool allow_encap, const char *scheme,
                                struct ms_error *err);

/** msi_pfile_open() for one of scheme's passes: to protect, the input must
 * not carry a medseal block yet (msi_pfile_refuse_protected()); to
 * unprotect, it must carry scheme's block with at least blob_min blob bytes
 * (msi_pfile_need_block()); then msi_pfile_need_pixels(). pf may be left
 * open on failure: msi_pfile_close() it in any case (safe after a failed
 * open). Errors: those of the four. */
ms_status msi_pfile_open_for(struct msi_pfile *pf, const char *path, const char *scheme,
                             bool protect, uint64_t blob_min, bool allow_encap,
                             struct ms_error *err);

/** Header size (8 or 12) of the element whose tag is at input offset off,
 * and where its length field is (offset in the header, 2 or 4 bytes). */
unsigned msi_pfile_header(const struct msi_pfile *pf, uint64_t off, unsigned *len_at,
                          unsigned *len_size);

/** Byte extent of top-level element i (header and value). */
struct msi_extent msi_pfile_extent(const struct msi_pfile *pf, size_t i);

/** Offset where a new top-level element with this tag goes: the start of the
 * first top-level element with a greater tag, or the end of the input. */
uint64_t msi_pfile_insert_point(const struct msi_pfile *pf, uint32_t tag);

/** Error when pf already carries a medseal block (protecting twice). */
ms_status msi_pfile_refuse_protected(const struct msi_pfile *pf, struct ms_error *err);

/** Error unless pf carries a block of scheme with version 1; blob_min is the
 * fewest blob bytes the scheme reads. */
ms_status msi_pfile_need_block(const struct msi_pfile *pf, const char *scheme,
                               uint64_t blob_min, struct ms_error *err);

/* ---- the private block --------------------------------------------------------------- */

/** A private block to insert: its encoded elements and where they go. */
struct msi_pblock_out {
    uint8_t *bytes;       /* creator element, then the data elements */
    size_t creator_len;   /* bytes of the creator element at the start */
    size_t len;           /* all bytes */
    uint64_t creator_at;  /* input offsets where the two runs go */
    uint64_t data_at;
    size_t blob_pos;      /* offset of the blob value within bytes */
};

/** Encode a block for pf's transfer syntax: scheme, version 1, params text
 * (at most 1024 bytes) and blob. out->bytes is malloc'd (msi_pblock_free()).
 * Errors: MS_EUNSUPPORTED (no free private block number in the group),
 * MS_ELIMIT, MS_ENOMEM. */
ms_status msi_pblock_encode(const struct msi_pfile *pf, const char *scheme, const char *params,
                            const uint8_t *blob, size_t blob_len, struct msi_pblock_out *out,
                            struct ms_error *err);
void msi_pblock_free(struct msi_pblock_out *out);

/** True when the file at path carries a block of this scheme (cheap: the
 * header is parsed, the pixel data skipped). */
bool msi_pblock_identify(const char *path, const char *scheme);

/* ---- output --------------------------------------------------------------------------- */

/** An output file written through a temporary next to it. */
struct msi_wr {
    int fd;
    char tmp[PATH_MAX + 16];
    const char *path;
    uint64_t pos;
    struct ms_hash *hash; /* when set, output bytes are also hashed */
    struct msi_out out;
};

/** Open path's temporary. w is heap-allocated by the caller (64 KiB buffer). */
ms_status msi_wr_open(struct msi_wr *w, const char *path, struct ms_error *err);
void msi_wr_put(struct msi_wr *w, const void *data, size_t len);
/** Overwrite len bytes at absolute output offset at (already written). */
ms_status msi_wr_patch(struct msi_wr *w, uint64_t at, const void *data, size_t len,
                       struct ms_error *err);
/** ok: flush, fsync, rename over path; !ok: remove the temporary. Returns the
 * first write error when ok. */
ms_status msi_wr_close(struct msi_wr *w, bool ok, struct ms_error *err);
/** msi_wr_close() at the end of a pass that came to st: the output is kept
 * only when st is MS_OK. Returns st, or the close's error when st is MS_OK. */
ms_status msi_wr_finish(struct msi_wr *w, ms_status st, struct ms_error *err);

/** One change to the input while copying it: [off, off + del) is replaced
 * by ins (ins_len bytes, may be 0). */
struct msi_edit {
    uint64_t off, del;
    const uint8_t *ins;
    size_t ins_len;
    uint64_t out_at; /* set by msi_copy_range(): output offset of ins */
};

/** Copy input [from, to) to w applying the edits that start in it (sorted,
 * non-overlapping; an edit must lie wholly inside the range). When hash is
 * not NULL the bytes written are also hashed there, except the inserted
 * ones (so a protected file and its original hash alike). */
ms_status msi_copy_range(struct msi_wr *w, const struct msi_pfile *pf, uint64_t from,
                         uint64_t to, struct msi_edit *edits, size_t nedits,
                         struct ms_hash *hash, struct ms_error *err);

/** Sort edits by offset. */
void msi_edits_sort(struct msi_edit *edits, size_t n);

/** Edits that delete pf's private block. Returns how many (<= 5). */
size_t msi_pblock_removal(const struct msi_pfile *pf, struct msi_edit *edits);

/** Edits that insert a block. Returns how many (2). */
size_t msi_pblock_insertion(const struct msi_pblock_out *pb, struct msi_edit *edits);

/** A scheme's pass over its input (the ctx it was given), writing to w. When
 * pixels is not NULL the pass hashes there the pixel bytes the content check
 * covers. */
typedef ms_status (*msi_pass_fn)(void *ctx, struct msi_wr *w, struct ms_hash *pixels,
                                 struct ms_error *err);

/** What msi_write_pass() checks before it keeps an output (chaos, ecb):
 * msi_content_tag(mac, label, hdr, SHA-256 of the hashed pixel bytes) must
 * equal expect. All borrowed. */
struct msi_check {
    const uint8_t *mac;
    const char *label;
    const uint8_t *hdr;
    const uint8_t *expect;
};

/** Write out (through a temporary) with pass; with check (NULL: none), the
 * output is kept only when the check holds. Sets rep's byte counts once out
 * is open. Errors: those of msi_wr_open() and of pass, MS_EKEY (check
 * failed, message says so), MS_ENOMEM; on error nothing is left at out. */
ms_status msi_write_pass(const struct msi_pfile *pf, const char *out, msi_pass_fn pass,
                         void *ctx, const struct msi_check *check,
                         struct ms_protect_report *rep, struct ms_error *err);

/* ---- keys ---------------------------------------------------------------------------- */

/** Read -k into key (wiped by the caller). Errors: MS_EUSAGE (no -k), those
 * of ms_keyfile_read(). */
ms_status msi_load_key(const struct ms_protect_options *opt, const char *scheme,
                       uint8_t key[MS_AES256_KEY_LEN], struct ms_error *err);

/** HKDF-SHA256(ikm, salt, "medseal " label) -> out[32]. */
ms_status msi_subkey(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                     const char *label, uint8_t out[MS_AES256_KEY_LEN], struct ms_error *err);

/** The content check of the unauthenticated schemes (chaos, ecb, stego):
 * HMAC-SHA256(mac_key, label || header_digest || SHA-256(pixels)). */
ms_status msi_content_tag(const uint8_t mac_key[MS_AES256_KEY_LEN], const char *label,
                          const uint8_t header_digest[MS_SHA256_LEN],
                          const uint8_t pixel_digest[MS_SHA256_LEN], uint8_t tag[32],
                          struct ms_error *err);

/** SHA-256 of the input without the Pixel Data value bytes (native) or
 * without the fragment payloads (encapsulated) and without the edits'
 * deleted ranges (a protected file's block). */
ms_status msi_header_digest(const struct msi_pfile *pf, const struct msi_edit *skip, size_t nskip,
                            uint8_t out[MS_SHA256_LEN], struct ms_error *err);

/* ---- samples -------------------------------------------------------------------------- */

/** Access to the stored-value field of native samples of one frame. A
 * "pixel" here is the unit whose samples stay together: one pixel, or for
 * YBR_FULL_422 / YBR_PARTIAL_422 a horizontal pair of pixels (four samples
 * Y1 Y2 Cb Cr). pixels * spp * bytes is exactly the frame's size. */
struct msi_samples {
    unsigned bytes;     /* 1, 2, 4 */
    bool big_endian;
    unsigned shift;     /* high_bit + 1 - bits_stored */
    unsigned bits;      /* bits stored */
    uint32_t mask;      /* (2^bits - 1) << shift */
    uint64_t pixels;    /* rows * columns (4:2:2: rows * columns / 2) */
    unsigned spp;       /* samples per unit: 1, 3 (4:2:2: 4) */
    unsigned ppu;       /* pixels per unit, each starting with its own sample 0, 1, ..
                           (1; 4:2:2: 2, Y1 and Y2) */
    bool planar;
    unsigned bits_alloc;
};

/** Fill s from pf->pi, after checking that every sample it addresses lies
 * inside a frame (pixels * spp * bytes == frame_bytes) and every frame inside
 * the Pixel Data value. On failure s is zeroed. Errors: MS_EUNSUPPORTED
 * (1-bit or encapsulated data, a 4:2:2 image that is planar or has an odd
 * number of columns, a frame size the samples do not make), MS_EMALFORMED
 * (Pixel Data shorter than its frames). */
ms_status msi_samples_init(struct msi_samples *s, const struct msi_pfile *pf, const char *scheme,
                           struct ms_error *err);
/** Raw word of sample (pixel p, channel c) of a frame buffer. */
uint32_t msi_sample_get(const struct msi_samples *s, const uint8_t *frame, uint64_t p, unsigned c);
void msi_sample_put(const struct msi_samples *s, uint8_t *frame, uint64_t p, unsigned c,
                    uint32_t word);

/* ---- the logistic map cipher (chaos.c; also used by stego) --------------------------- */

/** What the bits above High Bit hold, over all samples of a frame: a mask of
 * the fills consistent with it (both for an all-zero signed image). */
#define MSI_FILL_ZERO 1u /* all zero */
#define MSI_FILL_SIGN 2u /* copies of the sign bit (bit High Bit) */
unsigned msi_samples_fill(const struct msi_samples *s, const uint8_t *frame);
/** msi_samples_fill() over every native frame of pf. */
unsigned msi_samples_fill_all(const struct msi_pfile *pf, const struct msi_samples *s);
/** Number of bits above High Bit in a word. */
unsigned msi_samples_high_bits(const struct msi_samples *s);
/** Set the bits above High Bit of every sample to zero, or to copies of the
 * sign bit when sign_extend. */
void msi_samples_set_high(const struct msi_samples *s, uint8_t *frame, bool sign_extend);

/** Called on each frame (in place) by msi_frames_pass(). */
typedef ms_status (*msi_frame_fn)(void *ctx, uint8_t *frame, uint32_t index, struct ms_error *err);

/** Write pf to w: input up to the Pixel Data value with the edits, each
 * native frame through fn (then hashed into hash when given), the bytes after
 * the last frame as they are (also hashed), the rest with the edits. Memory:
 * one frame. */
ms_status msi_frames_pass(struct msi_wr *w, const struct msi_pfile *pf, struct msi_edit *edits,
                          size_t nedits, msi_frame_fn fn, void *ctx, struct ms_hash *hash,
                          struct ms_error *err);

/** The logistic-map cipher: state, key, scratch for one frame. */
struct msi_chaos {
    double x, mu;
    const struct msi_samples *s;
    uint32_t *perm; /* pixels */
    uint32_t *vals; /* pixels * spp stored values */
    uint32_t *tmp;
};

/** Check the key: 0 < x0 < 1 and 3.57 <= mu <= 4. Errors: MS_EUSAGE. */
ms_status msi_chaos_check_key(double x0, double mu, struct ms_error *err);
/** Start the cipher for frames described by s (borrowed). Errors: MS_ENOMEM. */
ms_status msi_chaos_init(struct msi_chaos *c, double x0, double mu, const struct msi_samples *s,
                         struct ms_error *err);
void msi_chaos_free(struct msi_chaos *c);
/** Encrypt or decrypt one frame in place; the map runs on from frame to
 * frame. Errors: MS_EKEY (the map fell onto a fixed point: degenerate key). */
ms_status msi_chaos_frame(struct msi_chaos *c, uint8_t *frame, ms_cipher_dir dir,
                          struct ms_error *err);
/** Key bytes for key derivation: the two doubles, IEEE little-endian. */
void msi_chaos_key_bytes(double x0, double mu, uint8_t out[16]);

/* ---- identifying attributes (idattrs.c; otp and stego) ------------------------------- */

/** The identifying text attributes of pf taken out: edits that empty their
 * values in the output, and the text that restores them (see
 * docs/protect.md, "Patient metadata text"). */
struct msi_idattrs {
    struct msi_edit *edits;
    size_t nedits;
    uint8_t *hdr;      /* the emptied element headers, the edits point here */
    char *text;        /* NUL-terminated, malloc'd; wiped by msi_idattrs_free() */
    size_t text_len;
    size_t count;      /* attributes taken */
};

ms_status msi_idattrs_take(const struct msi_pfile *pf, struct msi_idattrs *ia,
                           struct ms_error *err);
void msi_idattrs_free(struct msi_idattrs *ia);

/** Parse text and produce the edits that put the values back into pf (a
 * protected file whose attributes are empty). Edits and their bytes are
 * malloc'd in ia (text is not kept). Errors: MS_EMALFORMED (text not of this
 * format, an attribute absent or not empty in pf). */
ms_status msi_idattrs_restore(const struct msi_pfile *pf, const char *text, size_t len,
                              struct msi_idattrs *ia, struct ms_error *err);

/** ia's edits and nmore others (the private block's insertion or removal)
 * in one sorted array: *out is malloc'd (free() it), *n its length. Errors:
 * MS_ENOMEM (*out NULL). */
ms_status msi_idattrs_edits(const struct msi_idattrs *ia, const struct msi_edit *more,
                            size_t nmore, struct msi_edit **out, size_t *n, struct ms_error *err);

/** How an unprotect of otp or stego writes its output. */
struct msi_restore {
    const char *text; /* the patient metadata text to put back (borrowed) */
    size_t text_len;
    /** Write the input to w with these edits (the attributes back, the block out). */
    ms_status (*pass)(void *ctx, struct msi_wr *w, struct msi_edit *edits, size_t nedits,
                      struct ms_error *err);
    /** The tag of the output from its SHA-256. */
    ms_status (*tag)(void *ctx, const uint8_t digest[MS_SHA256_LEN], uint8_t tag[32],
                     struct ms_error *err);
    void *ctx;
    const uint8_t *expect; /* the tag stored at protect, 32 bytes */
};

/** Write out from pf as r says; the output is kept only when its tag equals
 * r->expect. Sets rep->bytes_out. Errors: those of msi_idattrs_restore(),
 * msi_wr_open() and the callbacks, MS_EKEY (the tag differs), MS_ENOMEM. */
ms_status msi_write_restored(const struct msi_pfile *pf, const char *out,
                             const struct msi_restore *r, struct ms_protect_report *rep,
                             struct ms_error *err);

#endif
