/* Unit tests of the Base64 armor: round trips of several sizes, truncation,
 * corruption and wrong headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "medseal/protect.h"

static char dir[] = "/tmp/medseal-armor-XXXXXX";

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, cap, f);
        fclose(f);
    }
    return n;
}

static void roundtrip(size_t n)
{
    char in[256], arm[256], out[256];
    static uint8_t data[200000], back[200000];
    struct ms_error err = {0};
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7 + n);
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(arm, sizeof arm, "%s/arm", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_file(in, data, n);
    CHECK_INT(ms_armor_file(in, arm, &err), MS_OK);
    CHECK_INT(ms_dearmor_file(arm, out, &err), MS_OK);
    CHECK_INT(read_file(out, back, sizeof back), n);
    CHECK(memcmp(data, back, n) == 0);
    {
        uint8_t head[64];
        size_t h = read_file(arm, head, sizeof head);
        CHECK(ms_armor_detect(head, h));
        CHECK(!ms_armor_detect(data, n < 64 ? n : 64));
    }
}

static void negatives(void)
{
    char arm[256], out[256], bad[256];
    struct ms_error err = {0};
    uint8_t buf[4096];
    size_t n;
    FILE *f;

    snprintf(arm, sizeof arm, "%s/arm", dir);
    snprintf(out, sizeof out, "%s/neg", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    n = read_file(arm, buf, sizeof buf);
    /* truncated: no END line */
    write_file(bad, buf, n / 2);
    CHECK_INT(ms_dearmor_file(bad, out, &err), MS_EMALFORMED);
    CHECK(access(out, F_OK) != 0);
    /* a non-Base64 character */
    buf[60] = '*';
    write_file(bad, buf, n);
    CHECK_INT(ms_dearmor_file(bad, out, &err), MS_EMALFORMED);
    CHECK(access(out, F_OK) != 0);
    /* not armored at all */
    f = fopen(bad, "w");
    if (f) {
        fputs("hello\n", f);
        fclose(f);
    }
    CHECK_INT(ms_dearmor_file(bad, out, &err), MS_EMALFORMED);
    CHECK_INT(ms_dearmor_file("/nonexistent/x", out, &err), MS_EIO);
    CHECK_INT(ms_armor_file("/nonexistent/x", out, &err), MS_EIO);
    CHECK(access(out, F_OK) != 0);
}

int main(void)
{
    char cmd[128];
    if (!mkdtemp(dir))
        return 1;
    roundtrip(0);
    roundtrip(1);
    roundtrip(47);
    roundtrip(48);
    roundtrip(12289);
    roundtrip(200000);
    negatives();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return check_done();
}
