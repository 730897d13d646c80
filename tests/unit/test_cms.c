/* Unit tests of the `cms` scheme (include/medseal/cms.h): round trips for
 * every recipient kind and several at once, strict DICOM, detached and
 * streamed use, the probe, and the failures (wrong keys, tampering,
 * truncation, limits, bad inputs), each checking that no output is left. */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "check.h"
#include "crypto/cms_internal.h"
#include "medseal/cms.h"
#include "testutil.h"

/* A path in the test directory (short: the tests name many). */
static const char *P(const char *name)
{
    return tu_path(name);
}

/* Copy src to dst with byte i flipped (i < 0: none) and cut to len (SIZE_MAX: all). */
static void mutate(const char *src, const char *dst, long flip, size_t len)
{
    size_t n = 0;
    uint8_t *b = tu_slurp(src, &n);
    if (flip >= 0 && (size_t)flip < n)
        b[flip] ^= 0x01;
    tu_spit(dst, b, len < n ? len : n);
    free(b);
}

/* ---- keys and certificates ------------------------------------------------------ */

static void write_key_cert(EVP_PKEY *pk, const char *name, const char *cn)
{
    static long serial = 1;
    char kp[600], cp[600];
    snprintf(kp, sizeof kp, "%s/%s.key", tu_dir, name);
    snprintf(cp, sizeof cp, "%s/%s.crt", tu_dir, name);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, pk);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, nm);
    X509_sign(x, pk, EVP_PKEY_is_a(pk, "ED25519") ? NULL : EVP_sha256());
    FILE *f = fopen(kp, "w");
    PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    f = fopen(cp, "w");
    PEM_write_X509(f, x);
    fclose(f);
    X509_free(x);
}

/* Write the key of file `from` again, encrypted with the passphrase "key pass". */
static void lock_key(const char *from, const char *to)
{
    BIO *b = BIO_new_file(P(from), "r");
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    FILE *f = fopen(P(to), "w");
    if (!k || !f || !PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), "key pass", 8, NULL, NULL)) {
        fprintf(stderr, "cannot write %s\n", to);
        exit(1);
    }
    fclose(f);
    BIO_free(b);
    EVP_PKEY_free(k);
}

static void make_keys(void)
{
    EVP_PKEY *k;
    write_key_cert(k = EVP_RSA_gen(2048), "rsa", "rsa recipient");
    EVP_PKEY_free(k);
    write_key_cert(k = EVP_RSA_gen(2048), "rsa2", "other rsa");
    EVP_PKEY_free(k);
    write_key_cert(k = EVP_EC_gen("P-256"), "ec", "ec recipient");
    EVP_PKEY_free(k);
    write_key_cert(k = EVP_EC_gen("P-256"), "ec2", "other ec");
    EVP_PKEY_free(k);
    write_key_cert(k = EVP_EC_gen("P-256"), "sig", "ecdsa signer");
    EVP_PKEY_free(k);
    write_key_cert(k = EVP_RSA_gen(2048), "rsasig", "rsa signer");
    EVP_PKEY_free(k);
    write_key_cert(k = EVP_RSA_gen(1024), "rsa1024", "small rsa");
    EVP_PKEY_free(k);
    write_key_cert(k = EVP_EC_gen("P-384"), "p384", "p384");
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    write_key_cert(k, "ed", "ed25519");
    FILE *f = fopen(P("enc.key"), "w");
    PEM_write_PrivateKey(f, k, EVP_aes_256_cbc(), (unsigned char *)"pw", 2, NULL, NULL);
    fclose(f);
    EVP_PKEY_free(k);
    /* passphrase-protected keys (encrypted PKCS#8) and their passphrase files */
    lock_key("rsa.key", "rsa-locked.key");
    lock_key("sig.key", "sig-locked.key");
    tu_spit(P("keypass.txt"), "key pass\n", 9);
    tu_spit(P("keypass-wrong.txt"), "key pas\n", 8);
    /* the one passphrase-file rule: the first line, without "\n" or "\r\n" */
    tu_spit(P("pass-2lines.txt"), "correct horse battery\r\nsecond line\n", 36);
    tu_spit(P("pass.txt"), "correct horse battery\n", 22);
    tu_spit(P("pass-crlf.txt"), "correct horse battery\r\n", 23);
    tu_spit(P("wrong.txt"), "correct horse battery!\n", 23);
    tu_spit(P("empty.txt"), "\n", 1);
    tu_spit(P("garbage.crt"), "this is not a certificate", 25);
}

/* ---- helpers over the API ------------------------------------------------------------ */

static const struct ms_cms_pwhash fast = {1, 64}; /* test cost: t=1, 64 KiB */

static struct ms_cms_recipients *recipients(const char *certs[], bool pass)
{
    struct ms_cms_recipients *r;
    struct ms_error err;
    if (ms_cms_recipients_create(&r, &err) != MS_OK)
        exit(1);
    for (int i = 0; certs && certs[i]; i++)
        CHECK_INT(ms_cms_recipients_add_cert_file(r, P(certs[i]), &err), MS_OK);
    if (pass)
        CHECK_INT(ms_cms_recipients_add_passphrase_file(r, P("pass.txt"), &fast, &err), MS_OK);
    return r;
}

static struct ms_cms_keyring *keyring(const char *key, const char *cert, const char *pass,
                                      const char *trust)
{
    struct ms_cms_keyring *k;
    struct ms_error err;
    if (ms_cms_keyring_create(&k, &err) != MS_OK)
        exit(1);
    if (key)
        CHECK_INT(ms_cms_keyring_add_key_file(k, P(key), cert ? P(cert) : NULL, NULL, &err), MS_OK);
    if (pass)
        CHECK_INT(ms_cms_keyring_add_passphrase_file(k, P(pass), &err), MS_OK);
    if (trust)
        CHECK_INT(ms_cms_keyring_add_trusted_file(k, P(trust), &err), MS_OK);
    return k;
}

/* Decrypt in to out with k; returns the status; on failure checks that out
 * does not exist. */
