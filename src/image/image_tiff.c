/* TIFF through libtiff, from and to memory. Per-call error and warning
 * handlers (TIFFOpenOptions, libtiff >= 4.5) keep the library silent and
 * thread-safe; the first page (directory) is the image. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "image/image_internal.h"

struct tiff_mem {
    const uint8_t *data; /* reading */
    size_t len;
    size_t pos;
    pm_buf_t *out; /* writing: out->len is the file size so far */
    int out_failed;
    char msg[200]; /* first error the library reported */
};

__attribute__((format(printf, 4, 0))) static int on_error(TIFF *tif, void *user,
                                                           const char *module, const char *fmt,
                                                           va_list ap)
{
    (void)tif;
    struct tiff_mem *m = user;
    if (m && !m->msg[0]) {
        char text[160];
        vsnprintf(text, sizeof text, fmt, ap);
        snprintf(m->msg, sizeof m->msg, "%s%s%s", module ? module : "", module ? ": " : "",
                 text);
    }
    return 1; /* handled: the global (printing) handler is not called */
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
    struct tiff_mem *m = h;
    if (n < 0)
        return -1;
    size_t avail = m->pos < m->len ? m->len - m->pos : 0;
    size_t k = (size_t)n < avail ? (size_t)n : avail;
    if (k)
        memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
    struct tiff_mem *m = h;
    if (!m->out || n < 0)
        return -1;
    size_t end = m->pos + (size_t)n;
    if (end > m->out->len) {
        size_t grow = end - m->out->len;
        if (pm_buf_reserve(m->out, grow) != PM_OK) {
            m->out_failed = 1;
            return -1;
        }
        memset(m->out->data + m->out->len, 0, grow);
        m->out->len = end;
    }
    memcpy(m->out->data + m->pos, buf, (size_t)n);
    m->pos = end;
    return n;
}

static toff_t mem_size(thandle_t h)
{
    struct tiff_mem *m = h;
    return m->out ? m->out->len : m->len;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    struct tiff_mem *m = h;
    uint64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : mem_size(h);
    uint64_t target = base + off; /* toff_t is unsigned; libtiff seeks forwards */
    if (target > ((uint64_t)1 << 40))
        return (toff_t)-1;
    m->pos = (size_t)target;
    return target;
}

static int mem_close(thandle_t h)
{
    (void)h;
    return 0;
}

static int mem_map(thandle_t h, void **base, toff_t *size)
{
    (void)h, (void)base, (void)size;
    return 0;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h, (void)base, (void)size;
}

static TIFF *open_mem(struct tiff_mem *m, const char *mode)
{
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, m);
    /* No single allocation the decoder makes needs more than this. */
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)256 << 20);
    TIFF *tif = TIFFClientOpenExt("memory", mode, (thandle_t)m, mem_read, mem_write, mem_seek,
                                  mem_close, mem_size, mem_map, mem_unmap, opts);
    TIFFOpenOptionsFree(opts);
    return tif;
}

static int tiff_fail(struct tiff_mem *m, pm_error_t *err, const char *what)
{
    int truncated = m->pos >= m->len && m->len > 0;
    return pm_error_set(err, truncated ? PM_ETRUNCATED : PM_EIMAGE, "tiff: %s%s%s", what,
                        m->msg[0] ? ": " : "", m->msg);
}

static int read_ppi(TIFF *tif)
{
    float xres = 0;
    uint16_t unit = RESUNIT_INCH;
    if (!TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) || !(xres > 0) || xres > 1e6f)
        return 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
    if (unit == RESUNIT_INCH)
        return (int)(xres + 0.5f);
    if (unit == RESUNIT_CENTIMETER)
        return (int)(xres * 2.54f + 0.5f);
    return 0;
}

/* 8-bit single-sample grey in strips: straight into the image, row by row. */
static int read_grey_rows(TIFF *tif, struct tiff_mem *m, int invert, pm_image_t *img,
                          pm_error_t *err)
{
    if (TIFFScanlineSize(tif) != (tmsize_t)img->width)
        return tiff_fail(m, err, "unexpected scanline size");
    for (int y = 0; y < img->height; y++) {
        uint8_t *row = img->pixels + (size_t)y * (size_t)img->width;
        if (TIFFReadScanline(tif, row, (uint32_t)y, 0) < 0)
            return tiff_fail(m, err, "cannot read scanline");
        if (invert)
            for (int x = 0; x < img->width; x++)
                row[x] = (uint8_t)(255 - row[x]);
    }
    return PM_OK;
}

