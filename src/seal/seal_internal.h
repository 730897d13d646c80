/* Internals of the dataset seal: the study's records, the seal's in-memory
 * form, the Merkle tree and the DRR fingerprint. Not installed. */
#ifndef MEDSEAL_SEAL_INTERNAL_H
#define MEDSEAL_SEAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/crypto.h"
#include "medseal/seal.h"

#define MSI_UID_CAP 65       /* 64 characters + NUL */
#define MSI_MAX_FILES 1000000u

/* ---- the study (study.c) ----------------------------------------------------------- */

typedef enum msi_kind {
    MSI_FILE = 0,   /* not DICOM: file hash only */
    MSI_OBJECT = 1, /* DICOM without Pixel Data: content hash = dataset bytes */
    MSI_IMAGE = 2   /* DICOM with Pixel Data: content hash = Pixel Data value */
} msi_kind;

/** One file of a study. Fields after `hashed` are filled by msi_study_run(). */
struct msi_item {
    char *path;                 /* as found under the input */
    char *rel;                  /* relative to its input directory, '/'-separated */
    uint64_t size;
    msi_kind kind;
    char uid[MSI_UID_CAP], cls[MSI_UID_CAP], series[MSI_UID_CAP];
    bool has_ipp;               /* of its first frame */
    double ipp[3];
    long volume;                /* volume of its first frame in a volume, -1: none */
    bool hashed;
    ms_status drr_status;       /* why its frames could not be projected (verify) */
    uint8_t file_sha[MS_SHA256_LEN];
    uint8_t content_sha[MS_SHA256_LEN];
};

/** One slice of a volume: frame `frame` of item `item`. */
struct msi_vframe {
    size_t item;
    uint32_t frame;
    double slope, intercept;
};

/** A 3D volume: one stack of a series (src/series: orientation, temporal
 * position, frames sorted along the normal) whose frames share size and
 * pixel spacing. The items holding its frames are listed once each, with
 * their slices in by_item[first[i] .. first[i + 1]). */
struct msi_volume {
    const char *series, *modality; /* borrowed from the scan */
    int64_t temporal;
    struct ms_drr_geometry g;       /* z0 and extent from the slices */
    size_t n;
    struct msi_vframe *frames;      /* sorted by position */
    double *pos;                    /* positions on the unit normal */
    size_t nitems;
    size_t *items, *first, *by_item;
};

struct msi_rec;

struct ms_study {
    struct msi_item *items;         /* sorted by path */
    size_t nitems, ninstances;
    struct msi_volume *volumes;
    size_t nvolumes;
    struct ms_scan *scan;           /* headers, series, stacks (src/series) */
    unsigned threads;
    bool progress;
    /* verify: the trusted seal's records by file hash (msi_study_know()) */
    const struct msi_rec **known;
    size_t nknown;
};

/** True when volume v of the seal (key, size, spacing, orientation) is
 * the same stack as study volume cv. */
bool msi_volume_same(const struct msi_volume *cv, const char *series, int64_t temporal,
                     const struct ms_drr_geometry *g);

/** Read every listed item on threads: with hash, their file and content
 * SHA-256; with vol and drr, add their slices of vol to drr (items must then
 * be vol->items, n = vol->nitems). With tolerant, a slice that cannot be
 * read or projected is left out (air) and its status kept in the item's
 * drr_status instead of failing the run. label names the progress bar.
 * Errors: MS_EIO, MS_EMALFORMED, MS_EUNSUPPORTED, MS_ELIMIT, MS_ENOMEM (the
 * message names the file). */
ms_status msi_study_run(struct ms_study *s, const size_t *items, size_t n,
                        const struct msi_volume *vol, struct ms_drr *drr, bool hash,
                        bool tolerant, const char *label, struct ms_error *err);

/** Records whose files msi_study_run() may find again: a file whose SHA-256
 * is one of theirs has that record's content hash (same bytes, same
 * content), so its content is not hashed a second time. recs (borrowed)
 * must outlive the runs, or msi_study_forget() be called. Errors: MS_ENOMEM. */
ms_status msi_study_know(struct ms_study *s, const struct msi_rec *recs, size_t n,
                         struct ms_error *err);
/** Drop the records of msi_study_know() (also done by ms_study_destroy()). */
void msi_study_forget(struct ms_study *s);

/** msi_study_run() with hash over every item no volume has hashed yet.
 * Errors: those of msi_study_run(). */
ms_status msi_study_hash_rest(struct ms_study *s, struct ms_error *err);

/* ---- Merkle tree (merkle.c) ---------------------------------------------------------- */

/** Leaf hash of one manifest record: SHA-256(0x00 || record bytes). */
ms_status msi_merkle_leaf(const void *record, size_t len, uint8_t out[MS_SHA256_LEN],
                          struct ms_error *err);
/** Root of leaves (RFC 6962 tree hash: interior nodes SHA-256(0x01 || left ||
 * right), split at the largest power of two below n; n = 0 gives SHA-256 of
 * nothing). leaves is scratch and is overwritten. */
