/* Perimeter image module: one 8-bit grey image type with a resolution, and
 * the decoders/encoders (PNG, TIFF, JPEG, JPEG 2000, BMP, PGM/PPM, raw, WSQ).
 * This header is owned by the image module; the type below is fixed so that
 * the fingerprint modules can rely on it. */
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

/* Allocates a width x height image (pixels zeroed). Caller frees with pm_image_free. */
int pm_image_alloc(pm_image_t *img, int width, int height, int ppi, pm_error_t *err);
/* Releases the pixels; safe on a zeroed or already freed image. */
void pm_image_free(pm_image_t *img);

#ifdef __cplusplus
}
#endif
#endif
