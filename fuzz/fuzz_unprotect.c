/* Fuzz target: the untrusted-input side of `medseal unprotect`
 * (ms_unprotect_file: armor detection, scheme recognition, every scheme's
 * unprotect, the --compress stage after it).
 *
 * The input is written to a file of a private directory and unprotected into
 * another, with the fixed test keys of fuzz/keys (README there): the P-256
 * key first and, when that fails on a cms or deid file, the RSA-3072 key; the
 * symmetric key for pixel-gcm and ecb; the stego key; a one-time pad store
 * holding the seed's pad again before every call. Whatever the input:
 *   - failure: a non-empty one-line message, and nothing in the output
 *     directory (no output, no temporary file) nor next to the input;
 *   - success: the output (and nothing else) is in the output directory and
 *     medseal's reader parses it; for the authenticated schemes (cms, deid,
 *     pixel-gcm, and the HMAC-checked chaos, ecb, otp) it is exactly the file
 *     the seeds were made from, fuzz/keys/plain.dcm: a changed input may
 *     decrypt (armor rewrapped, an unauthenticated CMS field) but never to
 *     other bytes. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "medseal/protect.h"

#ifndef MEDSEAL_FUZZ_KEYS
#define MEDSEAL_FUZZ_KEYS "fuzz/keys"
#endif

static char keys[1024], dir[64], indir[96], outdir[96], store[96], input[128], output[128];
static char k_p256[1100], c_p256[1100], k_rsa[1100], c_rsa[1100], k_sym[1100], k_stego[1100];
static uint8_t *plain;
static size_t plain_len;

/* Whole file into a malloc'd buffer (NULL when unreadable). */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Remove every entry of d (plain files only: nothing else is made there);
 * returns how many there were other than keep (which stays). */
static size_t clear_dir(const char *d, const char *keep)
{
    DIR *h = opendir(d);
    struct dirent *e;
    char path[1024];
    size_t others = 0;

    FUZZ_ASSERT(h != NULL);
    while ((e = readdir(h)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (keep && !strcmp(e->d_name, keep))
            continue;
        others++;
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        remove(path);
    }
    closedir(h);
    return others;
}

/* The store as it was after protection: the seed's pads, nothing used. */
static void reset_store(void)
{
    char from[1024], to[1024], src[1100];
    DIR *h;
    struct dirent *e;

    clear_dir(store, NULL);
    snprintf(from, sizeof from, "%s/otp", keys);
    h = opendir(from);
    FUZZ_ASSERT(h != NULL);
    while ((e = readdir(h)) != NULL) {
        size_t n;
        uint8_t *pad;
        if (e->d_name[0] == '.')
            continue;
        snprintf(src, sizeof src, "%s/%s", from, e->d_name);
        pad = slurp(src, &n);
        FUZZ_ASSERT(pad != NULL);
        snprintf(to, sizeof to, "%s/%s", store, e->d_name);
        FUZZ_ASSERT(fuzz_write_file(to, pad, n));
        chmod(to, 0600);
        free(pad);
    }
    closedir(h);
}

static void cleanup(void)
{
    clear_dir(indir, NULL);
    clear_dir(outdir, NULL);
    clear_dir(store, NULL);
    rmdir(indir);
    rmdir(outdir);
    rmdir(store);
    rmdir(dir);
    free(plain);
}

static void key_path(char *buf, const char *name)
{
    snprintf(buf, 1100, "%s/%s", keys, name);
}

static void setup(void)
{
    const char *env = getenv("MEDSEAL_FUZZ_KEYS");
    char path[1100];

    snprintf(keys, sizeof keys, "%s", env && *env ? env : MEDSEAL_FUZZ_KEYS);
    key_path(k_p256, "p256.key.pem");
    key_path(c_p256, "p256.cert.pem");
    key_path(k_rsa, "rsa3072.key.pem");
    key_path(c_rsa, "rsa3072.cert.pem");
    key_path(k_sym, "sym.bin");
    key_path(k_stego, "stego.txt");
    key_path(path, "plain.dcm");
    plain = slurp(path, &plain_len);
    if (!plain) {
        fprintf(stderr, "fuzz_unprotect: cannot read %s (set MEDSEAL_FUZZ_KEYS)\n", path);
        abort();
    }
    snprintf(dir, sizeof dir, "/tmp/medseal-fuzz-unprotect-XXXXXX");
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    snprintf(indir, sizeof indir, "%s/in", dir);
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    snprintf(store, sizeof store, "%s/store", dir);
    FUZZ_ASSERT(mkdir(indir, 0700) == 0 && mkdir(outdir, 0700) == 0 && mkdir(store, 0700) == 0);
    snprintf(input, sizeof input, "%s/input", indir);
    snprintf(output, sizeof output, "%s/out.dcm", outdir);
    atexit(cleanup);
}

/* Schemes whose unprotect authenticates the whole restored file. */
static bool exact_scheme(const struct ms_scheme_info *s)
{
    static const char *const names[] = {"cms", "deid", "pixel-gcm", "chaos", "ecb", "otp"};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s->name, names[i]))
            return true;
    return false;
}

