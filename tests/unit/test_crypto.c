/* Unit tests of the crypto layer: known-answer vectors (FIPS 180, RFC 4231,
 * GCM spec test cases 13-16, FIPS 197, SP 800-38A, RFC 5869, RFC 7914, the
 * Argon2 reference suite, RFC 8032), tampered / wrong-key / truncated
 * negatives, key files, keys, signatures and key inspection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "check.h"
#include "medseal/crypto.h"
#include "testutil.h"

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static bool eq_hex(const uint8_t *got, const char *hex)
{
    uint8_t want[512];
    size_t n = unhex(hex, want);
    return memcmp(got, want, n) == 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- hashes, HMAC, compare ---------------------------------------------------- */

static void test_hashes(void)
{
    struct ms_error err = {0};
    struct ms_hash *h = NULL;
    uint8_t out[64], out2[64];
    const char *path = tu_path("abc.txt");

    CHECK_INT(ms_sha256("abc", 3, out, &err), MS_OK);
    CHECK(eq_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK_INT(ms_sha256("", 0, out, &err), MS_OK);
    CHECK(eq_hex(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK_INT(ms_hash_compute(MS_HASH_SHA512, "abc", 3, out, &err), MS_OK);
    CHECK(eq_hex(out, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"));
    CHECK_INT(ms_hash_compute(MS_HASH_WHIRLPOOL, "abc", 3, out, &err), MS_OK);
    CHECK(eq_hex(out, "4e2448a4c6f486bb16b6562c73b4020bf3043e3a731bce721ae1b303d97e6d4c"
                      "7181eebdb6c57e277d0e34957114cbd6c797fc9d95d8b582d225292076d4eef5"));
    CHECK_INT(ms_hash_compute(MS_HASH_WHIRLPOOL, "", 0, out, &err), MS_OK);
    CHECK(eq_hex(out, "19fa61d75522a4669b44e39c1d2e1726c530232130d407f89afee0964997f7a7"
                      "3e83be698b288febcf88e3e03c4f0757ea8964e59b63d93708b138cc42a66eb3"));
    /* SHA-256 still works after Whirlpool loaded the legacy provider */
    CHECK_INT(ms_sha256("abc", 3, out, &err), MS_OK);
    CHECK(eq_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));

    /* streaming, split anywhere, and reusable after final */
    CHECK_INT(ms_hash_create(&h, MS_HASH_SHA256, &err), MS_OK);
    for (int round = 0; round < 2 && h; round++) {
        CHECK_INT(ms_hash_update(h, "a", 1, &err), MS_OK);
        CHECK_INT(ms_hash_update(h, "", 0, &err), MS_OK);
        CHECK_INT(ms_hash_update(h, "bc", 2, &err), MS_OK);
        CHECK_INT(ms_hash_final(h, out2, &err), MS_OK);
        CHECK(eq_hex(out2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }
    ms_hash_destroy(h);
    ms_hash_destroy(NULL);
    tu_spit(path, "abc", 3);
    CHECK_INT(ms_hash_file(MS_HASH_SHA256, path, out, &err), MS_OK);
    CHECK(eq_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK_INT(ms_hash_size(MS_HASH_WHIRLPOOL), 64);
    CHECK_STR(ms_hash_name(MS_HASH_SHA512), "sha512");

    /* negatives */
    CHECK_INT(ms_hash_compute((ms_hash_alg)42, "abc", 3, out, &err), MS_EUSAGE);
    CHECK_INT(ms_hash_create(&h, (ms_hash_alg)-1, &err), MS_EUSAGE);
    CHECK(h == NULL);
    CHECK_INT(ms_hash_file(MS_HASH_SHA256, tu_path("missing"), out, &err), MS_EIO);
    CHECK_INT(ms_hash_file(MS_HASH_SHA256, tu_dir, out, &err), MS_EIO);
    CHECK_INT(ms_hash_size((ms_hash_alg)9), 0);
    CHECK_STR(ms_hash_name((ms_hash_alg)9), "unknown");
    CHECK_INT(ms_sha256("abd", 3, out, &err), MS_OK);
    CHECK(!eq_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

static void test_hmac(void)
{
    static const char rfc4231_2[] =
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    const char *msg = "what do ya want for nothing?";
    struct ms_error err = {0};
    struct ms_hmac *m = NULL;
    uint8_t tag[32], tag2[32];

    CHECK_INT(ms_hmac_sha256("Jefe", 4, msg, strlen(msg), tag, &err), MS_OK);
    CHECK(eq_hex(tag, rfc4231_2));
    CHECK_INT(ms_hmac_create(&m, "Jefe", 4, &err), MS_OK);
    for (int round = 0; round < 2 && m; round++) {
        CHECK_INT(ms_hmac_update(m, msg, 10, &err), MS_OK);
        CHECK_INT(ms_hmac_update(m, msg + 10, strlen(msg) - 10, &err), MS_OK);
        CHECK_INT(ms_hmac_final(m, tag2, &err), MS_OK);
        CHECK(memcmp(tag, tag2, 32) == 0);
    }
    ms_hmac_destroy(m);
    ms_hmac_destroy(NULL);
    CHECK_INT(ms_hmac_sha256_verify("Jefe", 4, msg, strlen(msg), tag, 32, &err), MS_OK);
    CHECK_INT(ms_hmac_sha256_verify("Jefe", 4, msg, strlen(msg), tag, 16, &err), MS_OK);
    CHECK(ms_crypto_equal(tag, tag2, 32));
    CHECK(ms_crypto_equal(tag, tag2, 0));

    /* negatives */
    CHECK_INT(ms_hmac_sha256_verify("Jeff", 4, msg, strlen(msg), tag, 32, &err), MS_EKEY);
    CHECK_INT(ms_hmac_sha256_verify("Jefe", 4, msg, strlen(msg) - 1, tag, 32, &err), MS_EKEY);
    tag2[31] ^= 1;
    CHECK_INT(ms_hmac_sha256_verify("Jefe", 4, msg, strlen(msg), tag2, 32, &err), MS_EKEY);
    CHECK(!ms_crypto_equal(tag, tag2, 32));
    CHECK_INT(ms_hmac_sha256_verify("Jefe", 4, msg, strlen(msg), tag, 8, &err), MS_EUSAGE);
    CHECK_INT(ms_hmac_sha256_verify("Jefe", 4, msg, strlen(msg), tag, 33, &err), MS_EUSAGE);
}

/* ---- AES-256-GCM ---------------------------------------------------------------- */

struct gcm_vec {
    const char *key, *iv, *aad, *pt, *ct, *tag;
};

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13-16
 * (the AES-256 cases; also in NIST's GCM validation examples). */
static const struct gcm_vec gcm_vecs[] = {
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void test_gcm_vectors(void)
{
    struct ms_error err = {0};
    for (size_t i = 0; i < sizeof gcm_vecs / sizeof gcm_vecs[0]; i++) {
        const struct gcm_vec *v = &gcm_vecs[i];
        uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16], out[64], got_tag[16];
        size_t aad_len, len;
        unhex(v->key, key);
        unhex(v->iv, iv);
        aad_len = unhex(v->aad, aad);
        len = unhex(v->pt, pt);
        unhex(v->ct, ct);
        unhex(v->tag, tag);

        CHECK_INT(ms_gcm_encrypt(key, iv, aad, aad_len, pt, len, out, got_tag, &err), MS_OK);
        CHECK(memcmp(out, ct, len) == 0);
        CHECK(memcmp(got_tag, tag, 16) == 0);
        CHECK_INT(ms_gcm_decrypt(key, iv, aad, aad_len, ct, len, tag, out, &err), MS_OK);
        CHECK(memcmp(out, pt, len) == 0);

        /* tampered tag, ciphertext, AAD; wrong key, wrong IV: MS_EKEY, output wiped */
        tag[15] ^= 0x80;
        memset(out, 0xAA, sizeof out);
        CHECK_INT(ms_gcm_decrypt(key, iv, aad, aad_len, ct, len, tag, out, &err), MS_EKEY);
        CHECK(all_zero(out, len));
        tag[15] ^= 0x80;
        if (len) {
            ct[len / 2] ^= 1;
            memset(out, 0xAA, sizeof out);
            CHECK_INT(ms_gcm_decrypt(key, iv, aad, aad_len, ct, len, tag, out, &err), MS_EKEY);
            CHECK(all_zero(out, len));
            ct[len / 2] ^= 1;
            /* truncated ciphertext */
            CHECK_INT(ms_gcm_decrypt(key, iv, aad, aad_len, ct, len - 1, tag, out, &err),
                      MS_EKEY);
        }
        aad[0] ^= 1;
        CHECK_INT(ms_gcm_decrypt(key, iv, aad, aad_len ? aad_len : 1, ct, len, tag, out, &err),
                  MS_EKEY);
        aad[0] ^= 1;
        key[3] ^= 4;
        CHECK_INT(ms_gcm_decrypt(key, iv, aad, aad_len, ct, len, tag, out, &err), MS_EKEY);
        key[3] ^= 4;
        iv[11] ^= 1;
        CHECK_INT(ms_gcm_decrypt(key, iv, aad, aad_len, ct, len, tag, out, &err), MS_EKEY);
        iv[11] ^= 1;
        CHECK(strstr(err.msg, "authentication failed") != NULL);
    }
}

static void test_gcm_stream(void)
{
    const struct gcm_vec *v = &gcm_vecs[3];
    struct ms_error err = {0};
    struct ms_gcm *g = NULL;
    uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16], out[64], got_tag[16];
    size_t aad_len, len, cuts[] = {0, 1, 7, 16, 33, 60};

    unhex(v->key, key);
    unhex(v->iv, iv);
    aad_len = unhex(v->aad, aad);
    len = unhex(v->pt, pt);
    unhex(v->ct, ct);
    unhex(v->tag, tag);

    CHECK_INT(ms_gcm_create(&g, MS_ENCRYPT, key, iv, &err), MS_OK);
    if (!g)
        return;
    for (int round = 0; round < 2; round++) { /* second round: ms_gcm_restart() */
        CHECK_INT(ms_gcm_aad(g, aad, 5, &err), MS_OK);
        CHECK_INT(ms_gcm_aad(g, aad + 5, aad_len - 5, &err), MS_OK);
        for (size_t i = 0; i + 1 < sizeof cuts / sizeof cuts[0]; i++)
            CHECK_INT(ms_gcm_update(g, pt + cuts[i], cuts[i + 1] - cuts[i], out + cuts[i], &err),
                      MS_OK);
        CHECK_INT(ms_gcm_final_encrypt(g, got_tag, &err), MS_OK);
        CHECK(memcmp(out, ct, len) == 0 && memcmp(got_tag, tag, 16) == 0);
        /* negatives on a finished encryption */
        CHECK_INT(ms_gcm_update(g, pt, 1, out, &err), MS_EUSAGE);
        CHECK_INT(ms_gcm_final_encrypt(g, got_tag, &err), MS_EUSAGE);
        CHECK_INT(ms_gcm_final_decrypt(g, tag, &err), MS_EUSAGE);
        CHECK_INT(ms_gcm_restart(g, iv, &err), MS_OK);
    }
    ms_gcm_destroy(g);

    CHECK_INT(ms_gcm_create(&g, MS_DECRYPT, key, iv, &err), MS_OK);
    if (!g)
        return;
    CHECK_INT(ms_gcm_aad(g, aad, aad_len, &err), MS_OK);
    CHECK_INT(ms_gcm_update(g, ct, 20, out, &err), MS_OK);
    CHECK_INT(ms_gcm_aad(g, aad, 1, &err), MS_EUSAGE); /* AAD after data */
    CHECK_INT(ms_gcm_update(g, ct + 20, len - 20, out + 20, &err), MS_OK);
    CHECK_INT(ms_gcm_final_decrypt(g, tag, &err), MS_OK);
    CHECK(memcmp(out, pt, len) == 0);
    /* same context, tampered tag */
    CHECK_INT(ms_gcm_restart(g, iv, &err), MS_OK);
    CHECK_INT(ms_gcm_aad(g, aad, aad_len, &err), MS_OK);
    CHECK_INT(ms_gcm_update(g, ct, len, out, &err), MS_OK);
    tag[0] ^= 1;
    CHECK_INT(ms_gcm_final_decrypt(g, tag, &err), MS_EKEY);
    /* same context, AAD left out */
    tag[0] ^= 1;
    CHECK_INT(ms_gcm_restart(g, iv, &err), MS_OK);
    CHECK_INT(ms_gcm_update(g, ct, len, out, &err), MS_OK);
    CHECK_INT(ms_gcm_final_decrypt(g, tag, &err), MS_EKEY);
    CHECK_INT(ms_gcm_final_encrypt(g, got_tag, &err), MS_EUSAGE);
    ms_gcm_destroy(g);
    ms_gcm_destroy(NULL);
    CHECK_INT(ms_gcm_create(&g, (ms_cipher_dir)7, key, iv, &err), MS_EUSAGE);
    CHECK(g == NULL);
}

static void test_gcm_seal(void)
{
    struct ms_error err = {0};
    uint8_t key[32], sealed[100 + 28], out[100], pt[100];
    const char *aad = "study 1.2.3";

    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 100; i++)
        pt[i] = (uint8_t)i;
    CHECK_INT(ms_gcm_sealed_size(100), 128);
    CHECK_INT(ms_gcm_seal(key, aad, strlen(aad), pt, 100, sealed, &err), MS_OK);
    CHECK_INT(ms_gcm_open(key, aad, strlen(aad), sealed, sizeof sealed, out, &err), MS_OK);
    CHECK(memcmp(out, pt, 100) == 0);
    CHECK_INT(ms_gcm_seal(key, NULL, 0, NULL, 0, sealed, &err), MS_OK); /* empty message */
    CHECK_INT(ms_gcm_open(key, NULL, 0, sealed, 28, out, &err), MS_OK);

    /* negatives */
    CHECK_INT(ms_gcm_seal(key, aad, strlen(aad), pt, 100, sealed, &err), MS_OK);
    CHECK_INT(ms_gcm_open(key, aad, strlen(aad), sealed, 27, out, &err), MS_EMALFORMED);
    CHECK_INT(ms_gcm_open(key, aad, strlen(aad), sealed, sizeof sealed - 1, out, &err), MS_EKEY);
    CHECK_INT(ms_gcm_open(key, "study 1.2.4", 11, sealed, sizeof sealed, out, &err), MS_EKEY);
    sealed[0] ^= 1; /* IV */
    CHECK_INT(ms_gcm_open(key, aad, strlen(aad), sealed, sizeof sealed, out, &err), MS_EKEY);
    CHECK(all_zero(out, 100));
    CHECK_INT(ms_gcm_sealed_size(SIZE_MAX - 3), 0);
    CHECK_INT(ms_gcm_seal(key, NULL, 0, pt, SIZE_MAX - 3, sealed, &err), MS_ELIMIT);
}

/* ---- CBC + HMAC, ECB, CTR --------------------------------------------------------- */

static void test_cbc_hmac(void)
{
    /* Made independently with Python's cryptography package: AES-256-CBC
     * (PKCS#7) under 00..1f, IV 40..4f, tag = HMAC-SHA256(20..3f,
     * aad || IV || C || be64(8 * |aad|)). */
    static const char kat[] =
        "404142434445464748494a4b4c4d4e4fb03ceba1d8f6185f94a7574039084a22"
        "14ac36cca6d5e3b0e37e1c1fa176d66b3881ea4cd5cc347f1f026a33c90f78ce"
        "d6ef882636fbd8f158a31c1a78f6c7da8fa015bdf100fc48cb2dac229c887c0c";
    const char *pt_kat = "slice 1 of the image: 38 bytes long!!";
    const char *aad = "medseal aad";
    struct ms_error err = {0};
    uint8_t ek[32], mk[32], in[128], out[128], buf[200];
    size_t in_len = unhex(kat, in), out_len = 0, n = 0;

    for (int i = 0; i < 32; i++) {
        ek[i] = (uint8_t)i;
        mk[i] = (uint8_t)(32 + i);
    }
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, in_len, out, sizeof out, &out_len,
                                  &err),
              MS_OK);
    CHECK_INT(out_len, strlen(pt_kat));
    CHECK(memcmp(out, pt_kat, out_len) == 0);
    CHECK_INT(ms_cbc_hmac_size(0), 64);
    CHECK_INT(ms_cbc_hmac_size(16), 80);
    CHECK_INT(ms_cbc_hmac_size(37), 96);
    for (size_t len = 0; len <= 48; len += 16) { /* round trips, incl. empty */
        uint8_t pt[48];
        for (size_t i = 0; i < len; i++)
            pt[i] = (uint8_t)(i * 13);
        CHECK_INT(ms_cbc_hmac_encrypt(ek, mk, NULL, 0, pt, len, buf, sizeof buf, &n, &err),
                  MS_OK);
        CHECK_INT(n, ms_cbc_hmac_size(len));
        CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, NULL, 0, buf, n, out, sizeof out, &out_len, &err),
                  MS_OK);
        CHECK(out_len == len && memcmp(out, pt, len) == 0);
    }

    /* negatives: every changed byte, wrong key, wrong AAD, truncation */
    in[0] ^= 1; /* IV */
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, in_len, out, sizeof out, &out_len,
                                  &err),
              MS_EKEY);
    CHECK(all_zero(out, sizeof out) && out_len == 0);
    in[0] ^= 1;
    in[20] ^= 1; /* ciphertext */
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, in_len, out, sizeof out, &out_len,
                                  &err),
              MS_EKEY);
    in[20] ^= 1;
    in[in_len - 1] ^= 1; /* tag */
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, in_len, out, sizeof out, &out_len,
                                  &err),
              MS_EKEY);
    in[in_len - 1] ^= 1;
    CHECK_INT(ms_cbc_hmac_decrypt(ek, ek, aad, strlen(aad), in, in_len, out, sizeof out, &out_len,
                                  &err),
              MS_EKEY);
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, "medseal aae", 11, in, in_len, out, sizeof out,
                                  &out_len, &err),
              MS_EKEY);
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, in_len - 16, out, sizeof out,
                                  &out_len, &err),
              MS_EKEY);
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, in_len - 1, out, sizeof out,
                                  &out_len, &err),
              MS_EMALFORMED);
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, 48, out, sizeof out, &out_len,
                                  &err),
              MS_EMALFORMED);
    CHECK_INT(ms_cbc_hmac_decrypt(ek, mk, aad, strlen(aad), in, in_len, out, 10, &out_len, &err),
              MS_EUSAGE);
    CHECK_INT(ms_cbc_hmac_encrypt(ek, mk, NULL, 0, pt_kat, 37, buf, 95, &n, &err), MS_EUSAGE);
}

