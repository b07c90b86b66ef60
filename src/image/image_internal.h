/* Private to the image module: the per-format decoders and encoders behind
 * the dispatch in image.c. */
#ifndef PM_IMAGE_INTERNAL_H
#define PM_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"
#include "perimeter/image.h"

/* Every decoder has this shape: it fills *out_header from the file's header,
 * checks width/height against max_width x max_height (PM_ELIMIT, before any
 * pixel allocation), and if out_img is not NULL decodes the pixels into it
 * (allocated; freed again on failure). */
typedef int (*pm__image_decode_fn)(const uint8_t *data, size_t len, int max_width, int max_height,
                                   pm_image_header_t *out_header, pm_image_t *out_img,
                                   pm_error_t *err);

int pm__png_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err);
int pm__tiff_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                    pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err);
int pm__jpeg_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                    pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err);
int pm__jp2_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err);
int pm__bmp_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err);
int pm__pnm_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err);
int pm__wsqfmt_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                      pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err);

/* Encoders append the encoded file to out (an empty buffer). */
int pm__png_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err);
int pm__tiff_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                    pm_error_t *err);
int pm__jpeg_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                    pm_error_t *err);
int pm__jp2_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err);
int pm__bmp_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err);
int pm__pgm_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err);
int pm__wsqfmt_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                      pm_error_t *err);

/* PM_EFORMAT for a non-positive size, PM_ELIMIT past the limits. `what`
 * names the format in the message. */
int pm__image_check_size(long long width, long long height, int max_width, int max_height,
                         const char *what, pm_error_t *err);

/* ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B, in 16-bit fixed point
 * (the weights sum to exactly 65536, so white stays 255). */
static inline uint8_t pm__luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((19595u * r + 38470u * g + 7471u * b + 32768u) >> 16);
}

/* Composites a grey value with 8-bit alpha over a white background
 * (fingerprint scans are dark ridges on white). */
static inline uint8_t pm__over_white(unsigned grey, unsigned alpha)
{
    return (uint8_t)((grey * alpha + 255u * (255u - alpha) + 127u) / 255u);
}

/* Pixels per inch from a density in dots per metre, rounded; 0 if out of range. */
int pm__ppi_from_per_metre(double per_metre);

#endif
