/* cms_tool: a small driver of the `cms` scheme's library API for the
 * integration tests and the benchmark, until `medseal protect` exists.
 *
 *   cms_tool encrypt [--to CERT]... [--passphrase-file F] [--argon2 T,MKIB]
 *                    [--strict-dicom --sign-key K --sign-cert C] [--segment N]
 *                    [--detached CT] IN OUT        (IN "-" = stdin, OUT "-" = stdout)
 *   cms_tool decrypt [--key KEY [--cert CERT]]... [--passphrase-file F]
 *                    [--trust CERT]... [--detached CT] [--allow-unauthenticated] IN OUT
 *   cms_tool probe FILE
 *
 * Exit codes are medseal's (ms_status_exit_code); the error goes to stderr
 * as one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "medseal/cms.h"

static int fail(const struct ms_error *err)
{
    fprintf(stderr, "cms_tool: %s\n", err->msg);
    return ms_status_exit_code(err->code);
}

static int usage(void)
{
    fprintf(stderr, "usage: cms_tool encrypt|decrypt|probe ... (see the source)\n");
    return 2;
}

static int stdout_sink(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

struct enc_args {
    struct ms_cms_encrypt_options opt;
    const char *sign_key, *sign_cert;
    struct ms_cms_pwhash cost;
    const char *pass_file;
};

/* Parse one encrypt option at argv[*i]; returns 0 ok, 1 not an option, -1 error. */
static int enc_option(int argc, char **argv, int *i, struct ms_cms_recipients *r,
                      struct enc_args *a, struct ms_error *err)
{
    const char *o = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(o, "--strict-dicom") == 0) {
        a->opt.flags |= MS_CMS_STRICT_DICOM;
        return 0;
    }
    if (o[0] != '-' || o[1] != '-' || !v)
        return 1;
    (*i)++;
    if (strcmp(o, "--to") == 0)
        return ms_cms_recipients_add_cert_file(r, v, err) == MS_OK ? 0 : -1;
    if (strcmp(o, "--passphrase-file") == 0)
        a->pass_file = v;
    else if (strcmp(o, "--argon2") == 0)
        sscanf(v, "%u,%u", &a->cost.iterations, &a->cost.memory_kib);
    else if (strcmp(o, "--sign-key") == 0)
        a->sign_key = v;
    else if (strcmp(o, "--sign-cert") == 0)
        a->sign_cert = v;
    else if (strcmp(o, "--segment") == 0)
        a->opt.segment_size = (size_t)strtoull(v, NULL, 10);
    else if (strcmp(o, "--detached") == 0)
        a->opt.detached_path = v;
    else {
        (*i)--;
        return 1;
    }
    return 0;
}

static int cmd_encrypt(int argc, char **argv)
{
    struct ms_error err = {0};
    struct ms_cms_recipients *r = NULL;
    struct ms_cms_signer *s = NULL;
    struct enc_args a;
    int i = 2, rc = 0;

    memset(&a, 0, sizeof a);
    if (ms_cms_recipients_create(&r, &err) != MS_OK)
        return fail(&err);
    for (; i < argc; i++) {
        int k = enc_option(argc, argv, &i, r, &a, &err);
        if (k < 0) {
            rc = fail(&err);
            goto done;
        }
        if (k > 0)
            break;
    }
    if (argc - i != 2) {
        rc = usage();
        goto done;
    }
    if ((a.pass_file && ms_cms_recipients_add_passphrase_file(r, a.pass_file, &a.cost, &err)) ||
        (a.sign_key && ms_cms_signer_create(&s, a.sign_key, a.sign_cert, NULL, &err))) {
        rc = fail(&err);
        goto done;
    }
    a.opt.signer = s;
    ms_status st;
    if (strcmp(argv[i + 1], "-") == 0) {
        int in = strcmp(argv[i], "-") == 0 ? 0 : -1;
        FILE *f = in == 0 ? NULL : fopen(argv[i], "rb");
        st = ms_cms_encrypt_fd(r, f ? fileno(f) : 0, stdout_sink, NULL, &a.opt, &err);
        if (f)
            fclose(f);
        fflush(stdout);
    } else if (strcmp(argv[i], "-") == 0) {
        st = ms_error_set(&err, MS_EUSAGE, "stdin input needs stdout output");
    } else {
        st = ms_cms_encrypt_file(r, argv[i], argv[i + 1], &a.opt, &err);
    }
    if (st != MS_OK)
        rc = fail(&err);
done:
    ms_cms_signer_destroy(s);
    ms_cms_recipients_destroy(r);
    return rc;
}

