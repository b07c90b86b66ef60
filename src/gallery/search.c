/* Search: first stage over every eligible record, exact matcher on the
 * survivors, per-subject fusion over the probe fingers. The scan functions
 * read only the shard, the probe and the options: a pure function of
 * (gallery shard, probe, options), so a shard can live on another node. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "gallery/gallery_internal.h"

#define CHUNK 4096

double pm_gallery_fuse(double sum, int k)
{
    if (!(sum > 0))
        return 0;
    if (k <= 1)
        return sum;
    /* sum of k exponentials of rate lambda = ln(10)/10: Gamma(k, lambda),
     * P(S >= s) = exp(-x) * sum_{j<k} x^j / j!, x = lambda * s */
    const double lambda = log(10.0) / 10.0;
    double x = lambda * sum, term = 1, series = 1;
    for (int j = 1; j < k; j++) {
        term *= x / j;
        series += term;
    }
    double s = sum - (10.0 / log(10.0)) * log(series);
    return s > 0 ? s : 0;
}

/* ---- identification calibration (Gumbel model of the best impostor) ---- */

static void calib_get(const pm_gallery_calibration_t *c, double *loc, double *growth,
                      double *scale)
{
    if (c && c->scale > 0 && isfinite(c->scale) && isfinite(c->loc) && isfinite(c->growth)) {
        *loc = c->loc;
        *growth = c->growth;
        *scale = c->scale;
    } else {
        *loc = 0;
        *growth = *scale = 10.0 / log(10.0);
    }
}

/* ln(lambda): lambda = exp(-(s - loc - growth ln n) / scale), FPIR = 1 - e^-lambda */
static double log_lambda(const pm_gallery_calibration_t *c, double score, double n)
{
    double loc, growth, scale;
    calib_get(c, &loc, &growth, &scale);
    if (!(n > 1))
        n = 1;
    return -(score - loc - growth * log(n)) / scale;
}

double pm_gallery_fpir(const pm_gallery_calibration_t *c, double score, double n)
{
    return -expm1(-exp(log_lambda(c, score, n)));
}

double pm_gallery_id_score(const pm_gallery_calibration_t *c, double score, double n)
{
    double ll = log_lambda(c, score, n);
    /* for tiny lambda FPIR = lambda: -log10 in the log domain */
    double v = ll < -20 ? -ll / log(10.0) : -log10(-expm1(-exp(ll)));
    return 10.0 * (v > 0 ? v : 0);
}

double pm_gallery_threshold(const pm_gallery_calibration_t *c, double fpir, double n)
{
    double loc, growth, scale;
    calib_get(c, &loc, &growth, &scale);
    if (!(n > 1))
        n = 1;
    if (!(fpir > 0))
        return INFINITY;
    if (fpir >= 1)
        return -INFINITY;
    /* lambda = -ln(1 - fpir) */
    return loc + growth * log(n) - scale * log(-log1p(-fpir));
}

/* Profile log-likelihood of the Gumbel model at growth g and scale b (the
 * location at its optimum, returned in *loc): z_i = (x_i - g ln n_i - loc)/b. */
static double gumbel_profile(const double *x, const double *n, size_t k, size_t used, double g,
                             double b, double *loc)
{
    double amin = INFINITY, suma = 0;
    for (size_t i = 0; i < k; i++) {
        if (!(x[i] > 0))
            continue;
        double a = (x[i] - g * log(n[i])) / b;
        suma += a;
        amin = a < amin ? a : amin;
    }
    double se = 0; /* sum exp(-(a - amin)) */
    for (size_t i = 0; i < k; i++)
        if (x[i] > 0)
            se += exp(-((x[i] - g * log(n[i])) / b - amin));
    double mu_b = log((double)used) - (log(se) - amin); /* loc / b */
    *loc = mu_b * b;
    return -(double)used * log(b) - suma + (double)used * mu_b - (double)used;
}

/* Golden-section maximisation of the profile over the scale at growth g
 * (g < 0: growth tied to the scale). */
static double fit_scale(const double *x, const double *n, size_t k, size_t used, double g,
                        double *scale, double *loc)
{
    const double gr = (sqrt(5.0) - 1) / 2;
    double lo = 0.2, hi = 100;
    double c1 = hi - gr * (hi - lo), c2 = lo + gr * (hi - lo);
    double f1 = gumbel_profile(x, n, k, used, g < 0 ? c1 : g, c1, loc);
    double f2 = gumbel_profile(x, n, k, used, g < 0 ? c2 : g, c2, loc);
    for (int it = 0; it < 200 && hi - lo > 1e-9; it++) {
        if (f1 < f2) {
            lo = c1;
            c1 = c2;
            f1 = f2;
            c2 = lo + gr * (hi - lo);
            f2 = gumbel_profile(x, n, k, used, g < 0 ? c2 : g, c2, loc);
        } else {
            hi = c2;
            c2 = c1;
            f2 = f1;
            c1 = hi - gr * (hi - lo);
            f1 = gumbel_profile(x, n, k, used, g < 0 ? c1 : g, c1, loc);
        }
    }
    *scale = (lo + hi) / 2;
    return gumbel_profile(x, n, k, used, g < 0 ? *scale : g, *scale, loc);
}

#ifndef CAL_TAIL_Q
#define CAL_TAIL_Q 0.90 /* the tail above this quantile is fitted on its own */
#endif

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Conservative tail: the body's maximum-likelihood Gumbel fit underestimates
 * the upper tail of real searches (seed 2 at 100k: 3% measured at a nominal
 * 1%). Above the CAL_TAIL_Q quantile u of the size-corrected scores
 * x - growth ln n, the excesses are fitted as exponential (peaks over a
 * threshold; a Gumbel tail is exponential with the scale as its mean), the
 * scale taken at its upper one-sigma bound (mean x (1 + 1/sqrt(m)) for m
 * excesses). If that is wider than the body's scale, the model becomes the
 * Gumbel with that scale whose CAL_TAIL_Q quantile is the larger of u and the
 * body's own: above u its FPIR is at least the body fit's and the tail's.
 * Returns 0 or -1 (out of memory: *c left as fitted). */
