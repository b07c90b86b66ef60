/* The image type, format detection by signature/extension, and the dispatch
 * from pm_image_decode/encode/load/save to the per-format codecs. */
#include "perimeter/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image/image_internal.h"
#include "perimeter/core.h"

int pm_image_alloc(pm_image_t *img, int width, int height, int ppi, pm_error_t *err)
{
    memset(img, 0, sizeof *img);
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return pm_error_set(err, PM_ERANGE, "image size %dx%d out of range", width, height);
    img->pixels = calloc((size_t)width * (size_t)height, 1);
    if (!img->pixels)
        return pm_error_set(err, PM_ENOMEM, "out of memory for %dx%d image", width, height);
    img->width = width;
    img->height = height;
    img->ppi = ppi;
    return PM_OK;
}

void pm_image_free(pm_image_t *img)
{
    if (!img)
        return;
    free(img->pixels);
    img->pixels = NULL;
    img->width = img->height = 0;
}

int pm_image_copy(const pm_image_t *src, pm_image_t *out, pm_error_t *err)
{
    int rc = pm_image_alloc(out, src->width, src->height, src->ppi, err);
    if (rc)
        return rc;
    memcpy(out->pixels, src->pixels, (size_t)src->width * (size_t)src->height);
    out->format = src->format;
    return PM_OK;
}

int pm__image_check_size(long long width, long long height, int max_width, int max_height,
                         const char *what, pm_error_t *err)
{
    if (width <= 0 || height <= 0)
        return pm_error_set(err, PM_EFORMAT, "%s: invalid image size %lldx%lld", what, width,
                            height);
    if (width > max_width || height > max_height)
        return pm_error_set(err, PM_ELIMIT, "%s: image %lldx%lld exceeds the limit of %dx%d",
                            what, width, height, max_width, max_height);
    return PM_OK;
}

int pm__ppi_from_per_metre(double per_metre)
{
    if (!(per_metre > 0) || per_metre > 1e8)
        return 0;
    double ppi = per_metre * 0.0254;
    if (ppi < 1 || ppi > 100000)
        return 0;
    return (int)lround(ppi);
}

const char *pm_image_format_name(pm_image_format_t format)
{
    switch (format) {
    case PM_IMAGE_RAW:
        return "raw";
    case PM_IMAGE_PGM:
        return "pgm";
    case PM_IMAGE_PNG:
        return "png";
    case PM_IMAGE_TIFF:
        return "tiff";
    case PM_IMAGE_JPEG:
        return "jpeg";
    case PM_IMAGE_JP2:
        return "jp2";
    case PM_IMAGE_BMP:
        return "bmp";
    case PM_IMAGE_WSQ:
        return "wsq";
    case PM_IMAGE_UNKNOWN:
        break;
    }
    return "unknown";
}

pm_image_format_t pm_image_format_from_path(const char *path)
{
    static const struct {
        const char *ext;
        pm_image_format_t format;
    } table[] = {
        {"png", PM_IMAGE_PNG},  {"tif", PM_IMAGE_TIFF}, {"tiff", PM_IMAGE_TIFF},
        {"jpg", PM_IMAGE_JPEG}, {"jpeg", PM_IMAGE_JPEG}, {"jp2", PM_IMAGE_JP2},
        {"j2k", PM_IMAGE_JP2},  {"j2c", PM_IMAGE_JP2},  {"jpc", PM_IMAGE_JP2},
        {"bmp", PM_IMAGE_BMP},  {"pgm", PM_IMAGE_PGM},  {"ppm", PM_IMAGE_PGM},
        {"pnm", PM_IMAGE_PGM},  {"raw", PM_IMAGE_RAW},  {"gray", PM_IMAGE_RAW},
        {"grey", PM_IMAGE_RAW}, {"wsq", PM_IMAGE_WSQ},
    };
    if (!path)
        return PM_IMAGE_UNKNOWN;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot || !dot[1])
        return PM_IMAGE_UNKNOWN;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(dot + 1, table[i].ext) == 0)
            return table[i].format;
    return PM_IMAGE_UNKNOWN;
}

