/* The verification result and the manifest comparison, shared by verify.c,
 * compare.c and report.c. Not installed. */
#ifndef MEDSEAL_VERIFY_INTERNAL_H
#define MEDSEAL_VERIFY_INTERNAL_H

#include "seal_internal.h"

struct ms_verify_result {
    ms_seal_trust trust;
    char signer[MS_FINGERPRINT_HEX_LEN];
    char algorithm[24];
    char created[32];
    bool key_ok, merkle_ok, differs;
    size_t sealed, found;
    struct ms_seal_change *changes;
    size_t nchanges, cap;
    struct ms_seal_drr *drrs;
    size_t ndrrs;
};

/** Compare the hashed study s with the seal's records and append the
 * findings to r (sorted as ms_verify_change() promises); sets r->differs.
 * sealed_of maps each study volume to its sealed volume (-1: none).
 * Errors: MS_ENOMEM. */
ms_status msi_compare_manifest(const struct ms_study *s, const struct msi_seal *z,
                               const long *sealed_of, struct ms_verify_result *r,
                               struct ms_error *err);

#endif
