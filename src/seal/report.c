/* The verification result as JSON (docs/verify.md) and as an HTML report
 * with the sealed and current DRRs and their difference heat map. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "medseal/util.h"
#include "verify_internal.h"

#define WINDOW_C (-200.0)
#define WINDOW_W 1500.0

/* ---- JSON ------------------------------------------------------------------------------------- */

static json_object *change_json(const struct ms_seal_change *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "change", json_object_new_string(ms_change_name(c->change)));
    json_object_object_add(o, "path", json_object_new_string(c->path));
    json_object_object_add(o, "uid", json_object_new_string(c->uid));
    json_object_object_add(o, "detail", json_object_new_string(c->detail));
    return o;
}

static json_object *drr_json(const struct ms_seal_drr *d)
{
    json_object *o = json_object_new_object(), *blocks = json_object_new_array();
    json_object_object_add(o, "volume", json_object_new_int64((int64_t)d->volume + 1));
    json_object_object_add(o, "series", json_object_new_string(d->series_uid));
    json_object_object_add(o, "view", json_object_new_string(ms_drr_view_name(d->view)));
    json_object_object_add(o, "grid", json_object_new_int((int)d->grid));
    json_object_object_add(o, "width", json_object_new_int((int)d->width));
    json_object_object_add(o, "height", json_object_new_int((int)d->height));
    json_object_object_add(o, "rmse", json_object_new_double(d->rmse_all));
    json_object_object_add(o, "histdiff", json_object_new_int64((int64_t)d->histdiff_all));
    json_object_object_add(o, "changed_blocks", json_object_new_int64((int64_t)d->changed));
    for (unsigned z = 0; z < d->grid * d->grid; z++) {
        json_object *b = json_object_new_object();
        json_object_object_add(b, "zigzag", json_object_new_int((int)z + 1));
        json_object_object_add(b, "block", json_object_new_int((int)d->block[z] + 1));
        json_object_object_add(b, "histdiff", json_object_new_int64((int64_t)d->histdiff[z]));
        json_object_object_add(b, "rmse", json_object_new_double(d->rmse[z]));
        json_object_array_add(blocks, b);
    }
    json_object_object_add(o, "blocks", blocks);
    return o;
}

static json_object *result_json(const struct ms_verify_result *r)
{
    json_object *o = json_object_new_object(), *ch = json_object_new_array();
    json_object *drrs = json_object_new_array();
    json_object_object_add(o, "result", json_object_new_string(ms_verify_verdict(r)));
    json_object_object_add(o, "exit_code",
                           json_object_new_int(ms_status_exit_code(ms_verify_status(r))));
    json_object_object_add(o, "signature", json_object_new_string("valid"));
    json_object_object_add(o, "signer_trusted", json_object_new_boolean(r->trust == MS_TRUST_OK));
    json_object_object_add(o, "signer", json_object_new_string(r->signer));
    json_object_object_add(o, "algorithm", json_object_new_string(r->algorithm));
    json_object_object_add(o, "sealed_at", json_object_new_string(r->created));
    json_object_object_add(o, "key_ok", json_object_new_boolean(r->key_ok));
    json_object_object_add(o, "merkle_ok", json_object_new_boolean(r->merkle_ok));
    json_object_object_add(o, "files_sealed", json_object_new_int64((int64_t)r->sealed));
    json_object_object_add(o, "files_found", json_object_new_int64((int64_t)r->found));
    for (size_t i = 0; i < r->nchanges; i++)
        json_object_array_add(ch, change_json(&r->changes[i]));
    json_object_object_add(o, "changes", ch);
    for (size_t i = 0; i < r->ndrrs; i++)
        json_object_array_add(drrs, drr_json(&r->drrs[i]));
    json_object_object_add(o, "drr", drrs);
    return o;
}

ms_status ms_verify_write_json(const struct ms_verify_result *r, ms_sink_fn sink, void *ctx,
                               struct ms_error *err)
{
    json_object *o = result_json(r);
    const char *text;
    ms_status st = MS_OK;
    if (!o)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    else if (sink(ctx, text, strlen(text)) || sink(ctx, "\n", 1))
        st = ms_error_set(err, MS_EIO, "cannot write the JSON result");
    json_object_put(o);
    return st;
}

/* ---- HTML -------------------------------------------------------------------------------------- */

static void html_text(struct msi_out *o, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': msi_out_str(o, "&lt;"); break;
        case '>': msi_out_str(o, "&gt;"); break;
        case '&': msi_out_str(o, "&amp;"); break;
        case '"': msi_out_str(o, "&quot;"); break;
        default: msi_out_put(o, s, 1);
        }
}

static ms_status write_windowed(const char *dir, const char *name, const struct ms_image *img,
                                struct ms_error *err)
{
    char path[4096];
    struct ms_image *w = NULL;
    ms_status st = ms_image_window(&w, img, WINDOW_C, WINDOW_W, err);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (st == MS_OK)
        st = ms_png_write(path, w, NULL, err);
    ms_image_destroy(w);
    return st;
}

static ms_status write_images(const char *dir, size_t i, const struct ms_seal_drr *d,
                              struct ms_error *err)
{
    char name[64], path[4096];
    struct ms_image *heat = NULL;
    ms_status st;
    snprintf(name, sizeof name, "drr%zu-sealed.png", i + 1);
    st = write_windowed(dir, name, d->sealed, err);
    snprintf(name, sizeof name, "drr%zu-current.png", i + 1);
    if (st == MS_OK)
        st = write_windowed(dir, name, d->current, err);
    if (st == MS_OK)
        st = ms_image_heatmap(&heat, d->sealed, d->current, MS_HEAT_SIGNED, 0, err);
    snprintf(path, sizeof path, "%s/drr%zu-diff.png", dir, i + 1);
    if (st == MS_OK)
        st = ms_png_write(path, heat, NULL, err);
    ms_image_destroy(heat);
    return st;
}

