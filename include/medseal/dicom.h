/* medseal — DICOM Part 10 files, datasets and elements (PS3.5, PS3.10).
 *
 * A file is read into a tree of datasets. Values are kept in little-endian
 * byte order whatever the transfer syntax (big-endian files are swapped on
 * read and on write). Values of files read from disk point into a read-only
 * mapping of the file: nothing is copied unless it must be (deflated or
 * big-endian input). All objects are owned by their struct ms_file or by the
 * dataset created with ms_dataset_create(); element and item pointers are
 * borrowed and stay valid until the owner is destroyed or the element is
 * removed or replaced.
 *
 * Thread safety: distinct objects may be used from distinct threads; one
 * object must not be used from two threads at once. */
#ifndef MEDSEAL_DICOM_H
#define MEDSEAL_DICOM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tags ---------------------------------------------------------------- */

#define MS_TAG(g, e) ((((uint32_t)(g)) << 16) | (uint32_t)(e))
#define MS_TAG_GROUP(t) ((uint16_t)((t) >> 16))
#define MS_TAG_ELEMENT(t) ((uint16_t)((t)&0xFFFFu))

#define MS_TAG_ITEM MS_TAG(0xFFFE, 0xE000)
#define MS_TAG_ITEM_DELIM MS_TAG(0xFFFE, 0xE00D)
#define MS_TAG_SEQ_DELIM MS_TAG(0xFFFE, 0xE0DD)
#define MS_TAG_PIXEL_DATA MS_TAG(0x7FE0, 0x0010)
#define MS_TAG_TRANSFER_SYNTAX MS_TAG(0x0002, 0x0010)
#define MS_TAG_SPECIFIC_CHARSET MS_TAG(0x0008, 0x0005)

/** Length value meaning "undefined length" (PS3.5 7.1). */
#define MS_UNDEFINED_LENGTH 0xFFFFFFFFu

/* ---- value representations ---------------------------------------------- */

/** Value representation. MS_VR_NONE is used for items and delimiters. */
typedef enum ms_vr {
    MS_VR_NONE = 0,
    MS_VR_AE, MS_VR_AS, MS_VR_AT, MS_VR_CS, MS_VR_DA, MS_VR_DS, MS_VR_DT,
    MS_VR_FD, MS_VR_FL, MS_VR_IS, MS_VR_LO, MS_VR_LT, MS_VR_OB, MS_VR_OD,
    MS_VR_OF, MS_VR_OL, MS_VR_OV, MS_VR_OW, MS_VR_PN, MS_VR_SH, MS_VR_SL,
    MS_VR_SQ, MS_VR_SS, MS_VR_ST, MS_VR_SV, MS_VR_TM, MS_VR_UC, MS_VR_UI,
    MS_VR_UL, MS_VR_UN, MS_VR_UR, MS_VR_US, MS_VR_UT, MS_VR_UV,
    MS_VR_COUNT
} ms_vr;

/** Two-letter name of a VR ("OB"); "--" for MS_VR_NONE. Static string. */
const char *ms_vr_name(ms_vr vr);
/** VR from its two letters, MS_VR_NONE if they name no VR. */
ms_vr ms_vr_from_chars(char a, char b);
/** True for VRs with a 4-byte length in Explicit VR (OB, OD, OF, OL, OV,
 * OW, SQ, SV, UC, UN, UR, UT, UV). */
bool ms_vr_has_long_length(ms_vr vr);
/** True for VRs whose values are character strings. */
bool ms_vr_is_string(ms_vr vr);
/** Size of one binary value (2 for US, 8 for FD, ...), 0 for strings, SQ, UN. */
unsigned ms_vr_binary_size(ms_vr vr);
/** Byte that pads odd-length values: space for strings, NUL otherwise. */
uint8_t ms_vr_padding(ms_vr vr);

/* ---- data dictionary (generated from PS3.6) ----------------------------- */