/* Anything else libtiff can render (palette, RGB, YCbCr, 16-bit, tiles...)
 * goes through its RGBA interface, then to BT.601 grey over white. */
static int read_rgba(TIFF *tif, struct tiff_mem *m, pm_image_t *img, pm_error_t *err)
{
    char emsg[1024] = "";
    if (!TIFFRGBAImageOK(tif, emsg))
        return pm_error_set(err, PM_EUNSUPPORTED, "tiff: %s", emsg);
    size_t n = (size_t)img->width * (size_t)img->height;
    uint32_t *raster = malloc(n * sizeof *raster);
    if (!raster)
        return pm_error_set(err, PM_ENOMEM, "tiff: out of memory");
    if (!TIFFReadRGBAImageOriented(tif, (uint32_t)img->width, (uint32_t)img->height, raster,
                                   ORIENTATION_TOPLEFT, 0)) {
        free(raster);
        return tiff_fail(m, err, "cannot decode image");
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t p = raster[i];
        img->pixels[i] = pm__over_white(pm__luma(TIFFGetR(p), TIFFGetG(p), TIFFGetB(p)),
                                        TIFFGetA(p));
    }
    free(raster);
    return PM_OK;
}

int pm__tiff_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                    pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)
{
    struct tiff_mem m = {.data = data, .len = len};
    if (len < 8)
        return pm_error_set(err, PM_ETRUNCATED, "tiff: %zu bytes is too short", len);
    TIFF *tif = open_mem(&m, "rm");
    if (!tif)
        return tiff_fail(&m, err, "cannot open");
    uint32_t w = 0, h = 0;
    uint16_t bps = 1, spp = 1, photometric = PHOTOMETRIC_MINISWHITE, planar = PLANARCONFIG_CONTIG;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    int have_photometric = TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    out_header->width = (int)(w > 65535 ? 65536 : w);
    out_header->height = (int)(h > 65535 ? 65536 : h);
    out_header->channels = spp;
    out_header->bit_depth = bps;
    out_header->ppi = read_ppi(tif);
    int rc = pm__image_check_size(w, h, max_width, max_height, "tiff", err);
    if (rc || !out_img)
        goto done;
    rc = pm_image_alloc(out_img, (int)w, (int)h, out_header->ppi, err);
    if (rc)
        goto done;
    if (have_photometric && spp == 1 && bps == 8 && !TIFFIsTiled(tif) &&
        (photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE))
        rc = read_grey_rows(tif, &m, photometric == PHOTOMETRIC_MINISWHITE, out_img, err);
    else
        rc = read_rgba(tif, &m, out_img, err);
    if (rc)
        pm_image_free(out_img);
done:
    TIFFClose(tif);
    return rc;
}

int pm__tiff_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                    pm_error_t *err)
{
    (void)opts;
    struct tiff_mem m = {.out = out};
    TIFF *tif = open_mem(&m, "wm");
    if (!tif)
        return pm_error_set(err, PM_EIMAGE, "tiff: cannot create encoder: %s", m.msg);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    if (img->ppi > 0) {
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)img->ppi);
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)img->ppi);
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    }
    int rc = PM_OK;
    for (int y = 0; y < img->height && rc == PM_OK; y++)
        if (TIFFWriteScanline(tif, img->pixels + (size_t)y * (size_t)img->width, (uint32_t)y, 0) <
            0)
            rc = pm_error_set(err, m.out_failed ? PM_ENOMEM : PM_EIMAGE,
                              "tiff: cannot write row %d: %s", y, m.msg);
    if (rc == PM_OK && !TIFFWriteDirectory(tif))
        rc = pm_error_set(err, PM_EIMAGE, "tiff: cannot write directory: %s", m.msg);
    TIFFClose(tif);
    if (rc == PM_OK && m.out_failed)
        rc = pm_error_set(err, PM_ENOMEM, "tiff: output too large");
    return rc;
}
