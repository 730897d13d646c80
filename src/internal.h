/* Internals shared across library files: the arena, the layout of files,
 * datasets and elements, and small helpers. Not installed. */
#ifndef MEDSEAL_INTERNAL_H
#define MEDSEAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "medseal/dicom.h"
#include "medseal/error.h"

/* ---- hot loops ------------------------------------------------------------- */

/** On a function of plain loops over pixels: compiled twice, for AVX2 and for
 * the baseline, the one the CPU runs chosen when the program loads (an ifunc).
 * Same results either way: integer loops, or floating point without
 * reassociation. Nothing on other compilers or targets, or with
 * -DMEDSEAL_NO_CLONES. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && !defined(MEDSEAL_NO_CLONES)
#define MSI_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MSI_SIMD_CLONES
#endif

/* ---- checked 64-bit arithmetic ------------------------------------------- */

/** a + b into *out; false on overflow. */
static inline bool msi_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/** a * b into *out; false on overflow. */
static inline bool msi_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

static inline uint16_t msi_rd16le(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t msi_rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t msi_rd64le(const uint8_t *p)
{
    return (uint64_t)msi_rd32le(p) | ((uint64_t)msi_rd32le(p + 4) << 32);
}
static inline uint16_t msi_rd16be(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t msi_rd32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline void msi_wr16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void msi_wr32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void msi_wr64le(uint8_t *p, uint64_t v)
{
    msi_wr32le(p, (uint32_t)v);
    msi_wr32le(p + 4, (uint32_t)(v >> 32));
}
static inline void msi_wr16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void msi_wr32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- arena: many small allocations freed at once -------------------------- */

struct msi_arena;

/** New arena, or NULL when out of memory. */
struct msi_arena *msi_arena_create(void);
/** Free the arena and every block it handed out. NULL is a no-op. */
void msi_arena_destroy(struct msi_arena *a);
/** size bytes aligned to 16, zeroed; NULL when out of memory. */
void *msi_arena_alloc(struct msi_arena *a, size_t size);
/** Copy of data in the arena. */
void *msi_arena_dup(struct msi_arena *a, const void *data, size_t size);
/** Keep a malloc'd or mmap'd region alive until the arena dies. */
bool msi_arena_adopt(struct msi_arena *a, void *ptr, size_t size, bool mapped);

/* ---- the object layout ---------------------------------------------------- */

enum msi_element_flags {
    MSI_EL_UNDEF = 1u << 0,   /* encoded with undefined length */
    MSI_EL_ENCAP = 1u << 1,   /* encapsulated pixel data: frags */
    MSI_EL_FROM_UN = 1u << 2, /* read as UN, VR taken from the dictionary */
    MSI_EL_IMPLICIT_SQ = 1u << 3,
};

struct msi_fragment {
    const uint8_t *data;
    uint64_t len;
    uint64_t offset;
};

struct ms_element {
    uint32_t tag;
    uint8_t vr;
    uint8_t flags;
    uint64_t length;        /* value length (or as encoded for SQ/encap.) */
    const uint8_t *value;   /* little-endian bytes; NULL for SQ / encapsulated */
    uint64_t offset;        /* offset of the tag in the input */
    struct ms_dataset *parent;
    struct ms_dataset **items;
    uint32_t nitems, cap_items;
    struct msi_fragment *frags;
    uint32_t nfrags, cap_frags;
};

struct ms_dataset {
    struct msi_arena *arena;   /* shared with the file or the standalone root */
    struct ms_element **els;
    uint32_t n, cap;
    bool sorted;               /* tags strictly ascending */
    bool undef;                /* item encoded with undefined length */
    bool own_arena;            /* made by ms_dataset_create() */
    struct ms_dataset *parent;
    const char *charset;       /* own (0008,0005) or the parent's; never NULL */
    uint64_t offset;
    uint64_t length;           /* item length as encoded in the input */
};

struct ms_file {
    struct msi_arena *arena;
    uint8_t preamble[128];
    bool has_preamble;
    bool has_dicm;
    struct ms_dataset *meta;
    struct ms_dataset *ds;
    const struct ms_transfer_syntax *ts;
    uint64_t input_size;
    uint64_t dataset_offset;
};

/** New dataset in arena a with the given parent (NULL at top). */
struct ms_dataset *msi_dataset_new(struct msi_arena *a, struct ms_dataset *parent);
/** Append an element at the end without order checks (reader use). */
struct ms_element *msi_dataset_append(struct ms_dataset *ds, uint32_t tag, ms_vr vr);
/** Element for tag, inserted at its sorted place when absent, replaced by a
 * fresh empty element (same position) when present; NULL when out of memory. */
struct ms_element *msi_dataset_upsert(struct ms_dataset *ds, uint32_t tag, ms_vr vr);
/** Append an item dataset to a sequence element. */
struct ms_dataset *msi_element_append_item(struct ms_element *el);
/** Append a fragment to an encapsulated element. */
bool msi_element_append_fragment(struct ms_element *el, const uint8_t *data, uint64_t len,
                                 uint64_t offset);
/** Recompute ds->charset from its (0008,0005) or its parent's. */
void msi_dataset_update_charset(struct ms_dataset *ds);

/* ---- character sets (charset.c, charset_tables.c) -------------------------- */

/** Flags of msi_charset_decode(). */
enum msi_cs_flags {
    MSI_CS_PN = 1u << 0,          /* PN: '^' and '=' also return to the initial code set */
    MSI_CS_SINGLE_VALUE = 1u << 1 /* LT, ST, UT: '\\' is text, not a value delimiter */
};

/** ms_charset_to_utf8() with flags (enum msi_cs_flags). */
size_t msi_charset_decode(const char *charset, const uint8_t *in, size_t len, unsigned flags,
                          char *out, size_t cap);

/** Single-byte sets: code points of bytes 0x80..0xFF (0 = unmapped). */
enum msi_cs_sb {
    MSI_SB_8859_1, MSI_SB_8859_2, MSI_SB_8859_3, MSI_SB_8859_4, MSI_SB_8859_5,
    MSI_SB_8859_6, MSI_SB_8859_7, MSI_SB_8859_8, MSI_SB_8859_9, MSI_SB_8859_15,
    MSI_SB_TIS620, MSI_SB_COUNT
};
/** 94x94 sets: cell (row - 0x21) * 94 + (column - 0x21) (0 = unmapped). */
enum msi_cs_db { MSI_DB_JIS0208, MSI_DB_JIS0212, MSI_DB_KSX1001, MSI_DB_GB2312, MSI_DB_COUNT };

#define MSI_DB94_CELLS (94 * 94)
/** GBK/GB18030 two-byte codes: (lead - 0x81) * 190 + trail index (0x40.. without 0x7F). */
#define MSI_GB2_CELLS (126 * 190)
/** GB18030 four-byte codes 0x81308130..0x8431A439 (the rest of the BMP), linear. */
#define MSI_GB4_CELLS 39420

/* Tables filled from iconv on first use, then read-only; thread-safe. */
const uint16_t *msi_cs_sb_table(enum msi_cs_sb id);
const uint16_t *msi_cs_db94_table(enum msi_cs_db id);
const uint32_t *msi_cs_gb2_table(bool gb18030);
const uint16_t *msi_cs_gb4_table(void);

/* ---- pixel codecs (src/dicom/codec_*.c) -------------------------------------- */

struct ms_pixel_info;
/** True for three-sample YBR_FULL_422 / YBR_PARTIAL_422 images (pixel.c): native
 * data holds each horizontal pair of pixels as four samples Y1 Y2 Cb Cr, so a
 * frame has rows * columns * 2 samples, not * 3 (PS3.3 C.7.6.3.1.2, PS3.5 8.2). */
bool msi_pixel_is_422(const struct ms_pixel_info *info);
ms_status msi_jpegls_encode_frame(const struct ms_pixel_info *info, const uint8_t *frame,
                                  uint8_t **out, size_t *out_len, struct ms_error *err);
ms_status msi_jpegls_decode_frame(const struct ms_pixel_info *info, const uint8_t *in, size_t len,
                                  uint8_t *out, struct ms_error *err);

/* ---- files --------------------------------------------------------------- */

/** Map a file read-only. *data is NULL for an empty file. */
ms_status msi_map_file(const char *path, const uint8_t **data, uint64_t *size,
                       struct ms_error *err);
/** msi_map_file() with the pages read at once (one pass over the page cache
 * instead of a fault per few pages), for files read whole. */
ms_status msi_map_file_populated(const char *path, const uint8_t **data, uint64_t *size,
                                 struct ms_error *err);
void msi_unmap_file(const uint8_t *data, uint64_t size);
/** ms_file_read() of a file mapped with msi_map_file*(): the mapping becomes
 * the file's (unmapped with it, or at once on failure). */
ms_status msi_file_read_mapped(struct ms_file **out, const uint8_t *data, uint64_t size,
                               const struct ms_read_options *opt, struct ms_error *err);

/** Open path.tmpXXXXXX for writing next to path; the name goes to tmp. */
ms_status msi_atomic_open(const char *path, char *tmp, size_t cap, int *fd, struct ms_error *err);
/** fsync + close + rename tmp to path, or unlink tmp when !ok. */
ms_status msi_atomic_close(int fd, const char *tmp, const char *path, bool ok,
                           struct ms_error *err);
/** The same; with sync false the file is renamed into place without an fsync
 * (still atomic for readers; durable only once the system writes it back). */
ms_status msi_atomic_commit(int fd, const char *tmp, const char *path, bool ok, bool sync,
                            struct ms_error *err);
/** Sink that writes to a file descriptor (ctx is a pointer to an int fd). */
int msi_fd_sink(void *ctx, const void *data, size_t len);

/* ---- Base64 (src/util/base64.c) ---------------------------------------------- */

/** Base64 of len bytes into out (4 * ceil(len / 3) + 1 bytes, NUL-terminated);
 * returns the characters written. */
size_t msi_b64_encode(const uint8_t *in, size_t len, char *out);
/** Decode n Base64 characters (a multiple of 4, padding allowed at the end)
 * into out (n / 4 * 3 bytes); false when the text is not Base64. */
bool msi_b64_decode(const char *in, size_t n, uint8_t *out, size_t *len);

/* ---- buffered output to a sink ---------------------------------------------- */

/** Buffered writer over an ms_sink_fn. The first failure sticks in failed. */
struct msi_out {
    ms_sink_fn sink;
    void *ctx;
    size_t used;
    bool failed;
    uint8_t buf[65536];
};

void msi_out_init(struct msi_out *o, ms_sink_fn sink, void *ctx);
void msi_out_put(struct msi_out *o, const void *data, size_t len);
void msi_out_str(struct msi_out *o, const char *s);
void msi_out_printf(struct msi_out *o, const char *fmt, ...) MS_PRINTF(2, 3);
/** Flush; returns false when any write failed. */
bool msi_out_flush(struct msi_out *o);

#endif
