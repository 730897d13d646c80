/* Mutation test: parse deterministic corrupted variants of the fuzz corpus
 * and of the malformed regression files, plus generated hostile files.
 *
 * Classes of variants: bit flips, byte sets, truncations at many offsets,
 * lying lengths (length fields of elements and items overwritten with huge,
 * odd and off-by-one values), item/delimiter confusion (item, item delimiter
 * and sequence delimiter tags swapped for each other or for element tags),
 * generated files with 10,000 nested sequences or items, and generated files
 * with 50,000 items, fragments or elements side by side. Every variant
 * must be rejected with a status and a message, or parsed; a parsed one is
 * walked, listed (text and JSON) and written. A crash or a leak fails under
 * ASan/UBSan, a variant running longer than TIMEOUT seconds fails through
 * SIGALRM. Prints the counts; fails if fewer than MIN_VARIANTS ran.
 *
 * Inputs: $MEDSEAL_SRC/fuzz/corpus/parse and $MEDSEAL_SRC/tests/data/malformed.
 * MUTATION_VERBOSE=1 prints every variant before it runs. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "medseal/dicom.h"
#include "testutil.h"

#define MIN_VARIANTS 10000
#define TIMEOUT 20
#define MAX_FILE (256u * 1024u)
#define NESTING 10000
#define WIDE 50000

enum vclass { V_FLIP, V_SET, V_TRUNC, V_LIE, V_CONFUSE, V_NEST, V_CLASSES };
static const char *class_names[V_CLASSES] = {"bit flip", "byte set", "truncation",
                                             "lying length", "item/delimiter", "generated"};

struct stats {
    unsigned long rejected[V_CLASSES], parsed[V_CLASSES];
    unsigned long by_status[16];
    double slowest;
    char slowest_name[160];
};

static struct stats stats;
static bool verbose;
static FILE *devnull; /* listings are written here */
static char current[200]; /* variant being run, named when the process dies */

static void say_current(void)
{
    (void)!write(2, "mutation: died on ", 18);
    (void)!write(2, current, strlen(current));
    (void)!write(2, "\n", 1);
}

static void on_alarm(int sig)
{
    (void)sig;
    (void)!write(2, "mutation: timeout\n", 18);
    say_current();
    _exit(1);
}

