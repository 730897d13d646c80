/* Security measurements of the pixel schemes (docs/protect-analysis.md):
 * for each DICOM file given, the plain image and the cipher image of
 * pixel-gcm (-k and the paper's key from the header), chaos (the paper's key),
 * ecb and stego (lsb) are compared with the metrics of include/medseal/image.h:
 * entropy of the stored values, correlation of adjacent pixels, correlation
 * between plain and cipher image, NPCR/UACI between the cipher images of two
 * plain images differing in one pixel (differential attack), NPCR between the
 * cipher images under two nearly equal chaos keys (key sensitivity),
 * repeated 16-byte blocks (what ECB leaks), and the distortion of the lsb
 * stego restore (PSNR, SSIM). Prints a Markdown table of means; with -png
 * FILE.png writes plain | ecb | chaos | pixel-gcm of the first file side by
 * side (stored values, full range).
 * usage: protect_analysis [-png OUT.png] [-flat T] FILE.dcm...
 *   -flat T: measure copies whose stored values below T are 0 (flat air)
 * Built and run by bench/protect_analysis.sh. Public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/image.h"
#include "medseal/pixel.h"
#include "medseal/protect.h"

enum { V_PLAIN, V_GCM, V_GCMHDR, V_CHAOS, V_ECB, V_STEGO, NV };
static const char *const vname[NV] = {"plain", "pixel-gcm -k", "pixel-gcm --key-from-header",
                                      "chaos (0.4, 3.87)", "ecb", "stego lsb (chaos inside)"};

struct acc {
    double entropy, ch, cv, cd, cplain, npcr, uaci, dup, n;
};

static struct acc acc[NV];
static double key_npcr, key_n, st_psnr, st_ssim, st_n;
static char dir[] = "/tmp/medseal-analysis-XXXXXX";
static char keyfile[256], stegofile[256];

static void die(const char *what, const struct ms_error *e)
{
    fprintf(stderr, "protect_analysis: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* Stored values of frame 0 of a DICOM file as an int32 image (+ the bits). */
static struct ms_image *load(const char *path, unsigned *bits)
{
    struct ms_file *f = NULL;
    struct ms_pixel_info pi;
    struct ms_image *img = NULL;
    struct ms_error e = {0};
    if (ms_file_read(&f, path, NULL, &e) != MS_OK || ms_pixel_info_get(ms_file_dataset(f), &pi, &e) != MS_OK ||
        ms_image_create(&img, pi.columns, pi.rows, 1, MS_SAMPLE_I32, &e) != MS_OK ||
        ms_pixel_frame_stored(&pi, 0, img->data, &e) != MS_OK)
        die(path, &e);
    if (bits)
        *bits = pi.bits_stored;
    if (pi.pixel_representation) { /* as unsigned values of Bits Stored */
        int32_t *d = img->data;
        for (uint64_t i = 0; i < ms_image_samples(img); i++)
            d[i] &= (int32_t)((1u << pi.bits_stored) - 1u);
    }
    ms_file_destroy(f);
    return img;
}

