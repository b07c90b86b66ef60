/* CLI helper: a small raster plotter (libpng) for DET curves and score histograms. */
#ifndef PM_CLI_PLOT_H
#define PM_CLI_PLOT_H

#include <stddef.h>

#include "perimeter/error.h"

typedef struct pm__plot_series {
    const char *name;
    const double *genuine;
    size_t ngenuine;
    const double *impostor;
    size_t nimpostor;
} pm__plot_series_t;

/* Draws DET curves (FNMR vs FMR, log-log) of every series and the score
 * distributions of the last one into a PNG at path. */
int pm__plot_det_png(const char *path, const pm__plot_series_t *series, int nseries, pm_error_t *err);

/* Draws a line chart with linear axes: nseries curves y[s][0..nx) over
 * x[0..nx), named names[s]; dashed[s] (may be NULL) draws curve s dashed. */
int pm__plot_lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                       const double *x, int nx, const double *const *y, const char *const *names,
                       const int *dashed, int nseries, pm_error_t *err);

/* The same with plain values on the y axis (ticks at 1, 2 or 5 times a power
 * of ten, no percent sign) and at most about 12 x labels: time series. */
int pm__plot_values_png(const char *path, const char *title, const char *xlabel,
                        const char *ylabel, const double *x, int nx, const double *const *y,
                        const char *const *names, int nseries, pm_error_t *err);

#endif
