/* Helpers shared by the fuzz targets (header-only: each target is built
 * from one .c file plus replay_main.c). Public API only. */
#ifndef MEDSEAL_FUZZ_COMMON_H
#define MEDSEAL_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medseal/dicom.h"

/* A bug the fuzzer should report: print and abort (libFuzzer saves the input). */
#define FUZZ_ASSERT(cond)                                                             \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: fuzz assertion failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* Output collected in memory up to a cap; beyond it only counted. */
struct fuzz_buf {
    uint8_t *data;
    size_t len, cap, max;
    uint64_t total;
    bool overflow;
};

static int fuzz_buf_sink(void *ctx, const void *data, size_t len)
{
    struct fuzz_buf *b = ctx;
    b->total += len;
    if (b->overflow || len == 0)
        return 0;
    if (len > b->max - b->len) {
        b->overflow = true;
        return 0;
    }
    if (b->len + len > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->len + len)
            ncap *= 2;
        uint8_t *n = realloc(b->data, ncap);
        if (!n) {
            b->overflow = true;
            return 0;
        }
        b->data = n;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

static void fuzz_buf_reset(struct fuzz_buf *b, size_t max)
{
    free(b->data);
    memset(b, 0, sizeof *b);
    b->max = max;
}

/* Sink that drops everything but reads every byte (so ASan checks it). */
static int fuzz_null_sink(void *ctx, const void *data, size_t len)
{
    const volatile uint8_t *p = data;
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= p[i];
    *(uint8_t *)ctx ^= x;
    return 0;
}

/* Write the input to a file of the target's private directory. */
static inline bool fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, size, f) == size;
    if (f)
        fclose(f);
    return ok;
}

/* Warning callback: the message must be a NUL-terminated line. */
static void fuzz_warn(void *ctx, uint64_t offset, const char *msg)
{
    size_t n = strlen(msg);
    (void)offset;
    FUZZ_ASSERT(n < 256);
    *(size_t *)ctx += n;
}

#endif
