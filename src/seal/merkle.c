/* Merkle tree over the seal's records (RFC 6962 tree hash): leaves are
 * SHA-256(0x00 || record), interior nodes SHA-256(0x01 || left || right),
 * a tree of n leaves splits at the largest power of two below n. */
#include <string.h>

#include "seal_internal.h"

ms_status msi_merkle_leaf(const void *record, size_t len, uint8_t out[MS_SHA256_LEN],
                          struct ms_error *err)
{
    static const uint8_t prefix = 0x00;
    struct ms_hash *h;
    ms_status st = ms_hash_create(&h, MS_HASH_SHA256, err);
    if (st == MS_OK)
        st = ms_hash_update(h, &prefix, 1, err);
    if (st == MS_OK)
        st = ms_hash_update(h, record, len, err);
    if (st == MS_OK)
        st = ms_hash_final(h, out, err);
    ms_hash_destroy(h);
    return st;
}

static ms_status node(const uint8_t l[MS_SHA256_LEN], const uint8_t r[MS_SHA256_LEN],
                      uint8_t out[MS_SHA256_LEN], struct ms_error *err)
{
    uint8_t buf[1 + 2 * MS_SHA256_LEN];
    buf[0] = 0x01;
    memcpy(buf + 1, l, MS_SHA256_LEN);
    memcpy(buf + 1 + MS_SHA256_LEN, r, MS_SHA256_LEN);
    return ms_sha256(buf, sizeof buf, out, err);
}

/* Largest power of two strictly below n (n >= 2). */
static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* Root of leaves[0..n-1] (n >= 1) into leaves[0]; recursion depth is log2 n. */
static ms_status reduce(uint8_t (*leaves)[MS_SHA256_LEN], size_t n, struct ms_error *err)
{
    size_t k;
    ms_status st;
    if (n == 1)
        return MS_OK;
    k = split_point(n);
    if ((st = reduce(leaves, k, err)) != MS_OK || (st = reduce(leaves + k, n - k, err)) != MS_OK)
        return st;
    return node(leaves[0], leaves[k], leaves[0], err);
}

ms_status msi_merkle_root(uint8_t (*leaves)[MS_SHA256_LEN], size_t n,
                          uint8_t out[MS_SHA256_LEN], struct ms_error *err)
{
    ms_status st;
    if (n == 0)
        return ms_sha256("", 0, out, err);
    st = reduce(leaves, n, err);
    if (st == MS_OK)
        memcpy(out, leaves[0], MS_SHA256_LEN);
    return st;
}
