/* JPEG through libjpeg-turbo, from and to memory. The error manager longjmps
 * back here instead of exiting, messages are kept (never printed), and a
 * progress monitor bounds the number of progressive scans. Resolution from
 * the JFIF density (dots per inch or per centimetre). */
#include <jerror.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs size_t and FILE declared first */
#include <jpeglib.h>

#include "image/image_internal.h"

#define JPEG_MAX_SCANS 1000 /* a progressive file needs tens; more is an attack */

struct jpeg_ctx {
    struct jpeg_error_mgr pub; /* first: libjpeg casts cinfo->err to this */
    jmp_buf jump;
    int hit_eof; /* libjpeg padded a stream that ended early */
    char msg[JMSG_LENGTH_MAX];
};

static void on_error_exit(j_common_ptr cinfo)
{
    struct jpeg_ctx *ctx = (struct jpeg_ctx *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, ctx->msg);
    longjmp(ctx->jump, 1);
}

static void on_output_message(j_common_ptr cinfo)
{
    (void)cinfo; /* warnings (corrupt data recovered from) are not printed */
}

static void on_emit_message(j_common_ptr cinfo, int level)
{
    if (level < 0) {
        struct jpeg_ctx *ctx = (struct jpeg_ctx *)cinfo->err;
        cinfo->err->num_warnings++;
        if (cinfo->err->msg_code == JWRN_JPEG_EOF)
            ctx->hit_eof = 1;
    }
}

static void on_progress(j_common_ptr cinfo)
{
    if (cinfo->is_decompressor &&
        ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        struct jpeg_ctx *ctx = (struct jpeg_ctx *)cinfo->err;
        snprintf(ctx->msg, sizeof ctx->msg, "more than %d scans", JPEG_MAX_SCANS);
        longjmp(ctx->jump, 1);
    }
}

static void init_errors(struct jpeg_ctx *ctx)
{
    jpeg_std_error(&ctx->pub);
    ctx->pub.error_exit = on_error_exit;
    ctx->pub.output_message = on_output_message;
    ctx->pub.emit_message = on_emit_message;
    ctx->hit_eof = 0;
    ctx->msg[0] = '\0';
}

static int jfif_ppi(const struct jpeg_decompress_struct *c)
{
    if (!c->saw_JFIF_marker || c->X_density == 0)
        return 0;
    if (c->density_unit == 1)
        return c->X_density;
    if (c->density_unit == 2)
        return (int)(c->X_density * 2.54 + 0.5);
    return 0; /* 0 = aspect ratio only */
}

int pm__jpeg_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                    pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)
{
    if (len < 4)
        return pm_error_set(err, PM_ETRUNCATED, "jpeg: %zu bytes is too short", len);
    if (len > 0xFFFFFFFFu)
        return pm_error_set(err, PM_ELIMIT, "jpeg: input too large");
    struct jpeg_decompress_struct cinfo;
    struct jpeg_ctx ctx;
    struct jpeg_progress_mgr progress = {.progress_monitor = on_progress};
    volatile int rc = PM_OK;
    volatile int allocated = 0;
    memset(&cinfo, 0, sizeof cinfo);
    init_errors(&ctx);
    cinfo.err = &ctx.pub;
    if (setjmp(ctx.jump)) {
        /* libjpeg reports a file that ends early as a warning and pads it;
         * errors arrive here. */
        if (rc == PM_OK)
            rc = pm_error_set(err, ctx.hit_eof ? PM_ETRUNCATED : PM_EIMAGE, "jpeg: %s", ctx.msg);
        goto done;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress;
    cinfo.mem->max_memory_to_use = 256L << 20;
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    out_header->width = (int)(cinfo.image_width > 65535 ? 65536 : cinfo.image_width);
    out_header->height = (int)(cinfo.image_height > 65535 ? 65536 : cinfo.image_height);
    out_header->channels = cinfo.num_components;
    out_header->bit_depth = cinfo.data_precision;
    out_header->ppi = jfif_ppi(&cinfo);
    rc = pm__image_check_size(cinfo.image_width, cinfo.image_height, max_width, max_height,
                              "jpeg", err);
    if (rc || !out_img)
        goto done;
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        rc = pm_error_set(err, PM_EUNSUPPORTED, "jpeg: CMYK images are not supported");
        goto done;
    }
    /* Grey output: the Y channel of YCbCr (BT.601 luma by JFIF's definition),
     * or libjpeg's BT.601 weighting of RGB. */
    cinfo.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 1 || cinfo.output_width != cinfo.image_width ||
        cinfo.output_height != cinfo.image_height) {
        rc = pm_error_set(err, PM_EIMAGE, "jpeg: unexpected output layout");
        goto done;
    }
    rc = pm_image_alloc(out_img, (int)cinfo.image_width, (int)cinfo.image_height,
                        out_header->ppi, err);
    if (rc)
        goto done;
    allocated = 1;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out_img->pixels + (size_t)cinfo.output_scanline * cinfo.output_width;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            rc = pm_error_set(err, PM_ETRUNCATED, "jpeg: no data for row %u",
                              cinfo.output_scanline);
            goto done;
        }
    }
    jpeg_finish_decompress(&cinfo);
    /* A stream that ran out early was padded by libjpeg with a warning;
     * other recoverable warnings (extraneous bytes) are accepted. */
    if (ctx.hit_eof)
        rc = pm_error_set(err, PM_ETRUNCATED, "jpeg: premature end of data");
done:
    if (rc && allocated)
        pm_image_free(out_img);
    jpeg_destroy_decompress(&cinfo);
    return rc;
}

int pm__jpeg_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                    pm_error_t *err)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_ctx ctx;
    unsigned char *buf = NULL; /* malloc'd by jpeg_mem_dest; its address escapes */
    unsigned long mem_len = 0;
    const int quality = opts && opts->jpeg_quality > 0 ? opts->jpeg_quality : 90;
    memset(&cinfo, 0, sizeof cinfo);
    init_errors(&ctx);
    cinfo.err = &ctx.pub;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buf);
        return pm_error_set(err, PM_EIMAGE, "jpeg: %s", ctx.msg);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buf, &mem_len);
    cinfo.image_width = (JDIMENSION)img->width;
    cinfo.image_height = (JDIMENSION)img->height;
    cinfo.input_components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality > 100 ? 100 : quality, TRUE);
    if (img->ppi > 0 && img->ppi <= 65535) {
        cinfo.write_JFIF_header = TRUE;
        cinfo.density_unit = 1; /* dots per inch */
        cinfo.X_density = cinfo.Y_density = (UINT16)img->ppi;
    }
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = img->pixels + (size_t)cinfo.next_scanline * (size_t)img->width;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    int rc = pm_buf_append(out, buf, mem_len);
    free(buf);
    return rc ? pm_error_set(err, rc, "jpeg: %s", pm_strerror(rc)) : PM_OK;
}