pm_image_format_t pm_image_detect(const uint8_t *d, size_t len)
{
    if (!d)
        return PM_IMAGE_UNKNOWN;
    if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return PM_IMAGE_PNG;
    if (len >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0 ||
                     memcmp(d, "II+\0", 4) == 0 || memcmp(d, "MM\0+", 4) == 0))
        return PM_IMAGE_TIFF;
    /* WSQ starts with SOI 0xFFA0; JPEG with SOI 0xFFD8 followed by a marker. */
    if (len >= 4 && d[0] == 0xFF && d[1] == 0xA0 && d[2] == 0xFF)
        return PM_IMAGE_WSQ;
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return PM_IMAGE_JPEG;
    /* JP2 signature box, or a raw J2K codestream (SOC 0xFF4F then SIZ 0xFF51). */
    if (len >= 12 && memcmp(d, "\0\0\0\x0cjP  \r\n\x87\n", 12) == 0)
        return PM_IMAGE_JP2;
    if (len >= 4 && memcmp(d, "\xff\x4f\xff\x51", 4) == 0)
        return PM_IMAGE_JP2;
    if (len >= 14 && d[0] == 'B' && d[1] == 'M')
        return PM_IMAGE_BMP;
    if (len >= 2 && d[0] == 'P' && (d[1] == '2' || d[1] == '3' || d[1] == '5' || d[1] == '6'))
        return PM_IMAGE_PGM;
    return PM_IMAGE_UNKNOWN;
}

static pm__image_decode_fn decoder_for(pm_image_format_t format)
{
    switch (format) {
    case PM_IMAGE_PNG:
        return pm__png_decode;
    case PM_IMAGE_TIFF:
        return pm__tiff_decode;
    case PM_IMAGE_JPEG:
        return pm__jpeg_decode;
    case PM_IMAGE_JP2:
        return pm__jp2_decode;
    case PM_IMAGE_BMP:
        return pm__bmp_decode;
    case PM_IMAGE_PGM:
        return pm__pnm_decode;
    case PM_IMAGE_WSQ:
        return pm__wsqfmt_decode;
    case PM_IMAGE_RAW:
    case PM_IMAGE_UNKNOWN:
        break;
    }
    return NULL;
}

static void limits_or_default(const pm_image_limits_t *limits, int *out_w, int *out_h)
{
    *out_w = limits && limits->max_width > 0 ? limits->max_width : PM_IMAGE_DEFAULT_MAX_DIM;
    *out_h = limits && limits->max_height > 0 ? limits->max_height : PM_IMAGE_DEFAULT_MAX_DIM;
    /* the image type itself cannot exceed 65535 (pm_image_alloc) */
    if (*out_w > 65535)
        *out_w = 65535;
    if (*out_h > 65535)
        *out_h = 65535;
}

int pm_image_probe(const uint8_t *data, size_t len, pm_image_header_t *out_header,
                   pm_error_t *err)
{
    memset(out_header, 0, sizeof *out_header);
    pm_image_format_t format = pm_image_detect(data, len);
    pm__image_decode_fn fn = decoder_for(format);
    if (!fn)
        return pm_error_set(err, PM_EUNSUPPORTED, "unrecognised image signature (%zu bytes)", len);
    /* Probing reports the size whatever it is: no limit but the type's. */
    int rc = fn(data, len, 65535, 65535, out_header, NULL, err);
    out_header->format = format;
    return rc;
}

int pm_image_decode_as(pm_image_format_t format, const uint8_t *data, size_t len,
                       const pm_image_limits_t *limits, pm_image_t *out_img, pm_error_t *err)
{
    memset(out_img, 0, sizeof *out_img);
    pm__image_decode_fn fn = decoder_for(format);
    if (!fn)
        return pm_error_set(err, PM_EUNSUPPORTED, "cannot decode format '%s' without parameters",
                            pm_image_format_name(format));
    if (!data)
        return pm_error_set(err, PM_EINVAL, "no input");
    int max_w, max_h;
    limits_or_default(limits, &max_w, &max_h);
    pm_image_header_t hdr;
    memset(&hdr, 0, sizeof hdr);
    int rc = fn(data, len, max_w, max_h, &hdr, out_img, err);
    if (rc) {
        pm_image_free(out_img);
        memset(out_img, 0, sizeof *out_img);
        return rc;
    }
    out_img->format = format;
    return PM_OK;
}

int pm_image_decode(const uint8_t *data, size_t len, const pm_image_limits_t *limits,
                    pm_image_t *out_img, pm_error_t *err)
{
    memset(out_img, 0, sizeof *out_img);
    pm_image_format_t format = pm_image_detect(data, len);
    if (format == PM_IMAGE_UNKNOWN)
        return pm_error_set(err, PM_EUNSUPPORTED, "unrecognised image signature (%zu bytes)", len);
    return pm_image_decode_as(format, data, len, limits, out_img, err);
}