static ms_status dec(const struct ms_cms_keyring *k, const char *in, const char *out,
                     const struct ms_cms_decrypt_options *opt, struct ms_cms_result *res)
{
    struct ms_error err = {0};
    unlink(out);
    ms_status st = ms_cms_decrypt_file(k, in, out, opt, res, &err);
    if (st != MS_OK) {
        CHECK(!tu_exists(out));
        CHECK(strlen(err.msg) > 0 && strchr(err.msg, '\n') == NULL);
    }
    return st;
}

static ms_status enc(const struct ms_cms_recipients *r, const char *in, const char *out,
                     const struct ms_cms_encrypt_options *opt)
{
    struct ms_error err = {0};
    ms_status st = ms_cms_encrypt_file(r, in, out, opt, &err);
    if (st != MS_OK)
        fprintf(stderr, "  (encrypt: %s)\n", err.msg);
    return st;
}

static void make_inputs(void)
{
    static uint8_t big[3 * 1024 * 1024 + 17];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 2654435761u >> 13);
    tu_spit(P("big.bin"), big, sizeof big);
    tu_spit(P("empty.bin"), "", 0);
    tu_spit(P("small.bin"), "hello, dicom", 12);
    const char *src = getenv("MEDSEAL_SRC");
    char ct[512];
    snprintf(ct, sizeof ct, "%s/data/cranium-ct/CT0001.dcm", src ? src : "..");
    size_t n;
    uint8_t *b = tu_slurp(ct, &n);
    if (!b) {
        fprintf(stderr, "cannot read %s (set MEDSEAL_SRC)\n", ct);
        exit(1);
    }
    tu_spit(P("ct.dcm"), b, n);
    free(b);
}

/* ---- positive tests ---------------------------------------------------------------------- */

static void test_roundtrip_each_kind(void)
{
    const char *rsa[] = {"rsa.crt", NULL}, *ec[] = {"ec.crt", NULL};
    struct ms_cms_recipients *r1 = recipients(rsa, false), *r2 = recipients(ec, false),
                             *r3 = recipients(NULL, true);
    struct ms_cms_keyring *k1 = keyring("rsa.key", "rsa.crt", NULL, NULL),
                          *k2 = keyring("ec.key", NULL, NULL, NULL),
                          *k3 = keyring(NULL, NULL, "pass-crlf.txt", NULL);
    struct ms_cms_result res;
    const char *inputs[] = {"ct.dcm", "big.bin", "empty.bin", "small.bin"};

    for (int i = 0; i < 4; i++) {
        CHECK_INT(enc(r1, P(inputs[i]), P("a.cms"), NULL), MS_OK);
        CHECK_INT(dec(k1, P("a.cms"), P("a.out"), NULL, &res), MS_OK);
        CHECK(tu_same_files(P(inputs[i]), P("a.out")));
        CHECK_STR(res.opened_by, "RSA key");
        CHECK_INT(res.kind, MS_CMS_AUTH_ENVELOPED);
        struct stat st;
        CHECK(stat(P("a.out"), &st) == 0 && (st.st_mode & 0777) == 0600);
        CHECK_INT(enc(r2, P(inputs[i]), P("b.cms"), NULL), MS_OK);
        CHECK_INT(dec(k2, P("b.cms"), P("b.out"), NULL, &res), MS_OK);
        CHECK(tu_same_files(P(inputs[i]), P("b.out")));
        CHECK_STR(res.opened_by, "EC key");
        CHECK_INT(enc(r3, P(inputs[i]), P("c.cms"), NULL), MS_OK);
        CHECK_INT(dec(k3, P("c.cms"), P("c.out"), NULL, &res), MS_OK);
        CHECK(tu_same_files(P(inputs[i]), P("c.out")));
        CHECK_STR(res.opened_by, "passphrase");
    }
    ms_cms_recipients_destroy(r1);
    ms_cms_recipients_destroy(r2);
    ms_cms_recipients_destroy(r3);
    ms_cms_keyring_destroy(k1);
    ms_cms_keyring_destroy(k2);
    ms_cms_keyring_destroy(k3);
}