static void test_ecb_ctr(void)
{
    struct ms_error err = {0};
    uint8_t key[32], pt[64], out[64], back[64], ctr[16];

    /* FIPS 197 appendix C.3 */
    unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key);
    unhex("00112233445566778899aabbccddeeff", pt);
    CHECK_INT(ms_ecb_crypt(MS_ENCRYPT, key, pt, 16, out, &err), MS_OK);
    CHECK(eq_hex(out, "8ea2b7ca516745bfeafc49904b496089"));
    CHECK_INT(ms_ecb_crypt(MS_DECRYPT, key, out, 16, back, &err), MS_OK);
    CHECK(memcmp(back, pt, 16) == 0);
    memcpy(pt + 16, pt, 16); /* ECB's weakness, kept for the analysis bench */
    CHECK_INT(ms_ecb_crypt(MS_ENCRYPT, key, pt, 32, out, &err), MS_OK);
    CHECK(memcmp(out, out + 16, 16) == 0);
    CHECK_INT(ms_ecb_crypt(MS_ENCRYPT, key, pt, 17, out, &err), MS_EUSAGE);
    CHECK_INT(ms_ecb_crypt(MS_DECRYPT, key, pt, 15, out, &err), MS_EUSAGE);

    /* SP 800-38A F.5.5 (CTR-AES256.Encrypt), first two blocks */
    unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", key);
    unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", ctr);
    unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51", pt);
    CHECK_INT(ms_ctr_xor(key, ctr, pt, 32, out, &err), MS_OK);
    CHECK(eq_hex(out, "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"));
    CHECK_INT(ms_ctr_xor(key, ctr, out, 32, back, &err), MS_OK);
    CHECK(memcmp(back, pt, 32) == 0);
    CHECK_INT(ms_ctr_xor(key, ctr, pt, 7, out, &err), MS_OK); /* any length */
    ctr[15] ^= 1;
    CHECK_INT(ms_ctr_xor(key, ctr, pt, 16, out, &err), MS_OK);
    CHECK(!eq_hex(out, "601ec313775789a5b7a7f504bbf3d228"));
}