static int calib_tail(const double *best, const double *n, size_t k, size_t used,
                      pm_gallery_calibration_t *c)
{
    double *r = malloc(used * sizeof *r);
    if (!r)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (best[i] > 0)
            r[m++] = best[i] - c->growth * log(n[i]);
    qsort(r, m, sizeof *r, cmp_double);
    size_t first = (size_t)floor(CAL_TAIL_Q * (double)m);
    double u = r[first > 0 ? first - 1 : 0], sum = 0;
    size_t ex = 0;
    for (size_t i = first; i < m; i++)
        if (r[i] > u)
            sum += r[i] - u, ex++;
    free(r);
    if (ex < 5)
        return 0;
    double tail = sum / (double)ex * (1 + 1 / sqrt((double)ex));
    if (tail <= c->scale)
        return 0;
    const double zq = -log(-log(CAL_TAIL_Q)); /* the quantile in Gumbel units */
    double body_u = c->loc + c->scale * zq;
    double anchor = u > body_u ? u : body_u;
    c->scale = tail;
    c->loc = anchor - tail * zq;
    return 0;
}

int pm_gallery_calibration_fit(const double *best, const double *n, size_t k,
                               pm_gallery_calibration_t *out, pm_error_t *err)
{
    if (!best || !n || !out)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_calibration_fit: NULL argument");
    size_t used = 0;
    double nmin = INFINITY, nmax = 0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(best[i]) || !isfinite(n[i]) || n[i] < 1)
            return pm_error_set(err, PM_EINVAL, "calibration sample %zu: score %g over %g records",
                                i, best[i], n[i]);
        if (best[i] > 0) {
            used++;
            nmin = n[i] < nmin ? n[i] : nmin;
            nmax = n[i] > nmax ? n[i] : nmax;
        }
    }
    if (used < 10)
        return pm_error_set(err, PM_EINVAL,
                            "calibration needs at least 10 non-mated searches with a candidate "
                            "(got %zu)",
                            used);
    double scale, loc;
    if (nmax < 1.5 * nmin) {
        /* one gallery size: the growth is not identifiable; tie it */
        fit_scale(best, n, k, used, -1, &scale, &loc);
        *out = (pm_gallery_calibration_t){.loc = loc, .growth = scale, .scale = scale};
        if (calib_tail(best, n, k, used, out))
            return pm_error_set(err, PM_ENOMEM, "pm_gallery_calibration_fit: out of memory");
        /* still tied, the location at this size unchanged */
        out->loc += (scale - out->scale) * log(nmin);
        out->growth = out->scale;
        return 0;
    }
    /* golden-section over the growth, the scale and location profiled */
    const double gr = (sqrt(5.0) - 1) / 2;
    double lo = 0, hi = 50;
    double c1 = hi - gr * (hi - lo), c2 = lo + gr * (hi - lo);
    double f1 = fit_scale(best, n, k, used, c1, &scale, &loc);
    double f2 = fit_scale(best, n, k, used, c2, &scale, &loc);
    for (int it = 0; it < 100 && hi - lo > 1e-7; it++) {
        if (f1 < f2) {
            lo = c1;
            c1 = c2;
            f1 = f2;
            c2 = lo + gr * (hi - lo);
            f2 = fit_scale(best, n, k, used, c2, &scale, &loc);
        } else {
            hi = c2;
            c2 = c1;
            f2 = f1;
            c1 = hi - gr * (hi - lo);
            f1 = fit_scale(best, n, k, used, c1, &scale, &loc);
        }
    }
    double g = (lo + hi) / 2;
    fit_scale(best, n, k, used, g, &scale, &loc);
    *out = (pm_gallery_calibration_t){.loc = loc, .growth = g, .scale = scale};
    if (calib_tail(best, n, k, used, out))
        return pm_error_set(err, PM_ENOMEM, "pm_gallery_calibration_fit: out of memory");
    return 0;
}

/* ---- fused ten-print calibration (an exponential tail per subject) ---- */

/* the generalized Pareto tail applies above tail_u (fc->shape > 0) */
static int fused_gpd(const pm_gallery_calibration_t *fc)
{
    return fc && fc->shape > 0 && isfinite(fc->shape) && isfinite(fc->tail_u) && fc->scale > 0 &&
           isfinite(fc->scale);
}

double pm_gallery_fused_score(const pm_gallery_calibration_t *fc, double fused)
{
    if (!fc || !(fused > 0))
        return fused > 0 ? fused : 0;
    if (fused_gpd(fc) && fused > fc->tail_u) {
        /* -10*log10(p(u)) + (10 / ln 10) * (1/shape) * ln(1 + shape (s-u)/scale) */
        double at_u = pm_gallery_id_score(fc, fc->tail_u, 1);
        return at_u + 10.0 / log(10.0) / fc->shape *
                          log1p(fc->shape * (fused - fc->tail_u) / fc->scale);
    }
    return pm_gallery_id_score(fc, fused, 1);
}

double pm_gallery_fused_raw(const pm_gallery_calibration_t *fc, double score)
{
    if (!fc || !(score > 0))
        return score > 0 ? score : 0;
    if (fused_gpd(fc)) {
        double at_u = pm_gallery_id_score(fc, fc->tail_u, 1);
        if (score > at_u)
            return fc->tail_u + fc->scale / fc->shape *
                                    expm1(fc->shape * log(10.0) / 10.0 * (score - at_u));
    }
    /* the exact inverse: FPIR(raw, 1) = 10^(-score/10) */
    return pm_gallery_threshold(fc, pow(10.0, -score / 10.0), 1);
}

/* generalized Pareto log-likelihood of excesses y[0..n) (shape xi >= 0) */
static double gpd_ll(const double *y, size_t n, double xi, double sigma)
{
    double ll = -(double)n * log(sigma);
    for (size_t i = 0; i < n; i++)
        ll -= xi > 1e-9 ? (1 + 1 / xi) * log1p(xi * y[i] / sigma) : y[i] / sigma;
    return ll;
}

/* the scale maximising the likelihood at shape xi (golden section on log sigma) */
static double gpd_sigma(const double *y, size_t n, double xi, double mean)
{
    double a = log(mean) - 5, b = log(mean) + 3;
    const double g = (sqrt(5.0) - 1) / 2;
    for (int it = 0; it < 100; it++) {
        double c = b - g * (b - a), d = a + g * (b - a);
        if (gpd_ll(y, n, xi, exp(c)) > gpd_ll(y, n, xi, exp(d)))
            b = d;
        else
            a = c;
    }
    return exp((a + b) / 2);
}

/* The excesses over the tail_q quantile u of scores[0..k), packed into a
 * new array *ex_out (sorted scores first); *u_out, *m_out, *sum_out. */