ms_status msi_merkle_root(uint8_t (*leaves)[MS_SHA256_LEN], size_t n,
                          uint8_t out[MS_SHA256_LEN], struct ms_error *err);

/* ---- the seal in memory (manifest.c) ----------------------------------------------------- */

/** One sealed file ("I" record). Strings owned by the seal. */
struct msi_rec {
    char *rel;
    msi_kind kind;
    char *uid, *cls, *series;
    long volume;                /* -1: none */
    bool has_ipp;
    double ipp[3];
    uint64_t size;
    uint8_t file_sha[MS_SHA256_LEN];
    uint8_t content_sha[MS_SHA256_LEN];
};

/** One sealed volume ("V" record). */
struct msi_svol {
    char *series;
    int64_t temporal;
    size_t slices;
    struct ms_drr_geometry g;
};

/** One encrypted DRR block ("B" record). */
struct msi_sblock {
    uint32_t block;             /* row-major number */
    struct ms_rect rect;
    uint8_t *ct;                /* ciphertext || tag */
    size_t ct_len;
};

/** One DRR fingerprint ("D" record and its blocks, in zig-zag order). */
struct msi_sdrr {
    size_t volume;
    ms_drr_view view;
    unsigned grid;
    uint32_t width, height;
    struct msi_sblock *blocks;  /* grid * grid, zig-zag order */
};

struct msi_seal {
    char created[32];
    uint8_t salt[32];
    uint8_t key_check[MS_KEY_CHECK_LEN];
    uint8_t merkle_root[MS_SHA256_LEN];
    struct msi_rec *recs;
    size_t nrecs;
    struct msi_svol *vols;
    size_t nvols;
    struct msi_sdrr *drrs;
    size_t ndrrs;
    char algorithm[24];         /* "ed25519" or "ecdsa-p256-sha256" */
    uint8_t *signer_der;
    size_t signer_der_len;
    uint8_t *sig;
    size_t sig_len;
    size_t signed_len;          /* bytes of the file the signature covers */
};

/** Free everything a seal holds (not the struct). */
void msi_seal_clear(struct msi_seal *z);

/** Serialise z without its signature lines; *out (malloc'd) gets the body
 * that is signed. Errors: MS_ENOMEM. */
ms_status msi_seal_format_body(const struct msi_seal *z, char **out, size_t *len,
                               struct ms_error *err);
/** Parse a whole seal file (len bytes): structure, counts and values; the
 * signature is not checked. Errors: MS_EMALFORMED (with the line number),
 * MS_ELIMIT, MS_ENOMEM. z is cleared on failure. */
ms_status msi_seal_parse(const uint8_t *data, size_t len, struct msi_seal *z,
                         struct ms_error *err);

/** Canonical record of an item for the Merkle leaf: kind, UID, class, file
 * hash, content hash, or "file" and the path for non-DICOM files. buf gets it
 * (cap >= 512); returns its length. */
size_t msi_leaf_record(msi_kind kind, const char *uid, const char *cls, const char *rel,
                       const uint8_t file_sha[MS_SHA256_LEN],
                       const uint8_t content_sha[MS_SHA256_LEN], char *buf, size_t cap);

/** Merkle root over records (seal.c): leaves of msi_leaf_record() taken in
 * the order of their hashes, so that only the content of the study counts. */
ms_status msi_records_root(const struct msi_rec *recs, size_t n, uint8_t root[MS_SHA256_LEN],
                           struct ms_error *err);

/* ---- the DRR fingerprint (fingerprint.c) ---------------------------------------------------- */

/** The block key: HKDF-SHA256(k, salt, "medseal seal v1 drr blocks"). */
ms_status msi_block_key(const uint8_t k[MS_AES256_KEY_LEN], const uint8_t salt[32],
                        uint8_t out[MS_AES256_KEY_LEN], struct ms_error *err);
/** Cut the DRR img (int32 HU) into grid x grid blocks in zig-zag order and
 * encrypt each into d->blocks (allocated here). d's volume, view, grid,
 * width and height must be set. */
ms_status msi_fingerprint_seal(struct msi_sdrr *d, const struct ms_image *img,
                               const uint8_t bkey[MS_AES256_KEY_LEN], const uint8_t salt[32],
                               struct ms_error *err);
/** Decrypt every block of d into a new int32 image *out (caller owns).
 * Errors: MS_EKEY (a block fails authentication), MS_EMALFORMED (blocks that
 * do not tile the DRR), MS_ENOMEM. */
ms_status msi_fingerprint_open(const struct msi_sdrr *d, const uint8_t bkey[MS_AES256_KEY_LEN],
                               const uint8_t salt[32], struct ms_image **out,
                               struct ms_error *err);

/* ---- small text helpers (manifest.c) ---------------------------------------------------------- */

/** Lower-case hex (defined by the crypto layer, src/crypto/util.c). */
void msi_hex(const uint8_t *in, size_t len, char *out);
bool msi_unhex(const char *in, size_t len, uint8_t *out, size_t n);

#endif
