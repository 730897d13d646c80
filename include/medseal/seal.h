/* medseal — dataset seal (seed 000, made cryptographic): streaming DRR
 * projection, the study seal (manifest, Merkle root, encrypted DRR
 * fingerprint, signature), its verification and the tamper simulator.
 *
 * DRR. A digitally reconstructed radiograph is the mean of the Hounsfield
 * units along a ray through the isotropic volume (voxel size = the smaller
 * pixel spacing, slices linearly interpolated on that grid by their Image
 * Position projected on the slice normal), rounded to integer HU. It is
 * computed streaming: slices are added one at a time in any order and from
 * any thread, and only per-slice sums are kept (a mean along one axis
 * commutes with linear interpolation along another), so memory is one slice
 * per thread plus the DRR. Integer accumulation makes the result independent
 * of the order and of the number of threads. docs/drr.md has the formulas.
 *
 * Seal. One text file per study (docs/formats/seal.md): for every file its
 * SHA-256, for every DICOM instance its SOP Instance UID, SOP Class UID,
 * position and the SHA-256 of its Pixel Data (images) or of its dataset
 * (other objects), a Merkle root over them, per 3D volume the DRR
 * fingerprint (view, grid in zig-zag order, every block AES-256-GCM under a
 * key derived from the key k with HKDF-SHA256 and a unique nonce), and the
 * signer's public key with an Ed25519 or ECDSA P-256 signature.
 *
 * Thread safety: distinct objects may be used from distinct threads; the
 * functions documented so (ms_drr_add_slice()) may be called concurrently on
 * one object. */
#ifndef MEDSEAL_SEAL_H
#define MEDSEAL_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/error.h"
#include "medseal/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- DRR projection (src/image/drr.c) -------------------------------------------- */

/** Direction of the rays of a DRR, in patient axes (LPS). */
typedef enum ms_drr_view {
    MS_DRR_AP = 0, /* anterior-posterior (coronal): image x = patient right to left, top = superior */
    MS_DRR_LR = 1, /* left-right (sagittal): image x = anterior to posterior, top = superior */
    MS_DRR_SI = 2, /* superior-inferior (axial): image x = right to left, top = anterior */
    MS_DRR_VIEW_COUNT = 3
} ms_drr_view;

/** "ap", "lr", "si". Static string; "?" for a bad value. */
const char *ms_drr_view_name(ms_drr_view view);
/** View from "ap"/"coronal", "lr"/"sagittal", "si"/"axial" (case-insensitive);
 * false when the text names none. */
bool ms_drr_view_parse(const char *text, ms_drr_view *view);

/** Largest slice side and number of slices a projector takes. */
#define MS_DRR_MAX_SIDE 4096u
#define MS_DRR_MAX_SLICES 16384u
/** HU given to rays (or ray samples) outside the slices present: air. */
#define MS_DRR_AIR_HU (-1024)

/** Geometry of the sampling grid of a volume. The slice positions (the
 * projections of Image Position on the normal) are given separately, so that
 * a verifier can project the slices it has on the grid that was sealed. */
struct ms_drr_geometry {
    uint32_t rows, columns;  /* slice size */
    double row_spacing;      /* Pixel Spacing[0]: between rows (mm) */
    double column_spacing;   /* Pixel Spacing[1]: between columns (mm) */
    double orientation[6];   /* Image Orientation (Patient) */
    double z0;               /* position of the first sample on the normal (mm) */
    double extent;           /* mm from the first to the last sample on the normal (>= 0) */
};

/** Streaming projector of one volume for a set of views. */
struct ms_drr;

/** Width and height of the DRR of view for g. Errors: MS_EUSAGE (bad
 * geometry or view), MS_EUNSUPPORTED (oblique orientation: the row, column
 * and normal directions do not map to three distinct patient axes). */
MS_NODISCARD ms_status ms_drr_size(const struct ms_drr_geometry *g, ms_drr_view view,
                                   uint32_t *width, uint32_t *height, struct ms_error *err);