static void on_abort(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* ---- deterministic randomness ------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* ---- exercising a parsed file ------------------------------------------------ */

static int null_sink(void *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint8_t *x = ctx;
    for (size_t i = 0; i < len; i += 512)
        *x ^= p[i];
    return 0;
}

static int visit(void *ctx, struct ms_element *el, unsigned depth)
{
    char buf[64];
    double d;
    int64_t v;
    size_t vm = ms_element_vm(el);
    (void)depth;
    *(size_t *)ctx += ms_element_to_utf8(el, buf, sizeof buf);
    for (size_t i = 0; i <= vm && i < 4; i++) {
        (void)ms_element_get_string(el, i, buf, sizeof buf);
        (void)ms_element_get_double(el, i, &d);
        (void)ms_element_get_int(el, i, &v);
    }
    (void)ms_element_get_double(el, SIZE_MAX, &d);
    (void)ms_element_get_int(el, SIZE_MAX / 2, &v);
    return 0;
}

static void exercise(struct ms_file *f, unsigned long n)
{
    struct ms_error err;
    struct ms_json_options jo = {0};
    uint8_t x = 0;
    size_t total = 0;
    static const struct ms_transfer_syntax *(*syntaxes[])(void) = {
        ms_ts_explicit_le, ms_ts_implicit_le, ms_ts_explicit_be, ms_ts_deflated};

    (void)ms_dataset_walk(ms_file_meta(f), visit, &total);
    (void)ms_dataset_walk(ms_file_dataset(f), visit, &total);
    if (devnull) {
        struct ms_dump_options dopt = {(n & 2) ? 100000 : 0, true};
        if (ms_file_dump(f, devnull, &dopt, &err) != MS_OK && err.msg[0] == '\0')
            abort();
    }
    ms_file_set_transfer_syntax(f, syntaxes[n % 4]());
    if (ms_file_write_sink(f, null_sink, &x, NULL, &err) != MS_OK && err.msg[0] == '\0')
        abort();
    jo.include_meta = true;
    jo.bulk_threshold = (n & 1) ? 256 : 0;
    if (ms_file_write_json(f, &jo, null_sink, &x, &err) != MS_OK && err.msg[0] == '\0')
        abort();
}

/* ---- running one variant ---------------------------------------------------------- */

static void run(enum vclass cls, const uint8_t *data, size_t len, const char *name,
                const char *what, uint64_t arg)
{
    static unsigned long n;
    struct ms_read_options opt = {0};
    struct ms_file *f = NULL;
    struct ms_error err;
    struct timespec t0, t1;
    ms_status st;
    double secs;

    snprintf(current, sizeof current, "%s: %s %llu (%zu bytes)", name, what,
             (unsigned long long)arg, len);
    if (verbose)
        fprintf(stderr, "%s\n", current);
    n++;
    if (n % 5 == 4) { /* some runs with small limits */
        opt.max_depth = 1 + (unsigned)(n % 3);
        opt.stop_before_pixels = true;
        opt.max_value = 4096;
    }
    memset(&err, 0, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    alarm(TIMEOUT);
    st = ms_file_read_memory(&f, data, len, &opt, &err);
    if (st == MS_OK) {
        exercise(f, n);
        ms_file_destroy(f);
        stats.parsed[cls]++;
    } else {
        if (f != NULL || err.code != st || err.msg[0] == '\0' ||
            strlen(err.msg) >= sizeof err.msg) {
            fprintf(stderr, "mutation: bad error record (status %d): %s\n", (int)st, current);
            abort();
        }
        stats.rejected[cls]++;
        stats.by_status[(unsigned)st & 15]++;
    }
    alarm(0);
    if (verbose)
        fprintf(stderr, "  -> %s\n", st == MS_OK ? "parsed" : err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > stats.slowest) {
        stats.slowest = secs;
        snprintf(stats.slowest_name, sizeof stats.slowest_name, "%s", current);
    }
}

/* ---- mutations of one input ---------------------------------------------------------- */

struct input {
    const char *name;
    const uint8_t *data;
    size_t len;
    uint8_t *work; /* scratch copy, len + 16 bytes */
};

static uint8_t *reset(struct input *in)
{
    memcpy(in->work, in->data, in->len);
    return in->work;
}

static void flips(struct input *in, int count)
{
    for (int i = 0; i < count; i++) {
        uint64_t bit = rng() % ((uint64_t)in->len * 8);
        uint8_t *w = reset(in);
        w[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        run(V_FLIP, w, in->len, in->name, "flip bit", bit);
    }
}

static void sets(struct input *in, int count)
{
    static const uint8_t values[] = {0x00, 0xFF, 0x7F, 0x80, 0xFE, 0x01, 'S', 'Q', 'U', 'N'};
    for (int i = 0; i < count; i++) {
        uint64_t pos = rng() % in->len;
        uint8_t *w = reset(in);
        w[pos] = values[rng() % sizeof values];
        if (rng() & 1) /* a run of four: whole tags or lengths */
            for (size_t k = 1; k < 4 && pos + k < in->len; k++)
                w[pos + k] = w[pos];
        run(V_SET, w, in->len, in->name, "set byte at", pos);
    }
}

static void truncations(struct input *in, int count)
{
    for (int i = 0; i < count; i++) {
        size_t cut = i < 16 ? (size_t)i * 9 % in->len                /* the header area */
                            : (size_t)((uint64_t)in->len * (unsigned)(i - 16) /
                                       (unsigned)(count - 16));
        if (i % 7 == 6)
            cut = (size_t)(rng() % in->len);
        if (cut == 0 && i > 0)
            continue;
        run(V_TRUNC, reset(in), cut, in->name, "truncate at", cut);
    }
}

/* Where the length field of an element or item at off is, from its bytes. */
static bool length_field(const uint8_t *d, size_t len, size_t off, bool explicit_vr, bool be,
                         size_t *pos, unsigned *width)
{
    uint16_t group;
    if (off + 12 > len)
        return false;
    group = be ? (uint16_t)(d[off] << 8 | d[off + 1]) : (uint16_t)(d[off] | d[off + 1] << 8);
    if (group == 0xFFFE || !explicit_vr || d[off + 4] < 'A' || d[off + 4] > 'Z') {
        *pos = off + 4;
        *width = 4;
    } else if (ms_vr_has_long_length(ms_vr_from_chars((char)d[off + 4], (char)d[off + 5]))) {
        *pos = off + 8;
        *width = 4;
    } else {
        *pos = off + 6;
        *width = 2;
    }
    return true;
}

static uint64_t read_len(const uint8_t *p, unsigned width, bool be)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < width; k++)
        v |= (uint64_t)p[be ? width - 1 - k : k] << (8 * k);
    return v;
}

static void write_len(uint8_t *p, unsigned width, bool be, uint64_t v)
{
    for (unsigned k = 0; k < width; k++)
        p[be ? width - 1 - k : k] = (uint8_t)(v >> (8 * k));
}

static void lie_at(struct input *in, size_t off, bool explicit_vr, bool be)
{
    size_t pos;
    unsigned width;
    uint64_t orig, left;

    if (!length_field(in->data, in->len, off, explicit_vr, be, &pos, &width))
        return;
    orig = read_len(in->data + pos, width, be);
    left = in->len - pos - width;
    uint64_t lies[] = {0, 1, orig - 1, orig + 1, orig + 2, orig | 1, left, left + 1,
                       0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFF, 0xFFFE};
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        uint8_t *w;
        if (width == 2 && lies[i] > 0xFFFF)
            continue;
        w = reset(in);
        write_len(w + pos, width, be, lies[i]);
        run(V_LIE, w, in->len, in->name, "lying length at", pos);
    }
}