static void test_several_recipients(void)
{
    const char *certs[] = {"rsa.crt", "ec.crt", "rsa2.crt", "ec2.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, true);
    CHECK_INT(ms_cms_recipients_count(r), 5);
    CHECK_INT(enc(r, P("ct.dcm"), P("multi.cms"), NULL), MS_OK);
    const char *keys[] = {"rsa.key", "ec.key", "rsa2.key", "ec2.key"};
    for (int i = 0; i < 4; i++) {
        struct ms_cms_keyring *k = keyring(keys[i], NULL, NULL, NULL);
        CHECK_INT(dec(k, P("multi.cms"), P("multi.out"), NULL, NULL), MS_OK);
        CHECK(tu_same_files(P("ct.dcm"), P("multi.out")));
        ms_cms_keyring_destroy(k);
    }
    /* a keyring with a wrong key first and the passphrase second */
    struct ms_cms_keyring *k = keyring("p384.key", NULL, "pass.txt", NULL);
    CHECK_INT(dec(k, P("multi.cms"), P("multi.out"), NULL, NULL), MS_OK);
    ms_cms_keyring_destroy(k);
    struct ms_cms_info info;
    struct ms_error err;
    CHECK_INT(ms_cms_probe_file(P("multi.cms"), &info, &err), MS_OK);
    CHECK_INT(info.kind, MS_CMS_AUTH_ENVELOPED);
    CHECK_INT(info.key_transport, 2);
    CHECK_INT(info.key_agreement, 2);
    CHECK_INT(info.passphrase, 1);
    CHECK_INT(info.other, 0);
    CHECK_STR(info.cipher, "AES-256-GCM");
    CHECK_STR(ms_cms_kind_scheme(info.kind), "cms");
    ms_cms_recipients_destroy(r);
}

static void test_strict(const char *signer)
{
    struct ms_cms_signer *s;
    struct ms_error err;
    char key[64], crt[64];
    snprintf(key, sizeof key, "%s.key", signer);
    snprintf(crt, sizeof crt, "%s.crt", signer);
    CHECK_INT(ms_cms_signer_create(&s, P(key), P(crt), NULL, &err), MS_OK);
    const char *certs[] = {"rsa.crt", "ec.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, true);
    struct ms_cms_encrypt_options opt = {.flags = MS_CMS_STRICT_DICOM, .signer = s,
                                         .segment_size = 100000};
    const char *inputs[] = {"ct.dcm", "big.bin", "empty.bin"};
    for (int i = 0; i < 3; i++) {
        struct ms_cms_result res;
        CHECK_INT(enc(r, P(inputs[i]), P("s.cms"), &opt), MS_OK);
        struct ms_cms_keyring *k = keyring("ec.key", "ec.crt", NULL, crt);
        CHECK_INT(dec(k, P("s.cms"), P("s.out"), NULL, &res), MS_OK);
        CHECK(tu_same_files(P(inputs[i]), P("s.out")));
        CHECK(res.signature_verified);
        CHECK_INT(res.kind, MS_CMS_ENVELOPED_SIGNED);
        CHECK(strstr(res.signer, "signer") != NULL);
        ms_cms_keyring_destroy(k);
        k = keyring(NULL, NULL, "pass.txt", crt);
        CHECK_INT(dec(k, P("s.cms"), P("s.out"), NULL, &res), MS_OK);
        ms_cms_keyring_destroy(k);
    }
    struct ms_cms_info info;
    CHECK_INT(ms_cms_probe_file(P("s.cms"), &info, &err), MS_OK);
    CHECK_INT(info.kind, MS_CMS_ENVELOPED_SIGNED);
    CHECK_STR(info.cipher, "AES-256-CBC");
    ms_cms_recipients_destroy(r);
    ms_cms_signer_destroy(s);
}

static void count_progress(void *ctx, uint64_t done)
{
    uint64_t *last = ctx;
    CHECK(done > *last);
    *last = done;
}

static void test_progress(void)
{
    const char *certs[] = {"ec.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, false);
    struct ms_cms_keyring *k = keyring("ec.key", NULL, NULL, NULL);
    uint64_t e_last = 0, d_last = 0;
    struct ms_cms_encrypt_options eo = {.progress = count_progress, .progress_ctx = &e_last};
    struct ms_cms_decrypt_options dopt = {.progress = count_progress, .progress_ctx = &d_last};
    CHECK_INT(enc(r, P("big.bin"), P("pr.cms"), &eo), MS_OK);
    CHECK_INT(dec(k, P("pr.cms"), P("pr.out"), &dopt, NULL), MS_OK);
    CHECK_INT(e_last, 3 * 1024 * 1024 + 17);
    CHECK(d_last >= 3 * 1024 * 1024);
    ms_cms_recipients_destroy(r);
    ms_cms_keyring_destroy(k);
}

static void test_segments_and_detached(void)
{
    const char *certs[] = {"ec.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, false);
    struct ms_cms_keyring *k = keyring("ec.key", NULL, NULL, NULL);
    size_t sizes[] = {1, 7, 1000, 65536, 16u << 20};
    for (int i = 0; i < 5; i++) {
        struct ms_cms_encrypt_options opt = {.segment_size = sizes[i]};
        const char *in = sizes[i] < 100 ? "ct.dcm" : "big.bin";
        CHECK_INT(enc(r, P(in), P("seg.cms"), &opt), MS_OK);
        CHECK_INT(dec(k, P("seg.cms"), P("seg.out"), NULL, NULL), MS_OK);
        CHECK(tu_same_files(P(in), P("seg.out")));
    }
    /* outputs renamed into place without an fsync: the same files */
    struct ms_cms_encrypt_options nosync = {.flags = MS_CMS_NO_FSYNC};
    struct ms_cms_decrypt_options dnosync = {.flags = MS_CMS_DECRYPT_NO_FSYNC};
    CHECK_INT(enc(r, P("big.bin"), P("ns.cms"), &nosync), MS_OK);
    CHECK_INT(dec(k, P("ns.cms"), P("ns.out"), &dnosync, NULL), MS_OK);
    CHECK(tu_same_files(P("big.bin"), P("ns.out")));
    struct ms_cms_encrypt_options dopt = {.detached_path = P("det.bin")};
    CHECK_INT(enc(r, P("big.bin"), P("det.hdr"), &dopt), MS_OK);
    struct ms_cms_decrypt_options ddec = {.detached_path = P("det.bin")};
    CHECK_INT(dec(k, P("det.hdr"), P("det.out"), &ddec, NULL), MS_OK);
    CHECK(tu_same_files(P("big.bin"), P("det.out")));
    struct ms_cms_info info;
    struct ms_error err;
    CHECK_INT(ms_cms_probe_file(P("det.hdr"), &info, &err), MS_OK);
    CHECK(info.detached);
    ms_cms_recipients_destroy(r);
    ms_cms_keyring_destroy(k);
}

/* ---- the envelope template of a recipient set (cms_template.c) ------------------------------ */

static bool has_template(const struct ms_cms_recipients *r)
{
    const struct msi_cms_tmpl *t = NULL;
    struct ms_error err;
    CHECK_INT(msi_cms_tmpl_get(r, &t, &err), MS_OK);
    return t != NULL;
}

/* Every key in keys[] (NULL-terminated; "pass" for the passphrase) opens in
 * to the content of plain. */
static void opens_with(const char *in, const char *plain, const char *keys[])
{
    for (int i = 0; keys[i]; i++) {
        bool pass = strcmp(keys[i], "pass") == 0;
        struct ms_cms_keyring *k = keyring(pass ? NULL : keys[i], NULL, pass ? "pass.txt" : NULL,
                                           NULL);
        CHECK_INT(dec(k, in, P("tm.out"), NULL, NULL), MS_OK);
        CHECK(tu_same_files(plain, P("tm.out")));
        ms_cms_keyring_destroy(k);
    }
}

static void test_template(void)
{
    const char *rsa[] = {"rsa.crt", NULL}, *ec[] = {"ec.crt", NULL},
               *four[] = {"rsa.crt", "ec.crt", "rsa2.crt", "ec2.crt", NULL};
    struct ms_cms_recipients *sets[] = {recipients(rsa, false), recipients(ec, false),
                                        recipients(NULL, true), recipients(four, true)};
    const char *k1[] = {"rsa.key", NULL}, *k2[] = {"ec.key", NULL}, *k3[] = {"pass", NULL},
               *k4[] = {"rsa.key", "ec.key", "rsa2.key", "ec2.key", "pass", NULL};
    const char **keys[] = {k1, k2, k3, k4};
    for (int i = 0; i < 4; i++) {
        /* the first file builds the template, the others reuse it */
        for (int j = 0; j < 2; j++) {
            CHECK_INT(enc(sets[i], P(j ? "empty.bin" : "small.bin"), P("tm.cms"), NULL), MS_OK);
            CHECK(has_template(sets[i]));
            opens_with(P("tm.cms"), P(j ? "empty.bin" : "small.bin"), keys[i]);
        }
        /* two files of the same input share nothing but the constant parts */
        CHECK_INT(enc(sets[i], P("small.bin"), P("tm2.cms"), NULL), MS_OK);
        CHECK(!tu_same_files(P("tm.cms"), P("tm2.cms")));
        ms_cms_recipients_destroy(sets[i]);
    }
}

/* Adding a recipient after files were encrypted: the next file has it. */
static void test_template_after_add(void)
{
    const char *rsa[] = {"rsa.crt", NULL}, *k1[] = {"rsa.key", NULL},
               *k2[] = {"rsa.key", "ec.key", NULL}, *k3[] = {"rsa.key", "ec.key", "pass", NULL};
    struct ms_cms_recipients *r = recipients(rsa, false);
    struct ms_cms_keyring *k = keyring("ec.key", NULL, NULL, NULL);
    struct ms_error err;
    CHECK_INT(enc(r, P("small.bin"), P("ta.cms"), NULL), MS_OK);
    opens_with(P("ta.cms"), P("small.bin"), k1);
    CHECK_INT(dec(k, P("ta.cms"), P("ta.out"), NULL, NULL), MS_EKEY);
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("ec.crt"), &err), MS_OK);
    CHECK_INT(enc(r, P("small.bin"), P("ta.cms"), NULL), MS_OK);
    opens_with(P("ta.cms"), P("small.bin"), k2);
    CHECK_INT(ms_cms_recipients_add_passphrase_file(r, P("pass.txt"), &fast, &err), MS_OK);
    CHECK_INT(enc(r, P("small.bin"), P("ta.cms"), NULL), MS_OK);
    opens_with(P("ta.cms"), P("small.bin"), k3);
    /* a failed addition leaves the set, and its files, as they were */
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("p384.crt"), &err), MS_EUNSUPPORTED);
    CHECK_INT(enc(r, P("small.bin"), P("ta.cms"), NULL), MS_OK);
    opens_with(P("ta.cms"), P("small.bin"), k3);
    struct ms_cms_info info;
    CHECK_INT(ms_cms_probe_file(P("ta.cms"), &info, &err), MS_OK);
    CHECK_INT(info.key_transport + info.key_agreement + info.passphrase, 3);
    ms_cms_keyring_destroy(k);
    ms_cms_recipients_destroy(r);
}

