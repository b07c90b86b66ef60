/* fp: gradients, orientation field, segmentation and ridge frequency.
 *
 * Orientation: least-squares estimate from Sobel gradient moments in a 3x3-cell
 * window (Kass & Witkin 1987; Bazen & Gerez 2002), the doubled-angle vectors
 * smoothed with a Gaussian over cells; coherence is the local quality.
 * Segmentation: cell gradient energy and coherence, then morphological
 * clean-up (majority filter, largest component, hole filling).
 * Frequency: Hong, Wan & Jain 1998 oriented windows (grey profile across the
 * ridges), made robust with hysteresis mean-crossings, then interpolated and
 * smoothed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fp/fp_internal.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Sobel gradient moments summed per cell. */
static void gradient_moments(fp_work_t *wk)
{
    const int pw = wk->pw, ph = wk->ph, bw = wk->bw;
    const float *im = wk->img;
    for (int y = 1; y < ph - 1; y++) {
        const float *r0 = im + (size_t)(y - 1) * pw, *r1 = im + (size_t)y * pw,
                    *r2 = im + (size_t)(y + 1) * pw;
        float *gxx = wk->gxx + (size_t)(y / FP_CELL) * bw;
        float *gyy = wk->gyy + (size_t)(y / FP_CELL) * bw;
        float *gxy = wk->gxy + (size_t)(y / FP_CELL) * bw;
        for (int cx = 0; cx < bw; cx++) {
            int x0 = cx * FP_CELL, x1 = x0 + FP_CELL;
            if (x0 < 1)
                x0 = 1;
            if (x1 > pw - 1)
                x1 = pw - 1;
            float sxx = 0, syy = 0, sxy = 0;
            for (int x = x0; x < x1; x++) {
                float gx = (r0[x + 1] + 2 * r1[x + 1] + r2[x + 1]) - (r0[x - 1] + 2 * r1[x - 1] + r2[x - 1]);
                float gy = (r2[x - 1] + 2 * r2[x] + r2[x + 1]) - (r0[x - 1] + 2 * r0[x] + r0[x + 1]);
                sxx += gx * gx;
                syy += gy * gy;
                sxy += gx * gy;
            }
            gxx[cx] += sxx;
            gyy[cx] += syy;
            gxy[cx] += sxy;
        }
    }
}

/* Separable [1 4 6 4 1]/16 smoothing of a bw x bh float map (edges clamped). */
static void smooth5(float *map, float *tmp, int bw, int bh)
{
    static const float g[5] = {1.f / 16, 4.f / 16, 6.f / 16, 4.f / 16, 1.f / 16};
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            float s = 0;
            for (int k = -2; k <= 2; k++)
                s += g[k + 2] * map[(size_t)y * bw + fp_clampi(x + k, 0, bw - 1)];
            tmp[(size_t)y * bw + x] = s;
        }
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            float s = 0;
            for (int k = -2; k <= 2; k++)
                s += g[k + 2] * tmp[(size_t)fp_clampi(y + k, 0, bh - 1) * bw + x];
            map[(size_t)y * bw + x] = s;
        }
}

static void orientation(fp_work_t *wk, float *a, float *b, float *tmp)
{
    const int bw = wk->bw, bh = wk->bh;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            float sxx = 0, syy = 0, sxy = 0;
            int n = 0;
            const int ow = 1;
            for (int dy = -ow; dy <= ow; dy++)
                for (int dx = -ow; dx <= ow; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= bw || yy >= bh)
                        continue;
                    size_t i = (size_t)yy * bw + xx;
                    sxx += wk->gxx[i];
                    syy += wk->gyy[i];
                    sxy += wk->gxy[i];
                    n++;
                }
            size_t i = (size_t)y * bw + x;
            a[i] = sxx - syy;
            b[i] = 2 * sxy;
            float e = sxx + syy;
            wk->energy[i] = e / (float)(n * FP_CELL * FP_CELL);
            wk->coh[i] = e > 1e-3f ? sqrtf(a[i] * a[i] + b[i] * b[i]) / e : 0.f;
        }
    /* three binomial passes: a Gaussian of ~1.7 blocks (14 px) */
    for (int pass = 0; pass < 3; pass++) {
        smooth5(a, tmp, bw, bh);
        smooth5(b, tmp, bw, bh);
    }
    for (size_t i = 0; i < (size_t)bw * bh; i++) {
        float t = 0.5f * atan2f(b[i], a[i]) + FP_PI / 2; /* gradient + 90 deg = ridge */
        if (t >= FP_PI)
            t -= FP_PI;
        if (t < 0)
            t += FP_PI;
        wk->orient[i] = t;
    }
}

