/* Fuzz target: DICOM digital signatures (PS3.15 Annex C).
 *
 * Each input is parsed; every signature in it is verified (with a dump sink
 * that reads each byte of the MAC stream) and each result must be sane: a
 * known status, NUL-terminated strings, a reason exactly when it failed. The
 * parsed file is then signed with a fixed EC P-256 key made once, and that new
 * signature must verify as OK, whatever else the file holds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/dsig.h"

static struct ms_pkey *key;

struct seen {
    const char *uid; /* the signature made here, NULL before */
    ms_status ours;
    size_t n;
};

static void check_result(void *ctx, const struct ms_dsig_result *r)
{
    struct seen *s = ctx;
    FUZZ_ASSERT(r->status == MS_OK || r->status == MS_EPROBLEM || r->status == MS_EKEY ||
                r->status == MS_EMALFORMED || r->status == MS_EUNSUPPORTED);
    FUZZ_ASSERT(strlen(r->reason) < sizeof r->reason && strlen(r->uid) < sizeof r->uid);
    FUZZ_ASSERT(strlen(r->subject) < sizeof r->subject && strlen(r->location) > 0);
    FUZZ_ASSERT((r->status == MS_OK) == (r->reason[0] == '\0'));
    if (s->uid && strcmp(r->uid, s->uid) == 0 && strcmp(r->location, "top level") == 0)
        s->ours = r->status;
    s->n++;
}

static void make_key(void)
{
    struct ms_error err;
    if (key)
        return;
    FUZZ_ASSERT(ms_pkey_generate(&key, MS_PKEY_P256, 0, &err) == MS_OK);
    FUZZ_ASSERT(ms_pkey_make_self_signed(key, "fuzz signer", 30, &err) == MS_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ms_file *f = NULL;
    struct ms_error err;
    struct ms_read_options opt = {0};
    struct ms_dsig_verify_options vo = {0};
    struct ms_dsig_sign_options so = {0};
    struct seen s = {NULL, MS_EINTERNAL, 0};
    char uid[MS_DSIG_UID_LEN];
    uint8_t sum = 0;
    size_t warned = 0;
    ms_status st;

    make_key();
    opt.warn = fuzz_warn;
    opt.warn_ctx = &warned;
    if (ms_file_read_memory(&f, data, size, &opt, &err) != MS_OK)
        return 0;
    vo.dump = fuzz_null_sink;
    vo.dump_ctx = &sum;
    st = ms_dsig_verify(f, &vo, check_result, &s, &err);
    FUZZ_ASSERT(st != MS_OK || s.n > 0);
    FUZZ_ASSERT(st != MS_ENOTFOUND || s.n == 0);

    so.datetime = "20250101000000.000000+0000";
    if (ms_dsig_sign(f, key, key, &so, uid, &err) == MS_OK) {
        s.uid = uid;
        s.n = 0;
        st = ms_dsig_verify(f, &vo, check_result, &s, &err);
        FUZZ_ASSERT(s.ours == MS_OK);
        FUZZ_ASSERT(st != MS_ENOTFOUND);
    }
    ms_file_destroy(f);
    return 0;
}