/** New projector in *out (caller owns, ms_drr_destroy()) for the views whose
 * bits (1u << view) are set in views. positions[0 .. nslices-1] are the
 * slices' positions on the normal, ascending (equal positions allowed); slice
 * k of ms_drr_add_slice() is the one at positions[k]. threads bounds the
 * number of concurrent ms_drr_add_slice() calls that run without waiting (0 =
 * one per core). Errors: MS_EUSAGE (bad geometry, no view, positions not
 * ascending or not finite), MS_ELIMIT (beyond MS_DRR_MAX_SIDE or
 * MS_DRR_MAX_SLICES), MS_EUNSUPPORTED (oblique), MS_ENOMEM. */
MS_NODISCARD ms_status ms_drr_create(struct ms_drr **out, const struct ms_drr_geometry *g,
                                     const double *positions, size_t nslices, unsigned views,
                                     unsigned threads, struct ms_error *err);

/** Add slice k: rows x columns stored values (row-major) and the modality
 * LUT (HU = slope * stored + intercept). stored is only read during the call.
 * Thread-safe: distinct slices may be added from distinct threads at once.
 * Errors: MS_EUSAGE (k out of range or already added, non-finite slope or
 * intercept), MS_ELIMIT (|HU| above 32767). */
MS_NODISCARD ms_status ms_drr_add_slice(struct ms_drr *d, size_t k, const int32_t *stored,
                                        double slope, double intercept, struct ms_error *err);

/** ms_drr_add_slice() for stored values known to lie in [lo, hi] (e.g. from
 * Bits Stored and Pixel Representation): when those bounds keep every HU
 * within +-32767 the values are not scanned for their range. Values outside
 * [lo, hi] are the caller's error (they are then used unchecked). */
MS_NODISCARD ms_status ms_drr_add_slice_bounded(struct ms_drr *d, size_t k, const int32_t *stored,
                                                int64_t lo, int64_t hi, double slope,
                                                double intercept, struct ms_error *err);

/** The DRR of view as a new int32 grey image of integer HU (*out owned by
 * the caller). Slices never added count as air; call it after all
 * ms_drr_add_slice() calls have returned. Errors: MS_EUSAGE (view not
 * requested at creation), MS_ENOMEM. */
MS_NODISCARD ms_status ms_drr_finish(struct ms_drr *d, ms_drr_view view, struct ms_image **out,
                                     struct ms_error *err);

/** Free a projector. NULL is a no-op. */
void ms_drr_destroy(struct ms_drr *d);

/* ---- studies: files grouped into volumes (src/seal/study.c) ------------------------ */

/** The files of a study: every regular file under the inputs, DICOM or not,
 * with the DICOM images grouped into 3D volumes (series, orientation and
 * temporal position; slices sorted along the normal). */
struct ms_study;

/** Options of ms_study_scan(); zeroed = defaults. */
struct ms_study_options {
    const char *exclude;  /* a path never taken as part of the study (the seal file) */
    unsigned threads;     /* 0 = one per core */
    bool progress;        /* progress bar on a terminal */
};

/** Read the headers of every file under inputs (files or directories) and
 * group them. *out is owned by the caller (ms_study_destroy()). Files that are
 * not DICOM are kept as plain files. Errors: MS_EIO (an input cannot be
 * read), MS_EUSAGE (no file at all), MS_ELIMIT (more than 1,000,000 files),
 * MS_ENOMEM. */
MS_NODISCARD ms_status ms_study_scan(struct ms_study **out, const char *const *inputs,
                                     size_t ninputs, const struct ms_study_options *opt,
                                     struct ms_error *err);
/** Free a study. NULL is a no-op. */
void ms_study_destroy(struct ms_study *s);

