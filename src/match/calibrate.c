/* Raw similarity -> calibrated score -10*log10(FMR). The knots below are
 * fitted constants (docs/match.md "Calibration"); regenerate them with
 *   perimeter eval fvc DIR --fit-calibration
 * which fits the impostor distribution of every DBn_B set of DIR with
 * pm_match_calibration_fit (below; conservative by default) and prints this
 * table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/match.h"

typedef struct knot {
    double raw;
    double score;
} knot_t;

/* Fitted on 23040 impostor comparisons (all cross-finger pairs of FVC2002 DB1-4 B,
 * once with our extraction (fp at issue 14's refined print edge) and once with the
 * vendor ISO templates: 8 sets of 2880; matcher with the default options of
 * issue 14's second part: local consolidation 120 px, quality weight 1), bound
 * (PM_MATCH_CAL_BOUND): each set alone gives a raw threshold per FMR level, the
 * empirical quantile while 25 impostors lie above it, beyond that its own
 * exponential tail fitted by least squares on its top 5% and turned to the upper
 * 95% confidence bound of its decay; every knot takes the highest threshold of
 * the 8 sets, so the claim holds for the worst sensor/extractor seen. The set
 * deciding the far tail: log10(FMR) = -0.48331 - 0.65824 raw. Held-out check
 * (fitted on 3 DBs, measured on the 4th): docs/match.md "Held-out evaluation".
 */
static const knot_t knots[] = {
    {0.0000, 0.0000},
    {0.5282, 3.0103},
    {1.0178, 6.9897},
    {1.2871, 10.0000},
    {1.6089, 13.0103},
    {2.0867, 18.0103},
    {2.7615, 23.0103},
    {3.5211, 28.0103},
    {4.2807, 33.0103},
    {5.0403, 38.0103},
    {5.7999, 43.0103},
    {6.5595, 48.0103},
    {7.3191, 53.0103},
    {8.0787, 58.0103},
    {8.8383, 63.0103},
    {9.5979, 68.0103},
};

/* Piecewise-linear map through n knots (raw strictly increasing from 0). */
static double map_knots(const double *kr, const double *ks, int n, double raw)
{
    if (!(raw > kr[0]))
        return 0.0;
    for (int i = 1; i < n; i++)
        if (raw <= kr[i]) {
            double f = (raw - kr[i - 1]) / (kr[i] - kr[i - 1]);
            return ks[i - 1] + f * (ks[i] - ks[i - 1]);
        }
    /* Beyond the last knot (FMR 1e-7) no data can support the fit: the score
     * keeps growing (it still orders strong matches) but logarithmically,
     * starting with the last segment's slope. */
    double slope = (ks[n - 1] - ks[n - 2]) / (kr[n - 1] - kr[n - 2]);
    const double k = 10.0 / log(10.0);
    return ks[n - 1] + k * log1p(slope * (raw - kr[n - 1]) / k);
}

double pm_match_calibrate(double raw)
{
    enum { N = (int)(sizeof knots / sizeof knots[0]) };
    double kr[N], ks[N];
    for (int i = 0; i < N; i++) {
        kr[i] = knots[i].raw;
        ks[i] = knots[i].score;
    }
    return map_knots(kr, ks, N, raw);
}