/* More recipients than the template covers: OpenSSL's CMS layer, same format. */
static void test_template_not_covered(void)
{
    const char *nine[] = {"rsa.crt", "ec.crt", "rsa2.crt", "ec2.crt", "rsa.crt",
                          "ec.crt",  "rsa2.crt", "ec2.crt", NULL};
    struct ms_cms_recipients *r = recipients(nine, true);
    const char *keys[] = {"rsa2.key", "ec2.key", "pass", NULL};
    CHECK_INT(ms_cms_recipients_count(r), 9);
    CHECK_INT(enc(r, P("ct.dcm"), P("tn.cms"), NULL), MS_OK);
    CHECK(!has_template(r));
    opens_with(P("tn.cms"), P("ct.dcm"), keys);
    struct ms_cms_info info;
    struct ms_error err;
    CHECK_INT(ms_cms_probe_file(P("tn.cms"), &info, &err), MS_OK);
    CHECK_INT(info.key_transport, 4);
    CHECK_INT(info.key_agreement, 4);
    CHECK_INT(info.passphrase, 1);
    ms_cms_recipients_destroy(r);
}

struct tmpl_job {
    const struct ms_cms_recipients *r;
    int id;
    int failures;
};

static void *encrypt_many(void *arg)
{
    struct tmpl_job *j = arg;
    for (int i = 0; i < 8; i++) {
        char out[64];
        snprintf(out, sizeof out, "th%d-%d.cms", j->id, i);
        if (enc(j->r, P("small.bin"), P(out), NULL) != MS_OK)
            j->failures++;
    }
    return NULL;
}

/* Threads that start together: one builds the template, all use it. */
static void test_template_threads(void)
{
    const char *certs[] = {"rsa.crt", "ec.crt", NULL}, *keys[] = {"rsa.key", "ec.key", "pass", NULL};
    struct ms_cms_recipients *r = recipients(certs, true);
    struct tmpl_job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct tmpl_job){r, i, 0};
        CHECK(pthread_create(&t[i], NULL, encrypt_many, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(jobs[i].failures, 0);
    }
    for (int i = 0; i < 4; i++) {
        char out[64];
        snprintf(out, sizeof out, "th%d-7.cms", i);
        opens_with(P(out), P("small.bin"), keys);
    }
    CHECK(!tu_same_files(P("th0-7.cms"), P("th1-7.cms")));
    ms_cms_recipients_destroy(r);
}

static int sink_fd(void *ctx, const void *data, size_t len)
{
    return write(*(int *)ctx, data, len) == (ssize_t)len ? 0 : -1;
}

