/* Perimeter image module: one 8-bit grey image type with a resolution, and
 * the decoders/encoders (PNG, TIFF, JPEG, JPEG 2000, BMP, PGM/PPM, raw, WSQ).
 * This header is owned by the image module; the type below is fixed so that
 * the fingerprint modules can rely on it.
 *
 * Every decoder reads the header first and refuses an image larger than the
 * limits before allocating pixel memory. Colour input is converted to grey
 * with ITU-R BT.601 luma. The libraries underneath (libpng, libtiff,
 * libjpeg-turbo, openjpeg) get per-call error and warning handlers: they never
 * print and never abort the process. See docs/image.md. */
#ifndef PERIMETER_IMAGE_H
#define PERIMETER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pm_image_format {
    PM_IMAGE_UNKNOWN = 0,
    PM_IMAGE_RAW,
    PM_IMAGE_PGM,
    PM_IMAGE_PNG,
    PM_IMAGE_TIFF,
    PM_IMAGE_JPEG,
    PM_IMAGE_JP2,
    PM_IMAGE_BMP,
    PM_IMAGE_WSQ,
} pm_image_format_t;

/* An 8-bit grey image, row-major, stride == width. */
typedef struct pm_image {
    int width;
    int height;
    int ppi;                  /* pixels per inch; 0 if unknown */
    pm_image_format_t format; /* where it came from */
    uint8_t *pixels;          /* width*height bytes, owned (free with pm_image_free) */
} pm_image_t;

#define PM_IMAGE_DEFAULT_MAX_DIM 4096
/* Largest encoded file pm_image_load reads when the limits say 0. */
#define PM_IMAGE_DEFAULT_MAX_BYTES ((size_t)256 << 20)

/* Decoding limits. A zeroed struct (or NULL where a pointer is taken) means
 * the defaults: PM_IMAGE_DEFAULT_MAX_DIM in each direction and
 * PM_IMAGE_DEFAULT_MAX_BYTES of input. */
typedef struct pm_image_limits {
    int max_width;    /* 0 = PM_IMAGE_DEFAULT_MAX_DIM */
    int max_height;   /* 0 = PM_IMAGE_DEFAULT_MAX_DIM */
    size_t max_bytes; /* input file size for pm_image_load; 0 = PM_IMAGE_DEFAULT_MAX_BYTES */
} pm_image_limits_t;

/* Facts from an image header, read without decoding the pixels. */
typedef struct pm_image_header {
    pm_image_format_t format;
    int width;
    int height;
    int ppi;       /* 0 if the file does not say */
    int channels;  /* samples per pixel in the file (1 grey, 3 colour, 4 with alpha...) */
    int bit_depth; /* bits per sample in the file */
} pm_image_header_t;

/* Parameters for headerless raw grey input (8 bits per pixel, row-major). */
typedef struct pm_image_raw_params {
    int width;
    int height;
    int ppi; /* 0 if unknown */
} pm_image_raw_params_t;

/* Encoding options; a zeroed struct (or NULL) means the defaults. */
typedef struct pm_image_save_options {
    double wsq_bitrate; /* bits per pixel for WSQ; 0 = 0.75 */
    int jpeg_quality;   /* 1..100; 0 = 90 */
    double jp2_ratio;   /* JPEG 2000 compression ratio; 0 = lossless (reversible 5/3) */
} pm_image_save_options_t;

/* Allocates a width x height image (pixels zeroed). Caller frees with pm_image_free. */
int pm_image_alloc(pm_image_t *img, int width, int height, int ppi, pm_error_t *err);
/* Releases the pixels; safe on a zeroed or already freed image. */
void pm_image_free(pm_image_t *img);
/* Deep copy of src into *out (allocated; caller frees with pm_image_free). */
int pm_image_copy(const pm_image_t *src, pm_image_t *out, pm_error_t *err);

/* Short lower-case name of a format ("png", "tiff", ...; "unknown"). Never NULL. */
const char *pm_image_format_name(pm_image_format_t format);
/* The format a file name's extension names (.png, .tif/.tiff, .jpg/.jpeg,
 * .jp2/.j2k/.j2c/.jpc, .bmp, .pgm/.ppm/.pnm, .raw/.gray, .wsq; any case), or
 * PM_IMAGE_UNKNOWN. */