struct offsets {
    size_t *v;
    size_t n, cap;
};

static void add_offset(struct offsets *o, uint64_t off)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        size_t *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = (size_t)off;
}

static int collect(void *ctx, struct ms_element *el, unsigned depth)
{
    struct offsets *o = ctx;
    (void)depth;
    add_offset(o, ms_element_offset(el));
    for (size_t i = 0; i < ms_element_item_count(el); i++)
        add_offset(o, ms_dataset_offset(ms_element_item(el, i)));
    return 0;
}

/* Lying lengths in up to max elements/items spread over the file. */
static void lies(struct input *in, size_t max)
{
    struct ms_file *f = NULL;
    struct ms_error err;
    struct offsets meta = {0}, body = {0};
    const struct ms_transfer_syntax *ts;

    if (ms_file_read_memory(&f, in->data, in->len, NULL, &err) != MS_OK)
        return;
    ts = ms_file_transfer_syntax(f);
    (void)ms_dataset_walk(ms_file_meta(f), collect, &meta);
    if (!ts->deflated) /* offsets of a deflated body are in the inflated bytes */
        (void)ms_dataset_walk(ms_file_dataset(f), collect, &body);
    for (size_t i = 0; i < meta.n && i < 3; i++)
        lie_at(in, meta.v[i], true, false);
    for (size_t k = 0; k < max && k < body.n; k++)
        lie_at(in, body.v[body.n <= max ? k : k * body.n / max], ts->explicit_vr, ts->big_endian);
    free(meta.v);
    free(body.v);
    ms_file_destroy(f);
}

/* Item, item delimiter and sequence delimiter tags swapped for each other,
 * and the first element tag after an item swapped for an item tag. */
