/* an2k images in and out: decoding an image record through the image module,
 * adding fingerprint records (Type-4 / Type-14) from images or encoded bytes. */
#include "an2k_internal.h"
#include "perimeter/wsq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pm_an2k_image_decode(const pm_an2k_record_t *r, const pm_image_limits_t *limits,
                         pm_image_t *out_img, pm_error_t *err)
{
    memset(out_img, 0, sizeof *out_img);
    pm_an2k_image_ref_t ir;
    int rc = pm_an2k_image_ref(r, &ir, err);
    if (rc) return rc;
    int kind = ir.detected != PM_AN2K_CMP_UNKNOWN ? ir.detected : ir.declared;
    if (kind == PM_AN2K_CMP_NONE) {
        int maxw = limits && limits->max_width ? limits->max_width : PM_IMAGE_DEFAULT_MAX_DIM;
        int maxh = limits && limits->max_height ? limits->max_height : PM_IMAGE_DEFAULT_MAX_DIM;
        if (ir.width <= 0 || ir.height <= 0 || ir.width > maxw || ir.height > maxh)
            return pm_error_set(err, PM_ELIMIT, "Type-%d image %dx%d outside 1..%dx%d", r->type,
                                ir.width, ir.height, maxw, maxh);
        size_t w = (size_t)ir.width, h = (size_t)ir.height;
        size_t bpp = ir.depth == 1 ? 0 : (size_t)(ir.depth + 7) / 8;
        size_t want = bpp ? w * h * bpp : (w + 7) / 8 * h;
        if (ir.len != want)
            return pm_error_set(err, PM_EFORMAT,
                                "Type-%d uncompressed image: %zu bytes, %zux%zu at %d bit(s) "
                                "needs %zu",
                                r->type, ir.len, w, h, ir.depth, want);
        rc = pm_image_alloc(out_img, ir.width, ir.height, ir.ppi, err);
        if (rc) return rc;
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x++) {
                uint8_t v;
                if (bpp == 0) {
                    /* 1 bit per pixel, MSB first; 1 = black ridge. */
                    uint8_t byte = ir.data[y * ((w + 7) / 8) + x / 8];
                    v = (byte >> (7 - x % 8)) & 1 ? 0 : 255;
                } else if (bpp == 1) {
                    v = ir.data[y * w + x];
                } else {
                    const uint8_t *p = ir.data + (y * w + x) * bpp;
                    unsigned s = 0;
                    for (size_t k = 0; k < 3 && k < bpp; k++)
                        s += p[k];
                    v = (uint8_t)(s / (bpp < 3 ? bpp : 3));
                }
                out_img->pixels[y * w + x] = v;
            }
        out_img->format = PM_IMAGE_RAW;
        return PM_OK;
    }
    if (kind == PM_AN2K_CMP_UNKNOWN)
        return pm_error_set(err, PM_EUNSUPPORTED,
                            "Type-%d image: compression \"%s\" not decodable (no known signature)",
                            r->type, ir.declared_text);
    if (kind == PM_AN2K_CMP_WSQ) {
        /* Our WSQ codec directly (the FBI spec, bit-exact with NIST's decoder). */
        rc = pm_wsq_decode(ir.data, ir.len, limits ? limits->max_width : 0,
                           limits ? limits->max_height : 0, out_img, err);
        if (!rc) out_img->format = PM_IMAGE_WSQ;
    } else {
        rc = pm_image_decode(ir.data, ir.len, limits, out_img, err);
    }
    if (rc) return pm_error_prefix(err, "Type-%d image", r->type);
    if (out_img->ppi == 0) out_img->ppi = ir.ppi;
    return PM_OK;
}

static const char *cga_text(int compression)
{
    switch (compression) {
    case PM_AN2K_CMP_NONE:
        return "NONE";
    case PM_AN2K_CMP_WSQ:
        return "WSQ20";
    case PM_AN2K_CMP_JPEG:
        return "JPEGB";
    case PM_AN2K_CMP_JPEGL:
        return "JPEGL";
    case PM_AN2K_CMP_JP2:
        return "JP2";
    case PM_AN2K_CMP_PNG:
        return "PNG";
    default:
        return NULL;
    }
}

