/* Perimeter fingerprint feature extraction (module fp).
 *
 * Turns a grey fingerprint image into minutiae (pm_fingerprint_t, ISO 19794-2
 * conventions, see minutiae.h) with a per-minutia quality and an overall print
 * quality. The chain: segmentation, orientation field, ridge frequency, Gabor
 * enhancement, binarisation, thinning, crossing number, skeleton clean-up.
 * See docs/fp.md.
 *
 * Threading: a pm_extractor_t holds only precomputed read-only tables once
 * created, so one extractor may be used from many threads at the same time.
 * Each call allocates its own working memory. No global state. */
#ifndef PERIMETER_FP_H
#define PERIMETER_FP_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/image.h"
#include "perimeter/minutiae.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Resolution the extractor works at; other resolutions are resampled first. */
#define PM_FP_PPI 500

typedef struct pm_extractor pm_extractor_t;

/* Creates an extractor (filter bank and lookup tables). *out is owned by the
 * caller (pm_extractor_free). Returns PM_ENOMEM on allocation failure. */
int pm_extractor_create(pm_extractor_t **out, pm_error_t *err);
/* Tunable extraction parameters. pm_fp_params_default gives the shipped
 * values (chosen by cross-validation across databases, docs/match.md). */
typedef struct pm_fp_params {
    /* minutiae nearer than this many pixels (500 ppi) to the edge of the
     * print area are dropped as false (ridges cut by the edge end there) */
    float border_margin;
    /* Resolution check by ridge frequency (issue 14): when set, the median
     * ridge period of the print area is measured after resampling to 500 ppi
     * at the declared resolution (0 = unknown counts as 500); if it differs
     * from ridge_period by more than ppi_tolerance (a fraction), the image is
     * taken to be at declared x measured / ridge_period ppi and extracted
     * again at that resolution, and out->ppi says the estimate. 0 = trust the
     * declared resolution (the default). */
    int estimate_ppi;
    float ridge_period;  /* expected median ridge period at 500 ppi, px (default 9) */
    float ppi_tolerance; /* default 0.15 */
} pm_fp_params_t;

/* Fills *p with the shipped parameter values. */
void pm_fp_params_default(pm_fp_params_t *p);
/* As pm_extractor_create, with explicit parameters (NULL: the defaults).
 * PM_EINVAL for a margin outside 0..64 pixels, a ridge period outside 5..15
 * px or a tolerance outside 0..0.5. */
int pm_extractor_create_with(const pm_fp_params_t *params, pm_extractor_t **out, pm_error_t *err);
/* Releases an extractor; NULL is fine. */
void pm_extractor_free(pm_extractor_t *ex);

/* Extracts the minutiae of one finger view from img into *out.
 * img->ppi 0 is taken as 500; other resolutions are resampled to 500 ppi and
 * the minutiae are mapped back, so out->x/y are in img's pixels and out->ppi is
 * img's resolution (500 if unknown). At most PM_MAX_MINUTIAE are kept (the best
 * by quality). Returns PM_EEXTRACT when no usable fingerprint area is found
 * (blank image, too small, no ridges), PM_EINVAL for a bad image,
 * PM_ENOMEM on allocation failure; *out is then zeroed. */
int pm_fp_extract(const pm_extractor_t *ex, const pm_image_t *img, pm_fingerprint_t *out,
                  pm_error_t *err);

/* Stages timed by pm_fp_extract_maps (milliseconds in pm_fp_maps_t.stage_ms). */
enum {
    PM_FP_STAGE_PREPARE = 0, /* resampling, gradients */
    PM_FP_STAGE_FIELD,       /* orientation, segmentation, frequency */
    PM_FP_STAGE_ENHANCE,     /* Gabor filtering */
    PM_FP_STAGE_SKELETON,    /* binarisation, clean-up, thinning */
    PM_FP_STAGE_MINUTIAE,    /* detection, false minutiae removal, quality */
    PM_FP_STAGE_COUNT
};

/* Intermediate maps of one extraction, for debugging and drawing. All arrays
 * are owned by the struct (pm_fp_maps_free). Pixel maps are width x height at
 * 500 ppi (the working image); block maps are bw x bh cells of `cell` pixels. */
typedef struct pm_fp_maps {
    int width, height; /* working image (500 ppi) */
    double scale;      /* working pixels per input pixel (1.0 at 500 ppi) */
    int cell;          /* block size in pixels */
    int bw, bh;        /* block grid size */
    float *orientation; /* bw*bh ridge orientation in [0, pi), image coordinates (y down) */
    float *coherence;   /* bw*bh 0..1 */
    float *period;      /* bw*bh ridge period in pixels (0 outside the mask) */
    uint8_t *mask;      /* bw*bh 1 = fingerprint area */
    uint8_t *enhanced;  /* width*height enhanced grey image (ridges dark) */
    uint8_t *binary;    /* width*height 1 = ridge */
    uint8_t *skeleton;  /* width*height 1 = ridge skeleton after clean-up */
    double stage_ms[PM_FP_STAGE_COUNT];
    float median_period; /* median ridge period of the print area (working px) */
} pm_fp_maps_t;

/* As pm_fp_extract, and also fills *maps (may be NULL) with the intermediate
 * maps and stage timings. On failure the maps computed so far are kept (the
 * caller still calls pm_fp_maps_free). */
int pm_fp_extract_maps(const pm_extractor_t *ex, const pm_image_t *img, pm_fingerprint_t *out,
                       pm_fp_maps_t *maps, pm_error_t *err);
/* A sensor's resolution from many of its prints: periods[] are their median
 * ridge periods (pm_fp_maps_t.median_period, extracted at declared_ppi, 0 =
 * unknown = 500). The median over the prints is compared with
 * params->ridge_period as the per-print check does (params NULL: defaults;
 * estimate_ppi need not be set) and *out_ppi receives declared_ppi (500 if
 * unknown) when within the tolerance, else the nearest common sensor
 * resolution to declared x median / ridge_period. Extract the sensor's
 * prints at *out_ppi afterwards. One print's period varies by +-10-15%
 * between people; the median of many does not (docs/fp.md). PM_EINVAL
 * without usable periods or with parameters out of range. */
int pm_fp_sensor_ppi(const float *periods, size_t n, int declared_ppi,
                     const pm_fp_params_t *params, int *out_ppi, pm_error_t *err);

/* A reference ridge period learnt from prints of sensors whose resolution is
 * known (pm_fp_maps_t.median_period of each, extracted at its declared
 * resolution): the median of the usable periods (5..15 px) into *out_period.
 * Set it as pm_fp_params_t.ridge_period for pm_fp_sensor_ppi (and the
 * per-print check) instead of the literature's 9 px, e.g. per
 * cross-validation fold from the training sensors (docs/match.md). PM_EINVAL
 * without a usable period, PM_ELIMIT beyond 1,000,000 periods. */
int pm_fp_reference_period(const float *periods, size_t n, float *out_period, pm_error_t *err);

/* Releases the arrays of *maps and zeroes it; safe on a zeroed struct. */
void pm_fp_maps_free(pm_fp_maps_t *maps);

#ifdef __cplusplus
}
#endif
#endif