/** One dictionary entry. vr2 is the alternative VR of "US or SS" / "OB or OW"
 * entries (MS_VR_NONE otherwise). */
struct ms_dict_entry {
    uint32_t tag;
    uint32_t mask;        /* bits that must match: 0xFFFFFFFF unless a repeating group */
    ms_vr vr;
    ms_vr vr2;
    ms_vr vr3;
    const char *vm;       /* "1", "1-n", "2-2n", ... */
    const char *keyword;  /* "PatientName" */
    const char *name;     /* "Patient's Name" */
    bool retired;
};

/** Entry for a tag, or NULL (private tags, unknown tags). Group lengths
 * (gggg,0000) and private creators (gggg,00xx odd gggg) get synthetic entries. */
const struct ms_dict_entry *ms_dict_find(uint32_t tag);
/** VR of private element tag (gggg,xxee) whose Private Creator (gggg,00xx)
 * holds creator, from the private dictionary; MS_VR_NONE when unknown. */
ms_vr ms_dict_private_vr(const char *creator, uint32_t tag);
/** Entry for a keyword ("PatientName"), or NULL. */
const struct ms_dict_entry *ms_dict_find_keyword(const char *keyword);
/** Parse "PatientName", "(0010,0010)", "0010,0010" or "00100010" into a tag.
 * Returns false when the text names no tag. */
bool ms_tag_parse(const char *text, uint32_t *tag);

/* ---- transfer syntaxes ---------------------------------------------------- */

/** A transfer syntax (PS3.5 10, Annex A). */
struct ms_transfer_syntax {
    const char *uid;
    const char *name;
    bool explicit_vr;
    bool big_endian;
    bool deflated;
    bool encapsulated;
    bool lossless; /* for encapsulated syntaxes: decompression is exact */
};

/** Known transfer syntax for a UID (trailing NULs/spaces ignored), or NULL. */
const struct ms_transfer_syntax *ms_ts_find(const char *uid);
/** The three basic syntaxes. */
const struct ms_transfer_syntax *ms_ts_implicit_le(void);
const struct ms_transfer_syntax *ms_ts_explicit_le(void);
const struct ms_transfer_syntax *ms_ts_explicit_be(void);
const struct ms_transfer_syntax *ms_ts_deflated(void);

/** Name of a well-known UID (SOP classes, transfer syntaxes), or NULL. */
const char *ms_uid_name(const char *uid);

/* ---- objects ------------------------------------------------------------ */

struct ms_file;
struct ms_dataset;
struct ms_element;

/** Warning callback: a tolerable defect at a byte offset. */
typedef void (*ms_warn_fn)(void *ctx, uint64_t offset, const char *msg);

/** Options of the reader; a zeroed struct (or NULL) gives the defaults. */
struct ms_read_options {
    unsigned max_depth;       /* sequence nesting limit; 0 = 64 */
    uint64_t max_value;       /* largest single value accepted; 0 = 4 GiB */
    bool stop_before_pixels;  /* do not read (7FE0,0010) and what follows */
    bool require_dicm;        /* reject files without a 128-byte preamble + DICM */
    ms_warn_fn warn;          /* may be NULL */
    void *warn_ctx;
};

/** Read a Part 10 file (or a headerless dataset: the transfer syntax is then
 * guessed as pydicom and DCMTK do). On success *out owns everything.
 * Errors: MS_EIO (cannot open), MS_EMALFORMED (offset and cause in err),
 * MS_ELIMIT, MS_EUNSUPPORTED, MS_ENOMEM. On failure *out is NULL. */
MS_NODISCARD ms_status ms_file_read(struct ms_file **out, const char *path,
                                    const struct ms_read_options *opt, struct ms_error *err);

/** Same as ms_file_read() from a memory buffer, which is copied. */
MS_NODISCARD ms_status ms_file_read_memory(struct ms_file **out, const void *data, size_t len,
                                           const struct ms_read_options *opt,
                                           struct ms_error *err);

