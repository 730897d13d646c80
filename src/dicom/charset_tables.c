/* Code tables of the character sets of PS3.3 C.12.1.1.2 that are not
 * computed: the right halves of ISO 8859 and TIS-620, the 94x94 sets
 * (JIS X 0208, JIS X 0212, KS X 1001, GB 2312) and the two-byte and BMP
 * four-byte codes of GBK and GB18030.
 *
 * Each table is filled once, the first time a text needs it, by asking glibc
 * iconv for every code of the set (one call per code, so an unmapped code
 * costs its own cell and nothing else). Decoding then only reads the tables:
 * no iconv, no lock and no allocation per call. A table whose converter
 * cannot be opened (gconv modules missing) stays empty, and its codes decode
 * to U+FFFD. Filling is guarded by one mutex; readers test an atomic flag
 * (acquire) so that a filled table is never read half-written. */
#include <iconv.h>
#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

enum kind {
    KIND_SB,   /* bytes 0x80..0xFF */
    KIND_DB94, /* 94x94 in EUC form (both bytes | 0x80), optional prefix byte */
    KIND_GB2,  /* lead 0x81..0xFE, trail 0x40..0x7E and 0x80..0xFE */
    KIND_GB4,  /* GB18030 four-byte codes 0x81308130..0x8431A439 */
};

struct table {
    const char *iconv_name;
    uint8_t kind;
    uint8_t prefix;
    void *cells; /* uint16_t[] or uint32_t[] (KIND_GB2) */
    atomic_bool ready;
};

static uint16_t sb_cells[MSI_SB_COUNT][128];
static uint16_t db_cells[MSI_DB_COUNT][MSI_DB94_CELLS];
static uint32_t gb2_cells[2][MSI_GB2_CELLS];
static uint16_t gb4_cells[MSI_GB4_CELLS];

static struct table sb_tables[MSI_SB_COUNT] = {
    [MSI_SB_8859_1] = {"ISO-8859-1", KIND_SB, 0, sb_cells[MSI_SB_8859_1], false},
    [MSI_SB_8859_2] = {"ISO-8859-2", KIND_SB, 0, sb_cells[MSI_SB_8859_2], false},
    [MSI_SB_8859_3] = {"ISO-8859-3", KIND_SB, 0, sb_cells[MSI_SB_8859_3], false},
    [MSI_SB_8859_4] = {"ISO-8859-4", KIND_SB, 0, sb_cells[MSI_SB_8859_4], false},
    [MSI_SB_8859_5] = {"ISO-8859-5", KIND_SB, 0, sb_cells[MSI_SB_8859_5], false},
    [MSI_SB_8859_6] = {"ISO-8859-6", KIND_SB, 0, sb_cells[MSI_SB_8859_6], false},
    [MSI_SB_8859_7] = {"ISO-8859-7", KIND_SB, 0, sb_cells[MSI_SB_8859_7], false},
    [MSI_SB_8859_8] = {"ISO-8859-8", KIND_SB, 0, sb_cells[MSI_SB_8859_8], false},
    [MSI_SB_8859_9] = {"ISO-8859-9", KIND_SB, 0, sb_cells[MSI_SB_8859_9], false},
    [MSI_SB_8859_15] = {"ISO-8859-15", KIND_SB, 0, sb_cells[MSI_SB_8859_15], false},
    [MSI_SB_TIS620] = {"TIS-620", KIND_SB, 0, sb_cells[MSI_SB_TIS620], false},
};

static struct table db_tables[MSI_DB_COUNT] = {
    [MSI_DB_JIS0208] = {"EUC-JP", KIND_DB94, 0, db_cells[MSI_DB_JIS0208], false},
    [MSI_DB_JIS0212] = {"EUC-JP", KIND_DB94, 0x8F, db_cells[MSI_DB_JIS0212], false},
    [MSI_DB_KSX1001] = {"EUC-KR", KIND_DB94, 0, db_cells[MSI_DB_KSX1001], false},
    [MSI_DB_GB2312] = {"EUC-CN", KIND_DB94, 0, db_cells[MSI_DB_GB2312], false},
};

static struct table gb2_tables[2] = {
    {"GBK", KIND_GB2, 0, gb2_cells[0], false},
    {"GB18030", KIND_GB2, 0, gb2_cells[1], false},
};