/* Encrypt from a pipe (size unknown) to a sink, decrypt from a pipe. */
static void test_streams(void)
{
    const char *certs[] = {"rsa.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, false);
    struct ms_cms_keyring *k = keyring("rsa.key", NULL, NULL, NULL);
    struct ms_error err;
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        size_t n;
        uint8_t *b = tu_slurp(P("big.bin"), &n);
        close(fds[0]);
        for (size_t off = 0; off < n; off += 4093)
            if (write(fds[1], b + off, n - off < 4093 ? n - off : 4093) < 0)
                _exit(1);
        _exit(0);
    }
    close(fds[1]);
    int out = open(P("pipe.cms"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK_INT(ms_cms_encrypt_fd(r, fds[0], sink_fd, &out, NULL, &err), MS_OK);
    close(out);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    int in = open(P("pipe.cms"), O_RDONLY);
    CHECK_INT(ms_cms_decrypt_fd(k, in, P("pipe.out"), NULL, NULL, &err), MS_OK);
    close(in);
    CHECK(tu_same_files(P("big.bin"), P("pipe.out")));
    ms_cms_recipients_destroy(r);
    ms_cms_keyring_destroy(k);
}

/* Files OpenSSL writes itself: DER with a primitive encryptedContent
 * (AuthEnvelopedData), and a plain EnvelopedData (unauthenticated). */
static void write_openssl_cms(const char *in, const char *out, const EVP_CIPHER *c)
{
    BIO *crt = BIO_new_file(P("rsa.crt"), "r");
    X509 *x = PEM_read_bio_X509(crt, NULL, NULL, NULL);
    BIO_free(crt);
    STACK_OF(X509) *rs = sk_X509_new_null();
    sk_X509_push(rs, x);
    BIO *data = BIO_new_file(in, "rb");
    CMS_ContentInfo *cms = CMS_encrypt(rs, data, c, CMS_BINARY);
    BIO *o = BIO_new_file(out, "wb");
    CHECK(cms && i2d_CMS_bio(o, cms) == 1);
    BIO_free(o);
    BIO_free(data);
    CMS_ContentInfo_free(cms);
    sk_X509_pop_free(rs, X509_free);
}

static void test_openssl_written(void)
{
    struct ms_cms_keyring *k = keyring("rsa.key", NULL, NULL, NULL);
    struct ms_cms_decrypt_options allow = {.flags = MS_CMS_ALLOW_UNAUTHENTICATED};
    write_openssl_cms(P("ct.dcm"), P("ossl.cms"), EVP_aes_256_gcm());
    CHECK_INT(dec(k, P("ossl.cms"), P("ossl.out"), NULL, NULL), MS_OK);
    CHECK(tu_same_files(P("ct.dcm"), P("ossl.out")));
    write_openssl_cms(P("ct.dcm"), P("ossl-cbc.cms"), EVP_aes_128_cbc());
    CHECK_INT(dec(k, P("ossl-cbc.cms"), P("ossl.out"), &allow, NULL), MS_OK);
    CHECK(tu_same_files(P("ct.dcm"), P("ossl.out")));
    ms_cms_keyring_destroy(k);
}

static void test_probe_not_cms(void)
{
    struct ms_cms_info info;
    struct ms_error err;
    CHECK_INT(ms_cms_probe_file(P("ct.dcm"), &info, &err), MS_OK);
    CHECK_INT(info.kind, MS_CMS_NOT_CMS);
    CHECK(ms_cms_kind_scheme(info.kind) == NULL);
    CHECK_INT(ms_cms_probe_file(P("empty.bin"), &info, &err), MS_OK);
    CHECK_INT(info.kind, MS_CMS_NOT_CMS);
    CHECK_INT(ms_cms_probe_buffer("\x30\x03\x02\x01\x00", 5, &info, &err), MS_OK);
    CHECK_INT(info.kind, MS_CMS_NOT_CMS);
    /* a SignedData is CMS but not an envelope */
    static const uint8_t sd[] = {0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                 0x01, 0x07, 0x02, 0xa0, 0x80};
    CHECK_INT(ms_cms_probe_buffer(sd, sizeof sd, &info, &err), MS_OK);
    CHECK_INT(info.kind, MS_CMS_OTHER);
    CHECK_INT(ms_cms_probe_file(P("no-such-file"), &info, &err), MS_EIO);
    /* an envelope cut before its content */
    size_t n;
    uint8_t *b = tu_slurp(P("multi.cms"), &n);
    CHECK_INT(ms_cms_probe_buffer(b, 100, &info, &err), MS_EMALFORMED);
    free(b);
}

/* ---- negative tests ------------------------------------------------------------------- */

static void test_wrong_keys(void)
{
    const char *certs[] = {"rsa.crt", "ec.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, true);
    CHECK_INT(enc(r, P("ct.dcm"), P("w.cms"), NULL), MS_OK);
    struct ms_cms_keyring *k;
    k = keyring("rsa2.key", NULL, NULL, NULL);
    CHECK_INT(dec(k, P("w.cms"), P("w.out"), NULL, NULL), MS_EKEY);
    ms_cms_keyring_destroy(k);
    k = keyring("rsa2.key", "rsa2.crt", NULL, NULL);
    CHECK_INT(dec(k, P("w.cms"), P("w.out"), NULL, NULL), MS_EKEY);
    ms_cms_keyring_destroy(k);
    k = keyring("ec2.key", NULL, NULL, NULL);
    CHECK_INT(dec(k, P("w.cms"), P("w.out"), NULL, NULL), MS_EKEY);
    ms_cms_keyring_destroy(k);
    k = keyring(NULL, NULL, "wrong.txt", NULL);
    CHECK_INT(dec(k, P("w.cms"), P("w.out"), NULL, NULL), MS_EKEY);
    ms_cms_keyring_destroy(k);
    k = keyring(NULL, NULL, NULL, NULL);
    CHECK_INT(dec(k, P("w.cms"), P("w.out"), NULL, NULL), MS_EUSAGE);
    ms_cms_keyring_destroy(k);
    /* a key whose certificate is another one */
    struct ms_error err;
    CHECK_INT(ms_cms_keyring_create(&k, &err), MS_OK);
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("rsa.key"), P("rsa2.crt"), NULL, &err), MS_EKEY);
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("enc.key"), NULL, NULL, &err), MS_EKEY);
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("ed.key"), NULL, NULL, &err), MS_EUNSUPPORTED);
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("garbage.crt"), NULL, NULL, &err), MS_EMALFORMED);
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("missing.key"), NULL, NULL, &err), MS_EIO);
    CHECK_INT(ms_cms_keyring_add_passphrase_file(k, P("empty.txt"), &err), MS_EMALFORMED);
    CHECK_INT(ms_cms_keyring_add_trusted_file(k, P("garbage.crt"), &err), MS_EMALFORMED);
    ms_cms_keyring_destroy(k);
    ms_cms_recipients_destroy(r);
}

