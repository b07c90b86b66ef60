/* PNG through libpng: decoding from memory with per-call error/warning
 * handlers (libpng never prints, errors longjmp back here), and encoding with
 * a pHYs chunk carrying the resolution. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

struct png_ctx {
    const uint8_t *data;
    size_t len;
    size_t pos;
    pm_buf_t *out; /* encoding */
    int out_rc;
    char msg[200]; /* the library's last error message */
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_ctx *ctx = png_get_error_ptr(png);
    if (ctx)
        snprintf(ctx->msg, sizeof ctx->msg, "%s", msg ? msg : "error");
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg; /* warnings are not errors; libpng must not print them */
}

static void on_read(png_structp png, png_bytep dst, size_t n)
{
    struct png_ctx *ctx = png_get_io_ptr(png);
    if (n > ctx->len - ctx->pos)
        png_error(png, "unexpected end of data");
    memcpy(dst, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

static void on_write(png_structp png, png_bytep src, size_t n)
{
    struct png_ctx *ctx = png_get_io_ptr(png);
    if (pm_buf_append(ctx->out, src, n) != PM_OK) {
        ctx->out_rc = PM_ENOMEM;
        png_error(png, "output buffer limit");
    }
}

static void on_flush(png_structp png)
{
    (void)png;
}

/* Converts one decoded row (8-bit samples, `channels` of them: G, GA, RGB or
 * RGBA) to grey, alpha composited over white. */
static void row_to_grey(const uint8_t *src, int width, int channels, uint8_t *dst)
{
    for (int x = 0; x < width; x++, src += channels) {
        switch (channels) {
        case 1:
            dst[x] = src[0];
            break;
        case 2:
            dst[x] = pm__over_white(src[0], src[1]);
            break;
        case 3:
            dst[x] = pm__luma(src[0], src[1], src[2]);
            break;
        default:
            dst[x] = pm__over_white(pm__luma(src[0], src[1], src[2]), src[3]);
            break;
        }
    }
}

int pm__png_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)
{
    if (len < 8 || png_sig_cmp(data, 0, 8) != 0)
        return pm_error_set(err, PM_EFORMAT, "png: bad signature");
    /* The first chunk must be IHDR: read the size from it ourselves, so the
     * limit holds before libpng reads (and allocates for) any later chunk. */
    if (len < 8 + 8 + 13)
        return pm_error_set(err, PM_ETRUNCATED, "png: %zu bytes, too short for IHDR", len);
    if (memcmp(data + 8, "\0\0\0\x0dIHDR", 8) != 0)
        return pm_error_set(err, PM_EFORMAT, "png: first chunk at offset 8 is not IHDR");
    uint32_t hw = (uint32_t)data[16] << 24 | (uint32_t)data[17] << 16 | (uint32_t)data[18] << 8 |
                  data[19];
    uint32_t hh = (uint32_t)data[20] << 24 | (uint32_t)data[21] << 16 | (uint32_t)data[22] << 8 |
                  data[23];
    out_header->width = (int)(hw > 65535 ? 65536 : hw);
    out_header->height = (int)(hh > 65535 ? 65536 : hh);
    out_header->bit_depth = data[24];
    int pre = pm__image_check_size(hw, hh, max_width, max_height, "png", err);
    if (pre)
        return pre;
    struct png_ctx ctx = {.data = data, .len = len, .pos = 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png)
        return pm_error_set(err, PM_ENOMEM, "png: cannot create decoder");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return pm_error_set(err, PM_ENOMEM, "png: cannot create decoder");
    }
    /* Everything below that can allocate is volatile across the longjmp. */
    uint8_t *volatile row = NULL;
    volatile int rc = PM_OK;
    volatile int allocated = 0;
    if (setjmp(png_jmpbuf(png))) {
        if (rc == PM_OK) {
            int truncated = strstr(ctx.msg, "end of data") != NULL;
            rc = pm_error_set(err, truncated ? PM_ETRUNCATED : PM_EIMAGE, "png: %s", ctx.msg);
        }
        goto done;
    }
    png_set_read_fn(png, &ctx, on_read);
    /* libpng allocates no pixel memory before png_read_info returns, so our
     * limit below comes first; its own size check must not pre-empt it. */
    png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, colour = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &colour, &interlace, NULL, NULL);
    out_header->width = (int)w;
    out_header->height = (int)h;
    out_header->bit_depth = depth;
    out_header->channels = png_get_channels(png, info);
    png_uint_32 res_x = 0, res_y = 0;
    int unit = 0;
    if (png_get_pHYs(png, info, &res_x, &res_y, &unit) && unit == PNG_RESOLUTION_METER)
        out_header->ppi = pm__ppi_from_per_metre((double)res_x);
    rc = pm__image_check_size(w, h, max_width, max_height, "png", err);
    if (rc || !out_img)
        goto done;

    /* Normalise to 8-bit G/GA/RGB/RGBA; grey conversion is ours (BT.601). */
    png_set_expand(png); /* palette -> RGB, low grey depths -> 8, tRNS -> alpha */
    png_set_scale_16(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || rowbytes != (size_t)w * (size_t)channels)
        png_error(png, "unexpected row layout");
    rc = pm_image_alloc(out_img, (int)w, (int)h, out_header->ppi, err);
    if (rc)
        goto done;
    allocated = 1;
    if (channels == 1 && passes == 1) {
        for (png_uint_32 y = 0; y < h; y++)
            png_read_row(png, out_img->pixels + (size_t)y * w, NULL);
    } else {
        /* Interlaced or colour: whole image at the file's sample layout. */
        row = malloc(rowbytes * h);
        if (!row) {
            rc = pm_error_set(err, PM_ENOMEM, "png: out of memory");
            goto done;
        }
        for (int p = 0; p < passes; p++)
            for (png_uint_32 y = 0; y < h; y++)
                png_read_row(png, row + rowbytes * y, NULL);
        for (png_uint_32 y = 0; y < h; y++)
            row_to_grey(row + rowbytes * y, (int)w, channels, out_img->pixels + (size_t)y * w);
    }
    png_read_end(png, NULL);
done:
    free(row);
    if (rc && allocated)
        pm_image_free(out_img);
    png_destroy_read_struct(&png, &info, NULL);
    return rc;
}

int pm__png_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err)
{
    (void)opts;
    struct png_ctx ctx = {.out = out};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png)
        return pm_error_set(err, PM_ENOMEM, "png: cannot create encoder");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return pm_error_set(err, PM_ENOMEM, "png: cannot create encoder");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return pm_error_set(err, ctx.out_rc ? ctx.out_rc : PM_EIMAGE, "png: %s", ctx.msg);
    }
    png_set_write_fn(png, &ctx, on_write, on_flush);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (img->ppi > 0) {
        /* pHYs stores pixels per metre; ppi / 0.0254, rounded. */
        png_uint_32 ppm = (png_uint_32)((double)img->ppi / 0.0254 + 0.5);
        png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
    }
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->pixels + (size_t)y * (size_t)img->width);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return PM_OK;
}