static void confusion(struct input *in, int max)
{
    static const uint8_t tags[3][4] = {
        {0xFE, 0xFF, 0x00, 0xE0}, {0xFE, 0xFF, 0x0D, 0xE0}, {0xFE, 0xFF, 0xDD, 0xE0}};
    int done = 0;

    for (size_t p = 0; p + 8 <= in->len && done < max; p += 2) {
        int which = -1;
        for (int t = 0; t < 3; t++)
            if (memcmp(in->data + p, tags[t], 4) == 0)
                which = t;
        if (which < 0)
            continue;
        for (int t = 0; t < 3; t++) {
            uint8_t *w;
            if (t == which)
                continue;
            w = reset(in);
            memcpy(w + p, tags[t], 4);
            run(V_CONFUSE, w, in->len, in->name, "delimiter swap at", p);
            done++;
        }
        if (which == 0 && p + 12 <= in->len) { /* item -> element tag, element -> item */
            uint8_t *w = reset(in);
            memcpy(w + p, "\x08\x00\x50\x11", 4);
            run(V_CONFUSE, w, in->len, in->name, "item as element at", p);
            w = reset(in);
            memcpy(w + p + 8, tags[rng() % 3], 4);
            run(V_CONFUSE, w, in->len, in->name, "delimiter for element at", p + 8);
            done += 2;
        }
    }
}

static void mutate(const char *name, const uint8_t *data, size_t len)
{
    struct input in = {name, data, len, malloc(len + 16)};

    if (!in.work || len == 0) {
        free(in.work);
        if (len == 0)
            run(V_TRUNC, data, 0, name, "empty", 0);
        return;
    }
    rng_state = hash_name(name);
    run(V_TRUNC, data, len, name, "unchanged", 0);
    flips(&in, 48);
    sets(&in, 48);
    truncations(&in, 48);
    lies(&in, 12);
    confusion(&in, 32);
    free(in.work);
}

/* ---- generated hostile files ------------------------------------------------------ */

struct gen {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct gen *g, const void *data, size_t len)
{
    if (g->n + len > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap < g->n + len)
            cap *= 2;
        uint8_t *p = realloc(g->p, cap);
        if (!p)
            abort();
        g->p = p;
        g->cap = cap;
    }
    memcpy(g->p + g->n, data, len);
    g->n += len;
}

static void part10_head(struct gen *g, const char *ts)
{
    static const uint8_t zeros[128];
    size_t len = strlen(ts), padded = len + (len & 1);
    uint8_t n[2] = {(uint8_t)padded, 0};

    put(g, zeros, 128);
    put(g, "DICM\x02\x00\x10\x00UI", 10);
    put(g, n, 2);
    put(g, ts, len);
    put(g, zeros, padded - len);
}

#define SQ_UNDEF_EXPLICIT "\x08\x00\x40\x11SQ\x00\x00\xFF\xFF\xFF\xFF"
#define SQ_UNDEF_IMPLICIT "\x08\x00\x40\x11\xFF\xFF\xFF\xFF"
#define UN_UNDEF "\x09\x00\x10\x10UN\x00\x00\xFF\xFF\xFF\xFF"
#define PRIVATE_UNDEF_IMPLICIT "\x09\x00\x10\x10\xFF\xFF\xFF\xFF"
#define ITEM_UNDEF "\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF"
#define ITEM_END "\xFE\xFF\x0D\xE0\x00\x00\x00\x00"
#define SEQ_END "\xFE\xFF\xDD\xE0\x00\x00\x00\x00"
#define UI_EXPLICIT "\x08\x00\x50\x11UI\x04\x00" "1.2\x00"
#define SQ_UNDEF_BE "\x00\x08\x11\x40SQ\x00\x00\xFF\xFF\xFF\xFF"
#define ITEM_UNDEF_BE "\xFF\xFE\xE0\x00\xFF\xFF\xFF\xFF"
#define ITEM_END_BE "\xFF\xFE\xE0\x0D\x00\x00\x00\x00"
#define SEQ_END_BE "\xFF\xFE\xE0\xDD\x00\x00\x00\x00"

/* depth levels of (head, item) closed by (item end, seq end) or not at all. */
static void nest(struct gen *g, int depth, const char *head, size_t hlen, const char *item,
                 const char *item_end, const char *seq_end, const char *inner, size_t ilen,
                 bool close)
{
    for (int i = 0; i < depth; i++) {
        put(g, head, hlen);
        put(g, item, 8);
    }
    put(g, inner, ilen);
    for (int i = 0; close && i < depth; i++) {
        put(g, item_end, 8);
        put(g, seq_end, 8);
    }
}

