/* Resampling with a separable Lanczos-3 filter.
 *
 * Each output pixel centre x' maps to the input position
 * c = (x' + 0.5) * in / out - 0.5. The kernel is
 * L(t) = sinc(t) sinc(t / 3) for |t| < 3, stretched by in/out when shrinking
 * (so it also low-pass filters and does not alias) and left at unit width
 * when enlarging. Weights are normalised to sum to one per output pixel, and
 * samples beyond the border repeat the edge pixel. Rows are filtered first
 * into a float buffer, then columns; the result is rounded and clamped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

#define LANCZOS_A 3.0

struct taps {
    int *first;   /* first input index of each output sample (may be < 0) */
    int count;    /* taps per output sample (the same for all) */
    float *weight; /* out_n * count weights */
};

static double lanczos(double t)
{
    t = fabs(t);
    if (t < 1e-9)
        return 1.0;
    if (t >= LANCZOS_A)
        return 0.0;
    double pt = M_PI * t;
    return LANCZOS_A * sin(pt) * sin(pt / LANCZOS_A) / (pt * pt);
}

static void taps_free(struct taps *t)
{
    free(t->first);
    free(t->weight);
}

static int taps_make(int in_n, int out_n, struct taps *t)
{
    double ratio = (double)in_n / (double)out_n; /* input pixels per output pixel */
    double stretch = ratio > 1.0 ? ratio : 1.0;
    double support = LANCZOS_A * stretch;
    t->count = (int)ceil(2.0 * support) + 1;
    t->first = malloc((size_t)out_n * sizeof *t->first);
    t->weight = malloc((size_t)out_n * (size_t)t->count * sizeof *t->weight);
    if (!t->first || !t->weight) {
        taps_free(t);
        return PM_ENOMEM;
    }
    for (int o = 0; o < out_n; o++) {
        double centre = ((double)o + 0.5) * ratio - 0.5;
        int first = (int)floor(centre - support) + 1;
        float *w = t->weight + (size_t)o * (size_t)t->count;
        double sum = 0;
        for (int k = 0; k < t->count; k++) {
            double v = lanczos(((double)(first + k) - centre) / stretch);
            w[k] = (float)v;
            sum += v;
        }
        for (int k = 0; k < t->count; k++)
            w[k] = (float)(w[k] / sum);
        t->first[o] = first;
    }
    return PM_OK;
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int pm_image_resize(const pm_image_t *in, int width, int height, int ppi, pm_image_t *out,
                    pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (!in || !in->pixels || in->width <= 0 || in->height <= 0)
        return pm_error_set(err, PM_EINVAL, "resize: no input image");
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return pm_error_set(err, PM_ELIMIT, "resize: output size %dx%d out of range", width,
                            height);
    int rc = pm_image_alloc(out, width, height, ppi, err);
    if (rc)
        return rc;
    out->format = in->format;
    if (width == in->width && height == in->height) {
        memcpy(out->pixels, in->pixels, (size_t)width * (size_t)height);
        return PM_OK;
    }
    struct taps tx = {0}, ty = {0};
    float *tmp = malloc((size_t)in->height * (size_t)width * sizeof *tmp);
    if (!tmp || taps_make(in->width, width, &tx) || taps_make(in->height, height, &ty)) {
        free(tmp);
        taps_free(&tx);
        taps_free(&ty);
        pm_image_free(out);
        return pm_error_set(err, PM_ENOMEM, "resize: out of memory");
    }
    /* Rows: in->height x in->width -> in->height x width. */
    for (int y = 0; y < in->height; y++) {
        const uint8_t *src = in->pixels + (size_t)y * (size_t)in->width;
        float *dst = tmp + (size_t)y * (size_t)width;
        for (int x = 0; x < width; x++) {
            const float *w = tx.weight + (size_t)x * (size_t)tx.count;
            int first = tx.first[x];
            float acc = 0;
            if (first >= 0 && first + tx.count <= in->width) {
                for (int k = 0; k < tx.count; k++)
                    acc += w[k] * (float)src[first + k];
            } else {
                for (int k = 0; k < tx.count; k++)
                    acc += w[k] * (float)src[clampi(first + k, 0, in->width - 1)];
            }
            dst[x] = acc;
        }
    }
    /* Columns: in->height x width -> height x width, accumulated row-wise. */
    float *acc = calloc((size_t)width, sizeof *acc);
    if (!acc) {
        free(tmp);
        taps_free(&tx);
        taps_free(&ty);
        pm_image_free(out);
        return pm_error_set(err, PM_ENOMEM, "resize: out of memory");
    }
    for (int y = 0; y < height; y++) {
        const float *w = ty.weight + (size_t)y * (size_t)ty.count;
        memset(acc, 0, (size_t)width * sizeof *acc);
        for (int k = 0; k < ty.count; k++) {
            const float *src =
                tmp + (size_t)clampi(ty.first[y] + k, 0, in->height - 1) * (size_t)width;
            float wk = w[k];
            if (wk == 0.0f)
                continue;
            for (int x = 0; x < width; x++)
                acc[x] += wk * src[x];
        }
        uint8_t *dst = out->pixels + (size_t)y * (size_t)width;
        for (int x = 0; x < width; x++) {
            float v = acc[x] + 0.5f;
            dst[x] = (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : (int)v);
        }
    }
    free(acc);
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    return PM_OK;
}

int pm_image_resample(const pm_image_t *in, int target_ppi, pm_image_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (!in || !in->pixels)
        return pm_error_set(err, PM_EINVAL, "resample: no input image");
    if (in->ppi <= 0)
        return pm_error_set(err, PM_EINVAL, "resample: the source resolution is unknown");
    if (target_ppi < 50 || target_ppi > 10000)
        return pm_error_set(err, PM_EINVAL, "resample: target %d ppi out of range 50..10000",
                            target_ppi);
    double scale = (double)target_ppi / (double)in->ppi;
    double w = floor((double)in->width * scale + 0.5);
    double h = floor((double)in->height * scale + 0.5);
    if (w > 65535 || h > 65535)
        return pm_error_set(err, PM_ELIMIT, "resample: %dx%d at %d ppi would be %.0fx%.0f",
                            in->width, in->height, in->ppi, w, h);
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    return pm_image_resize(in, (int)w, (int)h, target_ppi, out, err);
}