int pm_image_decode_raw(const uint8_t *data, size_t len, const pm_image_raw_params_t *params,
                        const pm_image_limits_t *limits, pm_image_t *out_img, pm_error_t *err)
{
    memset(out_img, 0, sizeof *out_img);
    if (!params || (!data && len))
        return pm_error_set(err, PM_EINVAL, "raw: width and height are required");
    int max_w, max_h;
    limits_or_default(limits, &max_w, &max_h);
    int rc = pm__image_check_size(params->width, params->height, max_w, max_h, "raw", err);
    if (rc)
        return rc;
    size_t need = (size_t)params->width * (size_t)params->height;
    if (len != need)
        return pm_error_set(err, len < need ? PM_ETRUNCATED : PM_EFORMAT,
                            "raw: %zu bytes, %dx%d needs %zu", len, params->width,
                            params->height, need);
    if (params->ppi < 0)
        return pm_error_set(err, PM_EINVAL, "raw: negative ppi %d", params->ppi);
    rc = pm_image_alloc(out_img, params->width, params->height, params->ppi, err);
    if (rc)
        return rc;
    memcpy(out_img->pixels, data, need);
    out_img->format = PM_IMAGE_RAW;
    return PM_OK;
}

static size_t max_bytes_of(const pm_image_limits_t *limits)
{
    return limits && limits->max_bytes ? limits->max_bytes : PM_IMAGE_DEFAULT_MAX_BYTES;
}

int pm_image_load(const char *path, const pm_image_limits_t *limits, pm_image_t *out_img,
                  pm_error_t *err)
{
    memset(out_img, 0, sizeof *out_img);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, max_bytes_of(limits), &data, &len, err);
    if (rc)
        return rc;
    if (pm_image_detect(data, len) == PM_IMAGE_UNKNOWN &&
        pm_image_format_from_path(path) == PM_IMAGE_RAW)
        rc = pm_error_set(err, PM_EUNSUPPORTED, "raw input needs its width and height");
    else
        rc = pm_image_decode(data, len, limits, out_img, err);
    free(data);
    if (rc)
        pm_error_prefix(err, "%s", path);
    return rc;
}

int pm_image_load_raw(const char *path, const pm_image_raw_params_t *params,
                      const pm_image_limits_t *limits, pm_image_t *out_img, pm_error_t *err)
{
    memset(out_img, 0, sizeof *out_img);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, max_bytes_of(limits), &data, &len, err);
    if (rc)
        return rc;
    rc = pm_image_decode_raw(data, len, params, limits, out_img, err);
    free(data);
    if (rc)
        pm_error_prefix(err, "%s", path);
    return rc;
}

static int raw_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                      pm_error_t *err)
{
    (void)opts;
    int rc = pm_buf_append(out, img->pixels, (size_t)img->width * (size_t)img->height);
    return rc ? pm_error_set(err, rc, "raw: %s", pm_strerror(rc)) : PM_OK;
}

int pm_image_encode(const pm_image_t *img, pm_image_format_t format,
                    const pm_image_save_options_t *opts, uint8_t **out_data, size_t *out_len,
                    pm_error_t *err)
{
    *out_data = NULL;
    *out_len = 0;
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0 || img->width > 65535 ||
        img->height > 65535)
        return pm_error_set(err, PM_EINVAL, "no image to encode");
    int (*fn)(const pm_image_t *, const pm_image_save_options_t *, pm_buf_t *, pm_error_t *);
    switch (format) {
    case PM_IMAGE_PNG:
        fn = pm__png_encode;
        break;
    case PM_IMAGE_TIFF:
        fn = pm__tiff_encode;
        break;
    case PM_IMAGE_JPEG:
        fn = pm__jpeg_encode;
        break;
    case PM_IMAGE_JP2:
        fn = pm__jp2_encode;
        break;
    case PM_IMAGE_BMP:
        fn = pm__bmp_encode;
        break;
    case PM_IMAGE_PGM:
        fn = pm__pgm_encode;
        break;
    case PM_IMAGE_RAW:
        fn = raw_encode;
        break;
    case PM_IMAGE_WSQ:
        fn = pm__wsqfmt_encode;
        break;
    default:
        return pm_error_set(err, PM_EUNSUPPORTED, "no encoder for format %d", (int)format);
    }
    pm_buf_t b;
    pm_buf_init(&b, 0);
    int rc = fn(img, opts, &b, err);
    if (rc) {
        pm_buf_free(&b);
        return rc;
    }
    *out_data = pm_buf_steal(&b, out_len);
    return PM_OK;
}

int pm_image_save(const char *path, const pm_image_t *img, const pm_image_save_options_t *opts,
                  pm_error_t *err)
{
    pm_image_format_t format = pm_image_format_from_path(path);
    if (format == PM_IMAGE_UNKNOWN)
        return pm_error_set(err, PM_EUNSUPPORTED, "%s: unknown image file extension", path);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_image_encode(img, format, opts, &data, &len, err);
    if (rc == PM_OK)
        rc = pm_file_write_atomic(path, data, len, err);
    free(data);
    if (rc)
        pm_error_prefix(err, "%s", path);
    return rc;
}