/** Make a new empty file object: preamble of zeros, empty meta, empty dataset
 * and the given transfer syntax (Explicit VR LE when NULL). */
MS_NODISCARD ms_status ms_file_create(struct ms_file **out, const struct ms_transfer_syntax *ts,
                                      struct ms_error *err);

/** Free a file and everything it owns. NULL is a no-op. */
void ms_file_destroy(struct ms_file *f);

/** File Meta Information (group 0002), borrowed. Empty when the file had none. */
struct ms_dataset *ms_file_meta(struct ms_file *f);
/** The dataset, borrowed. */
struct ms_dataset *ms_file_dataset(struct ms_file *f);
/** Transfer syntax the dataset was read with (or will be written with). */
const struct ms_transfer_syntax *ms_file_transfer_syntax(const struct ms_file *f);
/** Set the transfer syntax used by the next write. */
void ms_file_set_transfer_syntax(struct ms_file *f, const struct ms_transfer_syntax *ts);
/** 128-byte preamble, or NULL when the input had none. */
const uint8_t *ms_file_preamble(const struct ms_file *f);
/** True when the input started with a preamble and "DICM". */
bool ms_file_has_dicm(const struct ms_file *f);
/** Bytes of the input (0 for created files). */
uint64_t ms_file_input_size(const struct ms_file *f);
/** Offset in the input where the dataset (after the meta) begins. */
uint64_t ms_file_dataset_offset(const struct ms_file *f);

/* ---- datasets ----------------------------------------------------------- */

/** New empty dataset (for building items or standalone datasets). */
MS_NODISCARD ms_status ms_dataset_create(struct ms_dataset **out, struct ms_error *err);
/** Free a dataset made with ms_dataset_create(). NULL is a no-op. Datasets
 * owned by a file or by a sequence must not be destroyed. */
void ms_dataset_destroy(struct ms_dataset *ds);

/** Number of elements at this level. */
size_t ms_dataset_count(const struct ms_dataset *ds);
/** Element at position i (0 <= i < count), in stored order (ascending tags
 * for well-formed input), borrowed. */
struct ms_element *ms_dataset_at(const struct ms_dataset *ds, size_t i);
/** Element with this tag at this level, or NULL. Borrowed. */
struct ms_element *ms_dataset_get(const struct ms_dataset *ds, uint32_t tag);
/** Parent dataset of an item, NULL at top level. */
struct ms_dataset *ms_dataset_parent(const struct ms_dataset *ds);
/** Specific Character Set in effect for this dataset (inherited from the
 * parent when the item has none); "" for the default repertoire. Borrowed. */
const char *ms_dataset_charset(const struct ms_dataset *ds);
/** True when an item was encoded with undefined length. */
bool ms_dataset_undefined_length(const struct ms_dataset *ds);
/** Byte offset of the dataset (item) in the input, 0 for created ones. */
uint64_t ms_dataset_offset(const struct ms_dataset *ds);

/** Text of value idx of a string element, without padding, not decoded
 * (use ms_element_to_utf8 for display). Returns false when absent or empty. */
bool ms_dataset_get_string(const struct ms_dataset *ds, uint32_t tag, size_t idx, char *buf,
                           size_t cap);
/** Numeric value idx of US/SS/UL/SL/UV/SV/FL/FD/DS/IS as a double. */
bool ms_dataset_get_double(const struct ms_dataset *ds, uint32_t tag, size_t idx, double *out);
/** Integer value idx of US/SS/UL/SL/UV/SV/IS (or an integral DS). */
bool ms_dataset_get_int(const struct ms_dataset *ds, uint32_t tag, size_t idx, int64_t *out);

/** Insert or replace an element with a copy of the value bytes (little-endian
 * for binary VRs). Odd lengths are padded on write. Replacing keeps the
 * position. Errors: MS_ENOMEM, MS_EUSAGE (SQ, or a delimiter tag). */
