/* Perimeter: our WSQ codec (FBI IAFIS-IC-0110 v3.1), in the image module.
 * API fixed here so the rest of the image module and an2k can code against it;
 * the WSQ work fills in the implementation (src/image/wsq*.c). */
#ifndef PERIMETER_WSQ_H
#define PERIMETER_WSQ_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Facts from a WSQ header (frame header and comments), without decoding. */
typedef struct pm_wsq_info {
    int width;
    int height;
    int ppi;             /* from NIST_COM PPI if present, else 0 (WSQ is 500 ppi by convention) */
    double bitrate;      /* from NIST_COM or estimated from size; 0 if unknown */
    double shift;        /* frame header M (image shift) */
    double scale;        /* frame header R (image scale) */
    int encoder;         /* frame header encoder number */
    int software;        /* frame header software implementation number */
    int comments;        /* number of COM segments */
    char nist_com[512];  /* first NIST_COM text, NUL-terminated (may be truncated) */
} pm_wsq_info_t;

/* Reads the header facts of a WSQ stream. */
int pm_wsq_info(const uint8_t *data, size_t len, pm_wsq_info_t *out_info, pm_error_t *err);

/* Decodes a WSQ stream into *out_img (allocated; caller frees with pm_image_free).
 * Refuses images larger than max_width x max_height before allocating
 * (0 = PM_IMAGE_DEFAULT_MAX_DIM). Corrupt input returns an error, never crashes. */
int pm_wsq_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                  pm_image_t *out_img, pm_error_t *err);

/* Encodes img at the given bitrate (bits per pixel, 0.75 is ~15:1) with a
 * NIST_COM comment; *out_data is malloc'd (caller frees). */
int pm_wsq_encode(const pm_image_t *img, double bitrate, uint8_t **out_data, size_t *out_len,
                  pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
