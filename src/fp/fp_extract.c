/* fp: the extractor context and the extraction pipeline. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fp/fp_internal.h"
#include "perimeter/core.h"

void pm_fp_params_default(pm_fp_params_t *p)
{
    p->border_margin = 8.f;
    p->estimate_ppi = 0;
    /* the inter-ridge distance of adult fingers is about 0.45-0.5 mm, ~9 px
     * at 500 ppi (Maltoni et al., Handbook of Fingerprint Recognition): a
     * literature value, not fitted to the FVC sets */
    p->ridge_period = 9.f;
    p->ppi_tolerance = 0.15f;
}

int pm_extractor_create(pm_extractor_t **out, pm_error_t *err)
{
    return pm_extractor_create_with(NULL, out, err);
}

int pm_extractor_create_with(const pm_fp_params_t *params, pm_extractor_t **out, pm_error_t *err)
{
    *out = NULL;
    pm_fp_params_t p;
    pm_fp_params_default(&p);
    if (params) {
        if (!(params->border_margin >= 0.f && params->border_margin <= 64.f))
            return pm_error_set(err, PM_EINVAL, "border margin %.1f outside 0..64 pixels",
                                (double)params->border_margin);
        if (params->estimate_ppi && !(params->ridge_period >= 5.f && params->ridge_period <= 15.f))
            return pm_error_set(err, PM_EINVAL, "ridge period %.1f outside 5..15 pixels",
                                (double)params->ridge_period);
        if (params->estimate_ppi && !(params->ppi_tolerance >= 0.f && params->ppi_tolerance <= 0.5f))
            return pm_error_set(err, PM_EINVAL, "resolution tolerance %.2f outside 0..0.5",
                                (double)params->ppi_tolerance);
        p = *params;
    }
    pm_extractor_t *ex = calloc(1, sizeof *ex);
    if (!ex)
        return pm_error_set(err, PM_ENOMEM, "out of memory for the extractor");
    if (pm__fp_bank_init(ex) != PM_OK) {
        free(ex);
        return pm_error_set(err, PM_ENOMEM, "out of memory for the Gabor filter bank");
    }
    ex->params = p;
    *out = ex;
    return PM_OK;
}

void pm_extractor_free(pm_extractor_t *ex)
{
    if (!ex)
        return;
    free(ex->kernel_store);
    free(ex);
}

void pm_fp_maps_free(pm_fp_maps_t *maps)
{
    if (!maps)
        return;
    free(maps->orientation);
    free(maps->coherence);
    free(maps->period);
    free(maps->mask);
    free(maps->enhanced);
    free(maps->binary);
    free(maps->skeleton);
    memset(maps, 0, sizeof *maps);
}

/* Copies the (500 ppi) grey image into wk->img, replicating the last row and
 * column into the padding up to whole cells. */
static void load_grey(fp_work_t *wk, const pm_image_t *img)
{
    for (int y = 0; y < wk->ph; y++) {
        const uint8_t *src = img->pixels + (size_t)(y < img->height ? y : img->height - 1) * img->width;
        float *dst = wk->img + (size_t)y * wk->pw;
        for (int x = 0; x < img->width; x++)
            dst[x] = src[x];
        for (int x = img->width; x < wk->pw; x++)
            dst[x] = src[img->width - 1];
    }
}

static void work_free(fp_work_t *wk)
{
    free(wk->img);
    free(wk->gxx);
    free(wk->mask);
    free(wk->enh);
    free(wk->bin);
}

static int work_alloc(fp_work_t *wk)
{
    const size_t nc = (size_t)wk->bw * wk->bh, np = (size_t)wk->pw * wk->ph;
    wk->img = malloc(sizeof(float) * np);
    wk->gxx = calloc(nc * 7, sizeof(float));
    wk->mask = calloc(nc, 1);
    wk->enh = malloc(sizeof(float) * np);
    wk->bin = calloc(np * 2, 1);
    if (!wk->img || !wk->gxx || !wk->mask || !wk->enh || !wk->bin)
        return PM_ENOMEM;
    wk->gyy = wk->gxx + nc;
    wk->gxy = wk->gxx + 2 * nc;
    wk->orient = wk->gxx + 3 * nc;
    wk->coh = wk->gxx + 4 * nc;
    wk->energy = wk->gxx + 5 * nc;
    wk->period = wk->gxx + 6 * nc;
    wk->skel = wk->bin + np;
    return PM_OK;
}