static int fused_excesses(const double *scores, size_t k, double tail_q, const char *fn,
                          double **ex_out, size_t *m_out, double *u_out, double *sum_out,
                          pm_error_t *err)
{
    if (!scores)
        return pm_error_set(err, PM_EINVAL, "%s: NULL argument", fn);
    if (!(tail_q > 0 && tail_q < 1))
        return pm_error_set(err, PM_EINVAL, "fused calibration: tail quantile %g not in (0, 1)",
                            tail_q);
    double *r = malloc((k ? k : 1) * sizeof *r);
    if (!r)
        return pm_error_set(err, PM_ENOMEM, "%s: out of memory", fn);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(scores[i])) {
            free(r);
            return pm_error_set(err, PM_EINVAL, "fused calibration sample %zu: score %g", i,
                                scores[i]);
        }
        r[m++] = scores[i] > 0 ? scores[i] : 0;
    }
    qsort(r, m, sizeof *r, cmp_double);
    size_t first = (size_t)floor(tail_q * (double)m);
    double u = m ? r[first > 0 ? first - 1 : 0] : 0, sum = 0;
    size_t ex = 0;
    for (size_t i = first; i < m; i++)
        if (r[i] > u)
            r[ex] = r[i] - u, sum += r[ex], ex++; /* excesses, packed at the front */
    if (ex < 20) {
        free(r);
        return pm_error_set(err, PM_EINVAL,
                            "fused calibration needs at least 20 scores above the %g quantile "
                            "(got %zu of %zu)",
                            tail_q, ex, k);
    }
    *ex_out = r, *m_out = ex, *u_out = u, *sum_out = sum;
    return 0;
}

int pm_gallery_fused_calibration_fit(const double *scores, size_t k, double tail_q,
                                     pm_gallery_calibration_t *out, pm_error_t *err)
{
    if (!out)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_fused_calibration_fit: NULL argument");
    double *r, u, sum;
    size_t ex;
    int rc = fused_excesses(scores, k, tail_q, "pm_gallery_fused_calibration_fit", &r, &ex, &u,
                            &sum, err);
    if (rc)
        return rc;
    const double nominal = 10.0 / log(10.0);
    double mean = sum / (double)ex;
    /* profile likelihood over the shape, 0 <= xi <= 1 in steps of 0.005 */
    double best_xi = 0, best_ll = -INFINITY;
    for (int i = 0; i <= 200; i++) {
        double xi = i * 0.005;
        double ll = gpd_ll(r, ex, xi, gpd_sigma(r, ex, xi, mean));
        if (ll > best_ll)
            best_ll = ll, best_xi = xi;
    }
    /* conservative: the shape at its upper one-sigma bound (asymptotic
     * variance (1 + xi)^2 / n), the scale refitted at that shape */
    double xi = best_xi + (1 + best_xi) / sqrt((double)ex);
    double scale = gpd_sigma(r, ex, xi, mean);
    free(r);
    if (scale < nominal)
        scale = nominal; /* never a lighter tail than the independent-finger model */
    /* P(F > u) = ex / k: the exponential body passes through it at u */
    double loc = u + scale * log((double)ex / (double)k);
    *out = (pm_gallery_calibration_t){loc, scale, scale, xi, u};
    return 0;
}

int pm_gallery_fused_calibration_fit_exp(const double *scores, size_t k, double tail_q,
                                         pm_gallery_calibration_t *out, pm_error_t *err)
{
    if (!out)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_fused_calibration_fit_exp: NULL argument");
    double *r, u, sum;
    size_t ex;
    int rc = fused_excesses(scores, k, tail_q, "pm_gallery_fused_calibration_fit_exp", &r, &ex,
                            &u, &sum, err);
    if (rc)
        return rc;
    free(r);
    /* exponential excesses: the mean excess is the maximum-likelihood scale;
     * taken at its upper one-sigma bound mean (1 + 1/sqrt(m)), never below
     * the independent-finger model's 10/ln 10 */
    double scale = sum / (double)ex * (1 + 1 / sqrt((double)ex));
    const double nominal = 10.0 / log(10.0);
    if (scale < nominal)
        scale = nominal;
    double loc = u + scale * log((double)ex / (double)k);
    *out = (pm_gallery_calibration_t){loc, scale, scale, 0, 0};
    return 0;
}

int pm_gallery_fused_calibration_fit_cohorts(const double *const *scores, const size_t *k,
                                             size_t ncohorts, double tail_q, double z, int gpd,
                                             pm_gallery_calibration_t *out,
                                             pm_gallery_cohort_spread_t *spread, pm_error_t *err)
{
    static const char fn[] = "pm_gallery_fused_calibration_fit_cohorts";
    if (!scores || !k || !out)
        return pm_error_set(err, PM_EINVAL, "%s: NULL argument", fn);
    if (ncohorts < 3 || ncohorts > PM_GALLERY_MAX_COHORTS)
        return pm_error_set(err, PM_EINVAL, "%s: %zu cohorts (3..%d)", fn, ncohorts,
                            PM_GALLERY_MAX_COHORTS);
    if (!(z >= 0 && z <= 10))
        return pm_error_set(err, PM_EINVAL, "%s: z %g not in 0..10", fn, z);
    size_t total = 0;
    for (size_t c = 0; c < ncohorts; c++) {
        if (!scores[c] || k[c] < 100)
            return pm_error_set(err, PM_EINVAL, "%s: cohort %zu has %zu comparisons (at least 100)",
                                fn, c, scores[c] ? k[c] : 0);
        if (total > SIZE_MAX / sizeof(double) - k[c])
            return pm_error_set(err, PM_ELIMIT, "%s: too many comparisons", fn);
        total += k[c];
    }
    double *all = malloc(total * sizeof *all);
    if (!all)
        return pm_error_set(err, PM_ENOMEM, "%s: out of memory", fn);
    for (size_t c = 0, at = 0; c < ncohorts; c++) {
        memcpy(all + at, scores[c], k[c] * sizeof *all);
        at += k[c];
    }
    /* the pooled fit: the shape of the tail (scale, and the GPD shape) */
    pm_gallery_calibration_t base;
    int rc = gpd ? pm_gallery_fused_calibration_fit(all, total, tail_q, &base, err)
                 : pm_gallery_fused_calibration_fit_exp(all, total, tail_q, &base, err);
    double *r = NULL, u = 0, sum = 0;
    size_t ex = 0;
    if (!rc)
        rc = fused_excesses(all, total, tail_q, fn, &r, &ex, &u, &sum, err);
    free(all);
    free(r);
    if (rc)
        return rc;
    /* each cohort's own level: the location that puts the model through its
     * share of comparisons above the pooled quantile u (the shape kept);
     * with m_c of k_c above u, delta_c = scale * ln(m_c / (k_c p(u))) */
    const double pu = pm_gallery_fpir(&base, u, 1);
    double d[PM_GALLERY_MAX_COHORTS], mean = 0, within = 0;
    for (size_t c = 0; c < ncohorts; c++) {
        size_t m = 0;
        for (size_t i = 0; i < k[c]; i++)
            m += scores[c][i] > u;
        double mc = m ? (double)m : 0.5; /* none above: half a comparison */
        d[c] = base.scale * log(mc / ((double)k[c] * pu));
        mean += d[c];
        within += base.scale * base.scale / mc; /* Poisson: var(ln m) ~ 1/m */
    }
    mean /= (double)ncohorts;
    within /= (double)ncohorts;
    double var = 0;
    for (size_t c = 0; c < ncohorts; c++)
        var += (d[c] - mean) * (d[c] - mean);
    var /= (double)(ncohorts - 1);
    /* between cohorts: what the spread has beyond the counts' own noise;
     * a new cohort's level is that plus the uncertainty of the mean */
    double tau2 = var > within ? var - within : 0;
    double shift = mean + z * sqrt(tau2 + var / (double)ncohorts);
    if (shift < 0)
        shift = 0; /* never below the pooled fit */
    *out = base;
    out->loc += shift;
    if (spread)
        *spread = (pm_gallery_cohort_spread_t){mean, sqrt(var), sqrt(tau2), shift, u};
    return PM_OK;
}