static int dec_option(int argc, char **argv, int *i, struct ms_cms_keyring *k,
                      struct ms_cms_decrypt_options *opt, struct ms_error *err)
{
    const char *o = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(o, "--allow-unauthenticated") == 0) {
        opt->flags |= MS_CMS_ALLOW_UNAUTHENTICATED;
        return 0;
    }
    if (o[0] != '-' || o[1] != '-' || !v)
        return 1;
    (*i)++;
    if (strcmp(o, "--key") == 0) {
        const char *cert = NULL;
        if (*i + 2 < argc && strcmp(argv[*i + 1], "--cert") == 0) {
            cert = argv[*i + 2];
            *i += 2;
        }
        return ms_cms_keyring_add_key_file(k, v, cert, NULL, err) == MS_OK ? 0 : -1;
    }
    if (strcmp(o, "--passphrase-file") == 0)
        return ms_cms_keyring_add_passphrase_file(k, v, err) == MS_OK ? 0 : -1;
    if (strcmp(o, "--trust") == 0)
        return ms_cms_keyring_add_trusted_file(k, v, err) == MS_OK ? 0 : -1;
    if (strcmp(o, "--detached") == 0) {
        opt->detached_path = v;
        return 0;
    }
    (*i)--;
    return 1;
}

static int cmd_decrypt(int argc, char **argv)
{
    struct ms_error err = {0};
    struct ms_cms_keyring *k = NULL;
    struct ms_cms_decrypt_options opt;
    struct ms_cms_result res;
    int i = 2, rc = 0;

    memset(&opt, 0, sizeof opt);
    if (ms_cms_keyring_create(&k, &err) != MS_OK)
        return fail(&err);
    for (; i < argc; i++) {
        int r = dec_option(argc, argv, &i, k, &opt, &err);
        if (r < 0) {
            rc = fail(&err);
            goto done;
        }
        if (r > 0)
            break;
    }
    if (argc - i != 2) {
        rc = usage();
        goto done;
    }
    ms_status st;
    if (strcmp(argv[i], "-") == 0)
        st = ms_cms_decrypt_fd(k, 0, argv[i + 1], &opt, &res, &err);
    else
        st = ms_cms_decrypt_file(k, argv[i], argv[i + 1], &opt, &res, &err);
    if (st != MS_OK) {
        rc = fail(&err);
        goto done;
    }
    fprintf(stderr, "cms_tool: %s, %llu bytes, opened by %s%s%s\n", ms_cms_kind_name(res.kind),
            (unsigned long long)res.content_bytes, res.opened_by,
            res.signature_verified ? ", signed by " : "", res.signature_verified ? res.signer : "");
done:
    ms_cms_keyring_destroy(k);
    return rc;
}

static int cmd_probe(int argc, char **argv)
{
    struct ms_error err = {0};
    struct ms_cms_info info;
    if (argc != 3)
        return usage();
    if (ms_cms_probe_file(argv[2], &info, &err) != MS_OK)
        return fail(&err);
    const char *scheme = ms_cms_kind_scheme(info.kind);
    printf("kind=%s scheme=%s cipher=%s detached=%d rsa=%u ec=%u passphrase=%u other=%u\n",
           ms_cms_kind_name(info.kind), scheme ? scheme : "-", info.cipher[0] ? info.cipher : "-",
           info.detached, info.key_transport, info.key_agreement, info.passphrase, info.other);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "encrypt") == 0)
        return cmd_encrypt(argc, argv);
    if (strcmp(argv[1], "decrypt") == 0)
        return cmd_decrypt(argc, argv);
    if (strcmp(argv[1], "probe") == 0)
        return cmd_probe(argc, argv);
    return usage();
}