/* ---- KDFs ------------------------------------------------------------------------- */

static void test_kdf(void)
{
    struct ms_error err = {0};
    uint8_t ikm[22], salt[13], info[10], out[64], out2[64];
    uint8_t s16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct ms_argon2_params cheap = {1, 8 * 1024};
    char phc[MS_PASSWORD_HASH_MAX];

    memset(ikm, 0x0b, sizeof ikm);
    unhex("000102030405060708090a0b0c", salt);
    unhex("f0f1f2f3f4f5f6f7f8f9", info);
    /* RFC 5869 A.1 and A.3 */
    CHECK_INT(ms_hkdf_sha256(ikm, 22, salt, 13, info, 10, out, 42, &err), MS_OK);
    CHECK(eq_hex(out, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                      "34007208d5b887185865"));
    CHECK_INT(ms_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, out, 42, &err), MS_OK);
    CHECK(eq_hex(out, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                      "9d201395faa4b61a96c8"));
    CHECK_INT(ms_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, out, 0, &err), MS_EUSAGE);
    CHECK_INT(ms_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, out, 8161, &err), MS_EUSAGE);

    /* RFC 7914 section 12, second vector */
    CHECK_INT(ms_scrypt("password", 8, "NaCl", 4, 1024, 8, 16, out, 64, &err), MS_OK);
    CHECK(eq_hex(out, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                      "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"));
    CHECK_INT(ms_scrypt("password", 8, "NaCl", 4, 1000, 8, 16, out, 64, &err), MS_EUSAGE);
    CHECK_INT(ms_scrypt("password", 8, "NaCl", 4, 1024, 0, 16, out, 64, &err), MS_EUSAGE);
    CHECK_INT(ms_scrypt("password", 8, "NaCl", 4, (uint64_t)1 << 30, 8, 1, out, 64, &err),
              MS_ELIMIT);

    /* Argon2id: the reference implementation's test vector (src/test.c,
     * t=2, m=64 MiB, p=1, "password", "somesalt") through PHC-string verify */
    const char *ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$"
                      "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    CHECK_INT(ms_password_verify(ref, "password", 8, &err), MS_OK);
    CHECK_INT(ms_password_verify(ref, "passwore", 8, &err), MS_EKEY);
    CHECK_INT(ms_password_verify(ref, "password", 7, &err), MS_EKEY);
    CHECK_INT(ms_password_verify("$2b$10$notargon", "password", 8, &err), MS_EMALFORMED);
    CHECK_INT(ms_password_hash(phc, "hunter2", 7, &cheap, &err), MS_OK);
    CHECK(strncmp(phc, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0);
    CHECK_INT(ms_password_verify(phc, "hunter2", 7, &err), MS_OK);
    CHECK_INT(ms_password_verify(phc, "hunter3", 7, &err), MS_EKEY);

    CHECK_INT(ms_argon2id("pass", 4, s16, &cheap, out, 32, &err), MS_OK);
    CHECK_INT(ms_argon2id("pass", 4, s16, &cheap, out2, 32, &err), MS_OK);
    CHECK(memcmp(out, out2, 32) == 0);
    s16[0] ^= 1;
    CHECK_INT(ms_argon2id("pass", 4, s16, &cheap, out2, 32, &err), MS_OK);
    CHECK(memcmp(out, out2, 32) != 0);
    cheap.ops = 0;
    CHECK_INT(ms_argon2id("pass", 4, s16, &cheap, out, 32, &err), MS_EUSAGE);
    cheap.ops = 1;
    cheap.mem_kib = 1;
    CHECK_INT(ms_argon2id("pass", 4, s16, &cheap, out, 32, &err), MS_EUSAGE);
    cheap.mem_kib = 8 * 1024;
    CHECK_INT(ms_argon2id("pass", 4, s16, &cheap, out, 8, &err), MS_EUSAGE);
    CHECK_INT(ms_password_hash(phc, "x", 1, &(struct ms_argon2_params){0, 0}, &err), MS_EUSAGE);
}