static void test_tampering(void)
{
    const char *certs[] = {"rsa.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, false);
    struct ms_cms_keyring *k = keyring("rsa.key", NULL, NULL, NULL);
    struct ms_cms_encrypt_options opt = {.segment_size = 50000};
    CHECK_INT(enc(r, P("ct.dcm"), P("t.cms"), &opt), MS_OK);
    size_t n;
    free(tu_slurp(P("t.cms"), &n));
    /* one flipped bit anywhere after the recipients: never a success */
    long offs[] = {700, 5000, 50010, (long)n / 2, (long)n - 40, (long)n - 30, (long)n - 20,
                   (long)n - 14, (long)n - 3};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        mutate(P("t.cms"), P("t2.cms"), offs[i], SIZE_MAX);
        ms_status st = dec(k, P("t2.cms"), P("t.out"), NULL, NULL);
        CHECK(st == MS_EKEY || st == MS_EMALFORMED);
    }
    /* truncations, including one byte short */
    size_t cuts[] = {0, 1, 50, 400, 50000, n / 2, n - 18, n - 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        mutate(P("t.cms"), P("t2.cms"), -1, cuts[i]);
        CHECK_INT(dec(k, P("t2.cms"), P("t.out"), NULL, NULL), MS_EMALFORMED);
    }
    /* trailing garbage */
    size_t m;
    uint8_t *b = tu_slurp(P("t.cms"), &m);
    b = realloc(b, m + 3);
    memcpy(b + m, "xyz", 3);
    tu_spit(P("t2.cms"), b, m + 3);
    free(b);
    CHECK_INT(dec(k, P("t2.cms"), P("t.out"), NULL, NULL), MS_EMALFORMED);
    /* BER allows a non-minimal length: 04 10 <tag> written as 04 81 10 <tag> */
    b = tu_slurp(P("t.cms"), &m);
    CHECK(m > 24 && b[m - 24] == 0x04 && b[m - 23] == 0x10);
    uint8_t *b2 = malloc(m + 1);
    memcpy(b2, b, m - 23);
    b2[m - 23] = 0x81;
    memcpy(b2 + m - 22, b + m - 23, 23);
    tu_spit(P("t2.cms"), b2, m + 1);
    CHECK_INT(dec(k, P("t2.cms"), P("t.out"), NULL, NULL), MS_OK);
    CHECK(tu_same_files(P("ct.dcm"), P("t.out")));
    b2[m - 10] ^= 0x01; /* and with a changed tag it fails */
    tu_spit(P("t2.cms"), b2, m + 1);
    free(b2);
    free(b);
    CHECK_INT(dec(k, P("t2.cms"), P("t.out"), NULL, NULL), MS_EKEY);
    /* not CMS at all */
    CHECK_INT(dec(k, P("ct.dcm"), P("t.out"), NULL, NULL), MS_EMALFORMED);
    CHECK_INT(dec(k, P("empty.bin"), P("t.out"), NULL, NULL), MS_EMALFORMED);
    ms_cms_recipients_destroy(r);
    ms_cms_keyring_destroy(k);
}

/* Passphrase-protected private keys: keyring and signer, right, wrong and
 * missing key passphrase. */
static void test_locked_keys(void)
{
    const char *certs[] = {"rsa.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, false);
    struct ms_cms_keyring *k;
    struct ms_cms_signer *s = NULL;
    struct ms_error err;

    CHECK_INT(enc(r, P("ct.dcm"), P("lk.cms"), NULL), MS_OK);
    CHECK_INT(ms_cms_keyring_create(&k, &err), MS_OK);
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("rsa-locked.key"), P("rsa.crt"), P("keypass.txt"),
                                          &err), MS_OK);
    CHECK_INT(dec(k, P("lk.cms"), P("lk.out"), NULL, NULL), MS_OK);
    CHECK(tu_same_files(P("ct.dcm"), P("lk.out")));
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("rsa-locked.key"), NULL, P("keypass-wrong.txt"),
                                          &err), MS_EKEY);
    CHECK(strstr(err.msg, "key pas") == NULL); /* never the passphrase */
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("rsa-locked.key"), NULL, NULL, &err), MS_EKEY);
    CHECK(strstr(err.msg, "passphrase") != NULL);
    CHECK_INT(ms_cms_keyring_add_key_file(k, P("rsa-locked.key"), NULL, P("missing.txt"), &err),
              MS_EIO);
    ms_cms_keyring_destroy(k);

    CHECK_INT(ms_cms_signer_create(&s, P("sig-locked.key"), P("sig.crt"), P("keypass.txt"), &err),
              MS_OK);
    struct ms_cms_encrypt_options opt = {.flags = MS_CMS_STRICT_DICOM, .signer = s};
    CHECK_INT(enc(r, P("ct.dcm"), P("lks.cms"), &opt), MS_OK);
    k = keyring("rsa.key", NULL, NULL, "sig.crt");
    CHECK_INT(dec(k, P("lks.cms"), P("lks.out"), NULL, NULL), MS_OK);
    CHECK(tu_same_files(P("ct.dcm"), P("lks.out")));
    ms_cms_keyring_destroy(k);
    ms_cms_signer_destroy(s);
    s = NULL;
    CHECK_INT(ms_cms_signer_create(&s, P("sig-locked.key"), P("sig.crt"), P("keypass-wrong.txt"),
                                   &err), MS_EKEY);
    CHECK(s == NULL);
    CHECK_INT(ms_cms_signer_create(&s, P("sig-locked.key"), P("sig.crt"), NULL, &err), MS_EKEY);
    ms_cms_recipients_destroy(r);
}

/* Encryption and decryption read passphrase files by the same rule: a file
 * with a second line opens what its first line alone encrypted. */
