/* Armor: Base64 between PEM-style lines, for channels that carry only text
 * (seed 002). Streams with bounded memory in both directions. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "medseal/protect.h"

#define BEGIN_TEXT "-----BEGIN MEDSEAL PROTECTED FILE-----"
#define END_TEXT "-----END MEDSEAL PROTECTED FILE-----"
#define BEGIN_LINE BEGIN_TEXT "\n" /* written with "\n"; read with any line end */
#define END_LINE END_TEXT "\n"
#define LINE_BYTES 48 /* 64 Base64 characters per line */

bool ms_armor_detect(const uint8_t *head, size_t len)
{
    size_t n = strlen(BEGIN_TEXT);
    return len >= n && memcmp(head, BEGIN_TEXT, n) == 0;
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

enum { LINE_OK, LINE_EOF, LINE_LONG };

/* One line of f into line (cap bytes, NUL-terminated), without its end and
 * trailing white space: armor crosses text channels that turn "\n" into
 * "\r\n" or pad lines with blanks. A NUL byte is kept (Base64 refuses it). */
static int read_line(FILE *f, char *line, size_t cap, size_t *len)
{
    size_t n = 0;
    int c;
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n + 1 >= cap)
            return LINE_LONG;
        line[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return LINE_EOF;
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    line[n] = '\0';
    *len = n;
    return LINE_OK;
}

static bool is_line(const char *line, size_t len, const char *text)
{
    return len == strlen(text) && memcmp(line, text, len) == 0;
}

/* Padding only at the end of a group run: "x=" or "==" closing it, nowhere
 * else (OpenSSL's decoder would take an inner "=" as zero bits). */
static bool padding_at_end_only(const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return true;
    size_t at = (size_t)(eq - s);
    return (at == n - 1) || (at == n - 2 && s[n - 1] == '=');
}

/* The Base64 lines after BEGIN, up to END, decoded into ofd. Lines of any
 * length up to 255 characters (medseal writes 64; mail re-wraps at 76):
 * the characters are decoded in groups of four across line ends, and
 * padding may only end the text. */
static ms_status decode_body(FILE *f, int *ofd, const char *out, struct ms_error *err)
{
    char text[3 + 256]; /* up to 3 characters carried over, then one line */
    uint8_t bin[(sizeof text / 4) * 3];
    unsigned long lineno = 1;
    size_t carry = 0, n, len;
    bool padded = false;
    int r;

    while ((r = read_line(f, text + carry, sizeof text - carry, &n)) != LINE_EOF) {
        lineno++;
        if (r == LINE_LONG)
            return ms_error_set(err, MS_EMALFORMED, "line %lu: too long for an armor line",
                                lineno);
        if (is_line(text + carry, n, END_TEXT))
            return carry == 0 ? MS_OK
                              : ms_error_set(err, MS_EMALFORMED,
                                             "line %lu: the Base64 text ends inside a group",
                                             lineno);
        if (n == 0 || padded || memchr(text + carry, '\0', n))
            return ms_error_set(err, MS_EMALFORMED, "line %lu: not Base64", lineno);
        n += carry;
        carry = n % 4;
        n -= carry;
        if (n && (!padding_at_end_only(text, n) || !msi_b64_decode(text, n, bin, &len)))
            return ms_error_set(err, MS_EMALFORMED, "line %lu: not Base64", lineno);
        padded = n && text[n - 1] == '=';
        if (n && msi_fd_sink(ofd, bin, len) != 0)
            return ms_error_set(err, MS_EIO, "cannot write %s", out);
        memmove(text, text + n, carry);
    }
    return ms_error_set(err, MS_EMALFORMED, "armored file is truncated (no END line)");
}

ms_status ms_dearmor_file(const char *in, const char *out, struct ms_error *err)
{
    FILE *f = fopen(in, "r");
    char line[256], tmp[4096];
    size_t n;
    int ofd;
    ms_status st;

    if (!f)
        return ms_error_set(err, MS_EIO, "cannot open %s", in);
    if (read_line(f, line, sizeof line, &n) != LINE_OK || !is_line(line, n, BEGIN_TEXT)) {
        fclose(f);
        return ms_error_set(err, MS_EMALFORMED, "not an armored medseal file");
    }
    if ((st = msi_atomic_open(out, tmp, sizeof tmp, &ofd, err)) != MS_OK) {
        fclose(f);
        return st;
    }
    st = decode_body(f, &ofd, out, err);
    fclose(f);
    if (st != MS_OK) {
        msi_atomic_close(ofd, tmp, out, false, NULL);
        return st;
    }
    return msi_atomic_close(ofd, tmp, out, true, err);
}