/* Defined-length nesting: each level's lengths cover what is inside. */
static void nest_defined(struct gen *g)
{
    size_t inner = 12, total = 12 + (size_t)NESTING * 20;
    uint8_t *buf = calloc(1, total), *p;
    if (!buf)
        abort();
    p = buf + total - inner;
    memcpy(p, UI_EXPLICIT, 12);
    for (int i = 0; i < NESTING; i++) {
        uint32_t ilen = (uint32_t)inner, slen = (uint32_t)inner + 8;
        p -= 20;
        memcpy(p, "\x08\x00\x40\x11SQ\x00\x00", 8);
        for (int k = 0; k < 4; k++)
            p[8 + k] = (uint8_t)(slen >> (8 * k));
        memcpy(p + 12, "\xFE\xFF\x00\xE0", 4);
        for (int k = 0; k < 4; k++)
            p[16 + k] = (uint8_t)(ilen >> (8 * k));
        inner += 20;
    }
    put(g, buf, total);
    free(buf);
}

/* WIDE siblings: items of one sequence, fragments, or equal elements. */
static void wide(void)
{
    static const char *names[3] = {"50000 items", "50000 fragments", "50000 elements"};
    for (int kind = 0; kind < 3; kind++) {
        struct gen g = {0};
        part10_head(&g, kind == 1 ? "1.2.840.10008.1.2.4.50" : "1.2.840.10008.1.2.1");
        if (kind == 0)
            put(&g, SQ_UNDEF_EXPLICIT, 12);
        else if (kind == 1)
            put(&g, "\xE0\x7F\x10\x00OB\x00\x00\xFF\xFF\xFF\xFF", 12);
        for (int i = 0; i < WIDE; i++) {
            if (kind == 0)
                put(&g, ITEM_UNDEF ITEM_END, 16);
            else if (kind == 1)
                put(&g, "\xFE\xFF\x00\xE0\x02\x00\x00\x00\xFF\xD8", 10);
            else
                put(&g, UI_EXPLICIT, 12);
        }
        if (kind < 2)
            put(&g, SEQ_END, 8);
        run(V_NEST, g.p, g.n, names[kind], "whole", 0);
        run(V_NEST, g.p, g.n - 9, names[kind], "truncate at", g.n - 9);
        free(g.p);
    }
}