static void test_passphrase(void)
{
    struct ms_error err = {0};
    char buf[16];
    size_t len = 0;
    const char *p = tu_path("pass");

    tu_spit(p, "correct horse\nsecond line", 25);
    CHECK_INT(ms_passphrase_read_file(p, buf, sizeof buf, &len, &err), MS_OK);
    CHECK(len == 13 && strcmp(buf, "correct horse") == 0);
    tu_spit(p, "abc\r\n", 5);
    CHECK_INT(ms_passphrase_read_file(p, buf, sizeof buf, &len, &err), MS_OK);
    CHECK(len == 3 && strcmp(buf, "abc") == 0);

    tu_spit(p, "\n", 1);
    CHECK_INT(ms_passphrase_read_file(p, buf, sizeof buf, &len, &err), MS_EMALFORMED);
    tu_spit(p, "", 0);
    CHECK_INT(ms_passphrase_read_file(p, buf, sizeof buf, &len, &err), MS_EMALFORMED);
    tu_spit(p, "0123456789abcdef", 16);
    CHECK_INT(ms_passphrase_read_file(p, buf, sizeof buf, &len, &err), MS_ELIMIT);
    CHECK(strstr(err.msg, "0123") == NULL);
    CHECK_INT(ms_passphrase_read_file(tu_path("nope"), buf, sizeof buf, &len, &err), MS_EIO);
}

