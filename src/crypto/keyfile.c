/* Symmetric key files: 32 raw bytes, or the "medseal-key v1" text format with
 * a check value (docs/formats/keyfile.md). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto/crypto_internal.h"

#define KEYFILE_MAGIC "medseal-key v1"
#define KEYFILE_PREFIX "medseal-key"
#define CHECK_LABEL "medseal key check"
#define B64_KEY_LEN 44 /* base64 of 32 bytes, padded */

ms_status ms_key_check_value(const uint8_t key[MS_AES256_KEY_LEN],
                             uint8_t out[MS_KEY_CHECK_LEN], struct ms_error *err)
{
    uint8_t mac[MS_HMAC_SHA256_LEN];
    ms_status rc = ms_hmac_sha256(key, MS_AES256_KEY_LEN, CHECK_LABEL, strlen(CHECK_LABEL), mac,
                                  err);
    if (rc == MS_OK)
        memcpy(out, mac, MS_KEY_CHECK_LEN);
    ms_crypto_wipe(mac, sizeof mac);
    return rc;
}

/* One line of the text form, without its end of line. */
struct line {
    const char *p;
    size_t len;
};

/* Next line from *pos; false at the end. Strips "\r\n" / "\n". */
static bool next_line(const char *data, size_t len, size_t *pos, struct line *l)
{
    size_t s = *pos, e = s;
    if (s >= len)
        return false;
    while (e < len && data[e] != '\n')
        e++;
    *pos = e < len ? e + 1 : e;
    l->p = data + s;
    l->len = e - s;
    if (l->len > 0 && l->p[l->len - 1] == '\r')
        l->len--;
    return true;
}

/* Value of "name:" in a line (leading blanks after the colon skipped, trailing
 * blanks dropped), or false when the line is another field. */
static bool field(const struct line *l, const char *name, struct line *value)
{
    size_t n = strlen(name);
    if (l->len <= n || memcmp(l->p, name, n) != 0 || l->p[n] != ':')
        return false;
    value->p = l->p + n + 1;
    value->len = l->len - n - 1;
    while (value->len && (value->p[0] == ' ' || value->p[0] == '\t')) {
        value->p++;
        value->len--;
    }
    while (value->len && (value->p[value->len - 1] == ' ' || value->p[value->len - 1] == '\t'))
        value->len--;
    return true;
}

static bool looks_hex(const uint8_t *data, size_t len)
{
    size_t n = len;
    while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--;
    if (n != 2 * MS_AES256_KEY_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit(data[i]))
            return false;
    return true;
}

static ms_status wrong_size(const uint8_t *data, size_t len, struct ms_error *err)
{
    const char *hint = "";
    if (len >= 10 && memcmp(data, "-----BEGIN", 10) == 0)
        hint = "; this is a PEM key or certificate, not a symmetric key";
    else if (looks_hex(data, len))
        hint = "; it looks like hex text: convert it with xxd -r -p";
    return ms_error_set(err, MS_EMALFORMED,
                        "key file has %zu bytes: expected 32 raw bytes "
                        "(openssl rand -out KEY 32) or a medseal-key v1 text file%s",
                        len, hint);
}

struct text_fields {
    struct line key, check;
    bool have_key, have_check;
};

/* Collect the fields of a text key file after its first line. */
static ms_status text_fields(const char *text, size_t len, size_t pos, struct text_fields *f,
                             struct ms_error *err)
{
    struct line l, v;
    unsigned lineno = 1;

    while (next_line(text, len, &pos, &l)) {
        lineno++;
        if (l.len == 0 || l.p[0] == '#')
            continue;
        if (field(&l, "key", &v) && !f->have_key) {
            f->key = v;
            f->have_key = true;
        } else if (field(&l, "check", &v) && !f->have_check) {
            f->check = v;
            f->have_check = true;
        } else {
            return ms_error_set(err, MS_EMALFORMED,
                                "key file line %u: expected one \"key:\" and one \"check:\" line",
                                lineno);
        }
    }
    if (!f->have_key || !f->have_check)
        return ms_error_set(err, MS_EMALFORMED, "key file: missing the %s line",
                            f->have_key ? "\"check:\"" : "\"key:\"");
    return MS_OK;
}

static ms_status parse_text(const uint8_t *data, size_t len, uint8_t key[MS_AES256_KEY_LEN],
                            struct ms_error *err)
{
    const char *text = (const char *)data;
    struct text_fields f = {0};
    struct line first;
    uint8_t want[MS_KEY_CHECK_LEN], got[MS_KEY_CHECK_LEN];
    size_t pos = 0, klen = 0, clen = 0;
    ms_status rc;