static void test_passphrase_file_rule(void)
{
    struct ms_cms_recipients *r;
    struct ms_error err;
    CHECK_INT(ms_cms_recipients_create(&r, &err), MS_OK);
    CHECK_INT(ms_cms_recipients_add_passphrase_file(r, P("pass-2lines.txt"), &fast, &err), MS_OK);
    CHECK_INT(enc(r, P("small.bin"), P("rule.cms"), NULL), MS_OK);
    struct ms_cms_keyring *k = keyring(NULL, NULL, "pass.txt", NULL);
    CHECK_INT(dec(k, P("rule.cms"), P("rule.out"), NULL, NULL), MS_OK);
    CHECK(tu_same_files(P("small.bin"), P("rule.out")));
    ms_cms_keyring_destroy(k);
    k = keyring(NULL, NULL, "pass-crlf.txt", NULL);
    CHECK_INT(dec(k, P("rule.cms"), P("rule.out"), NULL, NULL), MS_OK);
    ms_cms_keyring_destroy(k);
    ms_cms_recipients_destroy(r);
}

static void test_strict_failures(void)
{
    struct ms_cms_signer *s;
    struct ms_error err;
    CHECK_INT(ms_cms_signer_create(&s, P("sig.key"), P("sig.crt"), NULL, &err), MS_OK);
    const char *certs[] = {"rsa.crt", NULL};
    struct ms_cms_recipients *r = recipients(certs, false);
    struct ms_cms_encrypt_options opt = {.flags = MS_CMS_STRICT_DICOM, .signer = s};
    CHECK_INT(enc(r, P("ct.dcm"), P("sf.cms"), &opt), MS_OK);
    struct ms_cms_keyring *k = keyring("rsa.key", NULL, NULL, NULL);
    CHECK_INT(dec(k, P("sf.cms"), P("sf.out"), NULL, NULL), MS_EUSAGE); /* no trust anchor */
    ms_cms_keyring_destroy(k);
    k = keyring("rsa.key", NULL, NULL, "rsasig.crt");
    CHECK_INT(dec(k, P("sf.cms"), P("sf.out"), NULL, NULL), MS_EKEY); /* untrusted signer */
    ms_cms_keyring_destroy(k);
    k = keyring("rsa.key", NULL, NULL, "sig.crt");
    size_t n;
    free(tu_slurp(P("sf.cms"), &n));
    long offs[] = {500, 2000, (long)n / 2, (long)n - 200, (long)n - 40};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        mutate(P("sf.cms"), P("sf2.cms"), offs[i], SIZE_MAX);
        ms_status st = dec(k, P("sf2.cms"), P("sf.out"), NULL, NULL);
        CHECK(st == MS_EKEY || st == MS_EMALFORMED);
    }
    mutate(P("sf.cms"), P("sf2.cms"), -1, n - 30);
    CHECK_INT(dec(k, P("sf2.cms"), P("sf.out"), NULL, NULL), MS_EMALFORMED);
    ms_cms_keyring_destroy(k);
    /* strict without a signer, signer with a foreign certificate */
    struct ms_cms_encrypt_options bad = {.flags = MS_CMS_STRICT_DICOM};
    CHECK_INT(ms_cms_encrypt_file(r, P("ct.dcm"), P("sf3.cms"), &bad, &err), MS_EUSAGE);
    CHECK(!tu_exists(P("sf3.cms")));
    struct ms_cms_signer *s2 = NULL;
    CHECK_INT(ms_cms_signer_create(&s2, P("sig.key"), P("rsasig.crt"), NULL, &err), MS_EKEY);
    CHECK_INT(ms_cms_signer_create(&s2, P("ed.key"), P("ed.crt"), NULL, &err), MS_EUNSUPPORTED);
    ms_cms_recipients_destroy(r);
    ms_cms_signer_destroy(s);
}

static void test_bad_recipients(void)
{
    struct ms_cms_recipients *r;
    struct ms_error err;
    CHECK_INT(ms_cms_recipients_create(&r, &err), MS_OK);
    CHECK_INT(ms_cms_encrypt_file(r, P("ct.dcm"), P("br.cms"), NULL, &err), MS_EUSAGE);
    CHECK(!tu_exists(P("br.cms")));
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("rsa1024.crt"), &err), MS_EUNSUPPORTED);
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("p384.crt"), &err), MS_EUNSUPPORTED);
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("ed.crt"), &err), MS_EUNSUPPORTED);
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("garbage.crt"), &err), MS_EMALFORMED);
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("missing.crt"), &err), MS_EIO);
    CHECK_INT(ms_cms_recipients_add_passphrase_file(r, P("empty.txt"), NULL, &err), MS_EMALFORMED);
    CHECK_INT(ms_cms_recipients_add_passphrase(r, "x", 0, NULL, &err), MS_EUSAGE);
    static char longpass[MS_CMS_PASSPHRASE_MAX + 1];
    memset(longpass, 'a', sizeof longpass);
    CHECK_INT(ms_cms_recipients_add_passphrase(r, longpass, sizeof longpass, NULL, &err),
              MS_EUSAGE);
    struct ms_cms_pwhash huge = {1, MS_CMS_PWHASH_M_MAX + 1};
    CHECK_INT(ms_cms_recipients_add_passphrase(r, "pw", 2, &huge, &err), MS_EUSAGE);
    CHECK_INT(ms_cms_recipients_count(r), 0);
    CHECK_INT(ms_cms_recipients_add_cert_file(r, P("rsa.crt"), &err), MS_OK);
    struct ms_cms_encrypt_options big = {.segment_size = (16u << 20) + 1};
    CHECK_INT(ms_cms_encrypt_file(r, P("ct.dcm"), P("br.cms"), &big, &err), MS_EUSAGE);
    CHECK_INT(ms_cms_encrypt_file(r, P("missing.bin"), P("br.cms"), NULL, &err), MS_EIO);
    CHECK_INT(ms_cms_encrypt_file(r, P("ct.dcm"), "/nonexistent-dir/x.cms", NULL, &err), MS_EIO);
    CHECK(!tu_exists(P("br.cms")));
    ms_cms_recipients_destroy(r);
}

/* Replace the first occurrence of pat by rep (same length) in a copy. */
static bool patch(const char *src, const char *dst, const uint8_t *pat, const uint8_t *rep,
                  size_t len)
{
    size_t n;
    uint8_t *b = tu_slurp(src, &n);
    bool done = false;
    for (size_t i = 0; i + len <= n && !done; i++)
        if (memcmp(b + i, pat, len) == 0) {
            memcpy(b + i, rep, len);
            done = true;
        }
    tu_spit(dst, b, n);
    free(b);
    return done;
}

