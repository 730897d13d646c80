/* Transfer syntaxes (PS3.5 10 and Annex A) and names of well-known UIDs. */
#include <string.h>

#include "internal.h"

struct uid_name {
    const char *uid;
    const char *name;
};

#include "uid_table.inc"

/* uid, name, explicit, big-endian, deflated, encapsulated, lossless */
static const struct ms_transfer_syntax ts_table[] = {
    {"1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false, true},
    {"1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false, true},
    {"1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, true, false, false, true},
    {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, false, true},
    {"1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian", true, false,
     false, true, true},
    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.53", "JPEG Extended (Process 3 & 5)", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.55", "JPEG Full Progression (Process 10 & 12)", true, false, false,
     true, false},
    {"1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", true, false,
     false, true, true},
    {"1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction", true,
     false, false, true, true},
    {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression", true, false, false, true,
     true},
    {"1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression", true, false,
     false, true, false},
    {"1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)", true, false, false,
     true, true},
    {"1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)", true, false,
     false, true, true},
    {"1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component", true, false, false, true,
     false},
    {"1.2.840.10008.1.2.4.94", "JPIP Referenced", true, false, false, true, false},
    {"1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate", true, false, true, true, false},
    {"1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level", true, false, false, true,
     false},
    {"1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level", true, false, false, true,
     false},
    {"1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1", true, false, false,
     true, false},
    {"1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", true,
     false, false, true, false},
    {"1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", true,
     false, false, true, false},
    {"1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", true,
     false, false, true, false},
    {"1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", true, false,
     false, true, false},
    {"1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1", true, false, false, true,
     false},
    {"1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1", true, false, false,
     true, false},
    {"1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)", true, false, false,
     true, true},
    {"1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)",
     true, false, false, true, true},
    {"1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000", true, false, false, true, false},
    {"1.2.840.10008.1.2.5", "RLE Lossless", true, false, false, true, true},
};

#define TS_COUNT (sizeof ts_table / sizeof ts_table[0])

/* Length of a UID value without trailing NULs and spaces. */
static size_t uid_len(const char *uid)
{
    size_t n = strlen(uid);
    while (n > 0 && (uid[n - 1] == ' ' || uid[n - 1] == '\0'))
        n--;
    return n;
}

const struct ms_transfer_syntax *ms_ts_find(const char *uid)
{
    size_t n = uid_len(uid);
    for (size_t i = 0; i < TS_COUNT; i++)
        if (strlen(ts_table[i].uid) == n && memcmp(ts_table[i].uid, uid, n) == 0)
            return &ts_table[i];
    return NULL;
}

const struct ms_transfer_syntax *ms_ts_implicit_le(void) { return &ts_table[0]; }
const struct ms_transfer_syntax *ms_ts_explicit_le(void) { return &ts_table[1]; }
const struct ms_transfer_syntax *ms_ts_explicit_be(void) { return &ts_table[2]; }
const struct ms_transfer_syntax *ms_ts_deflated(void) { return &ts_table[3]; }

const char *ms_uid_name(const char *uid)
{
    size_t n = uid_len(uid), lo = 0, hi = sizeof uid_table / sizeof uid_table[0];
    const struct ms_transfer_syntax *ts = ms_ts_find(uid);
    if (ts)
        return ts->name;
    while (lo < hi) { /* the generated table is sorted by UID */
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(uid_table[mid].uid, uid, n);
        if (c == 0) {
            if (uid_table[mid].uid[n] == '\0')
                return uid_table[mid].name;
            c = 1; /* a longer UID with the same prefix sorts after */
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