/** Summary of one volume of a study. Strings borrowed from the study. */
struct ms_volume_info {
    const char *series_uid;
    const char *modality;
    int64_t temporal;              /* Temporal Position Identifier, -1 when none */
    size_t slices;
    struct ms_drr_geometry geometry;
};

/** Number of files, of DICOM instances and of volumes. */
size_t ms_study_file_count(const struct ms_study *s);
size_t ms_study_instance_count(const struct ms_study *s);
size_t ms_study_volume_count(const struct ms_study *s);
/** Volume v (0-based). Errors: MS_ENOTFOUND (v out of range). */
MS_NODISCARD ms_status ms_study_volume_info(const struct ms_study *s, size_t v,
                                            struct ms_volume_info *out, struct ms_error *err);

/** DRR of volume v in each view whose bit is set in views: out[view] gets a
 * new int32 image (caller owns) for the requested views and NULL for the
 * others. Reads the volume's slices once, on threads. Errors: MS_ENOTFOUND,
 * those of ms_drr_create() and of reading the files (MS_EIO, MS_EMALFORMED,
 * MS_EUNSUPPORTED). On failure every out[] is NULL. */
MS_NODISCARD ms_status ms_study_drr(struct ms_study *s, size_t v, unsigned views,
                                    struct ms_image *out[MS_DRR_VIEW_COUNT],
                                    struct ms_error *err);

/* ---- seal (src/seal/manifest.c, seal.c) -------------------------------------------- */

/** Grid sides the fingerprint takes: 4 (16 blocks, default) or 8 (64 blocks). */
#define MS_SEAL_GRID_DEFAULT 4u

/** Options of ms_seal_create(). key and signer are required. */
struct ms_seal_options {
    const uint8_t *key;            /* k, MS_AES256_KEY_LEN bytes, borrowed */
    const struct ms_pkey *signer;  /* Ed25519 or EC P-256 private key, borrowed */
    unsigned views;                /* bits (1u << view); 0 = AP only, as the paper */
    unsigned grid;                 /* 4 or 8; 0 = 4 */
    unsigned threads;              /* 0 = one per core */
    bool progress;
};

/** What a seal holds, for printing. */
struct ms_seal_summary {
    size_t files, instances, volumes, blocks;
    size_t unprojected;            /* volumes without a DRR fingerprint: a slice could
                                      not be projected (values beyond +-32767 after
                                      rescale, pixels that cannot be decoded) */
    uint64_t bytes;                /* bytes of all files hashed */
    uint8_t merkle_root[MS_SHA256_LEN];
    char signer[MS_FINGERPRINT_HEX_LEN];
    const char *algorithm;         /* "ed25519" or "ecdsa-p256-sha256" */
};

/** Seal the study s: hash every file (on threads), project the DRRs, encrypt
 * their blocks, sign, and write the seal to path atomically (nothing is left
 * on failure). sum may be NULL. Errors: MS_EUSAGE (no key or signer, a
 * signer that is neither Ed25519 nor P-256, grid not 4 or 8), MS_EKEY (the
 * signer has no private key), MS_EIO, MS_EMALFORMED / MS_EUNSUPPORTED (a
 * file changed while it was read), MS_ENOMEM. */
MS_NODISCARD ms_status ms_seal_create(struct ms_study *s, const struct ms_seal_options *opt,
                                      const char *path, struct ms_seal_summary *sum,
                                      struct ms_error *err);

/* ---- verification (src/seal/verify.c, report.c) ------------------------------------ */

/** What happened to one file or instance. */
typedef enum ms_change {
    MS_CHANGE_DELETED = 0,    /* in the seal, not in the study */
    MS_CHANGE_INSERTED = 1,   /* in the study, not in the seal */
    MS_CHANGE_PIXELS = 2,     /* same SOP Instance UID, Pixel Data differs */
    MS_CHANGE_HEADER = 3,     /* same UID and Pixel Data, other bytes differ */
    MS_CHANGE_MODIFIED = 4,   /* a non-image object or a plain file whose content differs */
    MS_CHANGE_MOVED = 5,      /* position or volume changed, or Pixel Data is another instance's */
    MS_CHANGE_RENAMED = 6,    /* same bytes under another path (not a difference) */
    MS_CHANGE_COUNT = 7
} ms_change;