/* 8-connected component labelling of value `fg` in a bw x bh byte map; returns
 * the number of components and fills lab (0 = not fg) and sizes[1..n]. */
static int label_cells(const uint8_t *m, uint8_t fg, int bw, int bh, int *lab, int *sizes,
                       int *stack)
{
    int n = 0;
    memset(lab, 0, sizeof(int) * (size_t)bw * bh);
    for (int s = 0; s < bw * bh; s++) {
        if (m[s] != fg || lab[s])
            continue;
        n++;
        sizes[n] = 0;
        int sp = 0;
        stack[sp++] = s;
        lab[s] = n;
        while (sp) {
            int p = stack[--sp];
            sizes[n]++;
            int px = p % bw, py = p / bw;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = px + dx, yy = py + dy;
                    if (xx < 0 || yy < 0 || xx >= bw || yy >= bh)
                        continue;
                    int q = yy * bw + xx;
                    if (m[q] == fg && !lab[q]) {
                        lab[q] = n;
                        stack[sp++] = q;
                    }
                }
        }
    }
    return n;
}

static void erode_cells(const uint8_t *in, uint8_t *out, int bw, int bh, int r)
{
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            uint8_t v = in[(size_t)y * bw + x];
            for (int dy = -r; dy <= r && v; dy++)
                for (int dx = -r; dx <= r && v; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= bw || yy >= bh || !in[(size_t)yy * bw + xx])
                        v = 0;
                }
            out[(size_t)y * bw + x] = v;
        }
}

static void dilate_cells(const uint8_t *in, uint8_t *out, int bw, int bh, int r)
{
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            uint8_t v = 0;
            for (int dy = -r; dy <= r && !v; dy++)
                for (int dx = -r; dx <= r && !v; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx >= 0 && yy >= 0 && xx < bw && yy < bh && in[(size_t)yy * bw + xx])
                        v = 1;
                }
            out[(size_t)y * bw + x] = v;
        }
}