/* ---- symmetric key files ------------------------------------------------------------ */

static void test_keyfile(void)
{
    struct ms_error err = {0};
    uint8_t key[32], got[32], check[8], data[300];
    ms_keyfile_format fmt = MS_KEYFILE_TEXT;
    const char *raw = tu_path("raw.bin"), *text = tu_path("text.key"), *bad = tu_path("bad");
    struct stat st;
    char buf[300];
    FILE *f;
    size_t n;

    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    CHECK_INT(ms_key_check_value(key, check, &err), MS_OK);
    CHECK(eq_hex(check, "bdd533bdac208916")); /* HMAC-SHA256(00..1f, "medseal key check") */

    tu_spit(raw, key, 32);
    CHECK_INT(ms_keyfile_read(raw, got, &fmt, &err), MS_OK);
    CHECK(fmt == MS_KEYFILE_RAW && memcmp(got, key, 32) == 0);
    CHECK_INT(ms_keyfile_write(text, key, MS_KEYFILE_TEXT, &err), MS_OK);
    CHECK(stat(text, &st) == 0 && (st.st_mode & 0777) == 0600);
    memset(got, 0, 32);
    CHECK_INT(ms_keyfile_read(text, got, &fmt, &err), MS_OK);
    CHECK(fmt == MS_KEYFILE_TEXT && memcmp(got, key, 32) == 0);
    CHECK_INT(ms_keyfile_write(raw, key, MS_KEYFILE_RAW, &err), MS_OK);
    CHECK_INT(ms_keyfile_read(raw, got, &fmt, &err), MS_OK);
    /* hand-written: CRLF, comments, blanks, field order free */
    n = (size_t)snprintf(buf, sizeof buf,
                         "medseal-key v1\r\n# mine\r\n\r\ncheck:  bdd533bdac208916 \r\n"
                         "key:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n");
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_OK);
    CHECK(memcmp(got, key, 32) == 0);

    /* negatives */
    f = fopen(text, "rb");
    n = f ? fread(data, 1, sizeof data, f) : 0;
    if (f)
        fclose(f);
    CHECK_INT(ms_keyfile_parse(key, 31, got, NULL, &err), MS_EMALFORMED);
    CHECK(strstr(err.msg, "31 bytes") != NULL && strstr(err.msg, "0001") == NULL);
    CHECK(all_zero(got, 32));
    memset(data + 200, 7, 33);
    CHECK_INT(ms_keyfile_parse(data + 200, 33, got, NULL, &err), MS_EMALFORMED);
    CHECK_INT(ms_keyfile_parse(data, 0, got, NULL, &err), MS_EMALFORMED);
    tu_spit(bad, key, 31);
    CHECK_INT(ms_keyfile_read(bad, got, NULL, &err), MS_EMALFORMED);
    CHECK(strstr(err.msg, bad) != NULL);
    memcpy(buf, data, n);
    buf[strstr(buf, "key: ") - buf + 10] ^= 0x01; /* one base64 character changed */
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EKEY);
    CHECK(all_zero(got, 32));
    memcpy(buf, data, n);
    buf[strstr(buf, "check: ") - buf + 8] ^= 0x01; /* check value changed */
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EKEY);
    memcpy(buf, data, n);
    buf[13] = '2'; /* medseal-key v2 */
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EUNSUPPORTED);
    n = (size_t)snprintf(buf, sizeof buf, "medseal-key v1\nkey: %s\n",
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EMALFORMED);
    n = (size_t)snprintf(buf, sizeof buf, "medseal-key v1\nkey: AAEC\ncheck: bdd533bdac208916\n");
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EMALFORMED);
    n = (size_t)snprintf(buf, sizeof buf, "medseal-key v1\nkey: %s\nkey: %s\ncheck: x\n",
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EMALFORMED);
    n = (size_t)snprintf(buf, sizeof buf, "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n");
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EMALFORMED);
    CHECK(strstr(err.msg, "PEM") != NULL);
    n = (size_t)snprintf(buf, sizeof buf, "%s\n",
                         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    CHECK_INT(ms_keyfile_parse((uint8_t *)buf, n, got, NULL, &err), MS_EMALFORMED);
    CHECK(strstr(err.msg, "hex") != NULL && strstr(err.msg, "0001020304") == NULL);
    CHECK_INT(ms_keyfile_read(tu_path("none.key"), got, NULL, &err), MS_EIO);
    CHECK_INT(ms_keyfile_write(tu_path("x.key"), key, (ms_keyfile_format)5, &err), MS_EUSAGE);
}