/** "deleted", "inserted", "modified-pixels", "modified-header", "modified",
 * "moved", "renamed". Static string. */
const char *ms_change_name(ms_change c);

/** One finding; strings owned by the result. */
struct ms_seal_change {
    ms_change change;
    const char *path;         /* current path, or the sealed one for deletions */
    const char *uid;          /* SOP Instance UID, "" for non-DICOM files */
    const char *detail;       /* one line, e.g. "position z 12.5 -> 14" */
};

/** Comparison of one DRR view of one volume (seed 000, Table 1). Arrays are
 * indexed by the position in zig-zag order (0 .. blocks-1). */
struct ms_seal_drr {
    size_t volume;              /* 0-based, in the seal */
    const char *series_uid;
    ms_drr_view view;
    unsigned grid;              /* blocks per side */
    uint32_t width, height;
    const uint32_t *block;      /* row-major block number of each zig-zag position */
    const uint64_t *histdiff;   /* ~hist over HU -1024..3072 (below/above counted) */
    const double *rmse;         /* RMSE per block */
    double rmse_all;            /* RMSE of the whole DRR */
    uint64_t histdiff_all;      /* sum of the blocks' histogram differences */
    size_t changed;             /* blocks whose histogram difference or RMSE is not 0 */
    const struct ms_image *sealed;  /* DRR from the decrypted blocks (int32 HU) */
    const struct ms_image *current; /* DRR of the study now (int32 HU) */
};

/** State of the seal's signer. */
typedef enum ms_seal_trust {
    MS_TRUST_OK = 0,          /* signature valid, signer among the trusted keys */
    MS_TRUST_UNTRUSTED = 1    /* signature valid, signer not trusted (or no trusted key given) */
} ms_seal_trust;

/** Result of ms_seal_verify(). */
struct ms_verify_result;

/** Options of ms_seal_verify(). */
struct ms_verify_options {
    const uint8_t *key;                    /* k, 32 bytes, borrowed */
    const struct ms_pkey *const *trusted;  /* ntrusted public keys, borrowed */
    size_t ntrusted;
    unsigned threads;
    bool progress;
};

/** Parse the seal at seal_path, check its signature, compare the study s
 * with it (hash every file, re-project every sealed DRR on the sealed grid,
 * decrypt the sealed blocks, compare block by block) and return the findings
 * in *out (caller owns, ms_verify_result_destroy()). Returns MS_OK whenever
 * the comparison could be made, whatever it found: read ms_verify_status()
 * (a wrong key or an untrusted signer is reported there, with the manifest
 * comparison done all the same). Errors, with *out NULL: MS_EMALFORMED (the
 * seal is truncated, not a seal, or inconsistent: the message says where),
 * MS_EKEY (the seal's signature does not verify: the seal was edited or
 * damaged), MS_EIO, MS_ENOMEM. */
MS_NODISCARD ms_status ms_seal_verify(struct ms_study *s, const char *seal_path,
                                      const struct ms_verify_options *opt,
                                      struct ms_verify_result **out, struct ms_error *err);

/** Free a result. NULL is a no-op. */
void ms_verify_result_destroy(struct ms_verify_result *r);

/** Overall status: MS_OK intact and trusted, MS_EPROBLEM something differs
 * (trusted signer), MS_EKEY wrong key, bad signature or untrusted signer. */
ms_status ms_verify_status(const struct ms_verify_result *r);
/** The verdict in words, as the text and JSON reports give it: "intact",
 * "differs", "wrong key", "untrusted signer" or "untrusted signer, wrong key"
 * (both said when both are true: neither hides the other). */