static int segment(fp_work_t *wk, pm_error_t *err)
{
    const int bw = wk->bw, bh = wk->bh;
    const size_t n = (size_t)bw * bh;
    float *sorted = malloc(sizeof(float) * n);
    int *lab = malloc(sizeof(int) * n * 3 + sizeof(int) * 2);
    uint8_t *tmp = malloc(n);
    if (!sorted || !lab || !tmp) {
        free(sorted);
        free(lab);
        free(tmp);
        return pm_error_set(err, PM_ENOMEM, "out of memory for segmentation");
    }
    int *sizes = lab + n, *stack = lab + 2 * n;
    memcpy(sorted, wk->energy, sizeof(float) * n);
    qsort(sorted, n, sizeof(float), cmp_float);
    float p95 = sorted[(size_t)(0.95 * (double)(n - 1))];
    /* Below ~ (4 grey levels of ridge contrast)^2 there is nothing to extract. */
    float thr = 0.06f * p95;
    if (thr < 60.f)
        thr = 60.f;
    for (size_t i = 0; i < n; i++)
        wk->mask[i] = wk->energy[i] > thr && wk->coh[i] > 0.2f;
    /* majority filter, twice */
    for (int pass = 0; pass < 2; pass++) {
        for (int y = 0; y < bh; y++)
            for (int x = 0; x < bw; x++) {
                int c = 0, t = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx, yy = y + dy;
                        if (xx < 0 || yy < 0 || xx >= bw || yy >= bh)
                            continue;
                        t++;
                        c += wk->mask[(size_t)yy * bw + xx];
                    }
                tmp[(size_t)y * bw + x] = 2 * c > t;
            }
        memcpy(wk->mask, tmp, n);
    }
    /* keep the largest component */
    int nc = label_cells(wk->mask, 1, bw, bh, lab, sizes, stack);
    int best = 0;
    for (int c = 1; c <= nc; c++)
        if (!best || sizes[c] > sizes[best])
            best = c;
    for (size_t i = 0; i < n; i++)
        wk->mask[i] = best && lab[i] == best;
    /* fill holes: background components not touching the border */
    nc = label_cells(wk->mask, 0, bw, bh, lab, sizes, stack);
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++)
            if (y == 0 || x == 0 || y == bh - 1 || x == bw - 1) {
                int l = lab[(size_t)y * bw + x];
                if (l)
                    sizes[l] = -1;
            }
    for (size_t i = 0; i < n; i++)
        if (!wk->mask[i] && sizes[lab[i]] >= 0)
            wk->mask[i] = 1;
    /* smooth the outline: opening then closing with a 3x3 cell element */
    erode_cells(wk->mask, tmp, bw, bh, 1);
    dilate_cells(tmp, wk->mask, bw, bh, 1);
    dilate_cells(wk->mask, tmp, bw, bh, 1);
    erode_cells(tmp, wk->mask, bw, bh, 1);
    wk->mask_cells = 0;
    double cs = 0;
    for (size_t i = 0; i < n; i++)
        if (wk->mask[i]) {
            wk->mask_cells++;
            cs += wk->coh[i];
        }
    wk->mean_coh = wk->mask_cells ? cs / wk->mask_cells : 0;
    free(sorted);
    free(lab);
    free(tmp);
    /* ~ 60x60 pixels of print is the least worth extracting */
    if (wk->mask_cells >= 56 && wk->mean_coh < 0.3)
        return pm_error_set(err, PM_EEXTRACT,
                            "no ridge structure found (mean coherence %.2f, need 0.30)",
                            wk->mean_coh);
    if (wk->mask_cells < 56)
        return pm_error_set(err, PM_EEXTRACT,
                            "no fingerprint area found (%d usable 8x8 blocks, need 56; "
                            "blank, too small or too low contrast)",
                            wk->mask_cells);
    return PM_OK;
}

/* Ridge period at cell (cx, cy) from the grey profile across the ridges, or 0. */
static float cell_period(const fp_work_t *wk, int cx, int cy)
{
    /* 24 samples across (2-3 ridges): local enough to follow the print,
     * long enough for two crossings; measured best among 8..56 */
    enum { LMAX = 64, NA = 7 };
    const int L = 24;
    float s[LMAX];
    const float th = wk->orient[(size_t)cy * wk->bw + cx];
    const float tx = cosf(th), ty = sinf(th); /* along the ridge */
    const float nx = -ty, ny = tx;             /* across */
    const float ox = cx * FP_CELL + FP_CELL / 2.f, oy = cy * FP_CELL + FP_CELL / 2.f;
    float mean = 0;
    for (int k = 0; k < L; k++) {
        float acc = 0;
        float bx = ox + (k - L / 2) * nx, by = oy + (k - L / 2) * ny;
        for (int j = 0; j < NA; j++) {
            float d = (float)(2 * j - (NA - 1));
            int x = (int)(bx + d * tx + 0.5f), y = (int)(by + d * ty + 0.5f);
            x = fp_clampi(x, 0, wk->pw - 1);
            y = fp_clampi(y, 0, wk->ph - 1);
            acc += wk->img[(size_t)y * wk->pw + x];
        }
        s[k] = acc / NA;
        mean += s[k];
    }
    mean /= L;
    /* light smoothing */
    float t[LMAX];
    for (int k = 0; k < L; k++)
        t[k] = 0.25f * s[k > 0 ? k - 1 : 0] + 0.5f * s[k] + 0.25f * s[k < L - 1 ? k + 1 : L - 1];
    float var = 0;
    for (int k = 0; k < L; k++)
        var += (t[k] - mean) * (t[k] - mean);
    float sd = sqrtf(var / L);
    if (sd < 2.f)
        return 0;
    const float hyst = 0.2f * sd;
    /* upward crossings of the mean with hysteresis, at interpolated positions */
    int state = t[0] > mean ? 1 : -1;
    float first = -1, last = -1;
    int ncross = 0;
    for (int k = 1; k < L; k++) {
        if (state < 0 && t[k] > mean + hyst) {
            /* find where it crossed the mean, searching back */
            int j = k;
            while (j > 0 && t[j - 1] > mean)
                j--;
            float pos = (float)j;
            if (j > 0) {
                float a = t[j - 1] - mean, b = t[j] - mean;
                pos = (float)(j - 1) + (-a) / (b - a);
            }
            if (ncross == 0)
                first = pos;
            last = pos;
            ncross++;
            state = 1;
        } else if (state > 0 && t[k] < mean - hyst) {
            state = -1;
        }
    }
    if (ncross < 2)
        return 0;
    float p = (last - first) / (float)(ncross - 1);
    if (p < 3.5f || p > 20.f)
        return 0;
    return p;
}