/* ---- asymmetric keys, signatures ------------------------------------------------------ */

static void sign_roundtrip(ms_pkey_type type, unsigned bits)
{
    struct ms_error err = {0};
    struct ms_pkey *k = NULL, *other = NULL, *pub = NULL;
    uint8_t sig[MS_SIG_MAX_LEN], *der = NULL;
    size_t sig_len = 0, der_len = 0;
    const char *msg = "manifest: 108 instances, merkle root ...";

    CHECK_INT(ms_pkey_generate(&k, type, bits, &err), MS_OK);
    CHECK_INT(ms_pkey_generate(&other, type, bits, &err), MS_OK);
    if (!k || !other)
        goto done;
    CHECK(ms_pkey_get_type(k) == type && ms_pkey_has_private(k) && !ms_pkey_has_cert(k));
    CHECK(ms_pkey_get_security_bits(k) >= 112);
    CHECK_INT(ms_pkey_sign(k, msg, strlen(msg), sig, sizeof sig, &sig_len, &err), MS_OK);
    CHECK_INT(ms_pkey_verify(k, msg, strlen(msg), sig, sig_len, &err), MS_OK);
    CHECK_INT(ms_pkey_public_der(k, &der, &der_len, &err), MS_OK);
    CHECK_INT(ms_pkey_parse_public(&pub, der, der_len, &err), MS_OK);
    if (pub) {
        CHECK(!ms_pkey_has_private(pub) && ms_pkey_equal(pub, k) && !ms_pkey_equal(pub, other));
        CHECK_INT(ms_pkey_verify(pub, msg, strlen(msg), sig, sig_len, &err), MS_OK);
        /* negatives */
        CHECK_INT(ms_pkey_sign(pub, msg, strlen(msg), sig, sizeof sig, &sig_len, &err), MS_EKEY);
        CHECK_INT(ms_pkey_sign(k, msg, strlen(msg), sig, sizeof sig, &sig_len, &err), MS_OK);
    }
    CHECK_INT(ms_pkey_verify(other, msg, strlen(msg), sig, sig_len, &err), MS_EKEY);
    CHECK(strstr(err.msg, "does not verify") != NULL);
    CHECK_INT(ms_pkey_verify(k, msg, strlen(msg) - 1, sig, sig_len, &err), MS_EKEY);
    CHECK_INT(ms_pkey_verify(k, msg, strlen(msg), sig, sig_len - 1, &err), MS_EKEY);
    sig[sig_len / 2] ^= 0x10;
    CHECK_INT(ms_pkey_verify(k, msg, strlen(msg), sig, sig_len, &err), MS_EKEY);
    CHECK_INT(ms_pkey_verify(k, msg, strlen(msg), sig, 0, &err), MS_EKEY);
    CHECK_INT(ms_pkey_sign(k, msg, strlen(msg), sig, 8, &sig_len, &err), MS_EUSAGE);
done:
    free(der);
    ms_pkey_destroy(pub);
    ms_pkey_destroy(k);
    ms_pkey_destroy(other);
}