const char *ms_verify_verdict(const struct ms_verify_result *r);
/** Trust in the signer, its fingerprint (SHA-256 of its public key, hex)
 * and the signature algorithm ("ed25519", "ecdsa-p256-sha256"). */
ms_seal_trust ms_verify_trust(const struct ms_verify_result *r);
const char *ms_verify_signer(const struct ms_verify_result *r);
const char *ms_verify_algorithm(const struct ms_verify_result *r);
/** True when the key given is the seal's key (the DRR blocks decrypted). */
bool ms_verify_key_ok(const struct ms_verify_result *r);
/** Counts from the seal and from the study. */
size_t ms_verify_sealed_count(const struct ms_verify_result *r);
size_t ms_verify_found_count(const struct ms_verify_result *r);
/** True when the Merkle root of the study equals the sealed one. */
bool ms_verify_merkle_ok(const struct ms_verify_result *r);
/** Findings in the order of enum ms_change, each kind sorted by path.
 * Borrowed. */
size_t ms_verify_change_count(const struct ms_verify_result *r);
const struct ms_seal_change *ms_verify_change(const struct ms_verify_result *r, size_t i);
/** DRR comparisons, one per sealed volume and view. Borrowed. */
size_t ms_verify_drr_count(const struct ms_verify_result *r);
const struct ms_seal_drr *ms_verify_drr(const struct ms_verify_result *r, size_t i);

/** Write the result as one JSON object (docs/verify.md) to sink. Errors:
 * MS_EIO (the sink failed), MS_ENOMEM. */
MS_NODISCARD ms_status ms_verify_write_json(const struct ms_verify_result *r, ms_sink_fn sink,
                                            void *ctx, struct ms_error *err);
/** Write the report into dir (created if missing): index.html, and per DRR
 * comparison the sealed and current DRR (PNG, window C=-200 W=1500) and the
 * difference heat map. Errors: MS_EIO, MS_ENOMEM. */
MS_NODISCARD ms_status ms_verify_write_report(const struct ms_verify_result *r, const char *dir,
                                              struct ms_error *err);

/* ---- tamper simulation (src/seal/tamper.c) ------------------------------------------ */

/** Attacks of ms_tamper(); instance numbers N count from 1 in the sorted
 * order of the study's file paths. */
struct ms_tamper_options {
    const char *insert_file;    /* --insert FILE: an image from another dataset, adopted into the volume */
    size_t insert_at;           /* after instance N (0 = the middle of the first volume) */
    size_t duplicate;           /* --duplicate N: the same image again with a new UID */
    size_t delete_n;            /* --delete N */
    size_t modify;              /* --modify N */
    double delta;               /* --delta HU (default 10) */
    uint64_t seed;              /* random choices (default 1) */
    size_t header;              /* --header N KEYWORD=VALUE */
    const char *header_set;
    size_t swap_a, swap_b;      /* --swap N M: exchange two slices' Pixel Data */
    bool replace_all;           /* --replace-all: a different study, freshly sealed */
    const uint8_t *replace_key; /* k for the new seal (NULL: a random key) */
    const char *replace_seal;   /* where the new seal goes (NULL: OUTDIR/study.seal) */
};

/** Copy the study under in_dir to out_dir (which must not exist or be
 * empty, and must not be in_dir) and apply the attacks to the copy; in_dir
 * is only read. log (may be NULL) receives one line per attack. Errors:
 * MS_EUSAGE (no attack, N out of range, out_dir is in_dir or not empty, bad
 * KEYWORD=VALUE), MS_EMALFORMED/MS_EUNSUPPORTED (an instance it cannot
 * change), MS_EIO, MS_ENOMEM. */
MS_NODISCARD ms_status ms_tamper(const char *in_dir, const char *out_dir,
                                 const struct ms_tamper_options *opt,
                                 void (*log)(void *ctx, const char *line), void *log_ctx,
                                 struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