    next_line(text, len, &pos, &first);
    if (first.len != strlen(KEYFILE_MAGIC) || memcmp(first.p, KEYFILE_MAGIC, first.len) != 0)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "key file: unsupported version (first line must be \"%s\")",
                            KEYFILE_MAGIC);
    rc = text_fields(text, len, pos, &f, err);
    if (rc != MS_OK)
        return rc;
    /* libsodium's decoders run in constant time: no timing leak of the key. */
    if (f.key.len != B64_KEY_LEN ||
        sodium_base642bin(key, MS_AES256_KEY_LEN, f.key.p, f.key.len, NULL, &klen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        klen != MS_AES256_KEY_LEN)
        return ms_error_set(err, MS_EMALFORMED,
                            "key file: \"key:\" is not the base64 of 32 bytes");
    if (f.check.len != 2 * MS_KEY_CHECK_LEN ||
        sodium_hex2bin(want, sizeof want, f.check.p, f.check.len, NULL, &clen, NULL) != 0 ||
        clen != MS_KEY_CHECK_LEN)
        return ms_error_set(err, MS_EMALFORMED, "key file: \"check:\" is not %d hex digits",
                            2 * MS_KEY_CHECK_LEN);
    rc = ms_key_check_value(key, got, err);
    if (rc == MS_OK && !ms_crypto_equal(want, got, sizeof got))
        rc = ms_error_set(err, MS_EKEY,
                          "key file: check value does not match the key (corrupted or edited)");
    return rc;
}

ms_status ms_keyfile_parse(const uint8_t *data, size_t len, uint8_t key[MS_AES256_KEY_LEN],
                           ms_keyfile_format *format, struct ms_error *err)
{
    ms_status rc;

    if (len == MS_AES256_KEY_LEN) {
        memcpy(key, data, MS_AES256_KEY_LEN);
        if (format)
            *format = MS_KEYFILE_RAW;
        return MS_OK;
    }
    if (len < strlen(KEYFILE_PREFIX) || memcmp(data, KEYFILE_PREFIX, strlen(KEYFILE_PREFIX)) != 0)
        rc = wrong_size(data, len, err);
    else if (len > MSI_SYMKEY_FILE_MAX)
        rc = ms_error_set(err, MS_ELIMIT, "key file too large (%zu bytes)", len);
    else
        rc = parse_text(data, len, key, err);
    if (rc != MS_OK) {
        ms_crypto_wipe(key, MS_AES256_KEY_LEN);
        return rc;
    }
    if (format)
        *format = MS_KEYFILE_TEXT;
    return MS_OK;
}

ms_status ms_keyfile_read(const char *path, uint8_t key[MS_AES256_KEY_LEN],
                          ms_keyfile_format *format, struct ms_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    ms_status rc = msi_read_file(path, MSI_SYMKEY_FILE_MAX, &data, &len, err);

    if (rc == MS_OK) {
        rc = ms_keyfile_parse(data, len, key, format, err);
        msi_secret_free(data, len);
    }
    if (rc != MS_OK)
        ms_error_prefix(err, "%s", path);
    return rc;
}

ms_status ms_keyfile_write(const char *path, const uint8_t key[MS_AES256_KEY_LEN],
                           ms_keyfile_format format, struct ms_error *err)
{
    char text[256], b64[B64_KEY_LEN + 1], hex[2 * MS_KEY_CHECK_LEN + 1];
    uint8_t check[MS_KEY_CHECK_LEN];
    ms_status rc;
    int n;

    if (format == MS_KEYFILE_RAW)
        return msi_write_file(path, key, MS_AES256_KEY_LEN, 0600, err);
    if (format != MS_KEYFILE_TEXT)
        return ms_error_set(err, MS_EUSAGE, "unknown key file format %d", (int)format);
    rc = ms_key_check_value(key, check, err);
    if (rc != MS_OK)
        return rc;
    sodium_bin2base64(b64, sizeof b64, key, MS_AES256_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
    msi_hex(check, sizeof check, hex);
    n = snprintf(text, sizeof text,
                 KEYFILE_MAGIC "\n"
                 "# AES-256 key for medseal. Keep it secret; anyone with this file can decrypt.\n"
                 "key: %s\n"
                 "check: %s\n",
                 b64, hex);
    rc = n > 0 && (size_t)n < sizeof text
             ? msi_write_file(path, text, (size_t)n, 0600, err)
             : ms_error_set(err, MS_EINTERNAL, "key file text too long");
    ms_crypto_wipe(text, sizeof text);
    ms_crypto_wipe(b64, sizeof b64);
    return rc;
}
