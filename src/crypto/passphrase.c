/* Passphrases read from files, and Argon2id password hash strings. */
#include <string.h>

#include <sodium.h>

#include "crypto/crypto_internal.h"

ms_status ms_passphrase_read_file(const char *path, char *buf, size_t cap, size_t *len,
                                  struct ms_error *err)
{
    uint8_t *data = NULL;
    size_t n = 0, end;
    ms_status rc;

    *len = 0;
    if (cap < 2)
        return ms_error_set(err, MS_EUSAGE, "passphrase buffer too small");
    rc = msi_read_file(path, MSI_KEY_FILE_MAX, &data, &n, err);
    if (rc != MS_OK) {
        ms_error_prefix(err, "passphrase file %s", path);
        return rc;
    }
    /* The first line is the passphrase; a trailing "\n" or "\r\n" is not part of it. */
    for (end = 0; end < n && data[end] != '\n'; end++)
        ;
    if (end > 0 && data[end - 1] == '\r')
        end--;
    if (end == 0)
        rc = ms_error_set(err, MS_EMALFORMED, "passphrase file %s: empty passphrase", path);
    else if (end >= cap)
        rc = ms_error_set(err, MS_ELIMIT, "passphrase file %s: passphrase longer than %zu bytes",
                          path, cap - 1);
    if (rc == MS_OK) {
        memcpy(buf, data, end);
        buf[end] = '\0';
        *len = end;
    } else {
        ms_crypto_wipe(buf, cap);
    }
    msi_secret_free(data, n);
    return rc;
}

ms_status ms_password_hash(char out[MS_PASSWORD_HASH_MAX], const void *pass, size_t pass_len,
                           const struct ms_argon2_params *params, struct ms_error *err)
{
    uint64_t ops = 0;
    size_t mem = 0;
    ms_status rc = msi_argon2_costs(params, &ops, &mem, err);

    if (rc != MS_OK)
        return rc;
    if (pass_len > crypto_pwhash_argon2id_PASSWD_MAX)
        return ms_error_set(err, MS_ELIMIT, "Argon2id: password too long");
    if (crypto_pwhash_str_alg(out, pass, pass_len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ms_error_set(err, MS_ENOMEM, "Argon2id: cannot allocate %zu KiB", mem / 1024);
    return MS_OK;
}

ms_status ms_password_verify(const char *hash, const void *pass, size_t pass_len,
                             struct ms_error *err)
{
    size_t hlen;

    if (!msi_sodium_ready())
        return ms_error_set(err, MS_EINTERNAL, "libsodium cannot initialise");
    hlen = strnlen(hash, MS_PASSWORD_HASH_MAX);
    if (hlen >= MS_PASSWORD_HASH_MAX ||
        (strncmp(hash, "$argon2id$", 10) != 0 && strncmp(hash, "$argon2i$", 9) != 0))
        return ms_error_set(err, MS_EMALFORMED, "not an Argon2 password hash");
    if (crypto_pwhash_str_verify(hash, pass, pass_len) != 0)
        return ms_error_set(err, MS_EKEY, "password does not match");
    return MS_OK;
}