static double pearson(const struct ms_image *a, const struct ms_image *b)
{
    const int32_t *x = a->data, *y = b->data;
    uint64_t n = ms_image_samples(a);
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (uint64_t i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += (double)x[i] * x[i];
        syy += (double)y[i] * y[i];
        sxy += (double)x[i] * y[i];
    }
    return (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
}

static int memcmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Share of 16-byte blocks of the Pixel Data value equal to an earlier block. */
static double dup_blocks(const char *path)
{
    struct ms_file *f = NULL;
    struct ms_pixel_info pi;
    uint64_t n, dup = 0;
    const uint8_t *d;
    uint8_t(*blk)[16];
    if (ms_file_read(&f, path, NULL, NULL) != MS_OK ||
        ms_pixel_info_get(ms_file_dataset(f), &pi, NULL) != MS_OK)
        return NAN;
    n = pi.data_len / 16;
    d = pi.data;
    blk = malloc(n * 16);
    memcpy(blk, d, n * 16);
    qsort(blk, n, 16, memcmp16);
    for (uint64_t i = 1; i < n; i++)
        dup += memcmp(blk[i], blk[i - 1], 16) == 0;
    free(blk);
    ms_file_destroy(f);
    return n ? (double)dup / (double)n : 0;
}

static char *run(const char *in, int v, const char *tag, double x0)
{
    static char out[NV + 4][512];
    struct ms_protect_options o;
    struct ms_error e = {0};
    char *p = out[v + (tag ? 2 : 0)];
    memset(&o, 0, sizeof o);
    o.key_file = keyfile;
    o.force = true;
    o.stego_key_file = stegofile;
    o.chaos_x0 = x0;
    switch (v) {
    case V_GCM: o.scheme = "pixel-gcm"; break;
    case V_GCMHDR: o.scheme = "pixel-gcm"; o.key_from_header = true; break;
    case V_CHAOS: o.scheme = "chaos"; break;
    case V_ECB: o.scheme = "ecb"; break;
    default: o.scheme = "stego"; o.stego_mode = "lsb"; break;
    }
    snprintf(p, sizeof out[0], "%s/%d%s.dcm", dir, v, tag ? tag : "");
    unlink(p);
    if (ms_protect_file(in, p, &o, NULL, &e) != MS_OK)
        die(in, &e);
    return p;
}

/* The same file with one pixel (the centre) changed by +1 in its stored bits. */
static void one_pixel(const char *in, const char *out)
{
    FILE *f = fopen(in, "rb"), *g;
    struct ms_file *mf = NULL;
    struct ms_pixel_info pi;
    uint8_t *buf;
    long n, at;
    if (ms_file_read(&mf, in, NULL, NULL) != MS_OK ||
        ms_pixel_info_get(ms_file_dataset(mf), &pi, NULL) != MS_OK || !f)
        die(in, NULL);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(in, NULL);
    fclose(f);
    /* the value is the last element of these files */
    at = n - (long)pi.data_len + (long)((pi.rows / 2 * pi.columns + pi.columns / 2) * (pi.bits_allocated / 8));
    buf[at] = (uint8_t)(buf[at] + 1);
    g = fopen(out, "wb");
    fwrite(buf, 1, (size_t)n, g);
    fclose(g);
    free(buf);
    ms_file_destroy(mf);
}

/* A copy of in whose stored values below t are 0 (16-bit little-endian
 * values, the last element): air padded flat, as many scanners pad the
 * outside of the field of view. */
static const char *flatten(const char *in, unsigned t, const char *name)
{
    static char out[2][512];
    char *o = out[strcmp(name, "first") == 0];
    FILE *f = fopen(in, "rb"), *g;
    struct ms_file *mf = NULL;
    struct ms_pixel_info pi;
    uint8_t *buf;
    long n;
    if (ms_file_read(&mf, in, NULL, NULL) != MS_OK ||
        ms_pixel_info_get(ms_file_dataset(mf), &pi, NULL) != MS_OK || !f ||
        pi.bits_allocated != 16)
        die(in, NULL);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(in, NULL);
    fclose(f);
    for (long at = n - (long)pi.data_len; at + 1 < n; at += 2)
        if ((unsigned)(buf[at] | (buf[at + 1] << 8)) < t)
            buf[at] = buf[at + 1] = 0;
    snprintf(o, sizeof out[0], "%s/%s.dcm", dir, name);
    g = fopen(o, "wb");
    fwrite(buf, 1, (size_t)n, g);
    fclose(g);
    free(buf);
    ms_file_destroy(mf);
    return o;
}

static void measure(const char *in, struct ms_image **keep)
{
    char mod[512];
    unsigned bits = 0;
    struct ms_image *a = load(in, &bits), *imgs[NV] = {0};
    struct ms_hist_range r = {0, (double)(1u << bits), 1u << bits};
    double maxv = (double)((1u << bits) - 1);

    snprintf(mod, sizeof mod, "%s/mod.dcm", dir);
    one_pixel(in, mod);
    for (int v = 0; v < NV; v++) {
        const char *c = v == V_PLAIN ? in : run(in, v, NULL, 0);
        struct ms_image *b = v == V_PLAIN ? a : load(c, NULL);
        struct acc *s = &acc[v];
        double e, h, vv, d;
        if (ms_image_entropy(b, &r, &e, NULL) != MS_OK ||
            ms_image_correlation(b, MS_DIR_HORIZONTAL, 0, 1, &h, NULL) != MS_OK ||
            ms_image_correlation(b, MS_DIR_VERTICAL, 0, 1, &vv, NULL) != MS_OK ||
            ms_image_correlation(b, MS_DIR_DIAGONAL, 0, 1, &d, NULL) != MS_OK)
            die("metrics", NULL);
        s->entropy += e;
        s->ch += h;
        s->cv += vv;
        s->cd += d;
        s->cplain += v == V_PLAIN ? 1.0 : pearson(a, b);
        s->dup += dup_blocks(c);
        if (v != V_PLAIN) { /* differential: plain images one pixel apart */
            struct ms_image *b2 = load(run(mod, v, "m", 0), NULL);
            double npcr, uaci;
            if (ms_image_npcr_uaci(b, b2, maxv, &npcr, &uaci, NULL) != MS_OK)
                die("npcr", NULL);
            s->npcr += npcr;
            s->uaci += uaci;
            ms_image_destroy(b2);
        }
        s->n++;
        imgs[v] = b;
    }
    { /* chaos key sensitivity: x0 = 0.4 and 0.4 + 1e-12 */
        struct ms_image *k2 = load(run(in, V_CHAOS, "k", 0.4 + 1e-12), NULL);
        double npcr;
        if (ms_image_npcr_uaci(imgs[V_CHAOS], k2, maxv, &npcr, NULL, NULL) == MS_OK) {
            key_npcr += npcr;
            key_n++;
        }
        ms_image_destroy(k2);
    }
    { /* lsb stego: restored against the original */
        struct ms_protect_options o;
        struct ms_error e = {0};
        char back[512];
        struct ms_image *rb;
        double psnr, ssim;
        memset(&o, 0, sizeof o);
        o.stego_key_file = stegofile;
        snprintf(back, sizeof back, "%s/back.dcm", dir);
        unlink(back);
        if (ms_unprotect_file(run(in, V_STEGO, NULL, 0), back, &o, NULL, &e) != MS_OK)
            die("stego unprotect", &e);
        rb = load(back, NULL);
        if (ms_image_psnr(a, rb, maxv, &psnr, NULL) == MS_OK &&
            ms_image_ssim(a, rb, maxv, MS_SSIM_GAUSSIAN11, &ssim, NULL) == MS_OK) {
            st_psnr += isinf(psnr) ? 999 : psnr;
            st_ssim += ssim;
            st_n++;
        }
        ms_image_destroy(rb);
    }
    for (int v = 0; v < NV; v++) {
        if (keep && !keep[v] && (v == V_PLAIN || v == V_ECB || v == V_CHAOS || v == V_GCM))
            keep[v] = imgs[v];
        else if (imgs[v] != a)
            ms_image_destroy(imgs[v]);
    }
    if (!keep || keep[V_PLAIN] != a)
        ms_image_destroy(a);
}

static void strip(const char *png, struct ms_image **k, unsigned bits)
{
    static const int order[4] = {V_PLAIN, V_ECB, V_CHAOS, V_GCM};
    uint32_t w = k[V_PLAIN]->width, h = k[V_PLAIN]->height;
    struct ms_image *s = NULL;
    struct ms_png_write_options po = {8, 0, true};
    double scale = 255.0 / (double)((1u << bits) - 1);
    if (ms_image_create(&s, 4 * w + 12, h, 1, MS_SAMPLE_I32, NULL) != MS_OK)
        die("strip", NULL);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < 4 * w + 12; x++)
            ms_image_set(s, x, y, 0, 255);
    for (int i = 0; i < 4; i++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                ms_image_set(s, (uint32_t)i * (w + 4) + x, y, 0,
                             ms_image_get(k[order[i]], x, y, 0) * scale);
    if (ms_png_write(png, s, &po, NULL) != MS_OK)
        die(png, NULL);
    ms_image_destroy(s);
}

int main(int argc, char **argv)
{
    const char *png = NULL;
    struct ms_image *keep[NV] = {0};
    uint8_t k[32];
    int first = 1;
    FILE *f;

    unsigned flat = 0;
    while (first + 1 < argc && argv[first][0] == '-') {
        if (!strcmp(argv[first], "-png"))
            png = argv[first + 1];
        else if (!strcmp(argv[first], "-flat"))
            flat = (unsigned)atoi(argv[first + 1]);
        first += 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: protect_analysis [-png OUT.png] FILE.dcm...\n");
        return 2;
    }
    if (!mkdtemp(dir))
        return 5;
    snprintf(keyfile, sizeof keyfile, "%s/k.bin", dir);
    snprintf(stegofile, sizeof stegofile, "%s/stego.txt", dir);
    if (ms_random_bytes(k, 32, NULL) != MS_OK || !(f = fopen(keyfile, "wb")))
        return 5;
    fwrite(k, 1, 32, f);
    fclose(f);
    f = fopen(stegofile, "w");
    fputs("analysis stego key\n", f);
    fclose(f);

    for (int i = first; i < argc; i++) {
        const char *in = flat ? flatten(argv[i], flat, i == first ? "first" : "flat") : argv[i];
        measure(in, png && i == first ? keep : NULL);
    }
    if (png) {
        unsigned bits = 0;
        ms_image_destroy(load(flat ? flatten(argv[first], flat, "first") : argv[first], &bits));
        strip(png, keep, bits);
        for (int v = 0; v < NV; v++)
            ms_image_destroy(keep[v]);
    }

    printf("| image | entropy (bits) | corr. H | corr. V | corr. D | corr. with plain | NPCR %% "
           "(1 pixel changed) | UACI %% | repeated 16-byte blocks |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int v = 0; v < NV; v++) {
        const struct acc *s = &acc[v];
        double n = s->n ? s->n : 1;
        if (v == V_PLAIN)
            printf("| %s | %.3f | %.4f | %.4f | %.4f | 1 | - | - | %.1f %% |\n", vname[v],
                   s->entropy / n, s->ch / n, s->cv / n, s->cd / n, 100 * s->dup / n);
        else
            printf("| %s | %.3f | %.4f | %.4f | %.4f | %.4f | %.3f | %.3f | %.1f %% |\n",
                   vname[v], s->entropy / n, s->ch / n, s->cv / n, s->cd / n, s->cplain / n,
                   s->npcr / n, s->uaci / n, 100 * s->dup / n);
    }
    printf("\n- files: %d; entropy over the stored values (maximum = Bits Stored); correlations "
           "over all adjacent pairs; NPCR/UACI between the cipher images of the file and of the "
           "file with its centre pixel + 1, same key\n",
           argc - first);
    printf("- chaos key sensitivity: NPCR between the cipher images under x0 = 0.4 and 0.4 + "
           "1e-12: %.3f %%\n",
           key_n ? key_npcr / key_n : NAN);
    printf("- stego lsb restore against the original: PSNR %.2f dB, SSIM %.6f (mean)\n",
           st_n ? st_psnr / st_n : NAN, st_n ? st_ssim / st_n : NAN);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            return 5;
    }
    return 0;
}