void pm_gallery_fused_calibration_default(pm_gallery_calibration_t *out)
{
    /* session 12: pm_gallery_fused_calibration_fit_cohorts(gpd = 1, z =
     * 1.645, tail_q 0.99) on eight cohorts of `perimeter synth cohort
     * --applicants 60 --known 60 --bad 0 --distractors 0 --seed S`, S =
     * 7101..7108 (28,320 impostor subject comparisons; levels' sd 1.79 raw,
     * between cohorts 1.52, location moved +2.47); held out on 7131..7133
     * and leave-one-cohort-out (bench_vet_calib; docs/gallery.md "Between
     * cohorts"). Before: the exponential fit of seed 7101 alone (loc 3.2324,
     * scale 6.5063), which under-stated 5 of those 11 cohorts at
     * calibrated 20 and one of the held-out ones at 30. */
    *out = (pm_gallery_calibration_t){
        .loc = 13.4319, .growth = 5.2912, .scale = 5.2912, .shape = 0.1229, .tail_u = 35.3176};
}

typedef struct hit {
    double score;
    uint32_t row;
} hit_t;

/* Keeps the best `cap` hits, sorted best first. */
static void top_insert(hit_t *top, int *n, int cap, double score, uint32_t row)
{
    if (*n == cap && score <= top[cap - 1].score)
        return;
    int p = *n < cap ? (*n)++ : cap - 1;
    while (p > 0 && top[p - 1].score < score) {
        top[p] = top[p - 1];
        p--;
    }
    top[p].score = score;
    top[p].row = row;
}

typedef struct finger_ctx {
    pm_match_template_t *t;
    pm__gal_probe_t *probe;
    int position;
} finger_ctx_t;

typedef struct scan {
    const pm__gal_shard_t *s;
    const uint64_t *subset;
    size_t subset_n;
    const finger_ctx_t *f;
    int first_stage;
    uint8_t *fs; /* per row: 0 not eligible, else first-stage score 1..255 */
    int cutoff;
    int topcap;
    pthread_mutex_t mu;
    uint64_t hist[256];
    uint32_t *chunk_hist; /* nchunks x 256: ties at the cutoff are admitted in row order */
    uint32_t *tie_quota;  /* per chunk: rows scoring exactly `cutoff` it may keep */
    uint64_t exact;
    uint64_t failed; /* candidates that could not be prepared (out of memory) */
    hit_t *top;
    int ntop;
} scan_t;

/* A scan and the pool whose per-worker matchers stage 2 uses. */
typedef struct scan_with_pool {
    scan_t sc; /* first: stage functions receive &sc */
    pm__pool_t *pool;
} scan_with_pool_t;

