/* Fuzz target: the seal file parser and the checks made before any
 * comparison (src/seal: format, counts, consistency, signature).
 *
 * The input is written as a seal next to a private one-file study, which is
 * verified against it with a fixed key and no trusted signer. Whatever the
 * input, the call must return an error with a one-line message, or a result
 * that is not "intact" (no signer is trusted). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "medseal/seal.h"

static char dir[64], study[96], file[128], seal[96];
static struct ms_study *scanned;

static void cleanup(void)
{
    ms_study_destroy(scanned);
    remove(seal);
    remove(file);
    rmdir(study);
    rmdir(dir);
}

static void setup(void)
{
    const char *in[1] = {study};
    struct ms_study_options so = {0};
    snprintf(dir, sizeof dir, "/tmp/medseal-fuzz-seal-XXXXXX");
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    snprintf(study, sizeof study, "%s/study", dir);
    snprintf(file, sizeof file, "%s/README", study);
    snprintf(seal, sizeof seal, "%s/input.seal", dir);
    FUZZ_ASSERT(mkdir(study, 0700) == 0);
    FUZZ_ASSERT(fuzz_write_file(file, (const uint8_t *)"x\n", 2));
    so.threads = 1;
    FUZZ_ASSERT(ms_study_scan(&scanned, in, 1, &so, NULL) == MS_OK);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1, 2, 3};
    struct ms_verify_options vo = {key, NULL, 0, 1, false};
    struct ms_verify_result *r = NULL;
    struct ms_error err = {0};
    ms_status st;

    if (!dir[0])
        setup();
    if (!fuzz_write_file(seal, data, size))
        return 0;
    st = ms_seal_verify(scanned, seal, &vo, &r, &err);
    if (st != MS_OK) {
        FUZZ_ASSERT(r == NULL);
        FUZZ_ASSERT(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
    } else {
        FUZZ_ASSERT(r != NULL && ms_verify_status(r) != MS_OK);
    }
    ms_verify_result_destroy(r);
    return 0;
}
