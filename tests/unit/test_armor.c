/* Unit tests of the Base64 armor: round trips of several sizes, truncation,
 * corruption and wrong headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "medseal/protect.h"
#include "testutil.h"

static void roundtrip(size_t n)
{
    const char *in = tu_path("in"), *arm = tu_path("arm"), *out = tu_path("out");
    static uint8_t data[200000];
    uint8_t *back, *head;
    size_t len, h;
    struct ms_error err = {0};
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7 + n);
    tu_spit(in, data, n);
    CHECK_INT(ms_armor_file(in, arm, &err), MS_OK);
    CHECK_INT(ms_dearmor_file(arm, out, &err), MS_OK);
    back = tu_slurp(out, &len);
    CHECK_INT(len, n);
    CHECK(back && memcmp(data, back, n) == 0);
    head = tu_slurp(arm, &h);
    CHECK(head && ms_armor_detect(head, h < 64 ? h : 64));
    CHECK(!ms_armor_detect(data, n < 64 ? n : 64));
    free(back);
    free(head);
}

static void negatives(void)
{
    const char *arm = tu_path("arm"), *out = tu_path("neg"), *bad = tu_path("bad");
    struct ms_error err = {0};
    uint8_t buf[4096];
    size_t n;
    uint8_t *armored = tu_slurp(arm, &n);

    /* the start of the last round trip's armor */
    n = n < sizeof buf ? n : sizeof buf;
    if (armored)
        memcpy(buf, armored, n);
    free(armored);
    /* truncated: no END line */
    tu_spit(bad, buf, n / 2);
    CHECK_INT(ms_dearmor_file(bad, out, &err), MS_EMALFORMED);
    CHECK(access(out, F_OK) != 0);
    /* a non-Base64 character */
    buf[60] = '*';
    tu_spit(bad, buf, n);
    CHECK_INT(ms_dearmor_file(bad, out, &err), MS_EMALFORMED);
    CHECK(access(out, F_OK) != 0);
    /* not armored at all */
    tu_spit(bad, "hello\n", 6);
    CHECK_INT(ms_dearmor_file(bad, out, &err), MS_EMALFORMED);
    CHECK_INT(ms_dearmor_file("/nonexistent/x", out, &err), MS_EIO);
    CHECK_INT(ms_armor_file("/nonexistent/x", out, &err), MS_EIO);
    CHECK(access(out, F_OK) != 0);
}

int main(void)
{
    tu_dir_open();
    roundtrip(0);
    roundtrip(1);
    roundtrip(47);
    roundtrip(48);
    roundtrip(12289);
    roundtrip(200000);
    negatives();
    tu_dir_close();
    return check_done();
}