static void html_changes(struct msi_out *o, const struct ms_verify_result *r)
{
    msi_out_printf(o, "<h2>Instances</h2>\n<p>%zu files sealed, %zu found; Merkle root %s.</p>\n",
                   r->sealed, r->found, r->merkle_ok ? "identical" : "differs");
    if (!r->nchanges) {
        msi_out_str(o, "<p>No instance inserted, deleted, modified or moved.</p>\n");
        return;
    }
    msi_out_str(o, "<table>\n<tr><th>change</th><th>file</th><th>SOP Instance UID</th>"
                   "<th>detail</th></tr>\n");
    for (size_t i = 0; i < r->nchanges; i++) {
        const struct ms_seal_change *c = &r->changes[i];
        msi_out_printf(o, "<tr class=\"%s\"><td>%s</td><td>", ms_change_name(c->change),
                       ms_change_name(c->change));
        html_text(o, c->path);
        msi_out_str(o, "</td><td>");
        html_text(o, c->uid);
        msi_out_str(o, "</td><td>");
        html_text(o, c->detail);
        msi_out_str(o, "</td></tr>\n");
    }
    msi_out_str(o, "</table>\n");
}

static void html_drr(struct msi_out *o, size_t i, const struct ms_seal_drr *d)
{
    msi_out_printf(o, "<h2>Volume %zu, view %s, grid %ux%u</h2>\n<p>Series ", d->volume + 1,
                   ms_drr_view_name(d->view), d->grid, d->grid);
    html_text(o, d->series_uid);
    msi_out_printf(o, ". DRR %ux%u; RMSE %.4f HU; histogram difference %llu; %zu of %u blocks "
                      "changed.</p>\n", d->width, d->height, d->rmse_all,
                   (unsigned long long)d->histdiff_all, d->changed, d->grid * d->grid);
    msi_out_printf(o, "<div class=\"imgs\"><figure><img src=\"drr%zu-sealed.png\"><figcaption>"
                      "sealed (DRR<sup>1</sup>, decrypted blocks)</figcaption></figure>"
                      "<figure><img src=\"drr%zu-current.png\"><figcaption>current "
                      "(DRR<sup>2</sup>)</figcaption></figure><figure><img src=\"drr%zu-diff.png\">"
                      "<figcaption>DRR<sup>2</sup> - DRR<sup>1</sup> (blue below, red above)"
                      "</figcaption></figure></div>\n", i + 1, i + 1, i + 1);
    msi_out_str(o, "<table>\n<tr><th>zig-zag</th><th>block</th><th>~hist</th><th>RMSE</th></tr>\n");
    for (unsigned z = 0; z < d->grid * d->grid; z++)
        msi_out_printf(o, "<tr%s><td>%u</td><td>%u</td><td>%llu</td><td>%.4f</td></tr>\n",
                       d->histdiff[z] || d->rmse[z] ? " class=\"changed\"" : "", z + 1,
                       d->block[z] + 1, (unsigned long long)d->histdiff[z], d->rmse[z]);
    msi_out_str(o, "</table>\n");
}

static void html_page(struct msi_out *o, const struct ms_verify_result *r)
{
    msi_out_str(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>medseal verify"
                   "</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
                   "collapse}td,th{border:1px solid #999;padding:2px 8px}.changed td,tr.deleted td,"
                   "tr.inserted td,tr.modified-pixels td,tr.modified-header td,tr.modified td,"
                   "tr.moved td{background:#fdd}.imgs{display:flex;gap:1em}figure{margin:0}"
                   "img{image-rendering:pixelated;max-width:30vw}</style></head><body>\n");
    msi_out_printf(o, "<h1>medseal verify: %s</h1>\n<p>Seal made %s, signed %s by ",
                   ms_verify_verdict(r), r->created, r->algorithm);
    html_text(o, r->signer);
    msi_out_printf(o, " (%s). Key: %s.</p>\n",
                   r->trust == MS_TRUST_OK ? "trusted" : "NOT trusted",
                   r->key_ok ? "the seal's" : "NOT the seal's: DRR blocks not compared");
    html_changes(o, r);
    for (size_t i = 0; i < r->ndrrs; i++)
        html_drr(o, i, &r->drrs[i]);
    msi_out_str(o, "</body></html>\n");
}

ms_status ms_verify_write_report(const struct ms_verify_result *r, const char *dir,
                                 struct ms_error *err)
{
    char path[4096], tmp[4200];
    struct msi_out *o;
    int fd;
    ms_status st = ms_mkdirs(dir, err);

    for (size_t i = 0; st == MS_OK && i < r->ndrrs; i++)
        st = write_images(dir, i, &r->drrs[i], err);
    snprintf(path, sizeof path, "%s/index.html", dir);
    if (st == MS_OK && (st = msi_atomic_open(path, tmp, sizeof tmp, &fd, err)) == MS_OK) {
        if (!(o = malloc(sizeof *o))) {
            msi_atomic_close(fd, tmp, path, false, NULL);
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        }
        msi_out_init(o, msi_fd_sink, &fd);
        html_page(o, r);
        bool ok = msi_out_flush(o);
        free(o);
        st = msi_atomic_close(fd, tmp, path, ok, err);
        if (st == MS_OK && !ok)
            st = ms_error_set(err, MS_EIO, "cannot write %s", path);
    }
    return st;
}