static int in_subset(const scan_t *sc, uint64_t id)
{
    size_t lo = 0, hi = sc->subset_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sc->subset[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sc->subset_n && sc->subset[lo] == id;
}

static void stage1(void *ctx, size_t chunk, int worker)
{
    (void)worker;
    scan_t *sc = ctx;
    const pm__gal_shard_t *s = sc->s;
    size_t r0 = chunk * CHUNK, r1 = r0 + CHUNK < s->n ? r0 + CHUNK : s->n;
    uint32_t hist[256] = {0};
    int pos = sc->f->position;
    for (size_t r = r0; r < r1; r++) {
        int ok = pos == 0 || s->pos[r] == 0 || s->pos[r] == pos;
        if (ok && sc->subset)
            ok = in_subset(sc, s->subject[r]);
        int v = 0;
        if (ok)
            v = sc->first_stage ? pm__gal_fast_score(sc->f->probe, s->keys + r * PM_GALLERY_KEYS,
                                                     s->minu + r * PM_GALLERY_MAX_MINUTIAE,
                                                     s->nkeys[r], s->nmin[r])
                                : 1;
        sc->fs[r] = (uint8_t)v;
        hist[v]++;
    }
    memcpy(sc->chunk_hist + chunk * 256, hist, sizeof hist);
    pthread_mutex_lock(&sc->mu);
    for (int v = 0; v < 256; v++)
        sc->hist[v] += hist[v];
    pthread_mutex_unlock(&sc->mu);
}

static void stage2(void *ctx, size_t chunk, int worker)
{
    scan_t *sc = ctx;
    const pm__gal_shard_t *s = sc->s;
    size_t r0 = chunk * CHUNK, r1 = r0 + CHUNK < s->n ? r0 + CHUNK : s->n;
    hit_t local[PM_GALLERY_MAX_CANDIDATES * 4];
    int nlocal = 0;
    uint64_t exact = 0, failed = 0;
    pm_matcher_t *m = pm__pool_matcher(((scan_with_pool_t *)ctx)->pool, worker);
    pm_fingerprint_t fpv, *fp = &fpv;
    uint32_t quota = sc->tie_quota ? sc->tie_quota[chunk] : UINT32_MAX;
    pm_match_template_t *t = NULL;
    for (size_t r = r0; r < r1; r++) {
        if (sc->fs[r] < sc->cutoff)
            continue;
        if (sc->fs[r] == sc->cutoff) {
            if (!quota)
                continue;
            quota--;
        }
        pm__gal_unpack_view(s->minu + r * PM_GALLERY_MAX_MINUTIAE, s->nmin[r], s->pos[r], fp);
        /* one candidate template for the chunk, prepared over in place */
        if (pm_match_prepare_candidate_into(fp, &t, NULL)) {
            failed++;
            continue;
        }
        double score = pm_match_compare(m, sc->f->t, t, NULL);
        exact++;
        if (score > 0)
            top_insert(local, &nlocal, sc->topcap, score, (uint32_t)r);
    }
    pm_match_template_free(t);
    pthread_mutex_lock(&sc->mu);
    sc->exact += exact;
    sc->failed += failed;
    for (int i = 0; i < nlocal; i++)
        top_insert(sc->top, &sc->ntop, sc->topcap, local[i].score, local[i].row);
    pthread_mutex_unlock(&sc->mu);
}

/* ---- the ten-print shortlist ----------------------------------------------
 * A multi-finger probe's first stage runs on its lead fingers only (the
 * ones of best print quality, then most minutiae); their survivors are
 * collected instead of going to the exact stage. Per subject, the evidence
 * is the sum over lead fingers of the subject's best first-stage score at
 * that finger; the `shortlist` subjects with the most evidence (ties by
 * subject id) are then compared exactly, every probe finger with each of
 * the subject's position-compatible records, as pm_gallery_verify compares
 * them (and as the fused calibration was fitted). */
typedef struct surv {
    uint64_t subject;
    uint32_t row;
    uint8_t finger;
    uint8_t fs;
} surv_t;

/* A record of a shortlisted subject: the probe fingers it is compared with
 * and their scores. */
typedef struct slrow {
    uint64_t subject;
    uint32_t row;
    uint16_t fmask;
    double score[PM_GALLERY_MAX_FINGERS];
} slrow_t;

typedef struct list_scan {
    pm__pool_t *pool;
    const pm__gal_shard_t *s;
    const finger_ctx_t *fc;
    int nfingers;
    slrow_t *rows;
    size_t n;
    pthread_mutex_t mu;
    uint64_t failed, exact;
} list_scan_t;

#define LIST_CHUNK 8

#ifndef SL_KEEP_PER_SUBJECT
#define SL_KEEP_PER_SUBJECT 25 /* first-stage survivors per lead finger: this times the shortlist */
#endif

static void stage2_list(void *ctx, size_t chunk, int worker)
{
    list_scan_t *ls = ctx;
    const pm__gal_shard_t *s = ls->s;
    pm_matcher_t *m = pm__pool_matcher(ls->pool, worker);
    pm_fingerprint_t fpv;
    pm_match_template_t *t = NULL;
    uint64_t failed = 0, exact = 0;
    size_t i0 = chunk * LIST_CHUNK, i1 = i0 + LIST_CHUNK < ls->n ? i0 + LIST_CHUNK : ls->n;
    for (size_t i = i0; i < i1; i++) {
        slrow_t *it = &ls->rows[i];
        size_t r = it->row;
        pm__gal_unpack_view(s->minu + r * PM_GALLERY_MAX_MINUTIAE, s->nmin[r], s->pos[r], &fpv);
        if (pm_match_prepare_candidate_into(&fpv, &t, NULL)) {
            failed++;
            it->fmask = 0;
            continue;
        }
        for (int f = 0; f < ls->nfingers; f++)
            if (it->fmask >> f & 1) {
                it->score[f] = pm_match_compare(m, ls->fc[f].t, t, NULL);
                exact++;
            }
    }
    pm_match_template_free(t);
    pthread_mutex_lock(&ls->mu);
    ls->failed += failed;
    ls->exact += exact;
    pthread_mutex_unlock(&ls->mu);
}

/* Appends the rows stage 2 would take for finger f (the same rule: above
 * the cutoff, and at it within each chunk's tie quota, in row order). */
static int collect_survivors(const scan_t *sc, size_t nchunks, int f, surv_t **items, size_t *n,
                             size_t *cap)
{
    const pm__gal_shard_t *s = sc->s;
    for (size_t k = 0; k < nchunks; k++) {
        uint32_t quota = sc->tie_quota ? sc->tie_quota[k] : UINT32_MAX;
        size_t r0 = k * CHUNK, r1 = r0 + CHUNK < s->n ? r0 + CHUNK : s->n;
        for (size_t r = r0; r < r1; r++) {
            if (sc->fs[r] < sc->cutoff)
                continue;
            if (sc->fs[r] == sc->cutoff) {
                if (!quota)
                    continue;
                quota--;
            }
            if (*n == *cap) {
                size_t nc = *cap ? 2 * *cap : 1024;
                surv_t *ni = realloc(*items, nc * sizeof *ni);
                if (!ni)
                    return PM_ENOMEM;
                *items = ni;
                *cap = nc;
            }
            (*items)[(*n)++] = (surv_t){s->subject[r], (uint32_t)r, (uint8_t)f, sc->fs[r]};
        }
    }
    return 0;
}

static int surv_by_subject(const void *a, const void *b)
{
    const surv_t *p = a, *q = b;
    if (p->subject != q->subject)
        return p->subject < q->subject ? -1 : 1;
    if (p->finger != q->finger)
        return p->finger - q->finger;
    if (p->fs != q->fs)
        return q->fs - p->fs; /* best first */
    return p->row < q->row ? -1 : p->row > q->row;
}

typedef struct evidence {
    uint64_t subject;
    uint32_t sum;
} evidence_t;

static int evidence_cmp(const void *a, const void *b)
{
    const evidence_t *p = a, *q = b;
    if (p->sum != q->sum)
        return p->sum > q->sum ? -1 : 1;
    return p->subject < q->subject ? -1 : p->subject > q->subject;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t p = *(const uint64_t *)a, q = *(const uint64_t *)b;
    return p < q ? -1 : p > q;
}

/* The `k` subjects with the most evidence in the survivors (items are
 * reordered), sorted by id into *subs (caller frees); *ns their count. */
static int shortlist_subjects(surv_t *items, size_t n, int k, uint64_t **subs, size_t *ns)
{
    *subs = NULL;
    *ns = 0;
    if (!n)
        return 0;
    qsort(items, n, sizeof *items, surv_by_subject);
    evidence_t *ev = malloc(n * sizeof *ev);
    if (!ev)
        return PM_ENOMEM;
    size_t ne = 0;
    for (size_t i = 0; i < n;) {
        evidence_t *e = &ev[ne++];
        e->subject = items[i].subject;
        e->sum = 0;
        int last_finger = -1;
        for (; i < n && items[i].subject == e->subject; i++)
            if (items[i].finger != last_finger) { /* the first of a finger is its best */
                e->sum += items[i].fs;
                last_finger = items[i].finger;
            }
    }
    if (ne > (size_t)k) {
        qsort(ev, ne, sizeof *ev, evidence_cmp);
        ne = (size_t)k;
    }
    uint64_t *out = malloc(ne * sizeof *out);
    if (!out) {
        free(ev);
        return PM_ENOMEM;
    }
    for (size_t i = 0; i < ne; i++)
        out[i] = ev[i].subject;
    free(ev);
    qsort(out, ne, sizeof *out, u64_cmp);
    *subs = out;
    *ns = ne;
    return 0;
}

/* Every record of the shortlisted subjects (sorted ids), with the probe
 * fingers each is position-compatible with. */
static int shortlist_rows(const pm__gal_shard_t *s, const uint64_t *subs, size_t ns,
                          const finger_ctx_t *fc, int nfingers, slrow_t **rows, size_t *nrows)
{
    *rows = NULL;
    *nrows = 0;
    if (!ns)
        return 0;
    /* a 4,096-bit filter of the ids before the binary search */
    uint64_t bloom[64] = {0};
    for (size_t i = 0; i < ns; i++) {
        uint64_t h = subs[i] * 0x9E3779B97F4A7C15ull >> 52;
        bloom[h >> 6] |= 1ull << (h & 63);
    }
    size_t cap = 0, n = 0;
    slrow_t *out = NULL;
    for (size_t r = 0; r < s->n; r++) {
        uint64_t id = s->subject[r], h = id * 0x9E3779B97F4A7C15ull >> 52;
        if (!(bloom[h >> 6] >> (h & 63) & 1))
            continue;
        size_t lo = 0, hi = ns;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (subs[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == ns || subs[lo] != id)
            continue;
        uint16_t mask = 0;
        for (int f = 0; f < nfingers; f++) {
            int p = fc[f].position;
            if (!p || !s->pos[r] || p == s->pos[r])
                mask |= (uint16_t)(1u << f);
        }
        if (!mask)
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            slrow_t *nr = realloc(out, nc * sizeof *nr);
            if (!nr) {
                free(out);
                return PM_ENOMEM;
            }
            out = nr;
            cap = nc;
        }
        memset(&out[n], 0, sizeof out[n]);
        out[n].subject = id;
        out[n].row = (uint32_t)r;
        out[n].fmask = mask;
        n++;
    }
    *rows = out;
    *nrows = n;
    return 0;
}

/* Is probe finger a a better lead than b: the higher print quality (the
 * extractor's estimate of match performance), then more minutiae. By count
 * alone, the two fingers that matched their mate worst led and a mate was
 * lost (docs/gallery.md, "Lead fingers by quality"). */
static int better_lead(const pm_fingerprint_t *a, const pm_fingerprint_t *b)
{
    if (a->quality != b->quality)
        return a->quality > b->quality;
    return a->count > b->count;
}

/* The lead fingers: the `lead` best probe fingers (better_lead; ties: the
 * earlier one). */
static void pick_lead(const pm_gallery_finger_t *fingers, int nfingers, int lead, uint8_t *is_lead)
{
    for (int f = 0; f < nfingers; f++)
        is_lead[f] = lead <= 0 || lead >= nfingers;
    if (lead <= 0 || lead >= nfingers)
        return;
    for (int k = 0; k < lead; k++) {
        int best = -1;
        for (int f = 0; f < nfingers; f++)
            if (!is_lead[f] && (best < 0 || better_lead(fingers[f].fp, fingers[best].fp)))
                best = f;
        is_lead[best] = 1;
    }
}

typedef struct tuple {
    uint64_t subject;
    uint32_t encounter;
    int finger;
    double score;
} tuple_t;

static int tuple_cmp(const void *a, const void *b)
{
    const tuple_t *p = a, *q = b;
    if (p->subject != q->subject)
        return p->subject < q->subject ? -1 : 1;
    if (p->finger != q->finger)
        return p->finger - q->finger;
    return p->score > q->score ? -1 : p->score < q->score;
}

static int cand_cmp(const void *a, const void *b)
{
    const pm_gallery_candidate_t *p = a, *q = b;
    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    return p->subject < q->subject ? -1 : p->subject > q->subject;
}

static int check_probe(const pm_gallery_finger_t *fingers, int nfingers, pm_error_t *err)
{
    if (!fingers || nfingers < 1 || nfingers > PM_GALLERY_MAX_FINGERS)
        return pm_error_set(err, PM_EINVAL, "a probe has 1..%d fingers (got %d)",
                            PM_GALLERY_MAX_FINGERS, nfingers);
    for (int f = 0; f < nfingers; f++) {
        if (!fingers[f].fp)
            return pm_error_set(err, PM_EINVAL, "probe finger %d has no view", f);
        if (fingers[f].position < 0 || fingers[f].position > 10)
            return pm_error_set(err, PM_ERANGE, "probe finger %d: position %d (0..10)", f,
                                fingers[f].position);
        if (fingers[f].fp->count > PM_MAX_MINUTIAE)
            return pm_error_set(err, PM_EINVAL, "probe finger %d: %zu minutiae", f,
                                fingers[f].fp->count);
    }
    return 0;
}

int pm_gallery_identify(pm_gallery_t *g, const pm_gallery_finger_t *fingers, int nfingers,
                        const pm_gallery_search_options_t *options, pm_gallery_candidate_t *out,
                        size_t *out_n, pm_gallery_search_stats_t *stats, pm_error_t *err)
{
    if (!g || !out || !out_n)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_identify: NULL argument");
    *out_n = 0;
    int rc = check_probe(fingers, nfingers, err);
    if (rc)
        return rc;
    pm_gallery_search_options_t o = {0};
    if (options)
        o = *options;
    if (o.max_candidates <= 0)
        o.max_candidates = 10;
    if (o.max_candidates > PM_GALLERY_MAX_CANDIDATES)
        return pm_error_set(err, PM_ERANGE, "max_candidates %d (max %d)", o.max_candidates,
                            PM_GALLERY_MAX_CANDIDATES);
    if (o.target_fpir < 0 || o.target_fpir >= 1 || !isfinite(o.target_fpir))
        return pm_error_set(err, PM_ERANGE, "target FPIR must be in [0, 1)");
    if (o.keep_fraction <= 0)
        o.keep_fraction = 0.0002;
    if (o.keep_fraction > 1)
        o.keep_fraction = 1;
    if (o.keep_min <= 0)
        o.keep_min = 200;
    if (o.shortlist == 0)
        o.shortlist = PM_GALLERY_SHORTLIST_DEFAULT;
    if (o.shortlist > 0 && o.shortlist < o.max_candidates)
        o.shortlist = o.max_candidates; /* never fewer subjects than asked for */
    if (o.lead_fingers == 0)
        o.lead_fingers = PM_GALLERY_LEAD_DEFAULT;
    const int use_shortlist = o.first_stage && nfingers > 1 && o.shortlist > 0;
    uint8_t lead[PM_GALLERY_MAX_FINGERS];
    pick_lead(fingers, nfingers, use_shortlist ? o.lead_fingers : -1, lead);
    surv_t *items = NULL;
    size_t nitems = 0, items_cap = 0;
    uint64_t t0 = pm_now_ns();

    /* probe preparation: outside the lock */
    finger_ctx_t fc[PM_GALLERY_MAX_FINGERS];
    memset(fc, 0, sizeof fc);
    for (int f = 0; f < nfingers && !rc; f++) {
        fc[f].position = fingers[f].position;
        rc = pm_match_prepare(fingers[f].fp, &fc[f].t, err);
        /* the first stage's probe: lead fingers only */
        if (!rc && o.first_stage && lead[f] && !(fc[f].probe = malloc(sizeof *fc[f].probe)))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory for the probe");
        if (!rc && o.first_stage && lead[f]) {
            pm__gal_probe_build(fingers[f].fp, fc[f].probe);
            fc[f].probe->pair_gate = o.pair_gate > 0 || (o.pair_gate == 0 && use_shortlist);
        }
    }
    int topcap = 4 * o.max_candidates + 50;
    if (topcap > PM_GALLERY_MAX_CANDIDATES * 4)
        topcap = PM_GALLERY_MAX_CANDIDATES * 4;
    tuple_t *tuples = NULL;
    hit_t *top = NULL;
    uint8_t *fs = NULL;
    uint32_t *chunk_hist = NULL, *tie_quota = NULL;
    if (!rc) {
        tuples = malloc((size_t)nfingers * (size_t)topcap * sizeof *tuples);
        top = malloc((size_t)topcap * sizeof *top);
        if (!tuples || !top)
            rc = pm_error_set(err, PM_ENOMEM, "out of memory for search results");
    }
    size_t ntuples = 0;
    uint64_t scanned = 0, exact = 0, searched_min = UINT64_MAX;
    if (!rc) {
        pthread_rwlock_rdlock(&g->lock);
        const pm__gal_subset_t *sub = NULL;
        if (o.subset) {
            for (size_t i = 0; i < g->nsubsets; i++)
                if (strcmp(g->subsets[i].name, o.subset) == 0)
                    sub = &g->subsets[i];
            if (!sub)
                rc = pm_error_set(err, PM_ENOTFOUND, "no subset named '%s'", o.subset);
        }
        size_t nchunks = (g->s.n + CHUNK - 1) / CHUNK;
        if (!rc && g->s.n &&
            (!(fs = malloc(g->s.n)) || !(chunk_hist = malloc(nchunks * 256 * sizeof *chunk_hist)) ||
             !(tie_quota = malloc(nchunks * sizeof *tie_quota))))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory for the first stage");
        for (int f = 0; f < nfingers && !rc; f++) {
            if (!lead[f])
                continue;
            scan_with_pool_t sp;
            memset(&sp, 0, sizeof sp);
            scan_t *sc = &sp.sc;
            sp.pool = g->pool;
            sc->s = &g->s;
            sc->subset = sub ? sub->ids : NULL;
            sc->subset_n = sub ? sub->n : 0;
            sc->f = &fc[f];
            sc->first_stage = o.first_stage;
            sc->fs = fs;
            sc->chunk_hist = chunk_hist;
            sc->topcap = topcap;
            sc->top = top;
            pthread_mutex_init(&sc->mu, NULL);
            pm__pool_run(g->pool, stage1, &sp, nchunks);
            uint64_t eligible = g->s.n - sc->hist[0];
            scanned += eligible;
            if (eligible < searched_min)
                searched_min = eligible;
            /* cutoff: the highest first-stage score keeping >= keep records */
            sc->cutoff = 1;
            if (o.first_stage) {
                uint64_t keep = (uint64_t)ceil(o.keep_fraction * (double)eligible);
                if (keep < (uint64_t)o.keep_min)
                    keep = (uint64_t)o.keep_min;
                /* the shortlist's evidence: more survivors cost no exact
                 * comparison, only their collection */
                if (use_shortlist && keep < (uint64_t)SL_KEEP_PER_SUBJECT * (uint64_t)o.shortlist)
                    keep = (uint64_t)SL_KEEP_PER_SUBJECT * (uint64_t)o.shortlist;
                uint64_t acc = 0;
                int c = 255;
                for (; c > 1; c--) {
                    if (acc + sc->hist[c] >= keep)
                        break;
                    acc += sc->hist[c];
                }
                sc->cutoff = c;
                /* exactly `keep` survivors (when that many are eligible):
                 * ties at the cutoff are taken in row order, chunk by chunk,
                 * so the result does not depend on thread timing */
                uint64_t need = keep > acc ? keep - acc : 0;
                for (size_t k = 0; k < nchunks; k++) {
                    uint64_t t = chunk_hist[k * 256 + (size_t)c];
                    tie_quota[k] = (uint32_t)(t < need ? t : need);
                    need -= tie_quota[k];
                }
                sc->tie_quota = tie_quota;
            }
            if (use_shortlist) {
                if (collect_survivors(sc, nchunks, f, &items, &nitems, &items_cap))
                    rc = pm_error_set(err, PM_ENOMEM, "out of memory for the shortlist");
                pthread_mutex_destroy(&sc->mu);
                continue;
            }
            pm__pool_run(g->pool, stage2, &sp, nchunks);
            exact += sc->exact;
            if (sc->failed)
                rc = pm_error_set(err, PM_ENOMEM,
                                  "out of memory preparing %llu candidates: the search is incomplete",
                                  (unsigned long long)sc->failed);
            for (int i = 0; i < sc->ntop; i++) {
                uint32_t r = top[i].row;
                tuples[ntuples].subject = g->s.subject[r];
                tuples[ntuples].encounter = g->s.encounter[r];
                tuples[ntuples].finger = f;
                tuples[ntuples].score = top[i].score;
                ntuples++;
            }
            pthread_mutex_destroy(&sc->mu);
        }
        uint64_t *subs = NULL;
        slrow_t *rows = NULL;
        size_t nsubs = 0, nrows = 0;
        if (!rc && use_shortlist &&
            (shortlist_subjects(items, nitems, o.shortlist, &subs, &nsubs) ||
             shortlist_rows(&g->s, subs, nsubs, fc, nfingers, &rows, &nrows)))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory for the shortlist");
        if (!rc && use_shortlist && nrows) {
            list_scan_t ls = {.pool = g->pool, .s = &g->s, .fc = fc, .nfingers = nfingers,
                              .rows = rows, .n = nrows};
            pthread_mutex_init(&ls.mu, NULL);
            pm__pool_run(g->pool, stage2_list, &ls, (nrows + LIST_CHUNK - 1) / LIST_CHUNK);
            pthread_mutex_destroy(&ls.mu);
            exact += ls.exact;
            if (ls.failed)
                rc = pm_error_set(err, PM_ENOMEM,
                                  "out of memory preparing %llu candidates: the search is incomplete",
                                  (unsigned long long)ls.failed);
            size_t need = ntuples + nrows * (size_t)nfingers;
            tuple_t *nt = need > (size_t)nfingers * (size_t)topcap
                              ? realloc(tuples, need * sizeof *tuples)
                              : tuples;
            if (!nt) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory for search results");
            } else {
                tuples = nt;
                for (size_t i = 0; i < nrows; i++)
                    for (int f = 0; f < nfingers; f++)
                        if ((rows[i].fmask >> f & 1) && rows[i].score[f] > 0)
                            tuples[ntuples++] = (tuple_t){rows[i].subject,
                                                          g->s.encounter[rows[i].row], f,
                                                          rows[i].score[f]};
            }
        }
        free(subs);
        free(rows);
        pthread_rwlock_unlock(&g->lock);
    }
    free(items);
    double thr = o.threshold;
    double nsearched = searched_min == UINT64_MAX || searched_min == 0 ? 1 : (double)searched_min;
    /* a fitted calibration describes single-finger searches; fused scores
     * keep the nominal one */
    const pm_gallery_calibration_t *cal = nfingers == 1 ? o.calibration : NULL;
    /* a fused calibration makes the fused score per subject compared what
     * the 1:1 score is per finger compared: thresholds on it are nominal */
    const pm_gallery_calibration_t *fcal = nfingers > 1 ? o.fused_calibration : NULL;
    if (!rc && o.target_fpir > 0)
        thr = pm_gallery_threshold(cal, o.target_fpir, nsearched);
    if (!rc) {
        /* per subject: the best score of each probe finger, fused */
        qsort(tuples, ntuples, sizeof *tuples, tuple_cmp);
        pm_gallery_candidate_t *cands = malloc((ntuples ? ntuples : 1) * sizeof *cands);
        if (!cands) {
            rc = pm_error_set(err, PM_ENOMEM, "out of memory for candidates");
        } else {
            size_t nc = 0;
            for (size_t i = 0; i < ntuples;) {
                pm_gallery_candidate_t *c = &cands[nc++];
                memset(c, 0, sizeof *c);
                c->subject = tuples[i].subject;
                double best = -1, sum = 0;
                size_t j = i;
                for (; j < ntuples && tuples[j].subject == c->subject; j++) {
                    int f = tuples[j].finger;
                    if (tuples[j].score > c->finger_score[f]) {
                        c->finger_score[f] = tuples[j].score;
                    }
                    if (tuples[j].score > best) {
                        best = tuples[j].score;
                        c->encounter = tuples[j].encounter;
                    }
                }
                for (int f = 0; f < nfingers; f++)
                    sum += c->finger_score[f];
                c->fused_raw = pm_gallery_fuse(sum, nfingers);
                c->score = pm_gallery_fused_score(fcal, c->fused_raw);
                c->id_score = pm_gallery_id_score(cal, c->score, nsearched);
                i = j;
            }
            qsort(cands, nc, sizeof *cands, cand_cmp);
            size_t k = 0;
            for (size_t i = 0; i < nc && k < (size_t)o.max_candidates; i++)
                if (cands[i].score >= thr)
                    out[k++] = cands[i];
            *out_n = k;
            free(cands);
        }
    }
    if (stats) {
        stats->records_scanned = scanned;
        stats->records_exact = exact;
        stats->threshold_used = thr;
        stats->seconds = (double)(pm_now_ns() - t0) / 1e9;
    }
    free(fs);
    free(chunk_hist);
    free(tie_quota);
    free(top);
    free(tuples);
    for (int f = 0; f < nfingers; f++) {
        pm_match_template_free(fc[f].t);
        free(fc[f].probe);
    }
    return rc;
}

