/* CLI helpers: load a finger view from an image (extraction) or a template. */
#ifndef PM_CLI_FINGERPRINT_IO_H
#define PM_CLI_FINGERPRINT_IO_H

#include <stddef.h>

#include "perimeter/error.h"
#include "perimeter/minutiae.h"

/* Reads `path`: a minutiae template (first view) or an image (extracted).
 * *out_extract_ms (may be NULL) gets the extraction time, or -1 for a template. */
int pm__cli_load_fingerprint(const char *path, pm_fingerprint_t *out, double *out_extract_ms,
                             pm_error_t *err);

/* As pm__cli_load_fingerprint, extracting images with `ex` (an opaque
 * pm_extractor_t *; NULL: the CLI's default extractor). */
int pm__cli_load_fingerprint_with(const char *path, const void *ex, pm_fingerprint_t *out,
                                  double *out_extract_ms, pm_error_t *err);

/* As pm__cli_load_fingerprint_with; images are first resampled to
 * resample_ppi (when > 0, from their declared resolution, 500 if none) and
 * then declared of unknown resolution: a sensor at another resolution, or a
 * file whose resolution is lost (eval fvc --resample-ppi). */
int pm__cli_load_fingerprint_resampled(const char *path, const void *ex, int resample_ppi,
                                       pm_fingerprint_t *out, double *out_extract_ms,
                                       pm_error_t *err);
/* As pm__cli_load_fingerprint_resampled, the image then declared at
 * declare_ppi (0: unknown) instead. */
int pm__cli_load_fingerprint_declared(const char *path, const void *ex, int resample_ppi,
                                      int declare_ppi, pm_fingerprint_t *out,
                                      double *out_extract_ms, pm_error_t *err);
/* The median ridge period of an image (resampled as above, declared unknown),
 * for estimating a sensor's resolution (pm_fp_sensor_ppi). */
int pm__cli_image_period(const char *path, const void *ex, int resample_ppi, float *out_period,
                         pm_error_t *err);

/* Finds dir/base.<ext> for a known image or template extension; 0 if found. */
int pm__cli_find_view(const char *dir, const char *base, char *out_path, size_t out_size);

#endif
