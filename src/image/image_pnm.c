/* PGM and PPM (Netpbm P2, P5, P3, P6), our own bounded parser and a P5 writer.
 * Samples above 8 bits (maxval > 255, big-endian pairs) are scaled to 8 bits;
 * colour (PPM) becomes BT.601 grey. Netpbm has no resolution field: our
 * writer records it in a "# ppi N" comment, which the reader honours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

struct pnm_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int ppi; /* from a "# ppi N" comment in the header */
};

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skips whitespace and comments; a comment "# ppi N" sets r->ppi. */
static void skip_space(struct pnm_reader *r)
{
    while (r->pos < r->len) {
        uint8_t c = r->p[r->pos];
        if (is_space(c)) {
            r->pos++;
        } else if (c == '#') {
            size_t start = ++r->pos;
            while (r->pos < r->len && r->p[r->pos] != '\n' && r->p[r->pos] != '\r')
                r->pos++;
            size_t n = r->pos - start;
            char line[64];
            if (n < sizeof line) {
                memcpy(line, r->p + start, n);
                line[n] = '\0';
                int v = 0;
                char tail = 0;
                if (sscanf(line, " ppi %d %c", &v, &tail) == 1 && v > 0 && v <= 100000)
                    r->ppi = v;
            }
        } else {
            break;
        }
    }
}

/* Reads an unsigned decimal number no larger than max. */
static int read_number(struct pnm_reader *r, long max, const char *field, long *out,
                       pm_error_t *err)
{
    skip_space(r);
    if (r->pos >= r->len)
        return pm_error_set(err, PM_ETRUNCATED, "pnm: end of data before %s (offset %zu)", field,
                            r->pos);
    if (r->p[r->pos] < '0' || r->p[r->pos] > '9')
        return pm_error_set(err, PM_EFORMAT, "pnm: %s: expected a number at offset %zu", field,
                            r->pos);
    long v = 0;
    while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
        v = v * 10 + (r->p[r->pos] - '0');
        if (v > max)
            return pm_error_set(err, PM_ERANGE, "pnm: %s exceeds %ld at offset %zu", field, max,
                                r->pos);
        r->pos++;
    }
    *out = v;
    return PM_OK;
}

static uint8_t scale8(long v, long maxval)
{
    return (uint8_t)(maxval == 255 ? v : (v * 255 + maxval / 2) / maxval);
}

int pm__pnm_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)
{
    if (len < 2 || data[0] != 'P' || data[1] == 0 || !strchr("2356", data[1]))
        return pm_error_set(err, PM_EFORMAT, "pnm: not a P2/P3/P5/P6 file");
    int kind = data[1] - '0';
    int channels = (kind == 3 || kind == 6) ? 3 : 1;
    int binary = kind >= 5;
    struct pnm_reader r = {.p = data, .len = len, .pos = 2};
    if (len > 2 && !is_space(data[2]) && data[2] != '#')
        return pm_error_set(err, PM_EFORMAT, "pnm: no whitespace after the magic number");
    long w, h, maxval;
    int rc = read_number(&r, 1000000000L, "width", &w, err);
    if (!rc)
        rc = read_number(&r, 1000000000L, "height", &h, err);
    if (rc)
        return rc;
    out_header->width = (int)(w > 65535 ? 65536 : w);
    out_header->height = (int)(h > 65535 ? 65536 : h);
    out_header->channels = channels;
    rc = pm__image_check_size(w, h, max_width, max_height, "pnm", err);
    if (rc)
        return rc;
    rc = read_number(&r, 65535, "maxval", &maxval, err);
    if (rc)
        return rc;
    if (maxval < 1)
        return pm_error_set(err, PM_EFORMAT, "pnm: maxval 0");
    out_header->bit_depth = maxval > 255 ? 16 : 8;
    out_header->ppi = r.ppi;
    if (!out_img)
        return PM_OK;
    size_t npix = (size_t)w * (size_t)h;
    size_t bytes_per_sample = maxval > 255 ? 2 : 1;
    if (binary) {
        /* exactly one whitespace byte ends the header */
        if (r.pos >= len || !is_space(data[r.pos]))
            return pm_error_set(err, r.pos >= len ? PM_ETRUNCATED : PM_EFORMAT,
                                "pnm: no whitespace after maxval (offset %zu)", r.pos);
        r.pos++;
        size_t need = npix * (size_t)channels * bytes_per_sample;
        if (len - r.pos < need)
            return pm_error_set(err, PM_ETRUNCATED, "pnm: %zu bytes of pixels, %ldx%ld needs %zu",
                                len - r.pos, w, h, need);
    }
    rc = pm_image_alloc(out_img, (int)w, (int)h, r.ppi, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < npix; i++) {
        long s[3] = {0, 0, 0};
        for (int c = 0; c < channels; c++) {
            if (binary) {
                const uint8_t *q = data + r.pos;
                s[c] = bytes_per_sample == 2 ? ((long)q[0] << 8 | q[1]) : q[0];
                r.pos += bytes_per_sample;
                if (s[c] > maxval) {
                    pm_image_free(out_img);
                    return pm_error_set(err, PM_ERANGE, "pnm: sample %ld above maxval %ld at "
                                        "offset %zu", s[c], maxval, r.pos - bytes_per_sample);
                }
            } else {
                rc = read_number(&r, maxval, "sample", &s[c], err);
                if (rc) {
                    pm_image_free(out_img);
                    return rc;
                }
            }
        }
        out_img->pixels[i] = channels == 1 ? scale8(s[0], maxval)
                                           : pm__luma(scale8(s[0], maxval), scale8(s[1], maxval),
                                                      scale8(s[2], maxval));
    }
    return PM_OK;
}

int pm__pgm_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err)
{
    (void)opts;
    int rc = img->ppi > 0 ? pm_buf_printf(out, "P5\n# ppi %d\n%d %d\n255\n", img->ppi,
                                          img->width, img->height)
                          : pm_buf_printf(out, "P5\n%d %d\n255\n", img->width, img->height);
    if (!rc)
        rc = pm_buf_append(out, img->pixels, (size_t)img->width * (size_t)img->height);
    return rc ? pm_error_set(err, rc, "pgm: %s", pm_strerror(rc)) : PM_OK;
}