int pm_an2k_add_fingerprint_data(pm_an2k_txn_t *t, int type, int idc, int finger,
                                 const uint8_t *data, size_t len, int compression, int width,
                                 int height, int ppi, const char *source, const char *date,
                                 size_t *out_index, pm_error_t *err)
{
    if (type != 4 && type != 14)
        return pm_error_set(err, PM_EINVAL, "fingerprint records are Type-4 or Type-14, not %d",
                            type);
    if (idc < 0 || idc > 99 || finger < 0 || finger > 15)
        return pm_error_set(err, PM_EINVAL, "IDC %d or finger position %d out of range", idc,
                            finger);
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return pm_error_set(err, PM_EINVAL, "image size %dx%d out of range", width, height);
    if (compression != PM_AN2K_CMP_NONE) {
        int sniffed = pm_an2k_sniff(data, len);
        if (sniffed != compression &&
            !(compression == PM_AN2K_CMP_JPEGL && sniffed == PM_AN2K_CMP_JPEG))
            return pm_error_set(err, PM_EINVAL, "image bytes are not the %s they are labelled as",
                                cga_text(compression) ? cga_text(compression) : "format");
    } else if (len != (size_t)width * (size_t)height) {
        return pm_error_set(err, PM_EINVAL, "%zu raw bytes for a %dx%d 8-bit image", len, width,
                            height);
    }
    size_t ri;
    char v[64];
    int rc;
    if (type == 4) {
        if (compression != PM_AN2K_CMP_NONE && compression != PM_AN2K_CMP_WSQ)
            return pm_error_set(err, PM_EINVAL, "Type-4 holds WSQ or uncompressed images only");
        if (ppi != 0 && ppi != 500)
            return pm_error_set(err, PM_EINVAL,
                                "Type-4 images are 500 ppi (got %d): resample "
                                "or use Type-14",
                                ppi);
        if (width > 65535 || height > 65535)
            return pm_error_set(err, PM_EINVAL, "image too large for Type-4");
        rc = pm_an2k_add_record(t, 4, &ri, err);
        if (rc) return rc;
        pm_an2k_record_t *r = &t->records[ri];
        char fgp[32];
        snprintf(fgp, sizeof fgp,
                 "%d\x1f"
                 "255\x1f"
                 "255\x1f"
                 "255\x1f"
                 "255\x1f"
                 "255",
                 finger);
        char idcs[8], ws[8], hs[8];
        snprintf(idcs, sizeof idcs, "%d", idc);
        snprintf(ws, sizeof ws, "%d", width);
        snprintf(hs, sizeof hs, "%d", height);
        const char *vals[8] = {"0", idcs, "0", fgp,
                               "0", ws,   hs,  compression == PM_AN2K_CMP_WSQ ? "1" : "0"};
        for (int k = 0; k < 8 && !rc; k++)
            rc = pm_an2k_set_text(r, k + 1, vals[k], err);
        if (!rc) rc = pm_an2k_set(r, 9, data, len, 1, err);
    } else {
        rc = pm_an2k_add_record(t, 14, &ri, err);
        if (rc) return rc;
        pm_an2k_record_t *r = &t->records[ri];
        const char *cga = cga_text(compression);
        if (!cga) return pm_error_set(err, PM_EINVAL, "unknown compression %d", compression);
        struct {
            int id;
            int value;
        } nums[] = {{3, 0},  {6, width},           {7, height},
                    {8, 1},  {9, ppi ? ppi : 500}, {10, ppi ? ppi : 500},
                    {12, 8}, {13, finger}};
        snprintf(v, sizeof v, "%02d", idc);
        rc = pm_an2k_set_text(r, 2, v, err);
        for (size_t k = 0; k < sizeof nums / sizeof nums[0] && !rc; k++) {
            snprintf(v, sizeof v, "%d", nums[k].value);
            rc = pm_an2k_set_text(r, nums[k].id, v, err);
        }
        if (!rc) rc = pm_an2k_set_text(r, 4, source && *source ? source : "UNKNOWN", err);
        if (!rc) rc = pm_an2k_set_text(r, 5, date && *date ? date : "19700101", err);
        if (!rc) rc = pm_an2k_set_text(r, 11, cga, err);
        if (!rc) rc = pm_an2k_set(r, 999, data, len, 1, err);
    }
    if (rc) {
        /* Drop the half-built record. */
        pm_an2k_record_t *r = &t->records[--t->nrecords];
        for (size_t k = 0; k < r->nfields; k++)
            free(r->fields[k].value);
        free(r->fields);
        return rc;
    }
    if (out_index) *out_index = ri;
    return PM_OK;
}

int pm_an2k_add_fingerprint(pm_an2k_txn_t *t, int type, int idc, int finger, const pm_image_t *img,
                            int compression, double bitrate, const char *source, const char *date,
                            size_t *out_index, pm_error_t *err)
{
    if (!img || !img->pixels) return pm_error_set(err, PM_EINVAL, "no image");
    if (compression == PM_AN2K_CMP_NONE)
        return pm_an2k_add_fingerprint_data(
            t, type, idc, finger, img->pixels, (size_t)img->width * (size_t)img->height,
            compression, img->width, img->height, img->ppi, source, date, out_index, err);
    pm_image_format_t fmt = compression == PM_AN2K_CMP_WSQ   ? PM_IMAGE_WSQ
                            : compression == PM_AN2K_CMP_PNG ? PM_IMAGE_PNG
                            : compression == PM_AN2K_CMP_JP2 ? PM_IMAGE_JP2
                                                             : PM_IMAGE_UNKNOWN;
    if (fmt == PM_IMAGE_UNKNOWN)
        return pm_error_set(err, PM_EINVAL,
                            "cannot encode fingerprints with compression %d "
                            "(use NONE, WSQ, PNG or JP2)",
                            compression);
    pm_image_save_options_t opts = {.wsq_bitrate = bitrate, .jp2_ratio = 0};
    uint8_t *enc = NULL;
    size_t n = 0;
    int rc = pm_image_encode(img, fmt, &opts, &enc, &n, err);
    if (rc) return pm_error_prefix(err, "encoding the Type-%d image", type);
    rc = pm_an2k_add_fingerprint_data(t, type, idc, finger, enc, n, compression, img->width,
                                      img->height, img->ppi, source, date, out_index, err);
    free(enc);
    return rc;
}