pm_image_format_t pm_image_format_from_path(const char *path);
/* The format the leading bytes (signature) announce, or PM_IMAGE_UNKNOWN.
 * Raw input has no signature and is never detected. */
pm_image_format_t pm_image_detect(const uint8_t *data, size_t len);

/* Reads the header of an encoded image (format by signature) into *out_header
 * without decoding pixels. Returns PM_EUNSUPPORTED for an unknown signature,
 * PM_EFORMAT/PM_ETRUNCATED/PM_EIMAGE for a bad header. */
int pm_image_probe(const uint8_t *data, size_t len, pm_image_header_t *out_header,
                   pm_error_t *err);

/* Decodes an encoded image from memory, format by signature, into *out_img
 * (allocated; caller frees with pm_image_free; out_img->format set). limits
 * may be NULL (defaults). Refuses images over the limits with PM_ELIMIT before
 * allocating; corrupt input gives PM_EFORMAT, PM_ETRUNCATED or PM_EIMAGE.
 * On failure *out_img is zeroed. */
int pm_image_decode(const uint8_t *data, size_t len, const pm_image_limits_t *limits,
                    pm_image_t *out_img, pm_error_t *err);
/* As pm_image_decode with the format forced (PM_IMAGE_RAW is refused here:
 * use pm_image_decode_raw). */
int pm_image_decode_as(pm_image_format_t format, const uint8_t *data, size_t len,
                       const pm_image_limits_t *limits, pm_image_t *out_img, pm_error_t *err);
/* Wraps headerless 8-bit grey bytes (exactly width*height of them) into *out_img
 * (a copy; caller frees). PM_EFORMAT if len does not match. */
int pm_image_decode_raw(const uint8_t *data, size_t len, const pm_image_raw_params_t *params,
                        const pm_image_limits_t *limits, pm_image_t *out_img, pm_error_t *err);

/* Reads and decodes a file by signature (limits may be NULL). A file whose
 * extension is .raw/.gray cannot be decoded this way (PM_EUNSUPPORTED): use
 * pm_image_load_raw. Errors are prefixed with the path. */
int pm_image_load(const char *path, const pm_image_limits_t *limits, pm_image_t *out_img,
                  pm_error_t *err);
/* Reads a headerless raw grey file with the given size and resolution. */
int pm_image_load_raw(const char *path, const pm_image_raw_params_t *params,
                      const pm_image_limits_t *limits, pm_image_t *out_img, pm_error_t *err);

/* Encodes img in the given format into *out_data (malloc'd; caller frees).
 * PNG (with pHYs when ppi is known), PGM (P5, ppi in a comment), raw, BMP,
 * TIFF, JPEG (JFIF density), JPEG 2000 (JP2 with a resolution box) and WSQ
 * (our codec, NIST_COM). opts may be NULL. PM_EUNSUPPORTED for an unknown
 * format, PM_EIMAGE when a library fails. */
int pm_image_encode(const pm_image_t *img, pm_image_format_t format,
                    const pm_image_save_options_t *opts, uint8_t **out_data, size_t *out_len,
                    pm_error_t *err);
/* Encodes img in the format its path's extension names and writes the file
 * atomically. PM_EUNSUPPORTED for an unknown extension. */
int pm_image_save(const char *path, const pm_image_t *img, const pm_image_save_options_t *opts,
                  pm_error_t *err);

/* Resamples in (whose ppi must be known) to target_ppi with a separable
 * Lanczos-3 filter (widened by the scale factor when shrinking, so it
 * antialiases). The output size is round(size * target / source); out->ppi is
 * target_ppi. If the resolutions are equal the output is an exact copy.
 * *out is allocated (caller frees). PM_EINVAL if in->ppi is 0 or target_ppi is
 * not in 50..10000, PM_ELIMIT if the result would exceed 65535 pixels. */
int pm_image_resample(const pm_image_t *in, int target_ppi, pm_image_t *out, pm_error_t *err);
/* Resizes in to width x height with the same filter; out->ppi = ppi.
 * *out is allocated (caller frees). */
int pm_image_resize(const pm_image_t *in, int width, int height, int ppi, pm_image_t *out,
                    pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