double pm_match_calibrate_with(const pm_match_calibration_t *cal, double raw)
{
    if (!cal || cal->nknots < 2)
        return pm_match_calibrate(raw);
    return map_knots(cal->raw, cal->score, cal->nknots, raw);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* One-sided 95% normal quantile: the bound PM_MATCH_CAL_BOUND puts on each
 * set's tail (a textbook constant, not tuned on any data). */
#define TAIL_BOUND_Z 1.645

/* Least-squares line log10(FMR) = icpt + slope * raw through the top 5% of
 * sorted scores s[0..n) (FMR of s[i] = share of scores >= it). With bound,
 * the line is then turned about its start (the top 5% threshold) to the
 * upper confidence bound of an exponential tail of the m points it was
 * fitted on: the decay rate of m exceedances is known to a relative standard
 * error of 1/sqrt(m), so the slope is taken z standard errors shallower,
 * slope * (1 - z / sqrt(m)) (about 14% for m = 144, one set of 2,880): the
 * extrapolated thresholds rise the further they lie beyond the data. */
static void tail_fit(const double *s, size_t n, int bound, double *icpt, double *slope)
{
    size_t t0 = n - n / 20;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
    for (size_t i = t0; i < n; i++) {
        double y = log10((double)(n - i) / (double)n);
        sx += s[i];
        sy += y;
        sxx += s[i] * s[i];
        sxy += s[i] * y;
        m++;
    }
    double den = m * sxx - sx * sx;
    *slope = den > 0 ? (m * sxy - sx * sy) / den : -1.0;
    if (!(*slope < -1e-3)) /* a flat or rising tail cannot be extrapolated */
        *slope = -1e-3;
    *icpt = (sy - *slope * sx) / m;
    if (bound && m > 0) {
        double u = s[t0], yu = *icpt + *slope * u;
        double f = 1.0 - TAIL_BOUND_Z / sqrt(m);
        *slope *= f > 0.5 ? f : 0.5; /* a handful of points: at most halved */
        *icpt = yu - *slope * u;
    }
}

/* Raw threshold at FMR level q for one sorted set: the empirical quantile
 * while at least min_above scores lie above it, the tail line beyond. */
static double level_raw(const double *s, size_t n, double q, double min_above, double icpt,
                        double slope)
{
    if (q * (double)n >= min_above) {
        size_t idx = (size_t)((1.0 - q) * (double)n);
        return s[idx < n ? idx : n - 1];
    }
    return (log10(q) - icpt) / slope;
}

int pm_match_calibration_fit(const double *const *raw, const size_t *n, int nsets,
                             pm_match_cal_method_t method, pm_match_calibration_t *out,
                             pm_error_t *err)
{
    if (!raw || !n || !out || nsets < 1)
        return pm_error_set(err, PM_EINVAL, "calibration fit: no score sets");
    size_t total = 0;
    for (int k = 0; k < nsets; k++) {
        if (!raw[k] || n[k] < 100)
            return pm_error_set(err, PM_EINVAL, "calibration fit: set %d holds %zu scores (need 100)",
                                k, raw[k] ? n[k] : 0);
        total += n[k];
    }
    /* the pooled method is one set made of all; the conservative one keeps
     * the sets apart */
    int ngroups = method == PM_MATCH_CAL_POOLED ? 1 : nsets;
    double *buf = malloc(total * sizeof *buf);
    if (!buf)
        return pm_error_set(err, PM_ENOMEM, "calibration fit: out of memory");
    double *start[PM_MATCH_CV_MAX_SETS + 1];
    size_t len[PM_MATCH_CV_MAX_SETS + 1];
    if (ngroups > PM_MATCH_CV_MAX_SETS) {
        free(buf);
        return pm_error_set(err, PM_EINVAL, "calibration fit: more than %d sets",
                            PM_MATCH_CV_MAX_SETS);
    }
    size_t at = 0;
    for (int k = 0; k < nsets; k++) {
        memcpy(buf + at, raw[k], n[k] * sizeof *buf);
        if (ngroups > 1) {
            start[k] = buf + at;
            len[k] = n[k];
        }
        at += n[k];
    }
    if (ngroups == 1) {
        start[0] = buf;
        len[0] = total;
    }
    double icpt[PM_MATCH_CV_MAX_SETS + 1], slope[PM_MATCH_CV_MAX_SETS + 1];
    for (int g = 0; g < ngroups; g++) {
        qsort(start[g], len[g], sizeof *buf, cmp_double);
        tail_fit(start[g], len[g], method == PM_MATCH_CAL_BOUND, &icpt[g], &slope[g]);
    }
    /* pooled: empirical only in the body (FMR >= 10%), as the built-in table;
     * conservative: empirical while 25 scores lie above the level */
    memset(out, 0, sizeof *out);
    out->raw[0] = 0;
    out->score[0] = 0;
    out->nknots = 1;
    out->tail_icpt = icpt[0];
    out->tail_slope = slope[0];
    double levels[PM_MATCH_CAL_MAX_KNOTS];
    int nl = 0;
    levels[nl++] = 0.5;
    levels[nl++] = 0.2;
    levels[nl++] = 0.1;
    for (double e = log10(0.05); e >= -7.0001 && nl < PM_MATCH_CAL_MAX_KNOTS - 1; e -= 0.5)
        levels[nl++] = pow(10.0, e);
    double worst_at_last = -INFINITY;
    for (int l = 0; l < nl; l++) {
        double q = levels[l], r = -INFINITY;
        for (int g = 0; g < ngroups; g++) {
            double min_above = method == PM_MATCH_CAL_POOLED ? (q >= 0.1 ? 0 : INFINITY) : 25.0;
            double v = level_raw(start[g], len[g], q, min_above, icpt[g], slope[g]);
            if (v > r) {
                r = v;
                if (l == nl - 1 && v > worst_at_last) {
                    worst_at_last = v;
                    out->tail_icpt = icpt[g];
                    out->tail_slope = slope[g];
                }
            }
        }
        if (r > out->raw[out->nknots - 1] + 1e-6) {
            out->raw[out->nknots] = r;
            out->score[out->nknots] = -10.0 * log10(q);
            out->nknots++;
        }
    }
    free(buf);
    if (out->nknots < 2)
        return pm_error_set(err, PM_EINVAL, "calibration fit: all impostor scores are zero");
    return PM_OK;
}