int pm_gallery_verify(pm_gallery_t *g, uint64_t subject, const pm_gallery_finger_t *fingers,
                      int nfingers, pm_gallery_candidate_t *out, pm_error_t *err)
{
    if (!g || !out)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_verify: NULL argument");
    int rc = check_probe(fingers, nfingers, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->subject = subject;
    pm_matcher_t *m = NULL;
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    pm_match_template_t *pt[PM_GALLERY_MAX_FINGERS] = {0};
    if (!fp)
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for verification");
    if (!rc)
        rc = pm_matcher_new(&m, err);
    for (int f = 0; f < nfingers && !rc; f++)
        rc = pm_match_prepare(fingers[f].fp, &pt[f], err);
    size_t found = 0;
    if (!rc) {
        pthread_rwlock_rdlock(&g->lock);
        const pm__gal_shard_t *s = &g->s;
        double best = -1;
        for (size_t r = 0; r < s->n; r++) {
            if (s->subject[r] != subject)
                continue;
            found++;
            pm__gal_unpack_view(s->minu + r * PM_GALLERY_MAX_MINUTIAE, s->nmin[r], s->pos[r], fp);
            pm_match_template_t *t = NULL;
            if (pm_match_prepare_candidate(fp, &t, NULL))
                continue;
            for (int f = 0; f < nfingers; f++) {
                int p = fingers[f].position;
                if (p && s->pos[r] && p != s->pos[r])
                    continue;
                double sc = pm_match_compare(m, pt[f], t, NULL);
                if (sc > out->finger_score[f])
                    out->finger_score[f] = sc;
                if (sc > best) {
                    best = sc;
                    out->encounter = s->encounter[r];
                }
            }
            pm_match_template_free(t);
        }
        pthread_rwlock_unlock(&g->lock);
        if (!found)
            rc = pm_error_set(err, PM_ENOTFOUND, "subject %llu is not enrolled",
                              (unsigned long long)subject);
        double sum = 0;
        for (int f = 0; f < nfingers; f++)
            sum += out->finger_score[f];
        out->score = out->fused_raw = pm_gallery_fuse(sum, nfingers);
    }
    for (int f = 0; f < nfingers; f++)
        pm_match_template_free(pt[f]);
    pm_matcher_free(m);
    free(fp);
    return rc;
}