static void generated(void)
{
    static const struct {
        const char *name, *ts;
        int kind, depth;
        bool close;
    } cases[] = {
        {"nested SQ, undefined lengths", "1.2.840.10008.1.2.1", 0, NESTING, true},
        {"nested SQ, undefined lengths, unclosed", "1.2.840.10008.1.2.1", 0, NESTING, false},
        {"nested SQ, 64 levels", "1.2.840.10008.1.2.1", 0, 64, true},
        {"nested SQ, 65 levels", "1.2.840.10008.1.2.1", 0, 65, true},
        {"nested SQ, Implicit VR", "1.2.840.10008.1.2", 1, NESTING, true},
        {"nested UN (implicit SQ)", "1.2.840.10008.1.2.1", 2, NESTING, true},
        {"nested SQ, Big Endian", "1.2.840.10008.1.2.2", 3, NESTING, true},
        {"nested SQ, defined lengths", "1.2.840.10008.1.2.1", 4, NESTING, true},
        {"nested items without sequences", "1.2.840.10008.1.2.1", 5, NESTING, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct gen g = {0};
        part10_head(&g, cases[c].ts);
        switch (cases[c].kind) {
        case 0:
            nest(&g, cases[c].depth, SQ_UNDEF_EXPLICIT, 12, ITEM_UNDEF, ITEM_END, SEQ_END, UI_EXPLICIT, 12,
                 cases[c].close);
            break;
        case 1:
            nest(&g, cases[c].depth, SQ_UNDEF_IMPLICIT, 8, ITEM_UNDEF, ITEM_END, SEQ_END,
                 "\x08\x00\x50\x11\x04\x00\x00\x00" "1.2\x00", 12, cases[c].close);
            break;
        case 2:
            put(&g, UN_UNDEF, 12);
            put(&g, ITEM_UNDEF, 8);
            nest(&g, cases[c].depth, PRIVATE_UNDEF_IMPLICIT, 8, ITEM_UNDEF, ITEM_END, SEQ_END,
                 "\x08\x00\x50\x11\x04\x00\x00\x00" "1.2\x00", 12, cases[c].close);
            put(&g, ITEM_END SEQ_END, 16);
            break;
        case 3:
            nest(&g, cases[c].depth, SQ_UNDEF_BE, 12, ITEM_UNDEF_BE, ITEM_END_BE, SEQ_END_BE,
                 "\x00\x08\x11\x50UI\x00\x04" "1.2\x00", 12, cases[c].close);
            break;
        case 4:
            nest_defined(&g);
            break;
        default:
            put(&g, SQ_UNDEF_EXPLICIT, 12);
            for (int i = 0; i < NESTING; i++)
                put(&g, ITEM_UNDEF, 8);
            for (int i = 0; i < NESTING; i++)
                put(&g, ITEM_END, 8);
            put(&g, SEQ_END, 8);
            break;
        }
        run(V_NEST, g.p, g.n, cases[c].name, "whole", 0);
        for (int t = 1; t <= 20; t++) /* cut inside the nesting */
            run(V_NEST, g.p, g.n * (size_t)t / 21, cases[c].name, "truncate at",
                g.n * (size_t)t / 21);
        free(g.p);
    }
}

/* ---- inputs ------------------------------------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t mutate_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, done = 0;

    if (!d) {
        fprintf(stderr, "mutation: cannot open %s\n", dir);
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".md"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                abort();
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        size_t len;
        uint8_t *data;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        data = tu_slurp(path, &len);
        if (data && len <= MAX_FILE) {
            mutate(names[i], data, len);
            done++;
        }
        free(data);
        free(names[i]);
    }
    free(names);
    return done;
}

int main(void)
{
    const char *src = tu_src();
    char dir[4096];
    size_t inputs = 0;
    unsigned long total = 0, rejected = 0, parsed = 0;

    verbose = getenv("MUTATION_VERBOSE") != NULL;
    devnull = fopen("/dev/null", "w");
    signal(SIGALRM, on_alarm);
    signal(SIGABRT, on_abort);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(say_current);

    snprintf(dir, sizeof dir, "%s/fuzz/corpus/parse", src);
    inputs += mutate_dir(dir);
    snprintf(dir, sizeof dir, "%s/tests/data/malformed", src);
    inputs += mutate_dir(dir);
    generated();
    wide();

    printf("mutation: %zu inputs\n", inputs);
    for (int c = 0; c < V_CLASSES; c++) {
        printf("  %-15s %7lu variants: %7lu rejected, %7lu parsed\n", class_names[c],
               stats.rejected[c] + stats.parsed[c], stats.rejected[c], stats.parsed[c]);
        rejected += stats.rejected[c];
        parsed += stats.parsed[c];
    }
    total = rejected + parsed;
    printf("  %-15s %7lu variants: %7lu rejected, %7lu parsed\n", "total", total, rejected,
           parsed);
    printf("  rejections by status: malformed %lu, limit %lu, unsupported %lu, other %lu\n",
           stats.by_status[MS_EMALFORMED], stats.by_status[MS_ELIMIT],
           stats.by_status[MS_EUNSUPPORTED],
           rejected - stats.by_status[MS_EMALFORMED] - stats.by_status[MS_ELIMIT] -
               stats.by_status[MS_EUNSUPPORTED]);
    printf("  slowest variant: %.3f s (%s)\n", stats.slowest, stats.slowest_name);
    if (total < MIN_VARIANTS) {
        fprintf(stderr, "mutation: only %lu variants ran, expected at least %d\n", total,
                MIN_VARIANTS);
        return 1;
    }
    return 0;
}