static void check_success(const struct ms_protect_report *rep)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    size_t warned = 0, len = 0;
    struct ms_read_options ro = {.warn = fuzz_warn, .warn_ctx = &warned};
    uint8_t *got;

    FUZZ_ASSERT(rep->scheme != NULL);
    FUZZ_ASSERT(clear_dir(outdir, "out.dcm") == 0); /* no temporary file beside it */
    FUZZ_ASSERT(ms_file_read(&f, output, &ro, &err) == MS_OK);
    ms_file_destroy(f);
    if (exact_scheme(rep->scheme)) {
        got = slurp(output, &len);
        FUZZ_ASSERT(got != NULL);
        if (len != plain_len || memcmp(got, plain, len) != 0) {
            fprintf(stderr, "fuzz_unprotect: %s restored %zu bytes that are not the original\n",
                    rep->scheme->name, len);
            abort();
        }
        free(got);
    }
}

/* One unprotect call with the given recipient key; true when it succeeded. */
static bool run(const char *key, const char *cert, const struct ms_scheme_info **scheme)
{
    struct ms_protect_options o = {0};
    struct ms_protect_report rep;
    struct ms_error err = {0};
    ms_status st;
    struct stat sb;

    o.private_key = key;
    o.certificate = cert;
    o.trust = c_p256; /* strict-dicom seeds are signed with the P-256 key */
    o.key_file = k_sym;
    o.stego_key_file = k_stego;
    o.otp_store = store;
    o.no_fsync = true;
    reset_store();
    st = ms_unprotect_file(input, output, &o, &rep, &err);
    *scheme = rep.scheme;
    if (getenv("FUZZ_UNPROTECT_VERBOSE")) /* which seeds open, and why the others fail */
        fprintf(stderr, "fuzz_unprotect: %s, %s: %s\n", rep.scheme ? rep.scheme->name : "-",
                key == k_rsa ? "rsa" : "p256", st == MS_OK ? "restored" : err.msg);
    FUZZ_ASSERT(clear_dir(indir, "input") == 0); /* nothing left next to the input */
    if (st == MS_OK)
        check_success(&rep);
    else {
        FUZZ_ASSERT(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
        FUZZ_ASSERT(stat(output, &sb) != 0);
        FUZZ_ASSERT(clear_dir(outdir, NULL) == 0);
    }
    clear_dir(outdir, NULL);
    return st == MS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct ms_scheme_info *s = NULL;

    if (!dir[0])
        setup();
    if (size > 65536 || !fuzz_write_file(input, data, size))
        return 0;
    if (!run(k_p256, c_p256, &s) && s &&
        (!strcmp(s->name, "cms") || !strcmp(s->name, "deid")))
        (void)run(k_rsa, c_rsa, &s);
    return 0;
}