MS_NODISCARD ms_status ms_dataset_set_bytes(struct ms_dataset *ds, uint32_t tag, ms_vr vr,
                                            const void *data, size_t len, struct ms_error *err);
/** Insert or replace an element whose value is borrowed: data must outlive
 * the dataset (or the next replacement of this element). */
MS_NODISCARD ms_status ms_dataset_set_bytes_ref(struct ms_dataset *ds, uint32_t tag, ms_vr vr,
                                                const void *data, size_t len,
                                                struct ms_error *err);
/** Insert or replace a string element; values separated by '\\'. */
MS_NODISCARD ms_status ms_dataset_set_string(struct ms_dataset *ds, uint32_t tag, ms_vr vr,
                                             const char *text, struct ms_error *err);
/** Insert or replace a US/UL/SS/SL/... element holding one integer. */
MS_NODISCARD ms_status ms_dataset_set_int(struct ms_dataset *ds, uint32_t tag, ms_vr vr,
                                          int64_t v, struct ms_error *err);
/** Insert or replace an empty sequence; *out receives it (borrowed). */
MS_NODISCARD ms_status ms_dataset_set_sequence(struct ms_dataset *ds, uint32_t tag,
                                               struct ms_element **out, struct ms_error *err);
/** Remove the element with this tag if present; returns whether it was. */
bool ms_dataset_remove(struct ms_dataset *ds, uint32_t tag);

/** Call fn on every element in depth-first order (items included); fn
 * returns non-zero to stop, which is then returned. depth is 0 at the top. */
typedef int (*ms_visit_fn)(void *ctx, struct ms_element *el, unsigned depth);
int ms_dataset_walk(struct ms_dataset *ds, ms_visit_fn fn, void *ctx);

/* ---- elements ----------------------------------------------------------- */

uint32_t ms_element_tag(const struct ms_element *el);
ms_vr ms_element_vr(const struct ms_element *el);
/** Length of the value in bytes as stored (for SQ and encapsulated data: the
 * length as encoded in the input, possibly MS_UNDEFINED_LENGTH). */
uint64_t ms_element_length(const struct ms_element *el);
/** Value bytes (little-endian for binary VRs), borrowed; NULL for SQ and
 * encapsulated Pixel Data. */
const uint8_t *ms_element_value(const struct ms_element *el);
/** Byte offset of the element's tag in the input (0 for created elements). */
uint64_t ms_element_offset(const struct ms_element *el);
/** The dataset that holds this element. */
struct ms_dataset *ms_element_dataset(const struct ms_element *el);
/** Number of values (strings split on '\\'; binary: length / size). */
size_t ms_element_vm(const struct ms_element *el);
/** True when the element was encoded with undefined length. */
bool ms_element_undefined_length(const struct ms_element *el);

/** Sequences: number of items and item i (borrowed). */
size_t ms_element_item_count(const struct ms_element *el);
struct ms_dataset *ms_element_item(const struct ms_element *el, size_t i);
/** Append a new empty item to a sequence; *out is borrowed. */
MS_NODISCARD ms_status ms_element_add_item(struct ms_element *el, struct ms_dataset **out,
                                           struct ms_error *err);

/** Encapsulated Pixel Data (PS3.5 A.4): fragment 0 is the Basic Offset Table. */
bool ms_element_is_encapsulated(const struct ms_element *el);
size_t ms_element_fragment_count(const struct ms_element *el);
bool ms_element_fragment(const struct ms_element *el, size_t i, const uint8_t **data,
                         uint64_t *len);

/** Value idx as text without padding (strings), not decoded. */
bool ms_element_get_string(const struct ms_element *el, size_t idx, char *buf, size_t cap);
/** Numeric value idx as double (binary numbers, DS, IS). */
bool ms_element_get_double(const struct ms_element *el, size_t idx, double *out);
/** Integer value idx (binary integers, IS, integral DS, AT as the tag). */
bool ms_element_get_int(const struct ms_element *el, size_t idx, int64_t *out);