/* Copies the maps of a finished (or failed) extraction into *maps. */
static int export_maps(const fp_work_t *wk, int stage, pm_fp_maps_t *maps, double scale)
{
    const size_t nc = (size_t)wk->bw * wk->bh, np = (size_t)wk->w * wk->h;
    maps->width = wk->w;
    maps->height = wk->h;
    maps->scale = scale;
    maps->cell = FP_CELL;
    maps->bw = wk->bw;
    maps->bh = wk->bh;
    maps->orientation = malloc(sizeof(float) * nc);
    maps->coherence = malloc(sizeof(float) * nc);
    maps->period = malloc(sizeof(float) * nc);
    maps->mask = malloc(nc);
    maps->enhanced = calloc(np, 1);
    maps->binary = calloc(np, 1);
    maps->skeleton = calloc(np, 1);
    if (!maps->orientation || !maps->coherence || !maps->period || !maps->mask ||
        !maps->enhanced || !maps->binary || !maps->skeleton)
        return PM_ENOMEM;
    memcpy(maps->orientation, wk->orient, sizeof(float) * nc);
    memcpy(maps->coherence, wk->coh, sizeof(float) * nc);
    memcpy(maps->mask, wk->mask, nc);
    for (size_t i = 0; i < nc; i++)
        maps->period[i] = wk->mask[i] ? wk->period[i] : 0.f;
    for (int y = 0; y < wk->h; y++)
        for (int x = 0; x < wk->w; x++) {
            size_t i = (size_t)y * wk->pw + x, o = (size_t)y * wk->w + x;
            if (stage > PM_FP_STAGE_ENHANCE) {
                float v = 128.f + 100.f * wk->enh[i] / wk->enh_scale;
                maps->enhanced[o] = (uint8_t)fp_clampf(v, 0.f, 255.f);
            } else {
                maps->enhanced[o] = (uint8_t)fp_clampf(wk->img[i], 0.f, 255.f);
            }
            if (stage > PM_FP_STAGE_SKELETON) {
                maps->binary[o] = wk->bin[i];
                maps->skeleton[o] = wk->skel[i];
            }
        }
    return PM_OK;
}

/* Overall print quality 0..100 from the usable area, ridge-flow clarity and
 * minutiae count, each saturating late (120,000 px, coherence 0.85, 60
 * minutiae) so the score spreads; on FVC2002 its Spearman correlation with
 * the image's mean genuine score is 0.68. */
static int print_quality(const fp_work_t *wk, size_t count)
{
    double area = (double)wk->mask_cells * FP_CELL * FP_CELL;
    double fa = fmin(1.0, area / 120000.0);
    double fc = fmin(1.0, fmax(0.0, (wk->mean_coh - 0.15) / 0.7));
    double fm = fmin(1.0, (double)count / 60.0);
    double q = 100.0 * pow(fc, 0.8) * sqrt(fa) * fm;
    return fp_clampi((int)lrint(q), 0, 100);
}

/* Median ridge period over the print area's cells (0 when none). */
static float median_period(const fp_work_t *wk)
{
    size_t nc = (size_t)wk->bw * wk->bh;
    int hist[FP_PMAX * 4 + 1] = {0}, n = 0;
    for (size_t i = 0; i < nc; i++) {
        if (!wk->mask[i])
            continue;
        float p = wk->period[i];
        if (!(p >= FP_PMIN && p <= FP_PMAX))
            continue;
        hist[(int)lrintf(p * 4)]++;
        n++;
    }
    for (int b = 0, acc = 0; b <= FP_PMAX * 4; b++) {
        acc += hist[b];
        if (n > 0 && 2 * acc >= n)
            return b / 4.f;
    }
    return 0.f;
}

/* The nearest common sensor resolution: a print's own ridge spacing varies
 * by +-10% between people, a sensor's resolution does not, so snapping
 * removes most of that noise for sensors at these resolutions. */