static void frequency(fp_work_t *wk, float *tmp)
{
    const int bw = wk->bw, bh = wk->bh;
    const size_t n = (size_t)bw * bh;
    int nvalid = 0;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            size_t i = (size_t)y * bw + x;
            wk->period[i] = wk->mask[i] ? cell_period(wk, x, y) : 0.f;
            if (wk->period[i] > 0)
                tmp[nvalid++] = wk->period[i];
        }
    float median = 9.f;
    if (nvalid) {
        qsort(tmp, (size_t)nvalid, sizeof(float), cmp_float);
        median = tmp[nvalid / 2];
    }
    /* reject outliers against the print's median, then fill and smooth */
    for (size_t i = 0; i < n; i++)
        if (wk->period[i] > 0 && (wk->period[i] < 0.6f * median || wk->period[i] > 1.6f * median))
            wk->period[i] = 0;
    for (int pass = 0; pass < 6; pass++) {
        int changed = 0;
        memcpy(tmp, wk->period, sizeof(float) * n);
        for (int y = 0; y < bh; y++)
            for (int x = 0; x < bw; x++) {
                size_t i = (size_t)y * bw + x;
                if (!wk->mask[i] || wk->period[i] > 0)
                    continue;
                float s = 0;
                int c = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx, yy = y + dy;
                        if (xx < 0 || yy < 0 || xx >= bw || yy >= bh)
                            continue;
                        float v = wk->period[(size_t)yy * bw + xx];
                        if (v > 0) {
                            s += v;
                            c++;
                        }
                    }
                if (c) {
                    tmp[i] = s / c;
                    changed = 1;
                }
            }
        memcpy(wk->period, tmp, sizeof(float) * n);
        if (!changed)
            break;
    }
    /* smooth: 5x5 mean over valid cells */
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            size_t i = (size_t)y * bw + x;
            if (!wk->mask[i]) {
                tmp[i] = 0;
                continue;
            }
            float s = 0;
            int c = 0;
            const int fr = 3;
            for (int dy = -fr; dy <= fr; dy++)
                for (int dx = -fr; dx <= fr; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= bw || yy >= bh)
                        continue;
                    float v = wk->period[(size_t)yy * bw + xx];
                    if (v > 0) {
                        s += v;
                        c++;
                    }
                }
            tmp[i] = c ? s / c : median;
        }
    memcpy(wk->period, tmp, sizeof(float) * n);
}

int pm__fp_field(fp_work_t *wk, pm_error_t *err)
{
    const size_t n = (size_t)wk->bw * wk->bh;
    float *scratch = malloc(sizeof(float) * n * 3);
    if (!scratch)
        return pm_error_set(err, PM_ENOMEM, "out of memory for the orientation field");
    gradient_moments(wk);
    orientation(wk, scratch, scratch + n, scratch + 2 * n);
    int rc = segment(wk, err);
    if (rc == PM_OK)
        frequency(wk, scratch);
    free(scratch);
    return rc;
}