/** Whole value decoded to UTF-8 per the dataset's Specific Character Set.
 * Writes at most cap-1 bytes and a NUL; returns the full decoded length. */
size_t ms_element_to_utf8(const struct ms_element *el, char *buf, size_t cap);

/* ---- character sets ------------------------------------------------------- */

/** Decode bytes in the given Specific Character Set value (the raw
 * (0008,0005) text: possibly multi-valued, padded or empty; NULL means the
 * default repertoire) to UTF-8, with ISO 2022 code extensions. is_pn selects
 * the PN rules ('^' and '=' also return to the initial code sets). Writes at
 * most cap-1 bytes of whole characters and a NUL (nothing when cap is 0, and
 * out may then be NULL); returns the full length of the decoded text, so a
 * buffer of that length + 1 holds all of it. Undecodable bytes become
 * U+FFFD. Thread-safe; never allocates (code tables are filled once, on
 * first use). See docs/conformance.md, "Character sets". */
size_t ms_charset_to_utf8(const char *charset, const uint8_t *in, size_t len, bool is_pn,
                          char *out, size_t cap);

/* ---- writing ------------------------------------------------------------ */

/** Output sink: write len bytes, return 0 on success. */
typedef int (*ms_sink_fn)(void *ctx, const void *data, size_t len);

/** Options of the writer; zeroed (or NULL) = defaults. */
struct ms_write_options {
    bool no_preamble;     /* write the dataset only, without preamble and meta */
    bool keep_meta;       /* do not recompute group 0002 lengths/transfer syntax */
    bool no_fsync;        /* ms_file_write(): rename into place without an fsync */
};

/** Write f as Part 10 to path atomically (temporary file + rename) in its
 * transfer syntax. File Meta group length and transfer syntax are updated.
 * Errors: MS_EIO, MS_EUNSUPPORTED (e.g. encapsulated data to a native
 * syntax), MS_ENOMEM. No partial file is left on failure. */
MS_NODISCARD ms_status ms_file_write(struct ms_file *f, const char *path,
                                     const struct ms_write_options *opt, struct ms_error *err);
/** Same, to a sink. */
MS_NODISCARD ms_status ms_file_write_sink(struct ms_file *f, ms_sink_fn sink, void *ctx,
                                          const struct ms_write_options *opt,
                                          struct ms_error *err);
/** Encode one dataset (no meta) in a transfer syntax to a sink. */
MS_NODISCARD ms_status ms_dataset_write_sink(const struct ms_dataset *ds,
                                             const struct ms_transfer_syntax *ts, ms_sink_fn sink,
                                             void *ctx, struct ms_error *err);

/* ---- listings ------------------------------------------------------------- */

/** Options of the text listing. */
struct ms_dump_options {
    unsigned max_value_chars; /* 0 = 64 */
    bool show_meta;           /* default true is set by callers */
};

/** Print a dcmdump-like listing of the file to out. */
ms_status ms_file_dump(struct ms_file *f, FILE *out, const struct ms_dump_options *opt,
                       struct ms_error *err);

/** Options of the DICOM JSON Model writer (PS3.18 F.2). */
struct ms_json_options {
    bool include_meta;        /* write group 0002 too */
    bool pretty;              /* indent */
    uint64_t bulk_threshold;  /* binary values longer than this: BulkDataURI (0 = never) */
    const char *bulk_uri_base;/* URI prefix for BulkDataURI; offsets are appended */
};

/** Write the dataset as one DICOM JSON object to a sink. */
ms_status ms_dataset_write_json(const struct ms_dataset *ds, const struct ms_json_options *opt,
                                ms_sink_fn sink, void *ctx, struct ms_error *err);
/** Write a file's dataset (and its meta when include_meta) as one object. */
ms_status ms_file_write_json(struct ms_file *f, const struct ms_json_options *opt,
                             ms_sink_fn sink, void *ctx, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
