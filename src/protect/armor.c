/* Armor: Base64 between PEM-style lines, for channels that carry only text
 * (seed 002). Streams with bounded memory in both directions. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "internal.h"
#include "medseal/protect.h"

#define BEGIN_LINE "-----BEGIN MEDSEAL PROTECTED FILE-----\n"
#define END_LINE "-----END MEDSEAL PROTECTED FILE-----\n"
#define LINE_BYTES 48 /* 64 Base64 characters per line */

bool ms_armor_detect(const uint8_t *head, size_t len)
{
    size_t n = strlen(BEGIN_LINE) - 1;
    return len >= n && memcmp(head, BEGIN_LINE, n) == 0;
}

ms_status ms_armor_file(const char *in, const char *out, struct ms_error *err)
{
    char tmp[4096];
    uint8_t buf[LINE_BYTES * 256];
    unsigned char line[LINE_BYTES * 256 / 3 * 4 + 256 + 1];
    int ifd = open(in, O_RDONLY | O_CLOEXEC), ofd;
    bool ok = true;
    ms_status st;

    if (ifd < 0)
        return ms_error_set(err, MS_EIO, "cannot open %s", in);
    if ((st = msi_atomic_open(out, tmp, sizeof tmp, &ofd, err)) != MS_OK) {
        close(ifd);
        return st;
    }
    ok = msi_fd_sink(&ofd, BEGIN_LINE, strlen(BEGIN_LINE)) == 0;
    for (;;) {
        size_t got = 0, o = 0;
        ssize_t r;
        while (got < sizeof buf && (r = read(ifd, buf + got, sizeof buf - got)) > 0)
            got += (size_t)r;
        if (got == 0)
            break;
        for (size_t i = 0; i < got; i += LINE_BYTES) {
            size_t n = got - i < LINE_BYTES ? got - i : LINE_BYTES;
            o += msi_b64_encode(buf + i, n, (char *)line + o);
            line[o++] = '\n';
        }
        ok = ok && msi_fd_sink(&ofd, line, o) == 0;
        if (got < sizeof buf)
            break;
    }
    ok = ok && msi_fd_sink(&ofd, END_LINE, strlen(END_LINE)) == 0;
    close(ifd);
    if (!ok) {
        msi_atomic_close(ofd, tmp, out, false, NULL);
        return ms_error_set(err, MS_EIO, "cannot write %s", out);
    }
    return msi_atomic_close(ofd, tmp, out, true, err);
}

/* Decode one Base64 line (no newline) into out; -1 when invalid. */
static int decode_line(const char *s, size_t n, uint8_t *out)
{
    size_t len;
    if (n == 0 || n > 4 * LINE_BYTES / 3 || !msi_b64_decode(s, n, out, &len))
        return -1;
    return (int)len;
}

ms_status ms_dearmor_file(const char *in, const char *out, struct ms_error *err)
{
    FILE *f = fopen(in, "r");
    char line[256], tmp[4096];
    uint8_t bin[LINE_BYTES + 4];
    bool ended = false, ok = true;
    unsigned long lineno = 1;
    int ofd;
    ms_status st;

    if (!f)
        return ms_error_set(err, MS_EIO, "cannot open %s", in);
    if (!fgets(line, sizeof line, f) || strcmp(line, BEGIN_LINE) != 0) {
        fclose(f);
        return ms_error_set(err, MS_EMALFORMED, "not an armored medseal file");
    }
    if ((st = msi_atomic_open(out, tmp, sizeof tmp, &ofd, err)) != MS_OK) {
        fclose(f);
        return st;
    }
    while (ok && !ended && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        int m;
        lineno++;
        if (strcmp(line, END_LINE) == 0) {
            ended = true;
            break;
        }
        line[n] = '\0';
        m = decode_line(line, n, bin);
        if (m < 0) {
            st = ms_error_set(err, MS_EMALFORMED, "line %lu: not Base64", lineno);
            ok = false;
        } else {
            ok = msi_fd_sink(&ofd, bin, (size_t)m) == 0;
            if (!ok)
                st = ms_error_set(err, MS_EIO, "cannot write %s", out);
        }
    }
    fclose(f);
    if (ok && !ended) {
        st = ms_error_set(err, MS_EMALFORMED, "armored file is truncated (no END line)");
        ok = false;
    }
    if (!ok) {
        msi_atomic_close(ofd, tmp, out, false, NULL);
        return st;
    }
    return msi_atomic_close(ofd, tmp, out, true, err);
}