static void test_ed25519_kat(void)
{
    /* RFC 8032 section 7.1, TEST 1, as PKCS#8 DER */
    struct ms_error err = {0};
    struct ms_pkey *k = NULL;
    uint8_t der[48], sig[MS_SIG_MAX_LEN], fp[32];
    size_t sig_len = 0;
    char hex[MS_FINGERPRINT_HEX_LEN];

    unhex("302e020100300506032b657004220420"
          "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
          der);
    CHECK_INT(ms_pkey_parse_private(&k, der, sizeof der, NULL, 0, &err), MS_OK);
    if (!k)
        return;
    CHECK_INT(ms_pkey_sign(k, "", 0, sig, sizeof sig, &sig_len, &err), MS_OK);
    CHECK_INT(sig_len, 64);
    CHECK(eq_hex(sig, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
                      "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
    /* fingerprint = SHA-256(SPKI DER of d75a9801...511a) */
    CHECK_INT(ms_pkey_fingerprint(k, fp, &err), MS_OK);
    CHECK_INT(ms_pkey_fingerprint_hex(k, hex, &err), MS_OK);
    CHECK_STR(hex, "06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9");
    CHECK_STR(ms_pkey_type_name(ms_pkey_get_type(k)), "Ed25519");
    sig[0] ^= 1;
    CHECK_INT(ms_pkey_verify(k, "", 0, sig, sig_len, &err), MS_EKEY);
    ms_pkey_destroy(k);
    ms_pkey_destroy(NULL);
}

static char *pem_of(EVP_PKEY *pk, bool priv, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *copy = NULL;
    long n;
    if (priv)
        PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_bio_PUBKEY(b, pk);
    n = BIO_get_mem_data(b, &data);
    copy = malloc((size_t)n + 1);
    memcpy(copy, data, (size_t)n);
    *len = (size_t)n;
    BIO_free(b);
    return copy;
}

static void test_key_files(void)
{
    struct ms_error err = {0};
    struct ms_pkey *k = NULL, *back = NULL, *pub = NULL, *cert = NULL;
    const char *priv = tu_path("k.pem"), *enc = tu_path("k.enc.pem"),
               *pubp = tu_path("k.pub.pem"), *certp = tu_path("k.cert.pem"),
               *junk = tu_path("junk.pem");
    struct ms_key_info info;
    struct stat st;
    EVP_PKEY *p384 = NULL, *rsa1k = NULL;
    char *pem;
    size_t len;

    CHECK_INT(ms_pkey_generate(&k, MS_PKEY_P256, 0, &err), MS_OK);
    if (!k)
        return;
    CHECK_INT(ms_pkey_make_self_signed(k, "Dr. Test", 30, &err), MS_OK);
    CHECK(ms_pkey_has_cert(k));
    CHECK_INT(ms_pkey_write_private(k, priv, NULL, 0, &err), MS_OK);
    CHECK_INT(ms_pkey_write_private(k, enc, "s3cret", 6, &err), MS_OK);
    CHECK_INT(ms_pkey_write_public(k, pubp, &err), MS_OK);
    CHECK_INT(ms_pkey_write_cert(k, certp, &err), MS_OK);
    CHECK(stat(priv, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(enc, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(pubp, &st) == 0 && (st.st_mode & 0777) == 0644);

    CHECK_INT(ms_pkey_load_private(&back, priv, NULL, 0, &err), MS_OK);
    CHECK(back && ms_pkey_equal(back, k) && ms_pkey_has_private(back));
    ms_pkey_destroy(back);
    back = NULL;
    CHECK_INT(ms_pkey_load_private(&back, enc, "s3cret", 6, &err), MS_OK);
    CHECK(back && ms_pkey_equal(back, k));
    CHECK_INT(ms_pkey_load_public(&pub, pubp, &err), MS_OK);
    CHECK(pub && ms_pkey_equal(pub, k) && !ms_pkey_has_cert(pub));
    CHECK_INT(ms_pkey_load_public(&cert, certp, &err), MS_OK);
    CHECK(cert && ms_pkey_equal(cert, k) && ms_pkey_has_cert(cert));
    if (back && cert && pub) {
        CHECK(!ms_pkey_has_cert(back));
        CHECK_INT(ms_pkey_attach_cert(back, cert, &err), MS_OK);
        CHECK(ms_pkey_has_cert(back) && ms_pkey_has_private(back));
        CHECK_INT(ms_pkey_attach_cert(back, pub, &err), MS_ENOTFOUND);
    }

    /* key inspection */
    CHECK_INT(ms_key_inspect(certp, NULL, 0, &info, &err), MS_OK);
    CHECK(info.kind == MS_KEY_CERTIFICATE && info.type == MS_PKEY_P256 && info.self_signed);
    CHECK_STR(info.subject, "CN=Dr. Test");
    CHECK(info.not_after_epoch - info.not_before_epoch == 30 * 86400);
    CHECK_INT(ms_key_inspect(enc, NULL, 0, &info, &err), MS_OK);
    CHECK(info.kind == MS_KEY_PRIVATE_LOCKED && info.encrypted);
    CHECK(strstr(info.protection, "scrypt") && strstr(info.protection, "AES-256-CBC"));
    CHECK_INT(ms_key_inspect(enc, "s3cret", 6, &info, &err), MS_OK);
    CHECK(info.kind == MS_KEY_PRIVATE && info.encrypted && info.bits == 256);
    CHECK_INT(ms_key_inspect(pubp, NULL, 0, &info, &err), MS_OK);
    CHECK(info.kind == MS_KEY_PUBLIC && strlen(info.fingerprint) == 64);
    CHECK_INT(ms_key_inspect(priv, NULL, 0, &info, &err), MS_OK);
    CHECK(info.kind == MS_KEY_PRIVATE && !info.encrypted);
    CHECK_STR(info.algorithm, "EC P-256");

    /* negatives */
    ms_pkey_destroy(back);
    back = NULL;
    CHECK_INT(ms_pkey_load_private(&back, enc, "s3creT", 6, &err), MS_EKEY);
    CHECK(back == NULL && strstr(err.msg, "s3cre") == NULL);
    CHECK_INT(ms_pkey_load_private(&back, enc, NULL, 0, &err), MS_EKEY);
    CHECK(strstr(err.msg, "passphrase") != NULL);
    CHECK_INT(ms_key_inspect(enc, "wrong", 5, &info, &err), MS_EKEY);
    CHECK_INT(ms_pkey_load_private(&back, pubp, NULL, 0, &err), MS_EMALFORMED);
    CHECK_INT(ms_pkey_load_private(&back, certp, NULL, 0, &err), MS_EMALFORMED);
    CHECK_INT(ms_pkey_load_public(&back, priv, &err), MS_EMALFORMED);
    tu_spit(junk, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 55);
    CHECK_INT(ms_pkey_load_public(&back, junk, &err), MS_EMALFORMED);
    CHECK_INT(ms_key_inspect(junk, NULL, 0, &info, &err), MS_EMALFORMED);
    tu_spit(junk, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 59);
    CHECK_INT(ms_pkey_load_public(&back, junk, &err), MS_EMALFORMED);
    CHECK_INT(ms_pkey_load_public(&back, tu_path("absent.pem"), &err), MS_EIO);
    CHECK_INT(ms_key_inspect(tu_path("absent.pem"), NULL, 0, &info, &err), MS_EIO);
    CHECK_INT(ms_pkey_make_self_signed(k, "", 30, &err), MS_EUSAGE);
    CHECK_INT(ms_pkey_make_self_signed(k, "x", 0, &err), MS_EUSAGE);
    CHECK_INT(ms_pkey_make_self_signed(pub, "x", 1, &err), MS_EKEY);
    CHECK_INT(ms_pkey_write_private(pub, tu_path("nopriv.pem"), NULL, 0, &err), MS_EKEY);
    CHECK_INT(ms_pkey_write_cert(pub, tu_path("nocert.pem"), &err), MS_ENOTFOUND);
    CHECK_INT(ms_pkey_write_public(k, "/nonexistent-dir/x.pem", &err), MS_EIO);
    CHECK_INT(ms_pkey_generate(&back, MS_PKEY_ED25519, 0, &err), MS_OK);
    if (back && cert)
        CHECK_INT(ms_pkey_attach_cert(back, cert, &err), MS_EKEY);
    ms_pkey_destroy(back);
    back = NULL;
    CHECK_INT(ms_pkey_generate(&back, MS_PKEY_RSA, 1024, &err), MS_EUSAGE);
    CHECK_INT(ms_pkey_generate(&back, MS_PKEY_UNKNOWN, 0, &err), MS_EUSAGE);
    /* algorithms medseal does not use */
    p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    rsa1k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    if (p384 && rsa1k) {
        pem = pem_of(p384, true, &len);
        CHECK_INT(ms_pkey_parse_private(&back, (uint8_t *)pem, len, NULL, 0, &err),
                  MS_EUNSUPPORTED);
        CHECK(strstr(err.msg, "secp384r1") != NULL);
        free(pem);
        pem = pem_of(rsa1k, false, &len);
        CHECK_INT(ms_pkey_parse_public(&back, (uint8_t *)pem, len, &err), MS_EUNSUPPORTED);
        free(pem);
    }
    EVP_PKEY_free(p384);
    EVP_PKEY_free(rsa1k);
    ms_pkey_destroy(back);
    ms_pkey_destroy(pub);
    ms_pkey_destroy(cert);
    ms_pkey_destroy(k);
}

static void test_key_inspect_symmetric(void)
{
    struct ms_error err = {0};
    struct ms_key_info info;
    uint8_t key[32];
    const char *p = tu_path("sym.key"), *r = tu_path("sym.bin");

    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    CHECK_INT(ms_keyfile_write(p, key, MS_KEYFILE_TEXT, &err), MS_OK);
    CHECK_INT(ms_key_inspect(p, NULL, 0, &info, &err), MS_OK);
    CHECK(info.kind == MS_KEY_SYMMETRIC && info.keyfile_format == MS_KEYFILE_TEXT);
    CHECK_STR(info.check, "bdd533bdac208916");
    CHECK_INT(ms_keyfile_write(r, key, MS_KEYFILE_RAW, &err), MS_OK);
    CHECK_INT(ms_key_inspect(r, NULL, 0, &info, &err), MS_OK);
    CHECK(info.kind == MS_KEY_SYMMETRIC && info.keyfile_format == MS_KEYFILE_RAW);
    tu_spit(r, key, 31);
    CHECK_INT(ms_key_inspect(r, NULL, 0, &info, &err), MS_EMALFORMED);
    CHECK(strstr(err.msg, "000102") == NULL);
}

int main(void)
{
    tu_dir_open();
    test_hashes();
    test_hmac();
    test_gcm_vectors();
    test_gcm_stream();
    test_gcm_seal();
    test_cbc_hmac();
    test_ecb_ctr();
    test_kdf();
    test_passphrase();
    test_keyfile();
    sign_roundtrip(MS_PKEY_ED25519, 0);
    sign_roundtrip(MS_PKEY_P256, 0);
    sign_roundtrip(MS_PKEY_RSA, 2048);
    test_ed25519_kat();
    test_key_files();
    test_key_inspect_symmetric();
    tu_dir_close();
    return check_done();
}