static void test_passphrase_params(void)
{
    struct ms_cms_recipients *r = recipients(NULL, true); /* t=1, m=64 */
    struct ms_cms_keyring *k = keyring(NULL, NULL, "pass.txt", NULL);
    CHECK_INT(enc(r, P("ct.dcm"), P("pp.cms"), NULL), MS_OK);
    /* SEQUENCE { 19, t=1, m=64, p=1 } */
    static const uint8_t params[] = {0x30, 0x0c, 0x02, 0x01, 0x13, 0x02, 0x01, 0x01,
                                     0x02, 0x01, 0x40, 0x02, 0x01, 0x01};
    uint8_t p2[sizeof params];
    memcpy(p2, params, sizeof p2);
    p2[7] = 0x7f; /* t = 127: above the limit */
    CHECK(patch(P("pp.cms"), P("pp2.cms"), params, p2, sizeof p2));
    CHECK_INT(dec(k, P("pp2.cms"), P("pp.out"), NULL, NULL), MS_ELIMIT);
    memcpy(p2, params, sizeof p2);
    p2[4] = 0x10; /* Argon2 version 1.0 */
    CHECK(patch(P("pp.cms"), P("pp2.cms"), params, p2, sizeof p2));
    CHECK_INT(dec(k, P("pp2.cms"), P("pp.out"), NULL, NULL), MS_EUNSUPPORTED);
    memcpy(p2, params, sizeof p2);
    p2[13] = 0x04; /* parallelism 4 */
    CHECK(patch(P("pp.cms"), P("pp2.cms"), params, p2, sizeof p2));
    CHECK_INT(dec(k, P("pp2.cms"), P("pp.out"), NULL, NULL), MS_EUNSUPPORTED);
    memcpy(p2, params, sizeof p2);
    p2[10] = 0x41; /* other memory cost: another KEK, the unwrap fails */
    CHECK(patch(P("pp.cms"), P("pp2.cms"), params, p2, sizeof p2));
    CHECK_INT(dec(k, P("pp2.cms"), P("pp.out"), NULL, NULL), MS_EKEY);
    /* the original still opens, twice (the second from the KEK cache) */
    CHECK_INT(dec(k, P("pp.cms"), P("pp.out"), NULL, NULL), MS_OK);
    CHECK_INT(dec(k, P("pp.cms"), P("pp.out"), NULL, NULL), MS_OK);
    ms_cms_recipients_destroy(r);
    ms_cms_keyring_destroy(k);
}

static void test_malformed_structures(void)
{
    struct ms_cms_keyring *k = keyring("rsa.key", NULL, NULL, NULL);
    struct ms_cms_decrypt_options det = {.detached_path = P("det.bin")};
    /* plain EnvelopedData is refused unless allowed */
    CHECK_INT(dec(k, P("ossl-cbc.cms"), P("m.out"), NULL, NULL), MS_EUNSUPPORTED);
    /* detached file without its content, attached file with a content file */
    CHECK_INT(dec(k, P("det.hdr"), P("m.out"), NULL, NULL), MS_EUSAGE);
    CHECK_INT(dec(k, P("t.cms"), P("m.out"), &det, NULL), MS_EUSAGE);
    /* a detached content that was cut or changed */
    struct ms_cms_keyring *ke = keyring("ec.key", NULL, NULL, NULL);
    mutate(P("det.bin"), P("det2.bin"), 1000, SIZE_MAX);
    struct ms_cms_decrypt_options det2 = {.detached_path = P("det2.bin")};
    CHECK_INT(dec(ke, P("det.hdr"), P("m.out"), &det2, NULL), MS_EKEY);
    mutate(P("det.bin"), P("det2.bin"), -1, 1000);
    CHECK_INT(dec(ke, P("det.hdr"), P("m.out"), &det2, NULL), MS_EKEY);
    ms_cms_keyring_destroy(ke);
    /* nesting bomb inside the content: [0] { 24 80 24 80 ... } */
    size_t n;
    uint8_t *b = tu_slurp(P("t.cms"), &n);
    size_t at = 0;
    for (size_t i = 0; i + 4 < n; i++)
        if (b[i] == 0xa0 && b[i + 1] == 0x80 && b[i + 2] == 0x04) {
            at = i + 2;
            break;
        }
    CHECK(at > 0);
    uint8_t *bomb = malloc(at + 200);
    memcpy(bomb, b, at);
    for (int i = 0; i < 100; i++) {
        bomb[at + 2 * i] = 0x24;
        bomb[at + 2 * i + 1] = 0x80;
    }
    tu_spit(P("bomb.cms"), bomb, at + 200);
    CHECK_INT(dec(k, P("bomb.cms"), P("m.out"), NULL, NULL), MS_ELIMIT);
    /* a segment length far beyond the file */
    memcpy(bomb + at, "\x04\x88\x7f\xff\xff\xff\xff\xff\xff\xff", 10);
    tu_spit(P("bomb.cms"), bomb, at + 200);
    CHECK_INT(dec(k, P("bomb.cms"), P("m.out"), NULL, NULL), MS_EMALFORMED);
    /* an element inside the constructed content that is not an OCTET STRING */
    memcpy(bomb + at, "\x02\x01\x00", 3);
    tu_spit(P("bomb.cms"), bomb, at + 200);
    CHECK_INT(dec(k, P("bomb.cms"), P("m.out"), NULL, NULL), MS_EMALFORMED);
    free(bomb);
    free(b);
    ms_cms_keyring_destroy(k);
}

int main(void)
{
    tu_dir_open();
    make_keys();
    make_inputs();
    test_roundtrip_each_kind();
    test_several_recipients();
    test_strict("sig");
    test_strict("rsasig");
    test_segments_and_detached();
    test_template();
    test_template_after_add();
    test_template_not_covered();
    test_template_threads();
    test_progress();
    test_streams();
    test_openssl_written();
    test_probe_not_cms();
    test_wrong_keys();
    test_tampering();
    test_strict_failures();
    test_locked_keys();
    test_passphrase_file_rule();
    test_bad_recipients();
    test_passphrase_params();
    test_malformed_structures();
    tu_dir_close();
    return check_done();
}
