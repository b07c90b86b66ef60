/* CLI helpers: finger views from templates or images. */
#include "cli/fingerprint_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "perimeter/core.h"
#include "perimeter/tmpl.h"

static const char *const view_exts[] = {"iso", "ist", "ansi", "pmt", "fmr",  "tif", "tiff",
                                        "png", "bmp", "pgm", "wsq", "jpg", "jp2"};

int pm__cli_find_view(const char *dir, const char *base, char *out_path, size_t out_size)
{
    struct stat st;
    for (size_t e = 0; e < sizeof view_exts / sizeof view_exts[0]; e++) {
        int n = snprintf(out_path, out_size, "%s/%s.%s", dir, base, view_exts[e]);
        if (n > 0 && (size_t)n < out_size && stat(out_path, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
    }
    return PM_ENOTFOUND;
}

#if __has_include("perimeter/fp.h")
#include <time.h>

#include "perimeter/fp.h"
#include "perimeter/image.h"

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The CLI is single-threaded: one extractor, made on first use and kept for
 * the life of the process. */
static pm_extractor_t *cli_extractor;

static int extract_image(const char *path, const void *exv, int resample_ppi, int declare_ppi,
                         float *out_period, pm_fingerprint_t *out, double *out_ms,
                         pm_error_t *err)
{
    int rc = 0;
    const pm_extractor_t *ex = exv;
    if (!ex && !cli_extractor && (rc = pm_extractor_create(&cli_extractor, err)) != 0)
        return rc;
    if (!ex)
        ex = cli_extractor;
    pm_image_t img = {0};
    if ((rc = pm_image_load(path, NULL, &img, err)) != 0)
        return pm_error_prefix(err, "%s", path), rc;
    if (resample_ppi > 0) {
        pm_image_t rs = {0};
        if (img.ppi <= 0)
            img.ppi = 500;
        rc = pm_image_resample(&img, resample_ppi, &rs, err);
        pm_image_free(&img);
        if (rc)
            return pm_error_prefix(err, "%s", path), rc;
        img = rs;
        img.ppi = 0; /* resolution unknown */
    }
    if (declare_ppi > 0)
        img.ppi = declare_ppi;
    uint64_t t0 = thread_cpu_ns();
    if (out_period) {
        pm_fp_maps_t maps;
        rc = pm_fp_extract_maps(ex, &img, out, &maps, err);
        *out_period = maps.median_period;
        pm_fp_maps_free(&maps);
    } else {
        rc = pm_fp_extract(ex, &img, out, err);
    }
    if (out_ms)
        *out_ms = (double)(thread_cpu_ns() - t0) / 1e6;
    pm_image_free(&img);
    if (rc)
        pm_error_prefix(err, "%s", path);
    return rc;
}
#else
static int extract_image(const char *path, const void *ex, int resample_ppi, int declare_ppi,
                         float *out_period, pm_fingerprint_t *out, double *out_ms,
                         pm_error_t *err)
{
    (void)ex;
    (void)resample_ppi;
    (void)declare_ppi;
    (void)out_period;
    (void)out;
    (void)out_ms;
    return pm_error_set(err, PM_EUNSUPPORTED,
                        "%s: not a minutiae template, and image extraction is not built yet", path);
}
#endif

int pm__cli_load_fingerprint(const char *path, pm_fingerprint_t *out, double *out_extract_ms,
                             pm_error_t *err)
{
    return pm__cli_load_fingerprint_with(path, NULL, out, out_extract_ms, err);
}

int pm__cli_load_fingerprint_with(const char *path, const void *ex, pm_fingerprint_t *out,
                                  double *out_extract_ms, pm_error_t *err)
{
    return pm__cli_load_fingerprint_resampled(path, ex, 0, out, out_extract_ms, err);
}

int pm__cli_load_fingerprint_resampled(const char *path, const void *ex, int resample_ppi,
                                       pm_fingerprint_t *out, double *out_extract_ms,
                                       pm_error_t *err)
{
    return pm__cli_load_fingerprint_declared(path, ex, resample_ppi, 0, out, out_extract_ms, err);
}

int pm__cli_image_period(const char *path, const void *ex, int resample_ppi, float *out_period,
                         pm_error_t *err)
{
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    if (!fp)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    *out_period = 0;
    int rc = extract_image(path, ex, resample_ppi, 0, out_period, fp, NULL, err);
    free(fp);
    return rc;
}

int pm__cli_load_fingerprint_declared(const char *path, const void *ex, int resample_ppi,
                                      int declare_ppi, pm_fingerprint_t *out,
                                      double *out_extract_ms, pm_error_t *err)
{
    if (out_extract_ms)
        *out_extract_ms = -1;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, (size_t)64 << 20, &data, &len, err);
    if (rc)
        return rc;
    pm_tmpl_format_t fmt = pm_tmpl_detect(data, len);
    if (fmt != PM_TMPL_UNKNOWN) {
        pm_fingerprint_t *views = NULL;
        size_t n = 0;
        rc = pm_tmpl_read(data, len, fmt, &views, &n, NULL, err);
        free(data);
        if (rc)
            return pm_error_prefix(err, "%s", path), rc;
        *out = views[0];
        free(views);
        return 0;
    }
    free(data);
    return extract_image(path, ex, resample_ppi, declare_ppi, NULL, out, out_extract_ms, err);
}