static struct table gb4_table = {"GB18030", KIND_GB4, 0, gb4_cells, false};

static pthread_mutex_t fill_lock = PTHREAD_MUTEX_INITIALIZER;

/* Bytes of cell i of a table; returns their count. */
static size_t cell_bytes(const struct table *t, size_t i, uint8_t b[4])
{
    size_t n = 0;
    switch (t->kind) {
    case KIND_SB:
        b[0] = (uint8_t)(0x80 + i);
        return 1;
    case KIND_DB94:
        if (t->prefix)
            b[n++] = t->prefix;
        b[n++] = (uint8_t)(0xA1 + i / 94);
        b[n++] = (uint8_t)(0xA1 + i % 94);
        return n;
    case KIND_GB2:
        b[0] = (uint8_t)(0x81 + i / 190);
        b[1] = (uint8_t)(0x40 + i % 190 + (i % 190 >= 0x3F)); /* no 0x7F */
        return 2;
    default:
        b[0] = (uint8_t)(0x81 + i / 12600);
        b[1] = (uint8_t)(0x30 + i / 1260 % 10);
        b[2] = (uint8_t)(0x81 + i / 10 % 126);
        b[3] = (uint8_t)(0x30 + i % 10);
        return 4;
    }
}

/* The one code point iconv gives for these bytes, or 0. */
static uint32_t convert_one(iconv_t cd, const uint8_t *b, size_t n)
{
    char in[4], outbuf[16];
    char *ip = in, *op = outbuf;
    size_t il = n, ol = sizeof outbuf;
    uint32_t cp;

    memcpy(in, b, n);
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0 || sizeof outbuf - ol != 4)
        return 0;
    cp = msi_rd32le((const uint8_t *)outbuf);
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return cp;
}

static size_t cell_count(uint8_t kind)
{
    static const size_t counts[] = {128, MSI_DB94_CELLS, MSI_GB2_CELLS, MSI_GB4_CELLS};
    return counts[kind];
}

/* Store cp in cell i; codes of multi-byte sets never become ASCII, so that
 * no decoded character can pose as a delimiter ('\\', '^', '='). */
static void store(struct table *t, size_t i, uint32_t cp)
{
    if (t->kind == KIND_SB) {
        if (cp == 0 && i < 0x20)
            cp = (uint32_t)(0x80 + i); /* C1 controls, as in ISO 8859 (TIS-620 lacks them) */
    } else if (cp < 0x80) {
        cp = 0;
    }
    if (t->kind == KIND_GB2)
        ((uint32_t *)t->cells)[i] = cp;
    else
        ((uint16_t *)t->cells)[i] = cp <= 0xFFFF ? (uint16_t)cp : 0;
}

static void fill(struct table *t)
{
    uint8_t b[4];
    size_t count = cell_count(t->kind);
    iconv_t cd = iconv_open("UTF-32LE", t->iconv_name);

    for (size_t i = 0; i < count; i++) {
        uint32_t cp = 0;
        if (cd != (iconv_t)-1) {
            size_t n = cell_bytes(t, i, b);
            cp = convert_one(cd, b, n);
        }
        store(t, i, cp);
    }
    if (cd != (iconv_t)-1)
        iconv_close(cd);
}

static const void *ready(struct table *t)
{
    if (!atomic_load_explicit(&t->ready, memory_order_acquire)) {
        pthread_mutex_lock(&fill_lock);
        if (!atomic_load_explicit(&t->ready, memory_order_relaxed)) {
            fill(t);
            atomic_store_explicit(&t->ready, true, memory_order_release);
        }
        pthread_mutex_unlock(&fill_lock);
    }
    return t->cells;
}

const uint16_t *msi_cs_sb_table(enum msi_cs_sb id) { return ready(&sb_tables[id]); }

const uint16_t *msi_cs_db94_table(enum msi_cs_db id) { return ready(&db_tables[id]); }

const uint32_t *msi_cs_gb2_table(bool gb18030) { return ready(&gb2_tables[gb18030 ? 1 : 0]); }

const uint16_t *msi_cs_gb4_table(void) { return ready(&gb4_table); }