static int snap_ppi(double raw_est)
{
    static const int common[] = {250, 300, 400, 500, 600, 700, 800, 1000};
    int est = common[0];
    for (size_t c = 1; c < sizeof common / sizeof common[0]; c++)
        if (fabs(common[c] - raw_est) < fabs(est - raw_est))
            est = common[c];
    return est;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The median of the usable periods (FP_PMIN..FP_PMAX) of periods[0..n). */
static int median_of_periods(const float *periods, size_t n, const char *fn, float *out,
                         pm_error_t *err)
{
    if (!periods || !out || n == 0)
        return pm_error_set(err, PM_EINVAL, "%s: no periods given", fn);
    if (n > 1000000)
        return pm_error_set(err, PM_ELIMIT, "%s: %zu periods (max 1000000)", fn, n);
    float *v = malloc(n * sizeof *v);
    if (!v)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (periods[i] >= FP_PMIN && periods[i] <= FP_PMAX)
            v[k++] = periods[i];
    if (k == 0) {
        free(v);
        return pm_error_set(err, PM_EINVAL, "%s: no usable ridge period", fn);
    }
    qsort(v, k, sizeof *v, cmp_float);
    *out = v[k / 2];
    free(v);
    return 0;
}

int pm_fp_reference_period(const float *periods, size_t n, float *out_period, pm_error_t *err)
{
    return median_of_periods(periods, n, "pm_fp_reference_period", out_period, err);
}

int pm_fp_sensor_ppi(const float *periods, size_t n, int declared_ppi,
                     const pm_fp_params_t *params, int *out_ppi, pm_error_t *err)
{
    if (!periods || !out_ppi || n == 0)
        return pm_error_set(err, PM_EINVAL, "pm_fp_sensor_ppi: no periods given");
    if (n > 1000000)
        return pm_error_set(err, PM_ELIMIT, "pm_fp_sensor_ppi: %zu periods (max 1000000)", n);
    pm_fp_params_t p;
    pm_fp_params_default(&p);
    if (params)
        p = *params;
    if (!(p.ridge_period >= 5.f && p.ridge_period <= 15.f) ||
        !(p.ppi_tolerance >= 0.f && p.ppi_tolerance <= 0.5f))
        return pm_error_set(err, PM_EINVAL, "pm_fp_sensor_ppi: ridge period or tolerance out of range");
    const int ppi = declared_ppi > 0 ? declared_ppi : PM_FP_PPI;
    float med = 0;
    int rc = median_of_periods(periods, n, "pm_fp_sensor_ppi", &med, err);
    if (rc)
        return rc;
    *out_ppi = fabsf(med / p.ridge_period - 1.f) > p.ppi_tolerance
                   ? snap_ppi(ppi * (double)med / p.ridge_period)
                   : ppi;
    return 0;
}

static int extract(const pm_extractor_t *ex, const pm_image_t *img, pm_fingerprint_t *out,
                   pm_fp_maps_t *maps, int may_estimate, pm_error_t *err);

int pm_fp_extract_maps(const pm_extractor_t *ex, const pm_image_t *img, pm_fingerprint_t *out,
                       pm_fp_maps_t *maps, pm_error_t *err)
{
    return extract(ex, img, out, maps, 1, err);
}

static int extract(const pm_extractor_t *ex, const pm_image_t *img, pm_fingerprint_t *out,
                   pm_fp_maps_t *maps, int may_estimate, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (maps)
        memset(maps, 0, sizeof *maps);
    if (!ex || !img || !img->pixels || img->width <= 0 || img->height <= 0)
        return pm_error_set(err, PM_EINVAL, "no image given");
    if (img->width > 4096 || img->height > 4096)
        return pm_error_set(err, PM_ELIMIT, "image %dx%d larger than 4096x4096", img->width,
                            img->height);
    const int ppi = img->ppi > 0 ? img->ppi : PM_FP_PPI;
    if (ppi < 100 || ppi > 4000)
        return pm_error_set(err, PM_EINVAL, "image resolution %d ppi out of range 100..4000", ppi);
    const double scale = abs(ppi - PM_FP_PPI) <= 5 ? 1.0 : (double)PM_FP_PPI / ppi;
    if (img->width < 32 || img->height < 32)
        return pm_error_set(err, PM_EEXTRACT, "image %dx%d too small to hold a fingerprint",
                            img->width, img->height);
    fp_work_t wk;
    memset(&wk, 0, sizeof wk);
    wk.ex = ex;
    uint64_t t0 = pm_now_ns();
    pm_image_t scaled = {0};
    const pm_image_t *src = img;
    if (scale != 1.0) {
        pm_image_t tmp = *img;
        tmp.ppi = ppi;
        int rs = pm_image_resample(&tmp, PM_FP_PPI, &scaled, err);
        if (rs != PM_OK)
            return rs;
        src = &scaled;
    }
    wk.w = src->width;
    wk.h = src->height;
    wk.bw = (wk.w + FP_CELL - 1) / FP_CELL;
    wk.bh = (wk.h + FP_CELL - 1) / FP_CELL;
    wk.pw = wk.bw * FP_CELL;
    wk.ph = wk.bh * FP_CELL;
    int rc = PM_OK, stage = PM_FP_STAGE_PREPARE;
    double ms[PM_FP_STAGE_COUNT] = {0};
    if (work_alloc(&wk) != PM_OK) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for a %dx%d image", wk.w, wk.h);
        goto done;
    }
    load_grey(&wk, src);
    uint64_t t1 = pm_now_ns();
    ms[stage] = (double)(t1 - t0) / 1e6;
    stage = PM_FP_STAGE_FIELD;
    if ((rc = pm__fp_field(&wk, err)) != PM_OK)
        goto done;
    const float med = median_period(&wk);
    if (maps)
        maps->median_period = med;
    if (may_estimate && ex->params.estimate_ppi && med > 0 &&
        fabsf(med / ex->params.ridge_period - 1.f) > ex->params.ppi_tolerance) {
        /* the ridges say another resolution: extract again at it */
        int est = snap_ppi(ppi * (double)med / ex->params.ridge_period);
        if (est == ppi)
            goto field_done;
        work_free(&wk);
        pm_image_free(&scaled);
        pm_image_t again = *img;
        again.ppi = est;
        return extract(ex, &again, out, maps, 0, err);
    }
field_done:
    t0 = pm_now_ns();
    ms[stage] = (double)(t0 - t1) / 1e6;
    stage = PM_FP_STAGE_ENHANCE;
    if ((rc = pm__fp_enhance(&wk, err)) != PM_OK)
        goto done;
    t1 = pm_now_ns();
    ms[stage] = (double)(t1 - t0) / 1e6;
    stage = PM_FP_STAGE_SKELETON;
    if ((rc = pm__fp_skeleton(&wk, err)) != PM_OK)
        goto done;
    t0 = pm_now_ns();
    ms[stage] = (double)(t0 - t1) / 1e6;
    stage = PM_FP_STAGE_MINUTIAE;
    if ((rc = pm__fp_minutiae(&wk, out, err)) != PM_OK)
        goto done;
    t1 = pm_now_ns();
    ms[stage] = (double)(t1 - t0) / 1e6;
    stage = PM_FP_STAGE_COUNT;
    if (out->count == 0) {
        rc = pm_error_set(err, PM_EEXTRACT, "no minutiae found in the fingerprint area");
        goto done;
    }
    out->width = img->width;
    out->height = img->height;
    out->ppi = ppi;
    out->quality = print_quality(&wk, out->count);
    if (scale != 1.0)
        for (size_t i = 0; i < out->count; i++) {
            out->minutiae[i].x = (float)(out->minutiae[i].x * img->width / (double)wk.w);
            out->minutiae[i].y = (float)(out->minutiae[i].y * img->height / (double)wk.h);
        }
done:
    if (maps && wk.img) {
        memcpy(maps->stage_ms, ms, sizeof ms);
        if (export_maps(&wk, stage, maps, scale) != PM_OK && rc == PM_OK)
            rc = pm_error_set(err, PM_ENOMEM, "out of memory for the extraction maps");
    }
    work_free(&wk);
    pm_image_free(&scaled);
    if (rc != PM_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int pm_fp_extract(const pm_extractor_t *ex, const pm_image_t *img, pm_fingerprint_t *out,
                  pm_error_t *err)
{
    return pm_fp_extract_maps(ex, img, out, NULL, err);
}
